// The staff API client, for the console and the insights page: JSON in and out,
// the CSRF token on every POST, the server's own error words, and a 401 ends the
// session. It also knows who is signed in.
import { ApiError, fetchJson } from "../common.js";

export { ApiError };

const API = "/staff/api/";

let me = null; // { username, csrf } while signed in
let sessionEnded = () => {}; // set by whenSessionEnds
let endedText = "Your session has ended.";

// data: the server's answer to logging in, or to GET me.
export function signIn(data) {
  me = { username: String(data.username), csrf: String(data.csrf_token || ""), role: String(data.role || "worker") };
  return me.username;
}

export function signOut() {
  me = null;
}

export const signedIn = () => me !== null;
export const myName = () => (me ? me.username : null);
// The API checks the role on every route; the console only hides what it would refuse.
export const supervising = () => Boolean(me && (me.role === "supervisor" || me.role === "admin"));

// What a 401 does, and what its error says.
export function whenSessionEnds(handler, text) {
  sessionEnded = handler;
  if (text) endedText = text;
}

// Any 401 means the session is over, unless the caller expects one (logging in,
// or the first check whether we are).
export async function api(method, path, body, options) {
  const opts = options || {};
  const headers = { Accept: "application/json" };
  if (method !== "GET" && me) headers["X-CSRF-Token"] = me.csrf;
  const { res, data } = await fetchJson(API + path, { method, headers, body });
  if (res.status === 401 && !opts.expect401) {
    sessionEnded();
    throw new ApiError(401, endedText);
  }
  if (!res.ok) {
    const text = data && typeof data.error === "string" && data.error
      ? data.error : `Something went wrong (error ${res.status}). Please try again.`;
    throw new ApiError(res.status, text, res.headers.get("Retry-After"));
  }
  return data && typeof data === "object" ? data : {};
}

export const apiPath = (path) => API + path;
export const conversationPath = (id) => `conversations/${encodeURIComponent(id)}`;

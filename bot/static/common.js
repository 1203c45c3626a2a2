// What the three pages share: the chat (chat/), the staff console (staff/) and the
// insights page (insights/). Plain ES modules, no framework and no build step, so
// anyone can read exactly what runs. Server text only ever becomes text nodes
// (textContent, el() below), never HTML.

export const byId = (id) => document.getElementById(id);

// Browsers throw on features they block (storage, audio, notifications, a socket
// they refuse): the page carries on without them.
export function attempt(action, otherwise) {
  try { return action(); } catch (e) { return otherwise; }
}

// An element with its attributes and text, e.g. el("p", { class: "muted" }, "None yet.").
export function el(tag, attrs, text) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([name, value]) => node.setAttribute(name, value));
  if (text !== undefined) node.textContent = text;
  return node;
}

export const span = (className, text) => el("span", { class: className }, text);

// --- Words -------------------------------------------------------------------------

export const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

// The longest message the server takes; the count under a message box only shows near it.
export const MAX_LENGTH = 2000;
const COUNT_FROM = 1800;

export function charactersLeft(length) {
  return length >= COUNT_FROM ? `${plural(MAX_LENGTH - length, "character")} left` : "";
}

// --- Forms -------------------------------------------------------------------------

// Handled here: the browser never sends the form itself.
export function onSubmit(form, handle) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    handle();
  });
}

// Enter sends; Shift+Enter adds a new line; don't interrupt an input method mid-word.
export function sendOnEnter(box, send) {
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
}

// --- The server --------------------------------------------------------------------

// A WebSocket on this server, encrypted if the page is.
export function socketUrl(path) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

// A frame from a WebSocket as an object, or null if it isn't a JSON object.
export function parseFrame(data) {
  const frame = attempt(() => JSON.parse(data), null);
  return frame && typeof frame === "object" ? frame : null;
}

export class ApiError extends Error {
  constructor(status, message, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

// JSON out and in, never cached. Can't reach the server: an ApiError with status 0.
// Any answer, an error too, comes back with its body ({} if it isn't JSON).
export async function fetchJson(url, { method = "GET", headers = {}, body } = {}) {
  const sent = { ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(url, {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch (e) {
    throw new ApiError(0, "Can't reach the server. Check the connection and try again.");
  }
  const data = await res.json().catch(() => ({}));
  return { res, data };
}

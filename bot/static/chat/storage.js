// Which conversation this tab is in, and the last message shown, kept in
// sessionStorage: gone when the tab closes, and at once on quick exit.
// sessionStorage can throw (storage blocked, some private modes): the chat must still work.
import { attempt } from "../common.js";

const SESSION_KEY = "chat-session";
const AFTER_KEY = "chat-after";

const get = (key) => attempt(() => sessionStorage.getItem(key), null);
const set = (key, value) => attempt(() => sessionStorage.setItem(key, String(value)));

export const savedSession = () => get(SESSION_KEY);
export const saveSession = (session) => set(SESSION_KEY, session);
export const savedAfter = () => get(AFTER_KEY); // the highest seq already shown
export const saveAfter = (seq) => set(AFTER_KEY, seq);
export const forgetSession = () => attempt(() => [SESSION_KEY, AFTER_KEY].forEach((k) => sessionStorage.removeItem(k)));
export const clearAll = () => attempt(() => sessionStorage.clear());

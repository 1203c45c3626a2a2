// Typing, both ways. While the worker types a reply in a conversation they hold, the
// person is told (at most every few seconds; the server limits it too). When the
// person types on the web page, "The person is typing…" shows under the transcript
// of that conversation for a few seconds. Never stored, here or on the server.
import { byId } from "../common.js";
import { api, conversationPath } from "./api.js";

const SEND_EVERY_MS = 3000;
const SHOW_FOR_MS = 6000;

const ui = { box: byId("reply-text"), note: byId("person-typing") };
let heldId = () => null; // set by connectTyping
let lastSent = { id: null, at: 0 };
let hideTimer = 0;

function sayTyping() {
  const id = heldId();
  if (id === null || !ui.box.value.trim()) return;
  const now = Date.now();
  if (lastSent.id === id && now - lastSent.at < SEND_EVERY_MS) return;
  lastSent = { id, at: now };
  api("POST", `${conversationPath(id)}/typing`).catch(() => {}); // only a courtesy: no error shown
}

export function showPersonTyping() {
  ui.note.textContent = "The person is typing…";
  clearTimeout(hideTimer);
  hideTimer = setTimeout(hidePersonTyping, SHOW_FOR_MS);
}

// Their message arrived, or another conversation was opened.
export function hidePersonTyping() {
  clearTimeout(hideTimer);
  ui.note.textContent = "";
}

// held: the id of the conversation this worker holds and has open, or null.
export function connectTyping(held) {
  heldId = held;
  ui.box.addEventListener("input", sayTyping);
}

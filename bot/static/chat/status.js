// The lines just above the message box: the status line (always with the emergency
// number), the typing indicators (the assistant's; a support worker's), and the
// pause after too many messages.
import { byId, plural } from "../common.js";

const TYPING_MAX_MS = 20000;
const STAFF_TYPING_MS = 7000; // the worker's page says so every few seconds while they type
const DOWN_TEXT = "Can't connect right now."; // setStatus adds the emergency numbers

const ui = { status: byId("status"), typing: byId("typing"), staffTyping: byId("staff-typing"), send: byId("send") };
let typingTimer = 0;
let staffTypingTimer = 0;
let pauseTimer = 0;
let paused = false; // rate limited

// The emergency line at the top of the page (index.html; the server fills in its
// numbers from services.yml, so none is typed here). Its words go after every status
// and error this page shows, so whatever went wrong, the emergency number is right there.
// We don't rely on the line at the top alone: with a phone's keyboard up, the top
// of the page can be out of sight, but the status sits just above the message box.
const oneLine = (element) => (element ? element.textContent.replace(/\s+/g, " ").trim() : "");
const EMERGENCY_TEXT = oneLine(byId("emergency"));
const EMERGENCY_PHONE = oneLine(byId("emergency-phone"));

function withEmergency(text) {
  if (!text || !EMERGENCY_TEXT) return text;
  // The server's own errors often say it already: don't say it twice.
  if (EMERGENCY_PHONE && text.indexOf(EMERGENCY_PHONE) !== -1) return text;
  return `${text} ${EMERGENCY_TEXT}`;
}

export const setStatus = (text) => { ui.status.textContent = withEmergency(text); };
export const showDown = () => setStatus(DOWN_TEXT);
export const clearDown = () => { if (ui.status.textContent === withEmergency(DOWN_TEXT)) setStatus(""); };

export function showTyping() {
  ui.typing.hidden = false;
  clearTimeout(typingTimer);
  typingTimer = setTimeout(hideTyping, TYPING_MAX_MS); // never spin forever
}

export function hideTyping() {
  clearTimeout(typingTimer);
  ui.typing.hidden = true;
}

// A support worker is writing: said in words (a live region), for a few seconds
// or until their message arrives.
export function showStaffTyping() {
  ui.staffTyping.textContent = "Support worker is typing…";
  clearTimeout(staffTypingTimer);
  staffTypingTimer = setTimeout(hideStaffTyping, STAFF_TYPING_MS);
}

export function hideStaffTyping() {
  clearTimeout(staffTypingTimer);
  ui.staffTyping.textContent = "";
}

export const isPaused = () => paused;

// Rate limited: block sending for a while and say why.
export function pauseSending(seconds, text) {
  const wait = Math.max(1, Math.ceil(Number(seconds) || 5));
  paused = true;
  ui.send.disabled = true;
  setStatus(`${text || "Too many messages."} You can send again in ${plural(wait, "second")}.`);
  clearTimeout(pauseTimer);
  pauseTimer = setTimeout(() => {
    paused = false;
    ui.send.disabled = false;
    setStatus("You can send messages again.");
  }, wait * 1000);
}

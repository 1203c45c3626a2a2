// The open conversation's transcript and internal notes: each message and note
// shown once, in order, however often and in whatever order it arrives.
import { byId, el, span } from "../common.js";
import { labelIfUnseen, messageShown, startSeen } from "./seen.js";
import { timeElement } from "./words.js";

const SPEAKERS = { user: "Person", bot: "Assistant", staff: "Support worker" };

let log = byId("transcript"); // replaced by a fresh one for each conversation (freshTranscript)
const notesList = byId("notes");
let shownSeqs = new Map(); // seq -> transcript element, to drop repeats
let shownNotes = new Set();

// Who said it and when, then the words.
function entry(tag, attrs, who, at, text) {
  const item = el(tag, attrs);
  const speaker = el("p", { class: "speaker" });
  speaker.append(span("who", who), " ", timeElement(at));
  item.append(speaker, el("p", { class: "text" }, text));
  return item;
}

function messageElement(message) {
  const kind = SPEAKERS[message.from] ? message.from : "bot";
  const item = entry("div", { class: `message from-${kind}`, "data-seq": String(message.seq) },
    SPEAKERS[kind], message.at, String(message.text == null ? "" : message.text));
  // The bot's buttons, faintly: staff see what the person could tap.
  const titles = (Array.isArray(message.buttons) ? message.buttons : [])
    .map((b) => (b && (b.title || b.payload)) || "").filter(Boolean);
  if (titles.length) item.append(el("p", { class: "bot-buttons" }, `Buttons: ${titles.join(" · ")}`));
  labelIfUnseen(item, message);
  return item;
}

// Messages can arrive twice (the reply's answer and the live feed) or out of order.
export function addMessage(message) {
  if (!message || !Number.isInteger(message.seq) || shownSeqs.has(message.seq)) return;
  const element = messageElement(message);
  const later = [...shownSeqs.keys()].filter((s) => s > message.seq).sort((a, b) => a - b)[0];
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
  if (later === undefined) log.append(element);
  else log.insertBefore(element, shownSeqs.get(later));
  shownSeqs.set(message.seq, element);
  messageShown();
  // Follow the conversation, unless staff have scrolled up to read.
  if (atBottom && later === undefined) log.scrollTop = log.scrollHeight;
}

export function addNote(note) {
  if (!note || typeof note.text !== "string") return;
  const key = `${note.staff}\n${note.at}\n${note.text}`;
  if (shownNotes.has(key)) return;
  shownNotes.add(key);
  notesList.append(entry("li", { class: "note" }, String(note.staff || "Staff"), note.at, note.text));
}

export function clearTranscript() {
  shownSeqs = new Map();
  shownNotes = new Set();
  log.textContent = "";
  notesList.textContent = "";
  startSeen(null);
}

// A fresh log element, so loading a whole transcript isn't read out as new messages.
export function freshTranscript() {
  const hadFocus = document.activeElement === log;
  const fresh = log.cloneNode(false);
  log.replaceWith(fresh);
  log = fresh;
  if (hadFocus) fresh.focus();
}

export function scrollToEnd() {
  log.scrollTop = log.scrollHeight;
}

// The conversation as the person sees it: messages as they arrive, the bot's
// suggested replies, the notes for reporting to save, the offer of a come-back code
// (come-back.js), and where the page scrolls.
import { byId, el, span } from "../common.js";
import { codeOffer, conversationShown } from "./come-back.js";

const SPEAKERS = { user: "You said: ", bot: "Assistant: ", staff: "Support worker" };
const BURST_MS = 2000; // messages this close together are one reply (see scrollToNewest)
const LINK = /https?:\/\/[^\s<>"']+/g;

const ui = { log: byId("messages"), bar: document.querySelector(".bar"), starters: byId("starters") };
let replyStart = null; // the first message of the reply now arriving (see scrollToNewest)
let lastArrival = 0;
let sendReply = () => false; // set by onQuickReply: true if the reply went out

function makeLink(href) {
  const link = el("a", { href, rel: "noopener noreferrer", target: "_blank" }, href);
  link.append(span("visually-hidden", " (opens in a new tab)"));
  return link;
}

// Server text only ever becomes text nodes; links are built as elements, never as HTML.
function appendText(parent, text, withLinks) {
  let done = 0;
  let match;
  LINK.lastIndex = 0;
  while (withLinks && (match = LINK.exec(text)) !== null) {
    const href = match[0].replace(/[.,;:!?)\]]+$/, ""); // leave sentence punctuation outside
    parent.append(text.slice(done, match.index), makeLink(href));
    done = match.index + href.length;
  }
  parent.append(text.slice(done));
}

// Moves focus somewhere sensible when the focused button is about to disappear.
function keepFocus(container) {
  if (container.contains(document.activeElement)) ui.log.focus({ preventScroll: true });
}

function removeQuickReplies() {
  ui.log.querySelectorAll(".quick-replies").forEach((group) => {
    keepFocus(group);
    group.remove();
  });
}

// send(payload, shownAs) is true if it went out.
export function onQuickReply(send) {
  sendReply = send;
}

function renderQuickReplies(buttons) {
  const group = el("div", { class: "quick-replies", role: "group", "aria-label": "Suggested replies" });
  buttons.filter((b) => b && typeof b.payload === "string").forEach((choice) => {
    const button = el("button", { type: "button", class: "quick-reply" }, choice.title || choice.payload);
    // The server only accepts the payload of buttons it showed; the title is never sent.
    button.addEventListener("click", () => {
      if (sendReply(choice.payload, button.textContent)) removeQuickReplies();
    });
    group.append(button);
  });
  if (group.childElementCount) ui.log.append(group);
}

// The notes for reporting (summary and evidence checklist) as a text file,
// made here from the message itself: nothing more is fetched or kept.
const NOTES_RESPONSE = "utter_report_notes";

function notesLink(text) {
  const link = el("a", { class: "save-notes", download: "report-notes.txt" }, "Save these notes as a text file");
  link.addEventListener("click", () => {
    const file = new Blob([text.replace(/\n/g, "\r\n") + "\r\n"], { type: "text/plain;charset=utf-8" });
    link.href = URL.createObjectURL(file);
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  });
  link.href = "#";
  return link;
}

export function renderMessage(from, text, seq, buttons, response) {
  const kind = SPEAKERS[from] ? from : "bot";
  const item = el("div", { class: `message from-${kind}`, "data-seq": seq == null ? "" : String(seq) });
  if (response) item.dataset.response = String(response);
  // Staff are labelled visibly; the other labels are for screen readers only.
  const speaker = span(kind === "staff" ? "speaker" : "visually-hidden", SPEAKERS[kind]);
  const body = el("p", { class: "text" });
  appendText(body, String(text == null ? "" : text), kind !== "user");
  item.append(speaker, body);
  if (kind === "bot" && response === NOTES_RESPONSE) item.append(notesLink(String(text)));

  removeQuickReplies(); // only the latest bot message keeps its buttons
  ui.log.append(item);
  const offer = kind === "bot" ? codeOffer(response) : null; // "save a code", under "left for the team"
  if (offer) ui.log.append(offer);
  if (kind === "bot" && Array.isArray(buttons) && buttons.length) renderQuickReplies(buttons);
  hideStarters();
  scrollToNewest(item, kind);
  return item;
}

export function markNotSent(item) {
  item.append(span("not-sent", "Not sent"));
}

// Show the newest message just above the message box, but never scroll past the
// start of the reply it belongs to. One message can get several bot messages back:
// a crisis reply is the one with the emergency number first, then a notice, then
// "Are you safe right now?". Scrolling to the bottom each time would push the first
// one, and its number, off the top; instead a long reply stays at its start, to be
// read from there. A reply starts with the first message after the person's own, or
// after a pause (a notice or a support worker's message later on). Never scrolls up.
function scrollToNewest(item, kind) {
  const now = Date.now();
  if (kind === "user") replyStart = null;
  else if (!replyStart || !replyStart.isConnected || now - lastArrival > BURST_MS) replyStart = item;
  lastArrival = now;

  let target = document.documentElement.scrollHeight; // the bottom
  if (replyStart) {
    // How far down the page can go with the reply's top still just below the top bar.
    const barBottom = ui.bar ? ui.bar.getBoundingClientRect().bottom : 0;
    const startTop = window.scrollY + replyStart.getBoundingClientRect().top;
    target = Math.min(target, startTop - barBottom - 8);
  }
  if (target > window.scrollY) window.scrollTo(0, target);
}

export function hideStarters() {
  if (ui.starters.hidden) return;
  keepFocus(ui.starters);
  ui.starters.hidden = true;
  conversationShown(true);
}

// The conversation was deleted: an empty log, and the starters back.
export function clearMessages() {
  ui.log.textContent = "";
  ui.starters.hidden = false;
  conversationShown(false);
}

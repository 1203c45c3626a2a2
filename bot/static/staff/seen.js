// "Not seen yet" (docs/handoff.md): on the web chat, a reply waits in the store until
// the person's chat page is open to be sent it. Each reply from the team that the page
// hasn't been sent carries the label in words; while the newest one hasn't, a line above
// the reply box says so. The live feed's "seen" clears them. Telegram and WhatsApp have
// no labels (seen_seq is null there: a reply goes at once, or "couldn't be delivered").
import { byId, el } from "../common.js";

const LABEL = "Not seen yet";
const WAITING = "Their chat page isn't open just now. Your reply will wait here until they open the chat again.";

const line = byId("reply-waits");
let seenSeq = null; // the newest message the page has been sent; null: not a web chat

const unseen = (message) => seenSeq !== null && message.from === "staff" && message.seq > seenSeq;

// The newest reply from the team still carries the label: say so above the reply box.
function showLine() {
  const replies = byId("transcript").querySelectorAll(".from-staff");
  const waiting = replies.length > 0 && replies[replies.length - 1].querySelector(".not-seen") !== null;
  line.textContent = waiting ? WAITING : ""; // empty, so the reply box's description is too
  line.hidden = !waiting;
}

// A conversation opened (or none): its seen_seq from GET conversations/{id}.
export function startSeen(seq) {
  seenSeq = Number.isInteger(seq) ? seq : null;
  showLine();
}

// Adds the label to a message's element, if the page hasn't been sent it.
export function labelIfUnseen(item, message) {
  if (unseen(message)) item.append(el("p", { class: "not-seen" }, LABEL));
}

// After a message was added to the transcript.
export const messageShown = showLine;

// The live feed's "seen" for the open conversation: the page has been sent up to seq.
export function markSeen(seq) {
  if (seenSeq === null || !Number.isInteger(seq) || seq <= seenSeq) return;
  seenSeq = seq;
  byId("transcript").querySelectorAll(".not-seen").forEach((label) => {
    if (Number(label.parentElement.dataset.seq) <= seenSeq) label.remove();
  });
  showLine();
}

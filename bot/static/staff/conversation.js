// The open conversation: who holds it, the controls the staff member can use now
// (claim, reply, hand back, close, notes), kept in step with the queue.
import { byId, charactersLeft, MAX_LENGTH, onSubmit, sendOnEnter } from "../common.js";
import { api, conversationPath, myName, signedIn, supervising } from "./api.js";
import { casesEnabled } from "./cases.js";
import { resetPassOn, showPassOn } from "./pass-on.js";
import { dropFromQueue, findInQueue, markOpen } from "./queue.js";
import { clearError, report, setStatus, showError } from "./status.js";
import { startSeen } from "./seen.js";
import { resetTransfer } from "./transfer.js";
import { addMessage, addNote, clearTranscript, freshTranscript, scrollToEnd } from "./transcript.js";
import { askWrapUp, cancelWrapUp, setupWrapUp } from "./wrapup.js";
import { channelName, clockTime, isCrisis, waitedFor } from "./words.js";

const ENDED_TEXT = "This conversation is no longer in the queue.";

const ui = {
  pane: byId("conversation"), heading: byId("conversation-heading"), empty: byId("conversation-empty"),
  body: byId("conversation-body"), meta: byId("conversation-meta"), holder: byId("holder"),
  claim: byId("claim"), release: byId("release"), close: byId("close"),
  transfer: byId("transfer"), takeover: byId("takeover"),
  replyForm: byId("reply-form"), replyText: byId("reply-text"), replySend: byId("reply-send"),
  replyCount: byId("reply-count"), noteForm: byId("note-form"), noteText: byId("note-text"), noteAdd: byId("note-add"),
};
let current = null; // the open conversation (as in the queue, plus `ended`)
let openToken = 0; // so a slow load can't replace a conversation opened after it
let sending = false;

export const openId = () => (current ? current.id : null);
const heldByMe = () => Boolean(current && !current.ended && myName() !== null && current.claimed_by === myName());
export const heldId = () => (heldByMe() ? current.id : null);

function pick(c) {
  return {
    id: c.id, priority: c.priority, status: c.status, waiting_since: c.waiting_since,
    claimed_by: c.claimed_by || null, channel: c.channel || null,
  };
}

function renderMeta() {
  const parts = [isCrisis(current) ? "Crisis" : "Normal priority"];
  const channel = channelName(current.channel);
  if (channel) parts.push(channel);
  const waited = waitedFor(current.waiting_since);
  if (waited) parts.push(`in the queue since ${clockTime(current.waiting_since)} (${waited})`);
  ui.meta.textContent = parts.join(" · ");
}

export function refreshMeta() {
  if (current) renderMeta();
}

// Shows only what the person at the keyboard can do now.
function updateControls() {
  if (!current) return;
  const mine = heldByMe();
  const waiting = !current.ended && !current.claimed_by;
  const focusedAction = [ui.claim, ui.release, ui.close, ui.transfer, ui.takeover]
    .find((b) => b === document.activeElement);

  ui.pane.classList.toggle("crisis", isCrisis(current));
  ui.heading.textContent = isCrisis(current) ? "Crisis conversation" : "Conversation";
  renderMeta();
  if (current.ended) ui.holder.textContent = ENDED_TEXT;
  else if (mine) ui.holder.textContent = "You are talking with this person.";
  else if (current.claimed_by) ui.holder.textContent = `${current.claimed_by} is talking with this person.`;
  else ui.holder.textContent = "Waiting for a support worker. Claim it to reply.";

  ui.claim.hidden = !waiting;
  ui.release.hidden = !mine;
  ui.close.hidden = !mine;
  ui.transfer.hidden = !mine;
  if (!mine) resetTransfer();
  // A supervisor can take over a conversation someone else holds (the API checks the role).
  ui.takeover.hidden = !(supervising() && !current.ended && current.claimed_by && !mine);
  // Someone else's conversation keeps the reply box in view but switched off.
  ui.replyForm.hidden = current.ended || waiting;
  ui.replyText.disabled = !mine;
  ui.replySend.disabled = !mine;
  ui.noteText.disabled = current.ended;
  ui.noteAdd.disabled = current.ended;
  // Only for the person this staff member is talking with, and only where cases can go.
  if (showPassOn(current.id, mine && casesEnabled() !== false)) ui.heading.focus();

  // A button that just disappeared would drop focus to the page: keep it nearby.
  if (focusedAction && focusedAction.hidden) (mine ? ui.replyText : ui.heading).focus();
}

// After the cases changed: the pass-on form needs a reporting channel.
export const refreshControls = updateControls;

// Queue changes (claims by others, hand-backs) also change the open conversation.
export function syncCurrent() {
  if (!current || current.ended) return;
  const latest = findInQueue(current.id);
  if (latest) {
    Object.assign(current, pick(latest));
  } else {
    current.ended = true;
    setStatus(ENDED_TEXT);
  }
  updateControls();
}

function updateCount() {
  ui.replyCount.textContent = charactersLeft(ui.replyText.value.length);
}

function clearConversation() {
  current = null;
  clearTranscript();
  ui.replyText.value = "";
  ui.noteText.value = "";
  updateCount();
  ui.body.hidden = true;
  ui.empty.hidden = false;
  ui.pane.classList.remove("crisis");
  ui.heading.textContent = "Conversation";
}

function renderConversation(data) {
  const sameOne = current && current.id === data.id;
  if (!sameOne) resetTransfer();
  const keptReply = sameOne ? ui.replyText.value : "";
  const keptNote = sameOne ? ui.noteText.value : "";
  // A draft never follows staff to a different person's conversation.
  clearConversation();
  ui.replyText.value = keptReply;
  ui.noteText.value = keptNote;
  updateCount();
  current = { ...pick(data), ended: false };
  freshTranscript();
  startSeen(data.seen_seq); // before the messages: it decides their "Not seen yet"
  (Array.isArray(data.messages) ? data.messages : []).forEach(addMessage);
  (Array.isArray(data.notes) ? data.notes : []).forEach(addNote);
  ui.empty.hidden = true;
  ui.body.hidden = false;
  updateControls();
  markOpen(current.id);
  scrollToEnd();
}

// moveFocus: chosen by the staff member (not a reload), so focus goes to its heading.
// watch: a supervisor reading it silently (audited as such; the person isn't told).
export async function openConversation(id, moveFocus, watch) {
  const token = ++openToken;
  if (moveFocus) clearError(); // a reload after a refusal keeps the refusal on screen
  let data;
  try {
    data = await api("GET", conversationPath(id) + (watch ? "/watch" : ""));
  } catch (err) {
    if (token !== openToken) return;
    report(err);
    if (err.status === 404 && current && current.id === id) {
      current.ended = true;
      updateControls();
    }
    return;
  }
  if (token !== openToken || !signedIn()) return; // another one was opened meanwhile, or logged out
  renderConversation(data);
  if (moveFocus) ui.heading.focus();
}

// After a refusal or a reconnect: fetch the conversation again, keeping drafts.
export function reloadCurrent() {
  if (current && !current.ended) openConversation(current.id, false);
}

// Logged out: nothing open, and a load still on its way is dropped.
export function closeConversation() {
  openToken += 1;
  cancelWrapUp();
  clearConversation();
  resetPassOn(null);
}

async function claim() {
  if (!current || current.ended) return;
  const id = current.id;
  clearError();
  ui.claim.disabled = true;
  try {
    const data = await api("POST", `${conversationPath(id)}/claim`);
    if (current && current.id === id) {
      Object.assign(current, pick({ ...current, ...data }));
      updateControls();
      setStatus("You're now talking with this person.");
      ui.replyText.focus();
    }
  } catch (err) {
    report(err);
    if (err.status === 409 || err.status === 404) reloadCurrent();
  } finally {
    ui.claim.disabled = false;
  }
}

async function sendReply() {
  if (!heldByMe() || sending) return;
  const text = ui.replyText.value.trim();
  if (!text) {
    showError("Type a reply first.");
    return;
  }
  if (text.length > MAX_LENGTH) {
    showError(`Replies can be up to ${MAX_LENGTH} characters.`);
    return;
  }
  const id = current.id;
  clearError();
  sending = true;
  ui.replyText.readOnly = true; // not disabled: that would lose keyboard focus
  try {
    const message = await api("POST", `${conversationPath(id)}/messages`, { text });
    if (current && current.id === id) {
      addMessage({ from: "staff", text, ...message });
      ui.replyText.value = "";
      updateCount();
    }
  } catch (err) {
    report(err); // the draft stays in the box to try again
    if (err.status === 403 || err.status === 409 || err.status === 404) reloadCurrent();
  } finally {
    sending = false;
    ui.replyText.readOnly = false;
  }
}

async function saveNote() {
  if (!current || current.ended) return;
  const text = ui.noteText.value.trim();
  if (!text) {
    showError("Write a note first.");
    return;
  }
  const id = current.id;
  clearError();
  ui.noteAdd.disabled = true;
  try {
    const note = await api("POST", `${conversationPath(id)}/notes`, { text });
    if (current && current.id === id) {
      addNote(note);
      ui.noteText.value = "";
      setStatus("Note added.");
    }
  } catch (err) {
    report(err);
    if (err.status === 404) reloadCurrent();
  } finally {
    if (current) ui.noteAdd.disabled = current.ended;
  }
}

// "release" hands the person back to the bot; "close" ends the conversation.
async function finish(how) {
  if (!heldByMe()) return;
  const id = current.id;
  const button = how === "close" ? ui.close : ui.release;
  clearError();
  button.disabled = true;
  try {
    // Closing asks for the wrap-up first; cancelling it closes nothing.
    const wrapup = how === "close" ? await askWrapUp(id) : undefined;
    if (wrapup === null) {
      button.focus();
      return;
    }
    await api("POST", `${conversationPath(id)}/${how}`, wrapup);
    if (current && current.id === id) {
      current.ended = true;
      updateControls();
      ui.heading.focus();
    }
    setStatus(how === "close" ? "Conversation closed." : "Handed back to the bot.");
    dropFromQueue(id); // the live feed confirms shortly
  } catch (err) {
    report(err);
    reloadCurrent();
  } finally {
    button.disabled = false;
  }
}

export function setupConversation() {
  ui.claim.addEventListener("click", claim);
  ui.release.addEventListener("click", () => finish("release"));
  ui.close.addEventListener("click", () => finish("close"));
  setupWrapUp();
  onSubmit(ui.replyForm, sendReply);
  sendOnEnter(ui.replyText, sendReply);
  ui.replyText.addEventListener("input", updateCount);
  onSubmit(ui.noteForm, saveNote);
}

// The queue: the handed-off conversations, live, in the server's order, with the
// count in the tab's title and an alert for each new one.
import { byId, el, span } from "../common.js";
import { beep, notify } from "./alerts.js";
import { api, myName, signedIn } from "./api.js";
import { report, setStatus } from "./status.js";
import { channelName, isCrisis, pause, waitedFor } from "./words.js";

const TITLE = "Staff console";

const ui = { list: byId("queue"), summary: byId("queue-summary"), heading: byId("queue-heading") };
let queue = []; // the latest queue, in the server's order
let queueLoaded = false; // the first queue after logging in never alerts
let seenIds = new Set();

// What the rest of the console does for the queue, set by main.js: which conversation
// is open, open one, and catch up after the queue changed.
const hooks = { openId: () => null, open: () => {}, changed: () => {} };
export function connectQueue(given) {
  Object.assign(hooks, given);
}

export const findInQueue = (id) => queue.find((c) => c.id === id);
export const queueNow = () => queue;

function validConversation(c) {
  return c && typeof c === "object" && typeof c.id === "string" && c.id !== "";
}

function waitingCount() {
  return queue.filter((c) => c.status === "waiting").length;
}

function updateTitle() {
  const waiting = signedIn() ? waitingCount() : 0;
  document.title = waiting ? `(${waiting}) ${TITLE}` : TITLE;
}

function holderText(conversation) {
  if (!conversation.claimed_by) return "Waiting";
  return conversation.claimed_by === myName() ? "With you" : `With ${conversation.claimed_by}`;
}

function knownFacts(conversation) {
  const facts = [];
  if (conversation.under_18) facts.push("Under 18");
  if (conversation.helping_someone) facts.push("Someone helping");
  return facts;
}

function queueButton(conversation) {
  const crisis = isCrisis(conversation);
  const button = el("button", { type: "button", class: crisis ? "queue-item crisis" : "queue-item", "data-id": conversation.id });
  if (hooks.openId() === conversation.id) button.setAttribute("aria-current", "true");

  // Crisis is said in words as well as shown in red.
  button.append(span("priority", crisis ? "Crisis" : "Normal"), pause());
  const state = span("state", holderText(conversation));
  if (conversation.claimed_by === myName()) state.classList.add("mine");
  button.append(state, pause());
  const waited = span("waited", "");
  waited.append(span("visually-hidden", "in the queue for "), waitedFor(conversation.waiting_since));
  button.append(waited);
  const channel = channelName(conversation.channel);
  if (channel) button.append(pause(), span("channel", channel));
  // What the assistant knows that changes the route: said in words.
  for (const fact of knownFacts(conversation)) button.append(pause(), span("fact", fact));
  button.addEventListener("click", () => hooks.open(conversation.id));
  return button;
}

function renderQueue() {
  const focusedId = ui.list.contains(document.activeElement) ? document.activeElement.dataset.id : null;
  ui.list.textContent = "";
  queue.forEach((conversation) => {
    const item = el("li");
    item.append(queueButton(conversation));
    ui.list.append(item);
  });
  const waiting = waitingCount();
  ui.summary.textContent = queue.length
    ? `Waiting: ${waiting}. With staff: ${queue.length - waiting}.`
    : "No one is in the queue.";
  // Rebuilding the list must not throw away keyboard focus.
  if (focusedId !== null) {
    const same = ui.list.querySelector(`.queue-item[data-id="${CSS.escape(focusedId)}"]`);
    if (same) same.focus();
    else ui.heading.focus();
  }
}

// Only the words change every half minute; rebuilding would disturb a screen reader.
export function refreshQueueTimes() {
  ui.list.querySelectorAll(".queue-item").forEach((button) => {
    const conversation = findInQueue(button.dataset.id);
    const waited = button.querySelector(".waited");
    if (conversation && waited) waited.lastChild.textContent = waitedFor(conversation.waiting_since);
  });
}

export function markOpen(id) {
  ui.list.querySelectorAll(".queue-item").forEach((button) => {
    if (button.dataset.id === id) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  });
}

function announceNew(fresh) {
  const crisis = fresh.find(isCrisis);
  const text = crisis ? "New crisis conversation" : "New conversation in the queue";
  setStatus(text);
  beep(Boolean(crisis));
  const id = (crisis || fresh[0]).id;
  notify(text, () => hooks.open(id));
}

export function applyQueue(list) {
  const conversations = Array.isArray(list) ? list.filter(validConversation) : [];
  const fresh = queueLoaded ? conversations.filter((c) => !seenIds.has(c.id)) : [];
  conversations.forEach((c) => seenIds.add(c.id));
  queueLoaded = true;
  queue = conversations;
  renderQueue();
  updateTitle();
  hooks.changed();
  if (fresh.length) announceNew(fresh);
}

export async function loadQueue() {
  try {
    const data = await api("GET", "queue");
    if (signedIn()) applyQueue(data.conversations);
  } catch (err) {
    if (err.status !== 401 && !queueLoaded) report(err);
  }
}

// Gone from the queue here at once; the live feed confirms shortly.
export function dropFromQueue(id) {
  queue = queue.filter((c) => c.id !== id);
  renderQueue();
  updateTitle();
}

// Just signed in: the first queue never alerts.
export function startQueue() {
  queueLoaded = false;
  seenIds = new Set();
  loadQueue();
}

export function forgetQueue() {
  queue = [];
  queueLoaded = false;
  seenIds = new Set();
  ui.list.textContent = "";
  ui.summary.textContent = "";
  updateTitle();
}

// The conversation tabs: one for each conversation this staff member holds, plus the
// one being looked at. Each counts the messages that came while it wasn't shown; a
// new message in a held conversation makes the alert sound and a notification.
// A proper tablist: arrow keys, Home and End move between tabs and show each at once.
import { byId, el, span } from "../common.js";
import { beep, notify } from "./alerts.js";
import { myName } from "./api.js";
import { channelName, clockTime, pause } from "./words.js";

const ui = { list: byId("chat-tabs"), panel: byId("conversation") };
let unread = new Map(); // conversation id -> messages not seen yet
let shown = []; // the tabs' conversations, in order: {id, crisis}

// Set by main.js: which conversation is open, open one, and the queue now.
const hooks = { openId: () => null, open: () => {}, queue: () => [] };
export function connectTabs(given) {
  Object.assign(hooks, given);
}

const tabId = (id) => `chat-tab-${id}`;

// Named by where and when the person asked ("Web chat 14:05"), not by position: a name
// a worker remembers doesn't move to another chat when one closes. Two asked in the
// same minute on the same channel get the seconds too.
function tabName(conversation, seconds) {
  const at = new Date(conversation.waiting_since);
  const time = seconds && !Number.isNaN(at.getTime())
    ? at.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit" })
    : clockTime(conversation.waiting_since);
  return `${channelName(conversation.channel) || "Chat"} ${time}`.trim();
}

function tabLabel(conversation, held, seconds) {
  const words = [span("tab-name", tabName(conversation, seconds))];
  if (!held) words.push(pause(), span("fact", "reading")); // looked at, not held
  if (conversation.priority === "crisis") words.push(pause(), span("fact", "Crisis"));
  const count = unread.get(conversation.id) || 0;
  if (count) words.push(pause(), span("unread", `${count} new`));
  return words;
}

export function renderTabs() {
  const open = hooks.openId();
  const me = myName();
  const held = hooks.queue().filter((c) => c.status === "claimed" && c.claimed_by === me);
  const looking = open && !held.some((c) => c.id === open)
    ? hooks.queue().find((c) => c.id === open) : null;
  shown = looking ? [...held, looking] : held;
  const hadFocus = ui.list.contains(document.activeElement);
  ui.list.textContent = "";
  shown.forEach((conversation) => {
    const selected = conversation.id === open;
    const tab = el("button", {
      type: "button", role: "tab", id: tabId(conversation.id), class: "chat-tab",
      "data-id": conversation.id, "aria-selected": selected ? "true" : "false",
      "aria-controls": "conversation", tabindex: selected ? "0" : "-1",
    });
    const alike = shown.filter((c) => tabName(c, false) === tabName(conversation, false)).length > 1;
    tab.append(...tabLabel(conversation, held.includes(conversation), alike));
    tab.addEventListener("click", () => select(conversation.id));
    ui.list.append(tab);
  });
  ui.list.hidden = shown.length === 0;
  // The panel is named by its tab while one is selected.
  const selectedTab = open && byId(tabId(open));
  ui.panel.setAttribute("aria-labelledby", selectedTab ? tabId(open) : "conversation-heading");
  if (!shown.some((c) => c.id === open) && shown.length) {
    // The open conversation is gone: keep the first tab reachable by Tab.
    ui.list.firstChild.tabIndex = 0;
  }
  if (hadFocus && selectedTab) selectedTab.focus();
}

function select(id) {
  unread.delete(id);
  hooks.open(id);
  renderTabs();
  const tab = byId(tabId(id));
  if (tab) tab.focus();
}

function onKey(event) {
  const ids = shown.map((c) => c.id);
  const at = ids.indexOf(event.target.dataset && event.target.dataset.id);
  if (at < 0) return;
  const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: ids.length - 1 }[event.key];
  if (next === undefined) return;
  event.preventDefault();
  select(ids[(next + ids.length) % ids.length]);
}

// A message for a conversation: counted if it isn't the one shown, with a sound and a
// notification if this staff member holds it (nothing about the person in either).
export function messageArrived(frame) {
  const id = frame.conversation;
  const mine = hooks.queue().some((c) => c.id === id && c.claimed_by === myName());
  const fromPerson = frame.message && frame.message.from === "user";
  if (!mine || !fromPerson) return;
  if (id !== hooks.openId() || document.hidden) {
    if (id !== hooks.openId()) unread.set(id, (unread.get(id) || 0) + 1);
    beep(false);
    notify("New message in a chat you hold", () => select(id), `staff-chat-${id}`);
    renderTabs();
  }
}

export function opened(id) {
  unread.delete(id);
  renderTabs();
}

// The conversation left this staff member: its count goes with it (the same id comes
// back if the person asks for someone again).
export function forgetTab(id) {
  unread.delete(id);
}

export function forgetTabs() {
  unread = new Map();
  shown = [];
  ui.list.textContent = "";
  ui.list.hidden = true;
}

export function setupTabs() {
  ui.list.addEventListener("keydown", onKey);
}

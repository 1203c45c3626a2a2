// Saved replies in the reply box: typing "/" (at the start, or after a space) opens a
// list of the team's snippets (saved_replies.yml, from GET saved-replies), filtered by
// the words after the slash, in title or text. Up and Down move, Enter or Tab puts the
// snippet in place of the "/words", Escape closes. The box is an ARIA combobox and
// the list its listbox, so a screen reader follows the highlighted reply.
import { byId, el, span } from "../common.js";
import { api } from "./api.js";

const MAX_SHOWN = 8;
// "/" at the start or after a space, then words up to the caret (not starting with a space).
const SLASH_QUERY = /(^|\s)\/(\S[^\n/]{0,39})?$/;

const ui = { box: byId("reply-text"), form: byId("reply-form"), list: byId("saved-replies") };
let replies = []; // [{ id, title, text }]
let shown = []; // the replies in the list now
let active = -1; // the highlighted one
let slashAt = -1; // where the "/" being searched is
let dismissedAt = -1; // the "/" Escape closed the list for

const optionId = (reply) => `saved-reply-${reply.id}`;
const isOpen = () => !ui.list.hidden;

function matches(reply, words) {
  const title = reply.title.toLowerCase();
  const all = `${title} ${reply.text.toLowerCase()}`;
  return words.every((word) => all.includes(word));
}

// Titles that match come before replies that match only in their text.
function search(query) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const found = replies.filter((reply) => matches(reply, words));
  const inTitle = (reply) => words.every((word) => reply.title.toLowerCase().includes(word));
  return found.filter(inTitle).concat(found.filter((reply) => !inTitle(reply))).slice(0, MAX_SHOWN);
}

function close() {
  ui.list.hidden = true;
  ui.list.replaceChildren();
  ui.box.setAttribute("aria-expanded", "false");
  ui.box.removeAttribute("aria-activedescendant");
  shown = [];
  active = -1;
}

function highlight(index) {
  active = index;
  shown.forEach((reply, i) => {
    const option = byId(optionId(reply));
    option.setAttribute("aria-selected", String(i === active));
    if (i === active) option.scrollIntoView({ block: "nearest" });
  });
  if (active >= 0) ui.box.setAttribute("aria-activedescendant", optionId(shown[active]));
}

function render() {
  ui.list.replaceChildren(...shown.map((reply, i) => {
    const option = el("li", { id: optionId(reply), role: "option", "aria-selected": "false", class: "saved-reply" });
    option.append(span("saved-reply-title", reply.title), span("saved-reply-text", reply.text));
    // mousedown, not click: the reply box keeps the focus.
    option.addEventListener("mousedown", (event) => {
      event.preventDefault();
      insert(i);
    });
    return option;
  }));
  ui.list.hidden = false;
  ui.box.setAttribute("aria-expanded", "true");
  highlight(0);
}

// After each change in the box: is the caret just after "/words"?
function update() {
  const caret = ui.box.selectionStart;
  const before = ui.box.value.slice(0, caret);
  const found = ui.box.selectionEnd === caret && !ui.box.disabled ? SLASH_QUERY.exec(before) : null;
  if (!found || !replies.length) {
    dismissedAt = -1; // that "/" is gone: a new one opens the list again
    return close();
  }
  slashAt = found.index + found[1].length;
  if (slashAt === dismissedAt) return close();
  shown = search(found[2] || "");
  if (!shown.length) return close();
  render();
}

function insert(index) {
  const reply = shown[index];
  if (!reply) return;
  const caret = ui.box.selectionStart;
  const value = ui.box.value;
  ui.box.value = value.slice(0, slashAt) + reply.text + value.slice(caret);
  const end = slashAt + reply.text.length;
  ui.box.setSelectionRange(end, end);
  close();
  ui.box.focus();
  // So the character count (conversation.js) and anything else listening catch up.
  ui.box.dispatchEvent(new Event("input", { bubbles: true }));
}

// On the form, while capturing: this runs before the box's own Enter-sends handler,
// so Enter in the list inserts the reply and never sends.
function onKey(event) {
  if (event.target !== ui.box || !isOpen() || event.isComposing) return;
  const handled = {
    ArrowDown: () => highlight((active + 1) % shown.length),
    ArrowUp: () => highlight((active - 1 + shown.length) % shown.length),
    Enter: () => insert(active),
    Tab: () => insert(active),
    Escape: () => {
      dismissedAt = slashAt;
      close();
    },
  }[event.key];
  if (!handled || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;
  event.preventDefault();
  event.stopPropagation();
  handled();
}

// Loaded once signed in; without them the box is an ordinary text box.
export async function loadSavedReplies() {
  try {
    const data = await api("GET", "saved-replies");
    replies = Array.isArray(data) ? data.filter((r) => r && r.id && r.title && typeof r.text === "string") : [];
  } catch (err) {
    replies = [];
  }
}

export function forgetSavedReplies() {
  replies = [];
  close();
}

export function setupSavedReplies() {
  ui.box.setAttribute("role", "combobox");
  ui.box.setAttribute("aria-autocomplete", "list");
  ui.box.setAttribute("aria-controls", ui.list.id);
  ui.box.setAttribute("aria-expanded", "false");
  ui.form.addEventListener("keydown", onKey, true);
  ui.box.addEventListener("input", update);
  ui.box.addEventListener("click", update);
  ui.box.addEventListener("blur", close);
}

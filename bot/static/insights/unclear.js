// Messages the bot did not understand: kept as a training example (with what the
// person meant) or dismissed. Ten at a time: a long list would bury the charts above it.
import { byId, el, onSubmit } from "../common.js";
import { api } from "../staff/api.js";
import { showError } from "../staff/status.js";

const PAGE = 10;

const ui = { list: byId("unclear"), empty: byId("unclear-empty"), more: byId("unclear-more") };
let intents = [];
let messages = [];
let shown = PAGE;

function unclearItem(message) {
  const item = el("li", { class: "unclear-item" });
  item.append(el("p", { class: "unclear-text" }, message.text), el("p", { class: "muted small" },
    message.intent ? `${message.day} · kept as “${message.intent}”` : message.day));
  if (!message.intent) {
    const id = `intent-${message.id}`;
    const form = el("form", { class: "unclear-actions" });
    const select = el("select", { id });
    select.append(el("option", { value: "" }, "Choose what they meant…"),
      ...intents.map((name) => el("option", { value: name }, name)));
    const keep = el("button", { type: "submit" }, "Keep as a training example");
    const dismiss = el("button", { type: "button" }, "Dismiss");
    form.append(el("label", { for: id, class: "visually-hidden" }, "What they meant"), select, keep, dismiss);
    const path = `insights/unclear/${encodeURIComponent(message.id)}`;
    onSubmit(form, () => {
      if (!select.value) { showError("Choose what they meant first."); select.focus(); return; }
      act(`${path}/keep`, { intent: select.value });
    });
    dismiss.addEventListener("click", () => act(`${path}/dismiss`, {}));
    item.append(form);
  }
  return item;
}

async function act(path, body) {
  try {
    await api("POST", path, body);
    showError("");
    await loadUnclear();
  } catch (e) {
    showError(e.message);
  }
}

function showUnclear() {
  ui.list.replaceChildren(...messages.slice(0, shown).map(unclearItem));
  ui.empty.hidden = messages.length > 0;
  const left = messages.length - shown;
  ui.more.hidden = left <= 0;
  ui.more.textContent = `Show ${Math.min(left, PAGE)} more (${left} not shown)`;
}

export async function loadUnclear() {
  const data = await api("GET", "insights/unclear");
  intents = data.intents;
  messages = data.messages;
  showUnclear();
}

export function setupUnclear() {
  ui.more.addEventListener("click", () => {
    shown += PAGE;
    showUnclear();
  });
}

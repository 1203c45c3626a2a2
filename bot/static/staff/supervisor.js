// The supervisor's Shift panel: who is on shift and what each holds (since when, and
// when they last wrote, so someone gone quiet shows), the queue with its waits
// (crisis first), reading any conversation silently, and taking one over.
// Only shown to supervisors and admins; the API refuses everyone else (403).
import { byId, el, span } from "../common.js";
import { api, conversationPath, supervising } from "./api.js";
import { clearError, report, setStatus } from "./status.js";
import { channelName, isCrisis, pause, waitedFor } from "./words.js";

const ui = {
  panel: byId("shift"), refresh: byId("shift-refresh"), staff: byId("shift-staff"), queue: byId("shift-queue"),
  takeover: byId("takeover"), // in the open conversation's actions
};
let loading = false;

// Set by main.js: open a conversation (`watch`: read silently) after a takeover or a read.
const hooks = { open: () => {}, openId: () => null };
export function connectSupervisor(given) {
  Object.assign(hooks, given);
}

function holdingItem(h) {
  const item = el("li", { class: isCrisis(h) ? "held crisis" : "held", "data-id": h.id });
  const words = el("p");
  words.append(span("priority", isCrisis(h) ? "Crisis" : "Normal"), pause(),
    span("since", `held for ${waitedFor(h.claimed_at) || "a moment"}`), pause(),
    span("quiet", h.last_staff_at ? `last wrote ${waitedFor(h.last_staff_at)} ago` : "hasn't written yet"));
  const channel = channelName(h.channel);
  if (channel) words.append(pause(), span("channel", channel));
  const read = el("button", { type: "button", class: "shift-watch" }, "Read");
  const take = el("button", { type: "button", class: "shift-takeover" }, "Take over");
  read.addEventListener("click", () => hooks.open(h.id, true));
  take.addEventListener("click", () => takeOver(h.id));
  item.append(words, read, take);
  return item;
}

function render(shift) {
  ui.staff.textContent = "";
  (shift.staff || []).forEach((member) => {
    const item = el("li", { class: "shift-member", "data-username": member.username });
    const head = el("p");
    head.append(span("who", member.username), pause(), span("role", member.role), pause(),
      span("presence", member.on_shift ? "on shift" : "console closed"), pause(),
      span("count", `holding ${member.holding.length} of ${shift.max_chats}`));
    const held = el("ul", { class: "shift-held" });
    member.holding.forEach((h) => held.append(holdingItem(h)));
    item.append(head, held);
    ui.staff.append(item);
  });
  ui.queue.textContent = "";
  (shift.queue || []).forEach((c) => {
    const item = el("li", { class: isCrisis(c) ? "crisis" : "", "data-id": c.id });
    item.append(span("priority", isCrisis(c) ? "Crisis" : "Normal"), pause(),
      span("waited", `waiting ${waitedFor(c.waiting_since)}`));
    ui.queue.append(item);
  });
  if (!(shift.queue || []).length) ui.queue.append(el("li", { class: "muted" }, "No one is waiting."));
}

export async function loadShift() {
  if (!supervising() || loading) return;
  loading = true;
  try {
    render(await api("GET", "shift"));
  } catch (err) {
    report(err);
  } finally {
    loading = false;
  }
}

async function takeOver(id) {
  if (!window.confirm("Take this conversation over? The person is told someone else is picking up.")) return;
  clearError();
  try {
    await api("POST", `${conversationPath(id)}/takeover`);
  } catch (err) {
    report(err);
    return;
  }
  setStatus("You've taken the conversation over.");
  hooks.open(id, false);
  loadShift();
}

export function showShift() {
  ui.panel.hidden = !supervising();
  loadShift();
}

export function forgetShift() {
  ui.panel.hidden = true;
  ui.staff.textContent = "";
  ui.queue.textContent = "";
}

export function setupSupervisor() {
  ui.refresh.addEventListener("click", loadShift);
  ui.takeover.addEventListener("click", () => {
    const id = hooks.openId();
    if (id) takeOver(id);
  });
}

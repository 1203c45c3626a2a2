// Handing a held conversation on: to a colleague on shift (who accepts or declines),
// or back to the queue, with a note either way. And the handovers offered to this
// staff member, with Accept and Decline, kept from the queue so a reload shows them.
import { byId, el, onSubmit, span } from "../common.js";
import { beep, notify } from "./alerts.js";
import { api, conversationPath, myName } from "./api.js";
import { clearError, report, setStatus, showError } from "./status.js";
import { channelName, isCrisis, pause } from "./words.js";

const ui = {
  toggle: byId("transfer"), form: byId("transfer-form"), to: byId("transfer-to"),
  note: byId("transfer-note"), send: byId("transfer-send"), requeue: byId("requeue"),
  offers: byId("offers"), offersList: byId("offers-list"),
};

// Set by main.js: the conversation held and open, open one, the queue now, and what
// to do once a conversation has left this staff member.
const hooks = { heldId: () => null, open: () => {}, queue: () => [], gone: () => {} };
export function connectTransfer(given) {
  Object.assign(hooks, given);
}

function hideForm() {
  ui.form.hidden = true;
  ui.toggle.setAttribute("aria-expanded", "false");
}

async function showForm() {
  if (!ui.form.hidden) {
    hideForm();
    return;
  }
  clearError();
  let data;
  try {
    data = await api("GET", "colleagues");
  } catch (err) {
    report(err);
    return;
  }
  ui.to.textContent = "";
  const colleagues = Array.isArray(data.colleagues) ? data.colleagues : [];
  colleagues.forEach((c) => {
    ui.to.append(el("option", { value: c.username }, `${c.username} (holding ${c.holding})`));
  });
  ui.send.disabled = colleagues.length === 0;
  if (!colleagues.length) setStatus("Nobody else is on shift just now. You can still put it back in the queue.");
  ui.form.hidden = false;
  ui.toggle.setAttribute("aria-expanded", "true");
  (colleagues.length ? ui.to : ui.requeue).focus();
}

async function handOver(how) {
  const id = hooks.heldId();
  if (!id) return;
  const note = ui.note.value.trim();
  if (how === "transfer" && !ui.to.value) {
    showError("Choose a colleague first.");
    return;
  }
  const body = how === "transfer" ? { to: ui.to.value, note } : { note };
  clearError();
  try {
    await api("POST", `${conversationPath(id)}/${how}`, body);
  } catch (err) {
    report(err);
    return;
  }
  ui.note.value = "";
  hideForm();
  if (how === "transfer") {
    setStatus(`Offered to ${body.to}. It stays with you until they accept.`);
  } else {
    setStatus("Put back in the queue.");
    hooks.gone(id);
  }
}

function offerItem(conversation) {
  const item = el("li", { class: isCrisis(conversation) ? "offer crisis" : "offer", "data-id": conversation.id });
  const words = el("p");
  words.append(span("who", `From ${conversation.transfer_from}`), pause(),
    span("priority", isCrisis(conversation) ? "Crisis" : "Normal"));
  const channel = channelName(conversation.channel);
  if (channel) words.append(pause(), span("channel", channel));
  const look = el("button", { type: "button", class: "offer-view" }, "Read first");
  const accept = el("button", { type: "button", class: "primary offer-accept" }, "Accept");
  const decline = el("button", { type: "button", class: "offer-decline" }, "Decline");
  look.addEventListener("click", () => hooks.open(conversation.id));
  accept.addEventListener("click", () => answer(conversation.id, "accept"));
  decline.addEventListener("click", () => answer(conversation.id, "decline"));
  item.append(words, look, accept, decline);
  return item;
}

async function answer(id, how) {
  clearError();
  try {
    await api("POST", `${conversationPath(id)}/transfer/${how}`);
  } catch (err) {
    report(err);
    return;
  }
  if (how === "accept") {
    setStatus("You're now talking with this person.");
    hooks.open(id);
  } else {
    setStatus("Declined. It stays with your colleague.");
  }
}

// From the queue: the handovers waiting for this staff member's answer.
export function renderOffers() {
  const offers = hooks.queue().filter((c) => c.transfer_to && c.transfer_to === myName());
  ui.offersList.textContent = "";
  offers.forEach((c) => ui.offersList.append(offerItem(c)));
  ui.offers.hidden = offers.length === 0;
}

// The live feed's news about handovers (bot/staff/shift.py).
export const transferFrames = {
  transfer_offered: (frame) => {
    if (frame.to !== myName()) return;
    setStatus(`${frame.from} is handing you a conversation.`);
    beep(false);
    notify("A colleague is handing you a conversation", () => hooks.open(frame.conversation), "staff-offer");
  },
  transfer_declined: (frame) => {
    if (frame.from === myName()) setStatus(`${frame.to} declined the handover. The conversation stays with you.`);
  },
  transfer_accepted: (frame) => {
    if (frame.from !== myName()) return;
    setStatus(`${frame.to} has taken the conversation over.`);
    hooks.gone(frame.conversation);
  },
  taken_over: (frame) => {
    if (frame.from !== myName()) return;
    setStatus(`${frame.by} has taken one of your conversations over.`);
    hooks.gone(frame.conversation);
  },
};

export function resetTransfer() {
  hideForm();
  ui.note.value = "";
}

export function forgetOffers() {
  ui.offersList.textContent = "";
  ui.offers.hidden = true;
  resetTransfer();
}

export function setupTransfer() {
  ui.toggle.addEventListener("click", showForm);
  onSubmit(ui.form, () => handOver("transfer"));
  ui.requeue.addEventListener("click", () => handOver("requeue"));
}

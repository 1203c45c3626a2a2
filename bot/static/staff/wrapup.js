// The wrap-up on close: a dialog over the console where the worker ticks what the
// conversation was about and chooses one outcome, from the team's list (wrapup.yml).
// What the assistant already knew (under 18, paid, images shared, crisis, someone
// helping) comes ticked. Only ids go to the server: counts, never free text.
import { byId, el, onSubmit } from "../common.js";
import { api, conversationPath } from "./api.js";

const ui = {
  dialog: byId("wrapup-dialog"), form: byId("wrapup-form"), categories: byId("wrapup-categories"),
  outcomes: byId("wrapup-outcomes"), error: byId("wrapup-error"), cancel: byId("wrapup-cancel"),
};
let answer = null; // resolves the open dialog's promise

function choice(type, name, item, checked) {
  const id = `wrapup-${name}-${item.id}`;
  const input = el("input", { type, id, name, value: item.id });
  input.checked = checked;
  const label = el("label", { for: id, class: "wrapup-choice" });
  label.append(input, document.createTextNode(` ${item.label}`));
  return label;
}

function finish(result) {
  if (ui.dialog.open) ui.dialog.close();
  const done = answer;
  answer = null;
  if (done) done(result);
}

// The conversation left this console (taken over, handed on, the session ended): a
// wrap-up still open would hide behind the page and block it. Nothing is closed.
export const cancelWrapUp = () => finish(null);

// Resolves to the body for POST .../close ({categories, outcome}), or null if the
// worker cancelled. Throws (ApiError) if the form can't be loaded.
export async function askWrapUp(id) {
  const form = await api("GET", `${conversationPath(id)}/wrapup`);
  const ticked = new Set(form.ticked || []);
  ui.categories.replaceChildren(...form.categories.map((c) => choice("checkbox", "category", c, ticked.has(c.id))));
  ui.outcomes.replaceChildren(...form.outcomes.map((o) => choice("radio", "outcome", o, false)));
  ui.error.textContent = "";
  ui.outcomes.removeAttribute("aria-invalid");
  return new Promise((resolve) => {
    answer = resolve;
    ui.dialog.showModal();
    const first = ui.categories.querySelector("input");
    if (first) first.focus();
  });
}

function submit() {
  const outcome = ui.form.querySelector('input[name="outcome"]:checked');
  if (!outcome) {
    ui.error.textContent = "Choose one outcome.";
    ui.outcomes.setAttribute("aria-invalid", "true");
    ui.outcomes.querySelector("input").focus();
    return;
  }
  const categories = [...ui.form.querySelectorAll('input[name="category"]:checked')].map((i) => i.value);
  finish({ categories, outcome: outcome.value });
}

export function setupWrapUp() {
  onSubmit(ui.form, submit);
  ui.cancel.addEventListener("click", () => finish(null));
  ui.dialog.addEventListener("close", () => finish(null)); // Escape closes it too
}

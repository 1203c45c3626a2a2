// Passing a case on for the person: the form under the open conversation, shown only
// to the staff member talking with them, and only where a reporting channel is set up.
import { byId, onSubmit } from "../common.js";
import { api, conversationPath } from "./api.js";
import { loadCases } from "./cases.js";
import { report } from "./status.js";

const ui = {
  panel: byId("pass-on"), form: byId("pass-on-form"), error: byId("pass-on-error"),
  result: byId("pass-on-result"), submit: byId("pass-on-submit"),
  consent: byId("case-consent"), blackmailer: byId("case-blackmailer"), contact: byId("case-contact"),
};
let formFor = null; // the conversation the form's contents belong to
let passing = false;
// Set by main.js: the open conversation's id if this staff member holds it (else null),
// and fetching it again.
const hooks = { heldId: () => null, reload: () => {} };
export function connectPassOn(given) {
  Object.assign(hooks, given);
}

// Empty, closed and ready for this conversation: a draft never follows staff to someone else.
export function resetPassOn(id) {
  formFor = id;
  ui.form.reset();
  ui.panel.open = false;
  ui.consent.removeAttribute("aria-invalid");
  ui.error.textContent = "";
  ui.result.textContent = "";
}

// Shows or hides the form for this conversation. True if it was hidden while it had
// keyboard focus (the caller puts focus somewhere sensible).
export function showPassOn(id, shown) {
  if (formFor !== id) resetPassOn(id);
  const focused = ui.panel.contains(document.activeElement);
  ui.panel.hidden = !shown;
  return focused && ui.panel.hidden;
}

function problem(text, field) {
  ui.result.textContent = "";
  ui.error.textContent = text;
  if (field) {
    field.setAttribute("aria-invalid", "true");
    field.focus();
  }
}

function details() {
  const answers = {};
  ui.form.querySelectorAll("input[data-answer]").forEach((input) => {
    const value = input.value.trim();
    if (value) answers[input.dataset.answer] = value;
  });
  const body = { consent: true, answers };
  const blackmailer = ui.blackmailer.value.trim();
  const contact = ui.contact.value.trim();
  if (blackmailer) body.blackmailer = blackmailer;
  if (contact) body.contact = contact;
  return body;
}

async function passOn() {
  const id = hooks.heldId();
  if (id === null || passing) return;
  // Checked here as well as by the server: nothing goes without the person's yes.
  if (!ui.consent.checked) {
    problem("Pass a case on only once the person has agreed in this chat. Then tick the box.", ui.consent);
    return;
  }
  ui.consent.removeAttribute("aria-invalid");
  ui.error.textContent = "";
  ui.result.textContent = "";
  passing = true;
  ui.submit.setAttribute("aria-disabled", "true"); // not disabled: that would lose keyboard focus
  try {
    const data = await api("POST", `${conversationPath(id)}/report`, details());
    if (formFor === id) {
      const reference = String(data.reference || "");
      ui.form.reset();
      ui.result.textContent = data.already
        ? `Their case was already passed on. Its reference is ${reference}.`
        : `Case passed on. Its reference is ${reference}. The person has been sent it in the chat.`;
    }
    loadCases();
  } catch (err) {
    if (err.status === 401) return;
    if ([403, 404, 409, 503].includes(err.status)) {
      // These take the form away (not theirs now, or no reporting channel): say it on the page's alert line.
      report(err);
      if (err.status === 503) loadCases();
      else hooks.reload();
    } else if (formFor === id) {
      problem(err.message);
    }
  } finally {
    passing = false;
    ui.submit.removeAttribute("aria-disabled");
  }
}

export function setupPassOn() {
  onSubmit(ui.form, passOn);
  ui.consent.addEventListener("change", () => {
    if (ui.consent.checked) {
      ui.consent.removeAttribute("aria-invalid");
      ui.error.textContent = "";
    }
  });
}

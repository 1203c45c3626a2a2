// "My account": changing one's own password, and setting up two-factor sign-in. It is
// also the step a session must take first (GET me's `pending`): a one-time password
// to change, or two-factor to set up (supervisors and admins; everyone if the team
// says so). Until then the server answers nothing else, so the console stays hidden.
import { byId, el, onSubmit, plural } from "../common.js";
import { api } from "./api.js";
import { report } from "./status.js";

const MIN_PASSWORD = 12; // as the server: bot/staff/accounts.py
const ui = {
  section: byId("my-account"), heading: byId("my-account-heading"), intro: byId("my-account-intro"),
  close: byId("my-account-close"), console: byId("console"),
  passwordForm: byId("password-form"), current: byId("password-current"), fresh: byId("password-new"),
  again: byId("password-again"), passwordError: byId("password-error"), passwordResult: byId("password-result"),
  passwordSubmit: byId("password-submit"),
  status: byId("two-factor-status"), start: byId("two-factor-start"), setup: byId("two-factor-setup"),
  qr: byId("two-factor-qr"), secret: byId("two-factor-secret"), confirmForm: byId("two-factor-confirm-form"),
  code: byId("two-factor-code"), codeError: byId("two-factor-error"), confirm: byId("two-factor-confirm"),
  recovery: byId("recovery-codes"), recoveryList: byId("recovery-list"), saved: byId("recovery-saved"),
};
const INTRO = {
  password: "You signed in with a one-time password. Choose your own password to carry on.",
  two_factor: "Your role needs two-factor sign-in. Set it up with an authenticator app on your phone to carry on.",
};
// Set by setupMyAccount: a required step is done (the console asks the server what next).
const hooks = { stepDone: () => {}, closed: () => {} };
let required = null; // "password", "two_factor" or null

export async function showMyAccount(pending) {
  required = pending || null;
  ui.console.hidden = true;
  ui.section.hidden = false;
  ui.close.hidden = required !== null;
  ui.intro.textContent = INTRO[required] || "";
  ui.passwordForm.hidden = required === "two_factor";
  ui.heading.focus();
  await refreshTwoFactor();
}

export function hideMyAccount() {
  ui.section.hidden = true;
  required = null;
  for (const box of [ui.current, ui.fresh, ui.again, ui.code]) box.value = "";
  for (const line of [ui.passwordError, ui.passwordResult, ui.codeError]) line.textContent = "";
  ui.setup.hidden = true;
  ui.recovery.hidden = true;
  ui.recoveryList.replaceChildren();
  ui.qr.replaceChildren();
}

async function refreshTwoFactor() {
  if (required === "password") {
    ui.status.textContent = "Choose your password first.";
    ui.start.hidden = true;
    return;
  }
  try {
    const account = await api("GET", "account");
    if (account.two_factor) {
      ui.status.textContent = `On. You have ${plural(account.recovery_codes_left, "recovery code")} left. If you lose your phone, an admin can reset it.`;
    } else {
      ui.status.textContent = account.two_factor_required
        ? "Not set up yet. Your role needs it." : "Off. You can turn it on for extra safety.";
    }
    ui.start.hidden = account.two_factor || !ui.setup.hidden || !ui.recovery.hidden;
  } catch (err) {
    report(err);
  }
}

function passwordProblem(text, box) {
  ui.passwordError.textContent = text;
  box.focus();
}

async function onChangePassword() {
  ui.passwordError.textContent = "";
  ui.passwordResult.textContent = "";
  if (!ui.current.value) return passwordProblem("Enter your current password.", ui.current);
  if (ui.fresh.value.length < MIN_PASSWORD) {
    return passwordProblem(`Choose a new password of at least ${MIN_PASSWORD} characters.`, ui.fresh);
  }
  if (ui.fresh.value !== ui.again.value) return passwordProblem("The two new passwords differ.", ui.again);
  ui.passwordSubmit.disabled = true;
  try {
    await api("POST", "account/password", { current: ui.current.value, new: ui.fresh.value });
    for (const box of [ui.current, ui.fresh, ui.again]) box.value = "";
    ui.passwordResult.textContent = "Your password has changed. Your other sessions have ended.";
    if (required === "password") hooks.stepDone();
  } catch (err) {
    passwordProblem(err.message, err.status === 400 ? ui.current : ui.fresh);
  } finally {
    ui.passwordSubmit.disabled = false;
  }
}

// The QR code is the server's own inline SVG (segno, without a namespace, as HTML
// takes it): parsed inertly, and only its <svg> element is kept.
function showQr(svgText) {
  const svg = new DOMParser().parseFromString(svgText, "text/html").querySelector("svg");
  if (svg) ui.qr.replaceChildren(document.importNode(svg, true));
}

async function onStart() {
  ui.start.disabled = true;
  try {
    const setup = await api("POST", "account/two-factor/setup");
    showQr(setup.qr_svg);
    ui.secret.textContent = setup.secret_grouped;
    ui.setup.hidden = false;
    ui.start.hidden = true;
    ui.code.focus();
  } catch (err) {
    report(err);
  } finally {
    ui.start.disabled = false;
  }
}

async function onConfirm() {
  const code = ui.code.value.replace(/\s/g, "");
  if (!/^[0-9]{6}$/.test(code)) {
    ui.codeError.textContent = "Enter the 6 digits your app shows.";
    return ui.code.focus();
  }
  ui.codeError.textContent = "";
  ui.confirm.disabled = true;
  try {
    const done = await api("POST", "account/two-factor/confirm", { code });
    ui.code.value = "";
    ui.setup.hidden = true;
    ui.qr.replaceChildren();
    ui.recoveryList.replaceChildren(...done.recovery_codes.map((c) => el("li", {}, c)));
    ui.recovery.hidden = false;
    ui.status.textContent = "Two-factor sign-in is on.";
    ui.saved.focus();
  } catch (err) {
    ui.codeError.textContent = err.message;
    ui.code.focus();
  } finally {
    ui.confirm.disabled = false;
  }
}

function onSaved() {
  ui.recovery.hidden = true;
  ui.recoveryList.replaceChildren(); // shown once: gone from the page too
  if (required === "two_factor") return hooks.stepDone();
  refreshTwoFactor();
  ui.heading.focus();
}

export function setupMyAccount(given) {
  Object.assign(hooks, given);
  onSubmit(ui.passwordForm, onChangePassword);
  onSubmit(ui.confirmForm, onConfirm);
  ui.start.addEventListener("click", onStart);
  ui.saved.addEventListener("click", onSaved);
  ui.close.addEventListener("click", () => {
    hideMyAccount();
    hooks.closed();
  });
}

// Logging in (the password, then the code if two-factor is on) and out, and the
// account bar (who is signed in, alerts, insights, log out).
import { byId, onSubmit, plural } from "../common.js";
import { unlockAudio } from "./alerts.js";
import { api, signIn } from "./api.js";
import { clearError, report, setStatus } from "./status.js";

const ui = {
  account: byId("account"), signedIn: byId("signed-in"), insightsLink: byId("insights-link"), logout: byId("logout"),
  login: byId("login"), form: byId("login-form"), username: byId("username"), password: byId("password"),
  error: byId("login-error"), submit: byId("login-submit"), console: byId("console"), queueHeading: byId("queue-heading"),
  codeForm: byId("code-form"), code: byId("code"), codeTotp: byId("code-totp"), recoveryBox: byId("code-recovery"),
  recovery: byId("recovery-code"), codeError: byId("code-error"), codeSubmit: byId("code-submit"),
  useRecovery: byId("code-use-recovery"), codeCancel: byId("code-cancel"),
};
// Set by setupLogin: what logging in (with the server's answer) and out do to the console.
const hooks = { loggedIn: () => {}, loggedOut: () => {} };

export function showConsole(username, admin) {
  ui.error.textContent = "";
  ui.login.hidden = true;
  ui.signedIn.textContent = `Signed in as ${username}`;
  ui.insightsLink.hidden = !admin; // the page and its API check this too
  ui.account.hidden = false;
  ui.console.hidden = false;
}

export function showLoginForm(message) {
  ui.account.hidden = true;
  ui.console.hidden = true;
  ui.login.hidden = false;
  ui.form.hidden = false;
  ui.codeForm.hidden = true;
  clearError();
  setStatus(message || "");
  ui.username.focus();
}

// The password was right and two-factor is on: the code (or a recovery code) next.
export function showCodeStep() {
  ui.account.hidden = true;
  ui.console.hidden = true;
  ui.login.hidden = false;
  ui.form.hidden = true;
  ui.codeForm.hidden = false;
  useRecovery(false);
  ui.codeError.textContent = "";
}

function useRecovery(on) {
  ui.recoveryBox.hidden = !on;
  ui.codeTotp.hidden = on;
  ui.useRecovery.textContent = on ? "Use a code from the app instead" : "Use a recovery code instead";
  ui.code.value = "";
  ui.recovery.value = "";
  (on ? ui.recovery : ui.code).focus();
}

function retryText(err) {
  const wait = Math.ceil(Number(err.retryAfter));
  if (err.status !== 429 || !(wait > 0)) return err.message;
  return err.message + (wait < 120 ? ` You can try again in ${plural(wait, "second")}.`
    : ` You can try again in ${plural(Math.ceil(wait / 60), "minute")}.`);
}

async function onCode() {
  const recovering = !ui.recoveryBox.hidden;
  const code = ui.code.value.replace(/\s/g, "");
  const recovery = ui.recovery.value.trim();
  if (!recovering && !/^[0-9]{6}$/.test(code)) {
    ui.codeError.textContent = "Enter the 6 digits your app shows.";
    return ui.code.focus();
  }
  if (recovering && !recovery) {
    ui.codeError.textContent = "Enter one of your recovery codes.";
    return ui.recovery.focus();
  }
  ui.codeError.textContent = "";
  ui.codeSubmit.disabled = true;
  try {
    const data = await api("POST", "login/code", recovering ? { recovery_code: recovery } : { code },
      { expect401: true });
    ui.code.value = "";
    ui.recovery.value = "";
    hooks.loggedIn(data);
    if (!data.pending) ui.queueHeading.focus();
  } catch (err) {
    if (err.status === 401) return showLoginForm("That took too long. Please log in again.");
    ui.codeError.textContent = retryText(err);
    (recovering ? ui.recovery : ui.code).select();
  } finally {
    ui.codeSubmit.disabled = false;
  }
}

function problem(text, field) {
  ui.error.textContent = text;
  ui.username.setAttribute("aria-invalid", String(field === ui.username || !field));
  ui.password.setAttribute("aria-invalid", String(field === ui.password || !field));
  (field || ui.password).focus();
}

async function onLogin() {
  unlockAudio(); // a click or Enter here counts as the gesture browsers want before sound
  const username = ui.username.value.trim();
  const password = ui.password.value;
  if (!username) return problem("Enter your username.", ui.username);
  if (!password) return problem("Enter your password.", ui.password);
  ui.error.textContent = "";
  ui.submit.disabled = true;
  try {
    const data = await api("POST", "login", { username, password }, { expect401: true });
    ui.password.value = "";
    ui.username.removeAttribute("aria-invalid");
    ui.password.removeAttribute("aria-invalid");
    if (data.pending === "code") {
      signIn(data); // the half session's CSRF token, for the code step
      return showCodeStep();
    }
    hooks.loggedIn(data);
    if (!data.pending) ui.queueHeading.focus(); // the heading says where we are now
  } catch (err) {
    ui.password.value = "";
    problem(retryText(err), err.status === 400 || err.status === 401 ? null : ui.password);
  } finally {
    ui.submit.disabled = false;
  }
}

async function onLogout() {
  clearError();
  ui.logout.disabled = true;
  try {
    await api("POST", "logout");
    hooks.loggedOut();
  } catch (err) {
    report(err); // still logged in: say so rather than pretend
  } finally {
    ui.logout.disabled = false;
  }
}

export function setupLogin(given) {
  Object.assign(hooks, given);
  onSubmit(ui.form, onLogin);
  onSubmit(ui.codeForm, onCode);
  ui.useRecovery.addEventListener("click", () => useRecovery(ui.recoveryBox.hidden));
  // Back to the password: the half session ends with it.
  ui.codeCancel.addEventListener("click", async () => {
    try { await api("POST", "logout", undefined, { expect401: true }); } catch (err) { /* gone already */ }
    showLoginForm("");
  });
  ui.logout.addEventListener("click", onLogout);
}

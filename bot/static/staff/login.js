// Logging in and out, and the account bar (who is signed in, alerts, insights, log out).
import { byId, onSubmit, plural } from "../common.js";
import { unlockAudio } from "./alerts.js";
import { api } from "./api.js";
import { clearError, report, setStatus } from "./status.js";

const ui = {
  account: byId("account"), signedIn: byId("signed-in"), insightsLink: byId("insights-link"), logout: byId("logout"),
  login: byId("login"), form: byId("login-form"), username: byId("username"), password: byId("password"),
  error: byId("login-error"), submit: byId("login-submit"), console: byId("console"), queueHeading: byId("queue-heading"),
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
  clearError();
  setStatus(message || "");
  ui.username.focus();
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
    hooks.loggedIn(data);
    ui.queueHeading.focus(); // the heading says where we are now
  } catch (err) {
    ui.password.value = "";
    let text = err.message;
    const wait = Math.ceil(Number(err.retryAfter));
    if (err.status === 429 && wait > 0) {
      text += wait < 120 ? ` You can try again in ${plural(wait, "second")}.`
        : ` You can try again in ${plural(Math.ceil(wait / 60), "minute")}.`;
    }
    problem(text, err.status === 400 || err.status === 401 ? null : ui.password);
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
  ui.logout.addEventListener("click", onLogout);
}

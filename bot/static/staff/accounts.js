// "Accounts", for admins: everyone's accounts, adding one, roles, disabling and
// enabling, and resets (a new one-time password, shown once; two-factor for a lost
// phone). The server checks the role on every call; this only draws it.
import { byId, el, onSubmit } from "../common.js";
import { api } from "./api.js";

const ROLES = ["worker", "supervisor", "admin"];
const ui = {
  open: byId("accounts-open"), section: byId("accounts"), heading: byId("accounts-heading"),
  close: byId("accounts-close"), console: byId("console"), error: byId("accounts-error"),
  rows: byId("accounts-rows"), form: byId("account-add-form"), username: byId("account-username"),
  role: byId("account-role"), add: byId("account-add"),
  oneTime: byId("one-time"), oneTimeUser: byId("one-time-username"), oneTimePassword: byId("one-time-password"),
  oneTimeDone: byId("one-time-done"),
};
const hooks = { closed: () => {} };
const path = (username, action) => `accounts/${encodeURIComponent(username)}/${action}`;
const capital = (word) => word.charAt(0).toUpperCase() + word.slice(1);

export function allowAccounts(admin) {
  ui.open.hidden = !admin;
}

export async function showAccounts() {
  ui.console.hidden = true;
  ui.section.hidden = false;
  ui.heading.focus();
  await load();
}

export function hideAccounts() {
  ui.section.hidden = true;
  hideOneTime();
  ui.error.textContent = "";
  ui.rows.replaceChildren();
}

function hideOneTime() {
  ui.oneTime.hidden = true;
  ui.oneTimeUser.textContent = "";
  ui.oneTimePassword.textContent = "";
}

function showOneTime(username, password) {
  ui.oneTimeUser.textContent = username;
  ui.oneTimePassword.textContent = password;
  ui.oneTime.hidden = false;
  ui.oneTimeDone.focus();
}

async function act(run) {
  ui.error.textContent = "";
  try {
    await run();
  } catch (err) {
    ui.error.textContent = err.message;
  }
  await load();
}

function button(id, text, run) {
  const node = el("button", { id, type: "button" }, text);
  node.addEventListener("click", () => act(run));
  return node;
}

function row(account) {
  const name = account.username;
  const select = el("select", { id: `account-role-${name}`, "aria-label": `Role for ${name}`, "data-username": name });
  for (const role of ROLES) {
    const option = el("option", { value: role }, capital(role));
    option.selected = role === account.role;
    select.append(option);
  }
  select.addEventListener("change", () => act(() => api("POST", path(name, "role"), { role: select.value })));
  const status = account.disabled ? "Disabled" : account.must_change_password ? "Active, must choose a password" : "Active";
  const actions = el("td", { class: "account-actions" });
  actions.append(account.disabled
    ? button(`account-enable-${name}`, `Enable ${name}`, () => api("POST", path(name, "enable")))
    : button(`account-disable-${name}`, `Disable ${name}`, () => api("POST", path(name, "disable"))));
  actions.append(button(`account-password-reset-${name}`, `Reset password for ${name}`, async () => {
    const reset = await api("POST", path(name, "password-reset"));
    showOneTime(name, reset.one_time_password);
  }));
  if (account.two_factor) {
    actions.append(button(`account-two-factor-reset-${name}`, `Reset two-factor for ${name}`,
      () => api("POST", path(name, "two-factor-reset"))));
  }
  const tr = el("tr", { id: `account-row-${name}`, "data-username": name });
  const roleCell = el("td");
  roleCell.append(select);
  tr.append(el("th", { scope: "row" }, name), roleCell, el("td", {}, account.two_factor ? "On" : "Off"),
    el("td", {}, status), actions);
  return tr;
}

async function load() {
  try {
    const data = await api("GET", "accounts");
    ui.rows.replaceChildren(...data.accounts.map(row));
  } catch (err) {
    ui.error.textContent = err.message;
  }
}

async function onAdd() {
  const username = ui.username.value.trim();
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(username)) {
    ui.error.textContent = "A username is 1 to 64 letters, digits, '.', '_' or '-'.";
    return ui.username.focus();
  }
  ui.add.disabled = true;
  await act(async () => {
    const added = await api("POST", "accounts", { username, role: ui.role.value });
    ui.username.value = "";
    showOneTime(added.username, added.one_time_password);
  });
  ui.add.disabled = false;
}

export function setupAccounts(given) {
  Object.assign(hooks, given);
  onSubmit(ui.form, onAdd);
  ui.oneTimeDone.addEventListener("click", () => {
    hideOneTime();
    ui.heading.focus();
  });
  ui.close.addEventListener("click", () => {
    hideAccounts();
    hooks.closed();
  });
}

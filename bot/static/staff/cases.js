// Cases passed on to the reporting channel: the list with each one's state, a retry
// for those that failed, and an alert line at the top while any has failed.
import { byId, el, plural, span } from "../common.js";
import { beep, notify } from "./alerts.js";
import { api, signedIn } from "./api.js";
import { clearError, report, setStatus } from "./status.js";
import { dayAndTime, pause, timeElement } from "./words.js";

const CASE_STATUSES = { pending: "Pending", delivered: "Delivered", failed: "Failed" };
const MAX_DELIVERED_SHOWN = 50; // failed and pending cases are always listed

const ui = { alert: byId("case-alert"), heading: byId("cases-heading"), summary: byId("cases-summary"), list: byId("cases-list") };
let enabled = null; // null until the first answer: is a reporting channel set up here?
let loading = false;
let loadAgain = false; // a change arrived while loading: load once more afterwards
let token = 0; // so a load from before logging out is dropped
let alertText = "";
let alertCount = 0;
let changed = () => {}; // set by whenCasesChange

// Told after each new list: whether cases can be passed on may have changed.
export function whenCasesChange(handler) {
  changed = handler;
}

export const casesEnabled = () => enabled;

function count(counts, status) {
  const n = Number(counts && counts[status]);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

const caseTime = (iso) => timeElement(iso, dayAndTime(iso));

// Said in words, so it is heard on any screen; stays put while nothing changes,
// so that every delivery attempt elsewhere isn't read out again.
function showCaseAlert(failed) {
  const text = failed > 0
    ? `${failed === 1 ? "1 case" : `${failed} cases`} could not be passed on. `
      + `Check the receiver, then retry ${failed === 1 ? "it" : "them"}.`
    : "";
  alertCount = failed;
  if (text === alertText) return;
  alertText = text;
  ui.alert.textContent = "";
  if (!text) return;
  ui.alert.append(el("p", {}, text), el("a", { href: "#cases-heading" }, "Go to the cases"));
}

function caseItem(item) {
  const status = CASE_STATUSES[item.status] ? item.status : "pending";
  const li = el("li", { class: `case ${status}` });
  const top = el("p", { class: "case-top" });
  top.append(span("reference", String(item.reference)), pause(), span("case-status", CASE_STATUSES[status]));
  const details = el("p", { class: "case-details" });
  details.append("Passed on ", caseTime(item.created),
    item.consent === "staff" ? " by staff, with the person's consent" : " by the person");
  const attempts = Number.isInteger(item.attempts) ? item.attempts : 0;
  details.append(`. ${plural(attempts, "attempt")}`);
  if (status === "delivered" && item.delivered) details.append(". Delivered ", caseTime(item.delivered));
  if (status === "pending" && item.gives_up) details.append(". Keeps trying until ", caseTime(item.gives_up));
  details.append(".");
  li.append(top, details);
  if (status !== "delivered" && item.last_error) {
    li.append(el("p", { class: "case-error" }, `Last error: ${item.last_error}`));
  }
  if (status === "failed") {
    const button = el("button", { type: "button", class: "retry", "data-reference": String(item.reference) });
    button.append("Retry", span("visually-hidden", ` ${item.reference}`));
    button.addEventListener("click", () => retryCase(button));
    li.append(button);
  }
  return li;
}

function renderCases(data) {
  enabled = data.enabled === true;
  const focused = ui.list.contains(document.activeElement) ? document.activeElement.dataset.reference : null;
  ui.list.textContent = "";
  if (!enabled) {
    ui.summary.textContent = "No reporting channel is set up here.";
    ui.list.hidden = true;
    showCaseAlert(0);
  } else {
    const counts = data.counts || {};
    ui.summary.textContent =
      `${count(counts, "pending")} pending, ${count(counts, "delivered")} delivered, ${count(counts, "failed")} failed`;
    const cases = (Array.isArray(data.cases) ? data.cases : [])
      .filter((c) => c && typeof c === "object" && typeof c.reference === "string");
    let delivered = 0;
    cases.forEach((c) => {
      if (c.status === "delivered" && (delivered += 1) > MAX_DELIVERED_SHOWN) return;
      ui.list.append(caseItem(c));
    });
    if (delivered > MAX_DELIVERED_SHOWN) {
      ui.list.append(el("li", { class: "muted small" }, `Only the newest ${MAX_DELIVERED_SHOWN} delivered cases are shown.`));
    }
    ui.list.hidden = false;
    showCaseAlert(count(counts, "failed"));
  }
  changed(); // the pass-on form needs a reporting channel
  // A retried case loses its button: keep keyboard focus in the panel.
  if (focused) {
    const same = ui.list.querySelector(`button[data-reference="${CSS.escape(focused)}"]`);
    (same || ui.heading).focus();
  }
}

// Changes come in bursts (every delivery attempt): one load at a time, and one more after.
export async function loadCases() {
  if (!signedIn()) return;
  if (loading) {
    loadAgain = true;
    return;
  }
  loading = true;
  const mine = token;
  try {
    const data = await api("GET", "cases");
    if (signedIn() && mine === token) renderCases(data);
  } catch (err) {
    if (err.status !== 401 && mine === token && enabled === null) {
      ui.summary.textContent = "The cases couldn't be loaded. Reload the page to try again.";
    }
  } finally {
    loading = false;
    if (loadAgain && mine === token) {
      loadAgain = false;
      loadCases();
    }
  }
}

async function retryCase(button) {
  const reference = button.dataset.reference;
  if (button.getAttribute("aria-disabled") === "true") return;
  clearError();
  button.setAttribute("aria-disabled", "true");
  try {
    await api("POST", `cases/${encodeURIComponent(reference)}/retry`);
    setStatus(`Trying case ${reference} again.`);
  } catch (err) {
    report(err);
  } finally {
    button.removeAttribute("aria-disabled");
    loadCases();
  }
}

export function onCaseFailed() {
  // At least one: the fresh counts follow with the reload.
  showCaseAlert(Math.max(1, alertCount));
  beep(true);
  notify("A case could not be passed on", () => ui.heading.focus(), "staff-cases");
  loadCases();
}

export function clearCases() {
  token += 1;
  enabled = null;
  loadAgain = false;
  alertText = "";
  alertCount = 0;
  ui.alert.textContent = "";
  ui.summary.textContent = "";
  ui.list.textContent = "";
}

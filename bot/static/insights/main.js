// The insights page (insights.html): anonymous counts for a chosen period, and the
// messages the bot did not understand. Start reading here.
//   charts.js   the counts drawn: at a glance, the funnel, the heat map, day by day
//   unclear.js  the messages not understood, kept or dismissed
//   wrapup.js   "did this help?" and the wrap-ups, as tables
// It talks to the server with the console's client (staff/api.js).
import { byId, onSubmit } from "../common.js";
import { api, apiPath, signIn, whenSessionEnds } from "../staff/api.js";
import { showError } from "../staff/status.js";
import { drawCounts } from "./charts.js";
import { loadUnclear, setupUnclear } from "./unclear.js";
import { drawFeedback } from "./wrapup.js";

const ui = { status: byId("status"), days: byId("days"), csv: byId("csv"), period: byId("period"), timezone: byId("timezone") };

async function load() {
  const days = ui.days.value;
  ui.csv.href = apiPath(`insights.csv?days=${encodeURIComponent(days)}`);
  ui.status.textContent = "Loading…";
  try {
    const data = await api("GET", `insights?days=${encodeURIComponent(days)}`);
    ui.period.textContent = `${data.period.from} to ${data.period.to}, ${data.period.timezone} time.`;
    ui.timezone.textContent = data.period.timezone;
    drawCounts(data);
    drawFeedback(data);
    await loadUnclear();
    ui.status.textContent = "";
    document.body.dataset.loaded = days;
    showError("");
  } catch (e) {
    ui.status.textContent = "";
    showError(e.message);
  }
}

async function start() {
  // Signed out (or the session ended): back to the console, to log in.
  whenSessionEnds(() => window.location.assign("/staff"), "Your session has ended. Log in again.");
  setupUnclear();
  onSubmit(byId("period-form"), () => {});
  ui.days.addEventListener("change", load);
  try {
    signIn(await api("GET", "me")); // for the CSRF token
  } catch (e) {
    ui.status.textContent = "";
    showError(e.message);
    return;
  }
  await load();
}

start();

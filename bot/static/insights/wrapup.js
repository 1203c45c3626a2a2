// The insights page's "Did this help?" and wrap-up counts, as plain tables. The server
// has already hidden small counts as "<5"; this only shows what it is given.
import { byId, el } from "../common.js";

const ROUTES = { handoff: "After talking to a person", four_steps: "After the four steps" };

function row(cells, header) {
  const tr = el("tr");
  cells.forEach((cell, i) => tr.append(el(i === 0 || header ? "th" : "td",
    i === 0 && !header ? { scope: "row" } : header ? { scope: "col" } : {}, String(cell))));
  return tr;
}

function table(node, heading, rows) {
  const head = el("thead");
  head.append(row(heading, true));
  const body = el("tbody");
  body.append(...rows.map((cells) => row(cells, false)));
  node.replaceChildren(head, body);
}

export function drawFeedback(data) {
  const answers = data.helped.handoff.answers.map((a) => a.label);
  table(byId("helped-table"), ["", "Asked", ...answers], Object.entries(data.helped).map(
    ([route, counted]) => [ROUTES[route] || route, counted.asked, ...counted.answers.map((a) => a.count)]));
  byId("wrapup-count").textContent = `Closed with a wrap-up: ${data.wrapup.count}`;
  table(byId("wrapup-categories-table"), ["What it was about", "Conversations"],
    data.wrapup.categories.map((c) => [c.label, c.count]));
  table(byId("wrapup-outcomes-table"), ["Outcome", "Conversations"],
    data.wrapup.outcomes.map((o) => [o.label, o.count]));
}

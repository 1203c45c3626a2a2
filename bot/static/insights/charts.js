// The insights page's pictures of the counts: the tiles at a glance, the funnel, the
// heat map and the day-by-day chart, drawn with our own code (no library, nothing from
// another site). The server has already hidden small counts as "<5"; this only draws
// what it is given.
import { byId, el } from "../common.js";

const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const SVG = "http://www.w3.org/2000/svg";

const ui = {
  headline: byId("headline"), funnel: byId("funnel"), heatmap: byId("heatmap"),
  daily: byId("daily"), dailyTable: byId("daily-table"),
};

function svg(tag, attrs, parent) {
  const node = document.createElementNS(SVG, tag);
  Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, String(v)));
  if (parent) parent.appendChild(node);
  return node;
}

// A count from the server is a number or "<5".
const hidden = (count) => typeof count !== "number";
const asNumber = (count) => (hidden(count) ? 2.5 : count); // "<5" drawn mid-way, marked
const percent = (fraction) => (fraction === null ? "" : ` (${Math.round(fraction * 100)}%)`);
const minutes = (m) => (m === null ? "too few to show" : `up to ${String(m).replace(">", "over ")} min`);

// --- At a glance ---------------------------------------------------------------
function headline(data) {
  const t = data.totals;
  const s = data.shares;
  const rows = [
    ["People who talked to us", `${t.conversations}`],
    ["Got all four steps", `${t.step_4}${percent(s.step_4)}`],
    ["Asked for a person", `${t.handoff_requested}${percent(s.handoff_requested)}`],
    ["Reached a person", `${t.reached_person}${percent(s.reached_person)}`],
    ["Half waited", minutes(data.waits.median_minutes)],
    ["9 in 10 waited", minutes(data.waits.p90_minutes)],
    ["Started outside support hours", data.support_hours.length
      ? `${t.out_of_hours}${percent(s.out_of_hours)}` : "no support hours set"],
    ["Started with nobody on shift", `${t.nobody_on_shift}${percent(s.nobody_on_shift)}`],
    ["Got the crisis response", `${t.crisis}${percent(s.crisis)}`],
    ["Said they are under 18", `${t.under_18}${percent(s.under_18)}`],
    ["A parent, carer, friend or professional", `${t.helping_someone}${percent(s.helping_someone)}`],
    ["Asked gently about suicide or self-harm", `${t.check_risk}${percent(s.check_risk)}`],
    ["Cases passed on", `${t.report_passed_on}`],
    ["Asked us to delete their chat", `${t.forget_me}`],
    ["Come-back codes made", `${t.come_back_made}`],
    ["Came back with a code", `${t.come_back_used}`],
    ["Come-back codes that opened nothing", `${t.come_back_failed}`],
    ["Messages not understood", `${t.fallbacks}`],
    ["Asked for a check-in later", `${t.check_in_agreed} of ${t.check_in_offered} offered`],
    ["Check-ins sent", `${t.check_in_sent}`],
  ];
  ui.headline.replaceChildren(...rows.map(([label, value]) => {
    const item = el("div", { class: "tile" });
    item.append(el("dt", {}, label), el("dd", {}, value));
    return item;
  }));
}

// --- Funnel ----------------------------------------------------------------------
function funnel(data) {
  const top = Math.max(1, asNumber(data.funnel[0].count));
  ui.funnel.replaceChildren(...data.funnel.map((step) => {
    const item = el("li", { class: "funnel-step" });
    const width = Math.min(100, (asNumber(step.count) / top) * 100);
    const bar = el("span", { class: hidden(step.count) ? "funnel-bar small-count" : "funnel-bar" });
    bar.style.width = `${Math.max(width, step.count === 0 ? 0 : 1)}%`;
    const share = typeof step.count === "number" && typeof data.funnel[0].count === "number"
      && step.name !== "conversations" && data.funnel[0].count >= 5 && step.count >= 5
      ? percent(step.count / data.funnel[0].count) : "";
    item.append(el("span", { class: "funnel-label" }, step.label),
      el("span", { class: "funnel-track" }), el("span", { class: "funnel-count" }, `${step.count}${share}`));
    item.children[1].appendChild(bar);
    return item;
  }));
}

// --- Heat map: a real table, so a screen reader can read it too ---------------------
function inSupportHours(windows, day, hour) {
  return windows.some(([d, start, end]) => d === day && start < (hour + 1) * 60 && hour * 60 < end);
}

function heatmap(data) {
  const cells = data.heatmap;
  const top = Math.max(5, ...cells.flat().map((c) => (hidden(c) ? 0 : c)));
  const head = el("tr");
  head.append(el("th", { scope: "col" }, ""));
  for (let h = 0; h < 24; h += 1) head.append(el("th", { scope: "col" }, String(h).padStart(2, "0")));
  const rows = cells.map((hours, day) => {
    const row = el("tr");
    row.append(el("th", { scope: "row" }, DAYS[day]));
    hours.forEach((count, hour) => {
      const level = hidden(count) ? "small" : String(Math.ceil((count / top) * 4));
      const cell = el("td", { "data-level": level }, count === 0 ? "" : String(count));
      if (inSupportHours(data.support_hours, day, hour)) cell.classList.add("open");
      cell.title = `${DAYS[day]} ${String(hour).padStart(2, "0")}:00: ${count} conversation(s)`;
      row.append(cell);
    });
    return row;
  });
  ui.heatmap.replaceChildren(el("caption", { class: "visually-hidden" },
    "Conversations started by day and hour"), head, ...rows);
}

// --- Day by day: bars (conversations) and lines (waits) ------------------------------
function waitValue(m) {
  return m === null ? null : Number(String(m).replace(">", "")) + (String(m).startsWith(">") ? 60 : 0);
}

function daily(data) {
  const days = data.days;
  const W = 720; const H = 260; const left = 40; const right = 44; const top = 12; const bottom = 36;
  const plotW = W - left - right; const plotH = H - top - bottom;
  const maxCount = Math.max(5, ...days.map((d) => asNumber(d.conversations)));
  const waits = days.flatMap((d) => [waitValue(d.waits.median_minutes), waitValue(d.waits.p90_minutes)])
    .filter((m) => m !== null);
  const maxWait = Math.max(10, ...waits);
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "daily-chart",
    "aria-label": `Conversations a day from ${data.period.from} to ${data.period.to}, and waiting times. The table below has the numbers.` });
  const step = plotW / days.length;
  const x = (i) => left + i * step + step / 2;
  const yCount = (c) => top + plotH - (c / maxCount) * plotH;
  const yWait = (m) => top + plotH - (m / maxWait) * plotH;
  svg("line", { x1: left, y1: top + plotH, x2: W - right, y2: top + plotH, class: "axis" }, chart);
  [0, Math.round(maxCount / 2), maxCount].forEach((c) => {
    svg("text", { x: left - 6, y: yCount(c) + 4, class: "tick", "text-anchor": "end" }, chart).textContent = c;
  });
  [0, Math.round(maxWait / 2), maxWait].forEach((m) => {
    svg("text", { x: W - right + 6, y: yWait(m) + 4, class: "tick wait-tick" }, chart).textContent = `${m}m`;
  });
  const labelEvery = Math.ceil(days.length / 10);
  days.forEach((d, i) => {
    const c = asNumber(d.conversations);
    const bar = svg("rect", { x: x(i) - step * 0.35, width: step * 0.7, y: yCount(c),
      height: Math.max(0, top + plotH - yCount(c)), class: hidden(d.conversations) ? "bar small-count" : "bar" }, chart);
    svg("title", {}, bar).textContent = `${d.date}: ${d.conversations} conversation(s)`;
    if (i % labelEvery === 0) {
      svg("text", { x: x(i), y: H - bottom + 16, class: "tick", "text-anchor": "middle" }, chart)
        .textContent = d.date.slice(5);
    }
  });
  [["median_minutes", "wait-line"], ["p90_minutes", "wait-line p90"]].forEach(([key, cls]) => {
    let path = "";
    let pen = "M";
    days.forEach((d, i) => {
      const m = waitValue(d.waits[key]);
      if (m === null) { pen = "M"; return; }
      path += `${pen}${x(i).toFixed(1)},${yWait(m).toFixed(1)} `;
      pen = "L";
      svg("circle", { cx: x(i), cy: yWait(m), r: 3, class: cls }, chart);
    });
    if (path) svg("path", { d: path, class: cls }, chart);
  });
  ui.daily.replaceChildren(chart);

  const head = el("tr");
  ["Day", "Conversations", "Waits", "Half waited", "9 in 10 waited"]
    .forEach((h) => head.append(el("th", { scope: "col" }, h)));
  ui.dailyTable.replaceChildren(head, ...days.map((d) => {
    const row = el("tr");
    row.append(el("th", { scope: "row" }, d.date), el("td", {}, String(d.conversations)),
      el("td", {}, String(d.waits.count)), el("td", {}, minutes(d.waits.median_minutes)),
      el("td", {}, minutes(d.waits.p90_minutes)));
    return row;
  }));
}

export function drawCounts(data) {
  headline(data);
  funnel(data);
  heatmap(data);
  daily(data);
}

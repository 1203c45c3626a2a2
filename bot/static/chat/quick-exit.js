// Quick exit: the button, or the Esc key three times quickly, anywhere, even while
// typing. Leaves for a neutral page in a way that Back won't return here.
import { attempt, byId } from "../common.js";
import { clearAll } from "./storage.js";

// Only used if the server didn't fill in the exit address: leaving must always work.
const DEFAULT_EXIT_URL = "https://www.bbc.co.uk/weather";

let leaving = false;
let stopTalking = () => {}; // set by setupQuickExit: closes the connection
const escapePresses = [];

export const isLeaving = () => leaving;

// index.html's body carries the address, filled in by the server (bot/web/page.py).
function exitUrl() {
  const raw = document.body.dataset.exitUrl || "";
  if (!raw || raw.indexOf("QUICK_EXIT_URL") !== -1) return DEFAULT_EXIT_URL;
  const url = attempt(() => new URL(raw, location.href), null);
  return url && /^https?:$/.test(url.protocol) ? url.href : DEFAULT_EXIT_URL;
}

function quickExit() {
  leaving = true;
  const target = exitUrl();
  stopTalking();
  clearAll();
  byId("messages").textContent = ""; // blank the screen in case leaving takes a moment
  byId("message-input").value = "";
  byId("code-words").textContent = ""; // the come-back code too (come-back.js)
  byId("code-panel").hidden = true;
  byId("resume-code").value = "";
  location.replace(target); // replace, so Back doesn't return here
}

// Three presses of Escape within 2 seconds.
function onKeyDown(event) {
  if (event.key !== "Escape" && event.key !== "Esc") return;
  const now = Date.now();
  escapePresses.push(now);
  while (now - escapePresses[0] > 2000) escapePresses.shift();
  if (escapePresses.length >= 3) quickExit();
}

export function setupQuickExit(stop) {
  stopTalking = stop;
  document.addEventListener("keydown", onKeyDown, true);
  byId("quick-exit").addEventListener("click", quickExit);
}

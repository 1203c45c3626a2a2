// The page's two lines at the top: the status (polite news) and the error (an alert).
import { byId } from "../common.js";

const statusLine = byId("status");
const errorLine = byId("error");
let statusTimer = 0;

export function setStatus(text) {
  clearTimeout(statusTimer);
  // The same words again would not be read out again: empty the region first.
  if (text && statusLine.textContent === text) {
    statusLine.textContent = "";
    statusTimer = setTimeout(() => { statusLine.textContent = text; }, 150);
  } else {
    statusLine.textContent = text;
  }
}

export const showError = (text) => { errorLine.textContent = text; };
export const clearError = () => { errorLine.textContent = ""; };

// A 401 has already sent the page back to the login form: nothing more to say.
export function report(err) {
  if (err && err.status === 401) return;
  showError((err && err.message) || "Something went wrong. Please try again.");
}

// Alerts: a short sound and a notification for new conversations and failed cases.
// Browsers only let a page start sound after a click or key press, and ask for
// notifications only when the staff member presses "Turn on alerts".
import { attempt, byId } from "../common.js";
import { signedIn } from "./api.js";
import { setStatus } from "./status.js";

const button = byId("alerts");
let audio = null;

// The audio is set up (or woken) on the first click or key press.
export function unlockAudio() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  if (!audio) audio = attempt(() => new Context(), null);
  if (audio && audio.state === "suspended") audio.resume().catch(() => {});
}

// A short beep made here, so there is no sound file to load. Crisis: three beeps.
export function beep(urgent) {
  if (!audio) unlockAudio();
  if (!audio) return;
  attempt(() => {
    const start = audio.currentTime + 0.02;
    for (let i = 0; i < (urgent ? 3 : 1); i += 1) {
      const at = start + i * 0.3;
      const tone = audio.createOscillator();
      const volume = audio.createGain();
      tone.type = "sine";
      tone.frequency.value = urgent ? 880 : 660;
      // A quick fade in and out avoids clicks.
      volume.gain.setValueAtTime(0.0001, at);
      volume.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
      volume.gain.exponentialRampToValueAtTime(0.0001, at + 0.2);
      tone.connect(volume);
      volume.connect(audio.destination);
      tone.start(at);
      tone.stop(at + 0.22);
    }
  });
}

const canNotify = () => "Notification" in window;

export function updateAlertsButton() {
  button.textContent = canNotify() && Notification.permission === "granted" ? "Test alerts" : "Turn on alerts";
}

// Older Safari takes a callback instead of returning a promise.
function askPermission() {
  return new Promise((resolve) => {
    const maybe = attempt(() => Notification.requestPermission(resolve), null);
    if (maybe && typeof maybe.then === "function") maybe.then(resolve, () => resolve(Notification.permission));
    else if (!maybe && Notification.permission !== "default") resolve(Notification.permission);
  });
}

// Only ever asked for on this click: browsers block (and people dislike) asking on page load.
async function onAlertsClick() {
  unlockAudio();
  let permission = canNotify() ? Notification.permission : "unsupported";
  if (permission === "default") permission = await askPermission();
  updateAlertsButton();
  beep(false); // so they know what to listen for
  if (permission === "granted") {
    setStatus("Alerts are on. New conversations make a short sound and show a notification.");
  } else if (permission === "unsupported") {
    setStatus("This browser can't show notifications. New conversations still make a short sound.");
  } else {
    setStatus("Notifications are off in this browser's settings. New conversations still make a short sound.");
  }
}

// onClick runs only if still signed in when the notification is clicked.
export function notify(text, onClick, tag) {
  if (!canNotify() || Notification.permission !== "granted") return;
  // Nothing about the person: a notification can show on a shared or locked screen.
  const note = attempt(() => new Notification(text, { body: "Open the staff console to see it.", tag: tag || "staff-queue" }), null);
  if (!note) return;
  note.addEventListener("click", () => {
    window.focus();
    note.close();
    if (signedIn()) onClick();
  });
}

export function setupAlerts() {
  button.addEventListener("click", onAlertsClick);
  // The first click or key press anywhere lets the alert sound play later.
  document.addEventListener("pointerdown", unlockAudio, { once: true, capture: true });
  document.addEventListener("keydown", unlockAudio, { once: true, capture: true });
}

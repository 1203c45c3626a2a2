// Words and times as the console shows them.
import { el, span } from "../common.js";

const CHANNELS = { web: "Web chat", telegram: "Telegram", whatsapp: "WhatsApp" };

export const channelName = (channel) => CHANNELS[channel] || "";
export const isCrisis = (conversation) => conversation.priority === "crisis";

// Commas for screen readers between parts that are laid out visually with spacing.
export const pause = () => span("visually-hidden", ", ");

// "4 min", "1 h 20 min": short enough for a busy list.
export function waitedFor(iso) {
  const since = Date.parse(iso);
  if (Number.isNaN(since)) return "";
  const minutes = Math.max(0, Math.floor((Date.now() - since) / 60000)); // clocks can disagree a little
  if (minutes < 1) return "under 1 min";
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
}

// "14:05"; no time given: now.
export function clockTime(iso) {
  const at = iso ? new Date(iso) : new Date();
  if (Number.isNaN(at.getTime())) return "";
  return at.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
}

// "3 Mar, 14:05"
export function dayAndTime(iso) {
  const at = new Date(iso);
  if (!iso || Number.isNaN(at.getTime())) return "";
  return at.toLocaleString("en-GB", { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

// A <time> element, the clock time unless told otherwise.
export function timeElement(iso, text = clockTime(iso)) {
  return el("time", iso ? { datetime: iso } : {}, text);
}

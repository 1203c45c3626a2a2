// The live feed: a WebSocket that tells the console about the queue, new messages and
// notes, and cases. It reconnects with growing pauses, and says when it is down and back.
// What the console does with each kind of frame is in main.js.
import { attempt, parseFrame, socketUrl } from "../common.js";
import { apiPath, signedIn } from "./api.js";
import { setStatus } from "./status.js";

const MAX_BACKOFF_MS = 30000;
const PING_MS = 25000; // keeps idle proxies from dropping the live feed

let socket = null;
let wasDown = false;
let backoffMs = 1000;
let retryTimer = 0;
let pingTimer = 0;
// Set by listen: frames, a handler for each type of frame; back, the feed is back
// after being down; down, it closed; ended, the server ended the session.
let on = { frames: {}, back: () => {}, down: () => {}, ended: () => {} };

export function listen(handlers) {
  on = handlers;
}

function onFrame(data) {
  if (data === "pong") return;
  const frame = parseFrame(data);
  if (frame && Object.prototype.hasOwnProperty.call(on.frames, frame.type)) on.frames[frame.type](frame);
}

export function openFeed() {
  clearTimeout(retryTimer);
  if (!signedIn()) return;
  const ws = attempt(() => new WebSocket(socketUrl(apiPath("live"))), null);
  if (!ws) return onClosed();
  socket = ws;
  ws.addEventListener("open", () => {
    if (socket !== ws) return;
    backoffMs = 1000;
    clearInterval(pingTimer);
    pingTimer = setInterval(() => { if (ws.readyState === WebSocket.OPEN) ws.send("ping"); }, PING_MS);
    if (wasDown) {
      wasDown = false;
      setStatus("Live updates are back.");
      on.back(); // catch up on anything said while the feed was down
    }
  });
  ws.addEventListener("message", (event) => { if (socket === ws) onFrame(event.data); });
  ws.addEventListener("close", (event) => {
    if (socket !== ws) return;
    socket = null;
    if (event.code === 4401) on.ended();
    else onClosed();
  });
}

// Try again with growing pauses; meanwhile the console fetches by hand (this also notices a 401).
function onClosed() {
  clearInterval(pingTimer);
  if (!signedIn()) return;
  if (!wasDown) setStatus("Live updates stopped. Reconnecting…");
  wasDown = true;
  on.down();
  retryTimer = setTimeout(openFeed, backoffMs);
  backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
}

export function closeFeed() {
  clearTimeout(retryTimer);
  clearInterval(pingTimer);
  const old = socket;
  socket = null; // first, so its close event is ignored
  if (old) attempt(() => old.close());
  wasDown = false;
  backoffMs = 1000;
}

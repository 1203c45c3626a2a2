// Talking to the server: a WebSocket that reconnects with backoff and picks up where
// it left off; after repeated failures to open one at all, plain HTTP instead.
// sendText is the one way out, for typed text, starter buttons and quick replies;
// sendTyping says the person is typing (the team sees it only during a handoff).
import { attempt, fetchJson, parseFrame, socketUrl } from "../common.js";
import { forgetCode } from "./come-back.js";
import { forgetDraft, restoreDraft } from "./composer.js";
import { clearMessages, markNotSent, renderMessage } from "./messages.js";
import { isLeaving } from "./quick-exit.js";
import {
  clearDown, hideStaffTyping, hideTyping, isPaused, pauseSending, setStatus, showDown, showStaffTyping, showTyping,
} from "./status.js";
import { clearAll, forgetSession, saveAfter, savedAfter, savedSession, saveSession } from "./storage.js";

const MAX_BACKOFF_MS = 15000;
const FAILURES_BEFORE_HTTP = 3;
const TYPING_EVERY_MS = 3000; // the gateway passes on one every 2 s at most

let socket = null;
let lastSeq = Number(savedAfter()) || 0; // highest seq already shown
let openFailures = 0; // WebSocket attempts in a row that never opened
let backoffMs = 1000;
let retryTimer = 0;
let useHttp = false;
let joined = false; // in a conversation on this socket
let typingSentAt = 0;

// --- WebSocket ----------------------------------------------------------------

function sendFrame(frame) {
  if (!socket || socket.readyState !== WebSocket.OPEN) return false;
  socket.send(JSON.stringify(frame));
  return true;
}

function join() {
  const frame = { type: "join", after: lastSeq };
  const session = savedSession();
  if (session) frame.session = session;
  sendFrame(frame);
}

function startAfresh() {
  forgetSession();
  forgetCode(); // the code opened the conversation just lost, not the next one
  lastSeq = 0;
}

function onJoined(session) {
  if (typeof session !== "string" || !session) return;
  joined = true;
  // A different conversation numbers its messages from the start again.
  if (session !== savedSession()) lastSeq = 0;
  saveSession(session);
  saveAfter(lastSeq);
}

function onMessage(msg) {
  const seq = Number.isInteger(msg.seq) ? msg.seq : null;
  if (seq !== null) {
    if (seq <= lastSeq) return; // already shown (replays after a reconnect)
    lastSeq = seq;
    saveAfter(seq);
  }
  if (!isPaused()) setStatus(""); // an old note or error no longer applies
  if (msg.from === "user") forgetDraft(); // it arrived: nothing to put back
  else hideTyping();
  if (msg.from === "staff") hideStaffTyping();
  renderMessage(msg.from, msg.text, seq, msg.buttons, msg.response);
}

function onError(status, text, retryAfter) {
  hideTyping();
  setStatus(text || "Something went wrong.");
  if (status === 429 || (status === 503 && retryAfter)) {
    restoreDraft(); // too fast, or too busy to start: nothing was kept, so send it again
    pauseSending(retryAfter, text);
  } else if (status === 404) {
    restoreDraft(); // unknown or expired conversation: start a fresh one
    startAfresh();
    sendFrame({ type: "join", after: 0 });
  }
}

function onForgotten() {
  clearAll();
  lastSeq = 0;
  forgetDraft();
  hideTyping();
  clearMessages();
  setStatus("This conversation has been deleted.");
  sendFrame({ type: "join", after: 0 });
}

function onFrame(data) {
  const msg = parseFrame(data);
  if (!msg) return;
  if (msg.type === "joined") onJoined(msg.session);
  else if (msg.type === "message") onMessage(msg);
  else if (msg.type === "error") onError(msg.status, msg.error, msg.retry_after);
  else if (msg.type === "forgotten") onForgotten();
  else if (msg.type === "typing" && msg.from === "staff") showStaffTyping();
}

function connect() {
  clearTimeout(retryTimer);
  const ws = attempt(() => new WebSocket(socketUrl("/ws")), null);
  if (!ws) return onClosed(false);
  socket = ws;
  let opened = false;
  ws.addEventListener("open", () => {
    opened = true;
    openFailures = 0;
    backoffMs = 1000;
    clearDown();
    join();
  });
  ws.addEventListener("message", (event) => onFrame(event.data));
  ws.addEventListener("close", () => {
    if (socket === ws) socket = null;
    joined = false;
    hideStaffTyping();
    onClosed(opened);
  });
}

// Reconnect with backoff; after repeated failures to open at all, use plain HTTP.
function onClosed(wasOpen) {
  if (isLeaving()) return;
  hideTyping();
  showDown();
  if (!wasOpen) openFailures += 1;
  if (openFailures >= FAILURES_BEFORE_HTTP) return startHttp();
  retryTimer = setTimeout(connect, backoffMs);
  backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
}

// --- HTTP fallback ------------------------------------------------------------

function startHttp() {
  useHttp = true;
  checkServer();
}

// Keep the "can't connect" line up until the server answers at all.
function checkServer() {
  fetch("/static/favicon.svg", { cache: "no-store" })
    .then((res) => (res.ok ? clearDown() : Promise.reject(res.status)))
    .catch(() => {
      showDown();
      retryTimer = setTimeout(checkServer, MAX_BACKOFF_MS);
    });
}

// No echo comes back over HTTP, so the caller shows the person's message first.
async function postChat(text, mine, isRetry) {
  showTyping();
  const body = { text };
  const session = savedSession();
  if (session) body.session = session;
  let answer;
  try {
    answer = await fetchJson("/api/chat", { method: "POST", body });
  } catch (e) {
    hideTyping();
    markNotSent(mine);
    return showDown();
  }
  const { res, data } = answer;
  hideTyping();
  if (res.ok) {
    if (!isPaused()) setStatus("");
    if (typeof data.session === "string") saveSession(data.session);
    (Array.isArray(data.messages) ? data.messages : []).forEach((m) => {
      renderMessage("bot", m.text, null, m.buttons, m.response);
    });
  } else if (res.status === 404 && !isRetry) {
    startAfresh(); // expired: try once more as a new conversation
    postChat(text, mine, true);
  } else {
    markNotSent(mine);
    if (res.status === 429 || (res.status === 503 && res.headers.get("Retry-After"))) {
      pauseSending(res.headers.get("Retry-After"), data.error);
    } else if (res.status >= 500 && !data.error) showDown();
    else setStatus(data.error || "Your message couldn't be sent.");
  }
}

// --- Sending, starting and stopping -------------------------------------------

// True if it went out. shownAs: what the person sees they said (a button's title).
export function sendText(text, shownAs) {
  if (isPaused()) return false;
  if (useHttp) {
    postChat(text, renderMessage("user", shownAs || text, null), false);
    return true;
  }
  if (!sendFrame({ type: "say", text })) {
    showDown();
    return false;
  }
  showTyping();
  return true;
}

// While the person types: over the WebSocket only, at most every few seconds.
// Only that they are typing goes, never what.
export function sendTyping() {
  const now = Date.now();
  if (useHttp || !joined || now - typingSentAt < TYPING_EVERY_MS) return;
  if (sendFrame({ type: "typing" })) typingSentAt = now;
}

export function start() {
  if ("WebSocket" in window) connect();
  else startHttp();
}

// A conversation opened again with a come-back code (come-back.js): this tab takes it and
// shows it from its first message, a support worker's replies included, and it goes on
// as before. The WebSocket joins it now, or when it next opens; over plain HTTP it is read once.
export function openSession(session) {
  clearMessages();
  saveSession(session);
  lastSeq = 0;
  saveAfter(0);
  if (!useHttp) {
    join();
    return;
  }
  fetchJson(`/api/chat/${encodeURIComponent(session)}/messages?after=0`)
    .then(({ res, data }) => {
      if (res.ok && Array.isArray(data.messages)) data.messages.forEach(onMessage);
      else setStatus(data.error || "Your chat couldn't be opened.");
    })
    .catch(() => showDown());
}

// Quick exit: no reconnecting, no more messages.
export function stop() {
  clearTimeout(retryTimer);
  if (socket) socket.close();
}

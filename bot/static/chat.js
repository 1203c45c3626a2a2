// Anonymous support chat: a WebSocket client with a plain HTTP fallback.
// No frameworks and no build step, so anyone can read exactly what runs.
"use strict";

(function () {
  const SESSION_KEY = "chat-session";
  const AFTER_KEY = "chat-after";
  const MAX_LENGTH = 2000;
  const COUNT_FROM = 1800; // only show the character count near the limit
  const TYPING_MAX_MS = 20000;
  const MAX_BACKOFF_MS = 15000;
  const FAILURES_BEFORE_HTTP = 3;
  const DOWN_TEXT = "Can't connect right now."; // setStatus adds the emergency numbers
  const BURST_MS = 2000; // messages this close together are one reply (see scrollToNewest)
  // Only used if the server didn't fill in the exit address: leaving must always work.
  const DEFAULT_EXIT_URL = "https://www.bbc.co.uk/weather";
  const SPEAKERS = { user: "You said: ", bot: "Assistant: ", staff: "Support worker" };

  const byId = (id) => document.getElementById(id);
  const ui = {
    exit: byId("quick-exit"), bar: document.querySelector(".bar"), log: byId("messages"),
    form: byId("composer"), input: byId("message-input"), send: byId("send"), status: byId("status"),
    typing: byId("typing"), count: byId("char-count"), starters: byId("starters"),
  };

  // sessionStorage can throw (storage blocked, some private modes): the chat must still work.
  function attempt(action, otherwise) {
    try { return action(); } catch (e) { return otherwise; }
  }
  const store = {
    get: (key) => attempt(() => sessionStorage.getItem(key), null),
    set: (key, value) => attempt(() => sessionStorage.setItem(key, String(value))),
    forget: () => attempt(() => [SESSION_KEY, AFTER_KEY].forEach((k) => sessionStorage.removeItem(k))),
    clearAll: () => attempt(() => sessionStorage.clear()),
  };

  let socket = null;
  let lastSeq = Number(store.get(AFTER_KEY)) || 0; // highest seq already shown
  let openFailures = 0; // WebSocket attempts in a row that never opened
  let backoffMs = 1000;
  let retryTimer = 0;
  let typingTimer = 0;
  let pauseTimer = 0;
  let useHttp = false;
  let paused = false; // rate limited
  let exiting = false;
  let lastTyped = ""; // so a message the server refused can be put back in the box
  let replyStart = null; // the first message of the reply now arriving (see scrollToNewest)
  let lastArrival = 0;
  const escapePresses = [];

  // --- Quick exit -------------------------------------------------------------

  function exitUrl() {
    const raw = document.body.dataset.exitUrl || "";
    if (!raw || raw.indexOf("QUICK_EXIT_URL") !== -1) return DEFAULT_EXIT_URL;
    const url = attempt(() => new URL(raw, location.href), null);
    return url && /^https?:$/.test(url.protocol) ? url.href : DEFAULT_EXIT_URL;
  }

  function quickExit() {
    exiting = true;
    const target = exitUrl();
    clearTimeout(retryTimer);
    store.clearAll();
    if (socket) socket.close();
    ui.log.textContent = ""; // blank the screen in case leaving takes a moment
    ui.input.value = "";
    location.replace(target); // replace, so Back doesn't return here
  }

  // Three presses of Escape within 2 seconds, anywhere, even while typing.
  function onKeyDown(event) {
    if (event.key !== "Escape" && event.key !== "Esc") return;
    const now = Date.now();
    escapePresses.push(now);
    while (now - escapePresses[0] > 2000) escapePresses.shift();
    if (escapePresses.length >= 3) quickExit();
  }

  // --- Status, typing indicator, character count --------------------------------

  // The emergency line at the top of the page (index.html; the server fills in its
  // numbers from services.yml, so none is typed here). Its words go after every status
  // and error this page shows, so whatever went wrong, the emergency number is right there.
  // We don't rely on the line at the top alone: with a phone's keyboard up, the top
  // of the page can be out of sight, but the status sits just above the message box.
  const oneLine = (el) => (el ? el.textContent.replace(/\s+/g, " ").trim() : "");
  const EMERGENCY_TEXT = oneLine(byId("emergency"));
  const EMERGENCY_PHONE = oneLine(byId("emergency-phone"));

  function withEmergency(text) {
    if (!text || !EMERGENCY_TEXT) return text;
    // The server's own errors often say it already: don't say it twice.
    if (EMERGENCY_PHONE && text.indexOf(EMERGENCY_PHONE) !== -1) return text;
    return `${text} ${EMERGENCY_TEXT}`;
  }

  const setStatus = (text) => { ui.status.textContent = withEmergency(text); };
  const showDown = () => setStatus(DOWN_TEXT);
  const clearDown = () => { if (ui.status.textContent === withEmergency(DOWN_TEXT)) setStatus(""); };

  function showTyping() {
    ui.typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_MAX_MS); // never spin forever
  }

  function hideTyping() {
    clearTimeout(typingTimer);
    ui.typing.hidden = true;
  }

  function updateCount() {
    const left = MAX_LENGTH - ui.input.value.length;
    ui.count.textContent = ui.input.value.length >= COUNT_FROM
      ? `${left} character${left === 1 ? "" : "s"} left` : "";
  }

  // Rate limited: block sending for a while and say why.
  function pauseSending(seconds, text) {
    const wait = Math.max(1, Math.ceil(Number(seconds) || 5));
    paused = true;
    ui.send.disabled = true;
    setStatus(`${text || "Too many messages."} You can send again in ${wait} second${wait === 1 ? "" : "s"}.`);
    clearTimeout(pauseTimer);
    pauseTimer = setTimeout(() => {
      paused = false;
      ui.send.disabled = false;
      setStatus("You can send messages again.");
    }, wait * 1000);
  }

  function restoreDraft() {
    if (lastTyped && !ui.input.value) ui.input.value = lastTyped;
    lastTyped = "";
    updateCount();
  }

  // --- Rendering ----------------------------------------------------------------

  const LINK = /https?:\/\/[^\s<>"']+/g;

  function makeLink(href) {
    const link = document.createElement("a");
    link.href = href;
    link.textContent = href;
    link.rel = "noopener noreferrer";
    link.target = "_blank";
    const note = document.createElement("span");
    note.className = "visually-hidden";
    note.textContent = " (opens in a new tab)";
    link.append(note);
    return link;
  }

  // Server text only ever becomes text nodes; links are built as elements, never as HTML.
  function appendText(parent, text, withLinks) {
    let done = 0;
    let match;
    LINK.lastIndex = 0;
    while (withLinks && (match = LINK.exec(text)) !== null) {
      const href = match[0].replace(/[.,;:!?)\]]+$/, ""); // leave sentence punctuation outside
      parent.append(text.slice(done, match.index), makeLink(href));
      done = match.index + href.length;
    }
    parent.append(text.slice(done));
  }

  // Moves focus somewhere sensible when the focused button is about to disappear.
  function keepFocus(container) {
    if (container.contains(document.activeElement)) ui.log.focus({ preventScroll: true });
  }

  function removeQuickReplies() {
    ui.log.querySelectorAll(".quick-replies").forEach((group) => {
      keepFocus(group);
      group.remove();
    });
  }

  function renderQuickReplies(buttons) {
    const group = document.createElement("div");
    group.className = "quick-replies";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Suggested replies");
    buttons.filter((b) => b && typeof b.payload === "string").forEach((choice) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "quick-reply";
      button.textContent = choice.title || choice.payload;
      // The server only accepts the payload of buttons it showed; the title is never sent.
      button.addEventListener("click", () => {
        if (sendText(choice.payload, button.textContent)) removeQuickReplies();
      });
      group.append(button);
    });
    if (group.childElementCount) ui.log.append(group);
  }

  // The notes for reporting (summary and evidence checklist) as a text file,
  // made here from the message itself: nothing more is fetched or kept.
  const NOTES_RESPONSE = "utter_report_notes";

  function notesLink(text) {
    const link = document.createElement("a");
    link.className = "save-notes";
    link.download = "report-notes.txt";
    link.textContent = "Save these notes as a text file";
    link.addEventListener("click", () => {
      const file = new Blob([text.replace(/\n/g, "\r\n") + "\r\n"], { type: "text/plain;charset=utf-8" });
      link.href = URL.createObjectURL(file);
      setTimeout(() => URL.revokeObjectURL(link.href), 60000);
    });
    link.href = "#";
    return link;
  }

  function renderMessage(from, text, seq, buttons, response) {
    const kind = SPEAKERS[from] ? from : "bot";
    const item = document.createElement("div");
    item.className = `message from-${kind}`;
    item.dataset.seq = seq == null ? "" : String(seq);
    if (response) item.dataset.response = String(response);
    // Staff are labelled visibly; the other labels are for screen readers only.
    const speaker = document.createElement("span");
    speaker.className = kind === "staff" ? "speaker" : "visually-hidden";
    speaker.textContent = SPEAKERS[kind];
    const body = document.createElement("p");
    body.className = "text";
    appendText(body, String(text == null ? "" : text), kind !== "user");
    item.append(speaker, body);
    if (kind === "bot" && response === NOTES_RESPONSE) item.append(notesLink(String(text)));

    removeQuickReplies(); // only the latest bot message keeps its buttons
    ui.log.append(item);
    if (kind === "bot" && Array.isArray(buttons) && buttons.length) renderQuickReplies(buttons);
    hideStarters();
    scrollToNewest(item, kind);
    return item;
  }

  // Show the newest message just above the message box, but never scroll past the
  // start of the reply it belongs to. One message can get several bot messages back:
  // a crisis reply is the one with the emergency number first, then a notice, then
  // "Are you safe right now?". Scrolling to the bottom each time would push the first
  // one, and its number, off the top; instead a long reply stays at its start, to be
  // read from there. A reply starts with the first message after the person's own, or
  // after a pause (a notice or a support worker's message later on). Never scrolls up.
  function scrollToNewest(item, kind) {
    const now = Date.now();
    if (kind === "user") replyStart = null;
    else if (!replyStart || !replyStart.isConnected || now - lastArrival > BURST_MS) replyStart = item;
    lastArrival = now;

    let target = document.documentElement.scrollHeight; // the bottom
    if (replyStart) {
      // How far down the page can go with the reply's top still just below the top bar.
      const barBottom = ui.bar ? ui.bar.getBoundingClientRect().bottom : 0;
      const startTop = window.scrollY + replyStart.getBoundingClientRect().top;
      target = Math.min(target, startTop - barBottom - 8);
    }
    if (target > window.scrollY) window.scrollTo(0, target);
  }

  function hideStarters() {
    if (ui.starters.hidden) return;
    keepFocus(ui.starters);
    ui.starters.hidden = true;
  }

  // --- WebSocket ----------------------------------------------------------------

  function sendFrame(frame) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  function join() {
    const frame = { type: "join", after: lastSeq };
    const session = store.get(SESSION_KEY);
    if (session) frame.session = session;
    sendFrame(frame);
  }

  function forgetSession() {
    store.forget();
    lastSeq = 0;
  }

  function onJoined(session) {
    if (typeof session !== "string" || !session) return;
    // A different conversation numbers its messages from the start again.
    if (session !== store.get(SESSION_KEY)) lastSeq = 0;
    store.set(SESSION_KEY, session);
    store.set(AFTER_KEY, lastSeq);
  }

  function onMessage(msg) {
    const seq = Number.isInteger(msg.seq) ? msg.seq : null;
    if (seq !== null) {
      if (seq <= lastSeq) return; // already shown (replays after a reconnect)
      lastSeq = seq;
      store.set(AFTER_KEY, seq);
    }
    if (!paused) setStatus(""); // an old note or error no longer applies
    if (msg.from === "user") lastTyped = ""; // it arrived: nothing to put back
    else hideTyping();
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
      forgetSession();
      sendFrame({ type: "join", after: 0 });
    }
  }

  function onForgotten() {
    store.clearAll();
    lastSeq = 0;
    lastTyped = "";
    hideTyping();
    ui.log.textContent = "";
    ui.starters.hidden = false;
    setStatus("This conversation has been deleted.");
    sendFrame({ type: "join", after: 0 });
  }

  function onFrame(data) {
    const msg = attempt(() => JSON.parse(data), null);
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "joined") onJoined(msg.session);
    else if (msg.type === "message") onMessage(msg);
    else if (msg.type === "error") onError(msg.status, msg.error, msg.retry_after);
    else if (msg.type === "forgotten") onForgotten();
  }

  function connect() {
    clearTimeout(retryTimer);
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = attempt(() => new WebSocket(`${scheme}//${location.host}/ws`), null);
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
      onClosed(opened);
    });
  }

  // Reconnect with backoff; after repeated failures to open at all, use plain HTTP.
  function onClosed(wasOpen) {
    if (exiting) return;
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

  function markNotSent(item) {
    const note = document.createElement("span");
    note.className = "not-sent";
    note.textContent = "Not sent";
    item.append(note);
  }

  // No echo comes back over HTTP, so the caller shows the person's message first.
  async function postChat(text, mine, isRetry) {
    showTyping();
    const body = { text };
    const session = store.get(SESSION_KEY);
    if (session) body.session = session;
    let res;
    let data = {};
    try {
      res = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        cache: "no-store",
      });
      data = await res.json().catch(() => ({}));
    } catch (e) {
      hideTyping();
      markNotSent(mine);
      return showDown();
    }
    hideTyping();
    if (res.ok) {
      if (!paused) setStatus("");
      if (typeof data.session === "string") store.set(SESSION_KEY, data.session);
      (Array.isArray(data.messages) ? data.messages : []).forEach((m) => {
        renderMessage("bot", m.text, null, m.buttons, m.response);
      });
    } else if (res.status === 404 && !isRetry) {
      forgetSession(); // expired: try once more as a new conversation
      postChat(text, mine, true);
    } else {
      markNotSent(mine);
      if (res.status === 429 || (res.status === 503 && res.headers.get("Retry-After"))) {
        pauseSending(res.headers.get("Retry-After"), data.error);
      } else if (res.status >= 500 && !data.error) showDown();
      else setStatus(data.error || "Your message couldn't be sent.");
    }
  }

  // --- Sending ------------------------------------------------------------------

  // One path for typed text, starter buttons and quick replies. True if it went out.
  function sendText(text, shownAs) {
    if (paused) return false;
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

  function submitTyped() {
    const text = ui.input.value.trim().slice(0, MAX_LENGTH);
    if (!text || !sendText(text)) return;
    lastTyped = text;
    ui.input.value = "";
    updateCount();
  }

  // --- Wiring -------------------------------------------------------------------

  document.addEventListener("keydown", onKeyDown, true);
  ui.exit.addEventListener("click", quickExit);
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitTyped();
  });
  // Enter sends; Shift+Enter adds a new line; don't interrupt an input method mid-word.
  ui.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submitTyped();
    }
  });
  ui.input.addEventListener("input", updateCount);
  // Starters aren't buttons the bot showed, so they go as ordinary typed text (the title).
  ui.starters.querySelectorAll(".starter").forEach((button) => {
    button.addEventListener("click", () => {
      if (sendText(button.textContent.trim())) hideStarters();
    });
  });

  updateCount();
  if ("WebSocket" in window) connect();
  else startHttp();
})();

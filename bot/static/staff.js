// Staff console: the live queue of handed-off conversations, and one open conversation.
// No frameworks and no build step, like the chat page, so anyone can read exactly what runs.
// Everything that comes from the server is shown with textContent, never as HTML.
"use strict";

(function () {
  const API = "/staff/api/";
  const TITLE = "Staff console";
  const MAX_LENGTH = 2000;
  const COUNT_FROM = 1800; // only show the character count near the limit
  const MAX_BACKOFF_MS = 30000;
  const PING_MS = 25000; // keeps idle proxies from dropping the live feed
  const TICK_MS = 30000; // how often the "waiting for" times are refreshed
  const SPEAKERS = { user: "Person", bot: "Assistant", staff: "Support worker" };
  const CHANNELS = { web: "Web chat", telegram: "Telegram", whatsapp: "WhatsApp" };
  const ENDED_TEXT = "This conversation is no longer in the queue.";
  const CASE_STATUSES = { pending: "Pending", delivered: "Delivered", failed: "Failed" };
  const MAX_DELIVERED_SHOWN = 50; // failed and pending cases are always listed

  const byId = (id) => document.getElementById(id);
  const ui = {
    account: byId("account"), signedIn: byId("signed-in"), alerts: byId("alerts"), logout: byId("logout"),
    insightsLink: byId("insights-link"),
    status: byId("status"), error: byId("error"),
    login: byId("login"), loginForm: byId("login-form"), username: byId("username"),
    password: byId("password"), loginError: byId("login-error"), loginSubmit: byId("login-submit"),
    console: byId("console"), queue: byId("queue"), queueSummary: byId("queue-summary"),
    queueHeading: byId("queue-heading"),
    pane: byId("conversation"), heading: byId("conversation-heading"), empty: byId("conversation-empty"),
    body: byId("conversation-body"), meta: byId("conversation-meta"), holder: byId("holder"),
    claim: byId("claim"), release: byId("release"), close: byId("close"),
    transcript: byId("transcript"),
    replyForm: byId("reply-form"), replyText: byId("reply-text"), replySend: byId("reply-send"),
    replyCount: byId("reply-count"),
    notes: byId("notes"), noteForm: byId("note-form"), noteText: byId("note-text"), noteAdd: byId("note-add"),
    caseAlert: byId("case-alert"), cases: byId("cases"), casesHeading: byId("cases-heading"),
    casesSummary: byId("cases-summary"), casesList: byId("cases-list"),
    passOn: byId("pass-on"), passOnForm: byId("pass-on-form"), passOnError: byId("pass-on-error"),
    passOnResult: byId("pass-on-result"), passOnSubmit: byId("pass-on-submit"),
    consent: byId("case-consent"), blackmailer: byId("case-blackmailer"), contact: byId("case-contact"),
  };

  // Some browsers throw on features they block (storage, audio, notifications): carry on without them.
  function attempt(action, otherwise) {
    try { return action(); } catch (e) { return otherwise; }
  }

  let me = null; // { username, csrf } while logged in
  let socket = null;
  let socketWasDown = false;
  let backoffMs = 1000;
  let retryTimer = 0;
  let pingTimer = 0;
  let tickTimer = 0;
  let statusTimer = 0;
  let queue = []; // the latest queue, in the server's order
  let queueLoaded = false; // the first queue after logging in never alerts
  let seenIds = new Set();
  let current = null; // the open conversation (as in the queue, plus `ended`)
  let openToken = 0; // so a slow load can't replace a conversation opened after it
  let shownSeqs = new Map(); // seq -> transcript element, to drop repeats
  let shownNotes = new Set();
  let sending = false;
  let audio = null;
  let casesEnabled = null; // null until the first answer: is a reporting channel set up here?
  let casesLoading = false;
  let casesAgain = false; // a change arrived while loading: load once more afterwards
  let casesToken = 0; // so a load from before logging out is dropped
  let caseAlertText = "";
  let caseAlertCount = 0;
  let passOnFor = null; // the conversation the pass-on form's contents belong to
  let passing = false;

  // --- Status and errors --------------------------------------------------------

  function setStatus(text) {
    clearTimeout(statusTimer);
    // The same words again would not be read out again: empty the region first.
    if (text && ui.status.textContent === text) {
      ui.status.textContent = "";
      statusTimer = setTimeout(() => { ui.status.textContent = text; }, 150);
    } else {
      ui.status.textContent = text;
    }
  }

  const showError = (text) => { ui.error.textContent = text; };
  const clearError = () => { ui.error.textContent = ""; };

  // A 401 has already sent the page back to the login form: nothing more to say.
  function report(err) {
    if (err && err.status === 401) return;
    showError((err && err.message) || "Something went wrong. Please try again.");
  }

  // --- Talking to the server ----------------------------------------------------

  class ApiError extends Error {
    constructor(status, message, retryAfter) {
      super(message);
      this.status = status;
      this.retryAfter = retryAfter;
    }
  }

  // JSON in and out. Every POST but login carries the CSRF token the server gave us.
  // Any 401 means the session is over, unless the caller is the login or the first check.
  async function api(method, path, body, options) {
    const opts = options || {};
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && me) headers["X-CSRF-Token"] = me.csrf;
    let res;
    try {
      res = await fetch(API + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch (e) {
      throw new ApiError(0, "Can't reach the server. Check the connection and try again.");
    }
    const data = await res.json().catch(() => ({}));
    if (res.status === 401 && !opts.expect401) {
      sessionEnded();
      throw new ApiError(401, "Your session has ended.");
    }
    if (!res.ok) {
      const text = data && typeof data.error === "string" && data.error
        ? data.error : `Something went wrong (error ${res.status}). Please try again.`;
      throw new ApiError(res.status, text, res.headers.get("Retry-After"));
    }
    return data && typeof data === "object" ? data : {};
  }

  const conversationPath = (id) => `conversations/${encodeURIComponent(id)}`;

  // --- Words and times ----------------------------------------------------------

  function plural(n, word) {
    return `${n} ${word}${n === 1 ? "" : "s"}`;
  }

  // "4 min", "1 h 20 min": short enough for a busy list.
  function waitedFor(iso) {
    const since = Date.parse(iso);
    if (Number.isNaN(since)) return "";
    const minutes = Math.max(0, Math.floor((Date.now() - since) / 60000)); // clocks can disagree a little
    if (minutes < 1) return "under 1 min";
    if (minutes < 60) return `${minutes} min`;
    const hours = Math.floor(minutes / 60);
    return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  }

  function clockTime(iso) {
    const at = iso ? new Date(iso) : new Date();
    if (Number.isNaN(at.getTime())) return "";
    return at.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
  }

  function timeElement(iso) {
    const time = document.createElement("time");
    if (iso) time.dateTime = iso;
    time.textContent = clockTime(iso);
    return time;
  }

  const channelName = (channel) => CHANNELS[channel] || "";
  const isCrisis = (conversation) => conversation.priority === "crisis";

  function holderText(conversation) {
    if (!conversation.claimed_by) return "Waiting";
    return conversation.claimed_by === (me && me.username) ? "With you" : `With ${conversation.claimed_by}`;
  }

  function span(className, text) {
    const element = document.createElement("span");
    element.className = className;
    element.textContent = text;
    return element;
  }

  // Commas for screen readers between parts that are laid out visually with spacing.
  const pause = () => span("visually-hidden", ", ");

  // --- Alerts: sound and notifications ------------------------------------------

  // Browsers only let a page start sound after a click or key press, so the
  // audio is set up (or woken) on the first one.
  function unlockAudio() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    if (!audio) audio = attempt(() => new Context(), null);
    if (audio && audio.state === "suspended") audio.resume().catch(() => {});
  }

  // A short beep made here, so there is no sound file to load. Crisis: three beeps.
  function beep(urgent) {
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

  function updateAlertsButton() {
    ui.alerts.textContent = canNotify() && Notification.permission === "granted" ? "Test alerts" : "Turn on alerts";
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

  function notify(text, onClick, tag) {
    if (!canNotify() || Notification.permission !== "granted") return;
    // Nothing about the person: a notification can show on a shared or locked screen.
    const note = attempt(() => new Notification(text, { body: "Open the staff console to see it.", tag: tag || "staff-queue" }), null);
    if (!note) return;
    note.addEventListener("click", () => {
      window.focus();
      note.close();
      if (me) onClick();
    });
  }

  function announceNew(fresh) {
    const crisis = fresh.find(isCrisis);
    const text = crisis ? "New crisis conversation" : "New conversation in the queue";
    setStatus(text);
    beep(Boolean(crisis));
    const id = (crisis || fresh[0]).id;
    notify(text, () => openConversation(id, true));
  }

  // --- The queue ----------------------------------------------------------------

  function validConversation(c) {
    return c && typeof c === "object" && typeof c.id === "string" && c.id !== "";
  }

  function waitingCount() {
    return queue.filter((c) => c.status === "waiting").length;
  }

  function updateTitle() {
    const waiting = me ? waitingCount() : 0;
    document.title = waiting ? `(${waiting}) ${TITLE}` : TITLE;
  }

  function knownFacts(conversation) {
    const facts = [];
    if (conversation.under_18) facts.push("Under 18");
    if (conversation.helping_someone) facts.push("Someone helping");
    return facts;
  }

  function queueButton(conversation) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = isCrisis(conversation) ? "queue-item crisis" : "queue-item";
    button.dataset.id = conversation.id;
    if (current && current.id === conversation.id) button.setAttribute("aria-current", "true");

    // Crisis is said in words as well as shown in red.
    button.append(span("priority", isCrisis(conversation) ? "Crisis" : "Normal"), pause());
    const state = span("state", holderText(conversation));
    if (conversation.claimed_by === (me && me.username)) state.classList.add("mine");
    button.append(state, pause());
    const waited = span("waited", "");
    waited.append(span("visually-hidden", "in the queue for "), waitedFor(conversation.waiting_since));
    button.append(waited);
    const channel = channelName(conversation.channel);
    if (channel) button.append(pause(), span("channel", channel));
    // What the assistant knows that changes the route: said in words.
    for (const fact of knownFacts(conversation)) button.append(pause(), span("fact", fact));
    button.addEventListener("click", () => openConversation(conversation.id, true));
    return button;
  }

  function renderQueue() {
    const focusedId = ui.queue.contains(document.activeElement) ? document.activeElement.dataset.id : null;
    ui.queue.textContent = "";
    queue.forEach((conversation) => {
      const item = document.createElement("li");
      item.append(queueButton(conversation));
      ui.queue.append(item);
    });
    const waiting = waitingCount();
    ui.queueSummary.textContent = queue.length
      ? `Waiting: ${waiting}. With staff: ${queue.length - waiting}.`
      : "No one is in the queue.";
    // Rebuilding the list must not throw away keyboard focus.
    if (focusedId !== null) {
      const same = ui.queue.querySelector(`.queue-item[data-id="${CSS.escape(focusedId)}"]`);
      if (same) same.focus();
      else ui.queueHeading.focus();
    }
  }

  // Only the words change every half minute; rebuilding would disturb a screen reader.
  function refreshTimes() {
    ui.queue.querySelectorAll(".queue-item").forEach((button) => {
      const conversation = queue.find((c) => c.id === button.dataset.id);
      const waited = button.querySelector(".waited");
      if (conversation && waited) waited.lastChild.textContent = waitedFor(conversation.waiting_since);
    });
    if (current) renderMeta();
  }

  function applyQueue(list) {
    const conversations = Array.isArray(list) ? list.filter(validConversation) : [];
    const fresh = queueLoaded ? conversations.filter((c) => !seenIds.has(c.id)) : [];
    conversations.forEach((c) => seenIds.add(c.id));
    queueLoaded = true;
    queue = conversations;
    renderQueue();
    updateTitle();
    syncCurrent();
    if (fresh.length) announceNew(fresh);
  }

  async function loadQueue() {
    try {
      const data = await api("GET", "queue");
      if (me) applyQueue(data.conversations);
    } catch (err) {
      if (err.status !== 401 && !queueLoaded) report(err);
    }
  }

  // --- The open conversation ----------------------------------------------------

  const heldByMe = () => Boolean(current && !current.ended && me && current.claimed_by === me.username);

  function renderMeta() {
    const parts = [isCrisis(current) ? "Crisis" : "Normal priority"];
    const channel = channelName(current.channel);
    if (channel) parts.push(channel);
    const waited = waitedFor(current.waiting_since);
    if (waited) parts.push(`in the queue since ${clockTime(current.waiting_since)} (${waited})`);
    ui.meta.textContent = parts.join(" · ");
  }

  // Shows only what the person at the keyboard can do now.
  function updateControls() {
    if (!current) return;
    const mine = heldByMe();
    const waiting = !current.ended && !current.claimed_by;
    const focusedAction = [ui.claim, ui.release, ui.close].find((b) => b === document.activeElement);

    ui.pane.classList.toggle("crisis", isCrisis(current));
    ui.heading.textContent = isCrisis(current) ? "Crisis conversation" : "Conversation";
    renderMeta();
    if (current.ended) ui.holder.textContent = ENDED_TEXT;
    else if (mine) ui.holder.textContent = "You are talking with this person.";
    else if (current.claimed_by) ui.holder.textContent = `${current.claimed_by} is talking with this person.`;
    else ui.holder.textContent = "Waiting for a support worker. Claim it to reply.";

    ui.claim.hidden = !waiting;
    ui.release.hidden = !mine;
    ui.close.hidden = !mine;
    // Someone else's conversation keeps the reply box in view but switched off.
    ui.replyForm.hidden = current.ended || waiting;
    ui.replyText.disabled = !mine;
    ui.replySend.disabled = !mine;
    ui.noteText.disabled = current.ended;
    ui.noteAdd.disabled = current.ended;
    if (passOnFor !== current.id) resetPassOn(current.id);
    // Only for the person this staff member is talking with, and only where cases can go.
    const passOnFocused = ui.passOn.contains(document.activeElement);
    ui.passOn.hidden = !mine || casesEnabled === false;
    if (passOnFocused && ui.passOn.hidden) ui.heading.focus();

    // A button that just disappeared would drop focus to the page: keep it nearby.
    if (focusedAction && focusedAction.hidden) (mine ? ui.replyText : ui.heading).focus();
  }

  function markOpenInQueue() {
    ui.queue.querySelectorAll(".queue-item").forEach((button) => {
      if (current && button.dataset.id === current.id) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    });
  }

  // Queue changes (claims by others, hand-backs) also change the open conversation.
  function syncCurrent() {
    if (!current || current.ended) return;
    const latest = queue.find((c) => c.id === current.id);
    if (latest) {
      Object.assign(current, pick(latest));
    } else {
      current.ended = true;
      setStatus(ENDED_TEXT);
    }
    updateControls();
  }

  function pick(c) {
    return {
      id: c.id, priority: c.priority, status: c.status, waiting_since: c.waiting_since,
      claimed_by: c.claimed_by || null, channel: c.channel || null,
    };
  }

  function messageElement(message) {
    const kind = SPEAKERS[message.from] ? message.from : "bot";
    const item = document.createElement("div");
    item.className = `message from-${kind}`;
    item.dataset.seq = String(message.seq);
    const speaker = document.createElement("p");
    speaker.className = "speaker";
    speaker.append(span("who", SPEAKERS[kind]), " ", timeElement(message.at));
    const text = document.createElement("p");
    text.className = "text";
    text.textContent = String(message.text == null ? "" : message.text);
    item.append(speaker, text);
    // The bot's buttons, faintly: staff see what the person could tap.
    const titles = (Array.isArray(message.buttons) ? message.buttons : [])
      .map((b) => (b && (b.title || b.payload)) || "").filter(Boolean);
    if (titles.length) {
      const buttons = document.createElement("p");
      buttons.className = "bot-buttons";
      buttons.textContent = `Buttons: ${titles.join(" · ")}`;
      item.append(buttons);
    }
    return item;
  }

  // Messages can arrive twice (the reply's answer and the live feed) or out of order.
  function addMessage(message) {
    if (!message || !Number.isInteger(message.seq) || shownSeqs.has(message.seq)) return;
    const element = messageElement(message);
    const later = [...shownSeqs.keys()].filter((s) => s > message.seq).sort((a, b) => a - b)[0];
    const box = ui.transcript;
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 48;
    if (later === undefined) box.append(element);
    else box.insertBefore(element, shownSeqs.get(later));
    shownSeqs.set(message.seq, element);
    // Follow the conversation, unless staff have scrolled up to read.
    if (atBottom && later === undefined) box.scrollTop = box.scrollHeight;
  }

  function addNote(note) {
    if (!note || typeof note.text !== "string") return;
    const key = `${note.staff}\n${note.at}\n${note.text}`;
    if (shownNotes.has(key)) return;
    shownNotes.add(key);
    const item = document.createElement("li");
    item.className = "note";
    const meta = document.createElement("p");
    meta.className = "speaker";
    meta.append(span("who", String(note.staff || "Staff")), " ", timeElement(note.at));
    const text = document.createElement("p");
    text.className = "text";
    text.textContent = note.text;
    item.append(meta, text);
    ui.notes.append(item);
  }

  // --- Passing a case on for the person ------------------------------------------

  // Empty, closed and ready for this conversation: a draft never follows staff to someone else.
  function resetPassOn(id) {
    passOnFor = id;
    ui.passOnForm.reset();
    ui.passOn.open = false;
    ui.consent.removeAttribute("aria-invalid");
    ui.passOnError.textContent = "";
    ui.passOnResult.textContent = "";
  }

  function passOnProblem(text, field) {
    ui.passOnResult.textContent = "";
    ui.passOnError.textContent = text;
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
  }

  function passOnDetails() {
    const answers = {};
    ui.passOnForm.querySelectorAll("input[data-answer]").forEach((input) => {
      const value = input.value.trim();
      if (value) answers[input.dataset.answer] = value;
    });
    const body = { consent: true, answers };
    const blackmailer = ui.blackmailer.value.trim();
    const contact = ui.contact.value.trim();
    if (blackmailer) body.blackmailer = blackmailer;
    if (contact) body.contact = contact;
    return body;
  }

  async function passOn() {
    if (!heldByMe() || passing) return;
    // Checked here as well as by the server: nothing goes without the person's yes.
    if (!ui.consent.checked) {
      passOnProblem("Pass a case on only once the person has agreed in this chat. Then tick the box.", ui.consent);
      return;
    }
    const id = current.id;
    ui.consent.removeAttribute("aria-invalid");
    ui.passOnError.textContent = "";
    ui.passOnResult.textContent = "";
    passing = true;
    ui.passOnSubmit.setAttribute("aria-disabled", "true"); // not disabled: that would lose keyboard focus
    try {
      const data = await api("POST", `${conversationPath(id)}/report`, passOnDetails());
      if (passOnFor === id) {
        const reference = String(data.reference || "");
        ui.passOnForm.reset();
        ui.passOnResult.textContent = data.already
          ? `Their case was already passed on. Its reference is ${reference}.`
          : `Case passed on. Its reference is ${reference}. The person has been sent it in the chat.`;
      }
      loadCases();
    } catch (err) {
      if (err.status === 401) return;
      if ([403, 404, 409, 503].includes(err.status)) {
        // These take the form away (not theirs now, or no reporting channel): say it on the page's alert line.
        report(err);
        if (err.status === 503) loadCases();
        else reloadCurrent();
      } else if (passOnFor === id) {
        passOnProblem(err.message);
      }
    } finally {
      passing = false;
      ui.passOnSubmit.removeAttribute("aria-disabled");
    }
  }

  function clearConversation() {
    current = null;
    shownSeqs = new Map();
    shownNotes = new Set();
    ui.transcript.textContent = "";
    ui.notes.textContent = "";
    ui.replyText.value = "";
    ui.noteText.value = "";
    updateCount();
    ui.body.hidden = true;
    ui.empty.hidden = false;
    ui.pane.classList.remove("crisis");
    ui.heading.textContent = "Conversation";
  }

  function renderConversation(data) {
    const sameOne = current && current.id === data.id;
    const keptReply = sameOne ? ui.replyText.value : "";
    const keptNote = sameOne ? ui.noteText.value : "";
    // A draft never follows staff to a different person's conversation.
    clearConversation();
    ui.replyText.value = keptReply;
    ui.noteText.value = keptNote;
    updateCount();
    current = { ...pick(data), ended: false };
    // A fresh log element, so loading a whole transcript isn't read out as new messages.
    const hadFocus = document.activeElement === ui.transcript;
    const fresh = ui.transcript.cloneNode(false);
    ui.transcript.replaceWith(fresh);
    ui.transcript = fresh;
    if (hadFocus) fresh.focus();
    (Array.isArray(data.messages) ? data.messages : []).forEach(addMessage);
    (Array.isArray(data.notes) ? data.notes : []).forEach(addNote);
    ui.empty.hidden = true;
    ui.body.hidden = false;
    updateControls();
    markOpenInQueue();
    ui.transcript.scrollTop = ui.transcript.scrollHeight;
  }

  async function openConversation(id, moveFocus) {
    const token = ++openToken;
    if (moveFocus) clearError(); // a reload after a refusal keeps the refusal on screen
    let data;
    try {
      data = await api("GET", conversationPath(id));
    } catch (err) {
      if (token !== openToken) return;
      report(err);
      if (err.status === 404 && current && current.id === id) {
        current.ended = true;
        updateControls();
      }
      return;
    }
    if (token !== openToken || !me) return; // another one was opened meanwhile, or logged out
    renderConversation(data);
    if (moveFocus) ui.heading.focus();
  }

  // After a refusal or a reconnect: fetch the conversation again, keeping drafts.
  function reloadCurrent() {
    if (current && !current.ended) openConversation(current.id, false);
  }

  async function claim() {
    if (!current || current.ended) return;
    const id = current.id;
    clearError();
    ui.claim.disabled = true;
    try {
      const data = await api("POST", `${conversationPath(id)}/claim`);
      if (current && current.id === id) {
        Object.assign(current, pick({ ...current, ...data }));
        updateControls();
        setStatus("You're now talking with this person.");
        ui.replyText.focus();
      }
    } catch (err) {
      report(err);
      if (err.status === 409 || err.status === 404) reloadCurrent();
    } finally {
      ui.claim.disabled = false;
    }
  }

  async function sendReply() {
    if (!heldByMe() || sending) return;
    const text = ui.replyText.value.trim();
    if (!text) {
      showError("Type a reply first.");
      return;
    }
    if (text.length > MAX_LENGTH) {
      showError(`Replies can be up to ${MAX_LENGTH} characters.`);
      return;
    }
    const id = current.id;
    clearError();
    sending = true;
    ui.replyText.readOnly = true; // not disabled: that would lose keyboard focus
    try {
      const message = await api("POST", `${conversationPath(id)}/messages`, { text });
      if (current && current.id === id) {
        addMessage({ from: "staff", text, ...message });
        ui.replyText.value = "";
        updateCount();
      }
    } catch (err) {
      report(err); // the draft stays in the box to try again
      if (err.status === 403 || err.status === 409 || err.status === 404) reloadCurrent();
    } finally {
      sending = false;
      ui.replyText.readOnly = false;
    }
  }

  async function saveNote() {
    if (!current || current.ended) return;
    const text = ui.noteText.value.trim();
    if (!text) {
      showError("Write a note first.");
      return;
    }
    const id = current.id;
    clearError();
    ui.noteAdd.disabled = true;
    try {
      const note = await api("POST", `${conversationPath(id)}/notes`, { text });
      if (current && current.id === id) {
        addNote(note);
        ui.noteText.value = "";
        setStatus("Note added.");
      }
    } catch (err) {
      report(err);
      if (err.status === 404) reloadCurrent();
    } finally {
      if (current) ui.noteAdd.disabled = current.ended;
    }
  }

  // "release" hands the person back to the bot; "close" ends the conversation.
  async function finish(how) {
    if (!heldByMe()) return;
    if (how === "close" && !window.confirm("Close this conversation? It will leave the queue.")) return;
    const id = current.id;
    const button = how === "close" ? ui.close : ui.release;
    clearError();
    button.disabled = true;
    try {
      await api("POST", `${conversationPath(id)}/${how}`);
      if (current && current.id === id) {
        current.ended = true;
        updateControls();
        ui.heading.focus();
      }
      setStatus(how === "close" ? "Conversation closed." : "Handed back to the bot.");
      queue = queue.filter((c) => c.id !== id); // the live feed confirms shortly
      renderQueue();
      updateTitle();
    } catch (err) {
      report(err);
      reloadCurrent();
    } finally {
      button.disabled = false;
    }
  }

  function updateCount() {
    const length = ui.replyText.value.length;
    ui.replyCount.textContent = length >= COUNT_FROM ? `${plural(MAX_LENGTH - length, "character")} left` : "";
  }

  // --- Cases passed on ----------------------------------------------------------------

  function dayAndTime(iso) {
    const at = new Date(iso);
    if (!iso || Number.isNaN(at.getTime())) return "";
    return at.toLocaleString("en-GB", { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  }

  function caseTime(iso) {
    const time = document.createElement("time");
    time.dateTime = iso;
    time.textContent = dayAndTime(iso);
    return time;
  }

  function count(counts, status) {
    const n = Number(counts && counts[status]);
    return Number.isInteger(n) && n > 0 ? n : 0;
  }

  // Said in words, so it is heard on any screen; stays put while nothing changes,
  // so that every delivery attempt elsewhere isn't read out again.
  function showCaseAlert(failed) {
    const text = failed > 0
      ? `${failed === 1 ? "1 case" : `${failed} cases`} could not be passed on. `
        + `Check the receiver, then retry ${failed === 1 ? "it" : "them"}.`
      : "";
    caseAlertCount = failed;
    if (text === caseAlertText) return;
    caseAlertText = text;
    ui.caseAlert.textContent = "";
    if (!text) return;
    const words = document.createElement("p");
    words.textContent = text;
    const link = document.createElement("a");
    link.href = "#cases-heading";
    link.textContent = "Go to the cases";
    ui.caseAlert.append(words, link);
  }

  function caseItem(item) {
    const status = CASE_STATUSES[item.status] ? item.status : "pending";
    const li = document.createElement("li");
    li.className = `case ${status}`;
    const top = document.createElement("p");
    top.className = "case-top";
    top.append(span("reference", String(item.reference)), pause(), span("case-status", CASE_STATUSES[status]));
    const details = document.createElement("p");
    details.className = "case-details";
    details.append("Passed on ", caseTime(item.created),
      item.consent === "staff" ? " by staff, with the person's consent" : " by the person");
    const attempts = Number.isInteger(item.attempts) ? item.attempts : 0;
    details.append(`. ${plural(attempts, "attempt")}`);
    if (status === "delivered" && item.delivered) details.append(". Delivered ", caseTime(item.delivered));
    if (status === "pending" && item.gives_up) details.append(". Keeps trying until ", caseTime(item.gives_up));
    details.append(".");
    li.append(top, details);
    if (status !== "delivered" && item.last_error) {
      const error = document.createElement("p");
      error.className = "case-error";
      error.textContent = `Last error: ${item.last_error}`;
      li.append(error);
    }
    if (status === "failed") {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "retry";
      button.dataset.reference = String(item.reference);
      button.append("Retry", span("visually-hidden", ` ${item.reference}`));
      button.addEventListener("click", () => retryCase(button));
      li.append(button);
    }
    return li;
  }

  function renderCases(data) {
    casesEnabled = data.enabled === true;
    const focused = ui.casesList.contains(document.activeElement) ? document.activeElement.dataset.reference : null;
    ui.casesList.textContent = "";
    if (!casesEnabled) {
      ui.casesSummary.textContent = "No reporting channel is set up here.";
      ui.casesList.hidden = true;
      showCaseAlert(0);
    } else {
      const counts = data.counts || {};
      ui.casesSummary.textContent =
        `${count(counts, "pending")} pending, ${count(counts, "delivered")} delivered, ${count(counts, "failed")} failed`;
      const cases = (Array.isArray(data.cases) ? data.cases : [])
        .filter((c) => c && typeof c === "object" && typeof c.reference === "string");
      let delivered = 0;
      cases.forEach((c) => {
        if (c.status === "delivered" && (delivered += 1) > MAX_DELIVERED_SHOWN) return;
        ui.casesList.append(caseItem(c));
      });
      if (delivered > MAX_DELIVERED_SHOWN) {
        const more = document.createElement("li");
        more.className = "muted small";
        more.textContent = `Only the newest ${MAX_DELIVERED_SHOWN} delivered cases are shown.`;
        ui.casesList.append(more);
      }
      ui.casesList.hidden = false;
      showCaseAlert(count(counts, "failed"));
    }
    if (current) updateControls(); // the pass-on form needs a reporting channel
    // A retried case loses its button: keep keyboard focus in the panel.
    if (focused) {
      const same = ui.casesList.querySelector(`button[data-reference="${CSS.escape(focused)}"]`);
      (same || ui.casesHeading).focus();
    }
  }

  // Changes come in bursts (every delivery attempt): one load at a time, and one more after.
  async function loadCases() {
    if (!me) return;
    if (casesLoading) {
      casesAgain = true;
      return;
    }
    casesLoading = true;
    const token = casesToken;
    try {
      const data = await api("GET", "cases");
      if (me && token === casesToken) renderCases(data);
    } catch (err) {
      if (err.status !== 401 && token === casesToken && casesEnabled === null) {
        ui.casesSummary.textContent = "The cases couldn't be loaded. Reload the page to try again.";
      }
    } finally {
      casesLoading = false;
      if (casesAgain && token === casesToken) {
        casesAgain = false;
        loadCases();
      }
    }
  }

  async function retryCase(button) {
    const reference = button.dataset.reference;
    if (button.getAttribute("aria-disabled") === "true") return;
    clearError();
    button.setAttribute("aria-disabled", "true");
    try {
      await api("POST", `cases/${encodeURIComponent(reference)}/retry`);
      setStatus(`Trying case ${reference} again.`);
    } catch (err) {
      report(err);
    } finally {
      button.removeAttribute("aria-disabled");
      loadCases();
    }
  }

  function onCaseFailed() {
    // At least one: the fresh counts follow with the reload.
    showCaseAlert(Math.max(1, caseAlertCount));
    beep(true);
    notify("A case could not be passed on", () => ui.casesHeading.focus(), "staff-cases");
    loadCases();
  }

  function clearCases() {
    casesToken += 1;
    casesEnabled = null;
    casesAgain = false;
    caseAlertText = "";
    caseAlertCount = 0;
    ui.caseAlert.textContent = "";
    ui.casesSummary.textContent = "";
    ui.casesList.textContent = "";
  }

  // --- Live feed ------------------------------------------------------------------

  function onFrame(data) {
    if (data === "pong") return;
    const frame = attempt(() => JSON.parse(data), null);
    if (!frame || typeof frame !== "object") return;
    if (frame.type === "queue") {
      applyQueue(frame.conversations);
    } else if (frame.type === "message") {
      if (current && frame.conversation === current.id) addMessage(frame.message);
    } else if (frame.type === "note") {
      if (current && frame.conversation === current.id) addNote(frame.note);
    } else if (frame.type === "cases_changed") {
      loadCases();
    } else if (frame.type === "case_failed") {
      onCaseFailed();
    } else if (frame.type === "reload") {
      reloadCurrent(); // the gateways lost touch for a while: what is shown may be behind
      loadCases();
    } else if (frame.type === "undelivered") {
      setStatus("A reply couldn't be delivered to the person's messaging app. They may not have seen it.");
    }
  }

  function stopSocket() {
    clearTimeout(retryTimer);
    clearInterval(pingTimer);
    const old = socket;
    socket = null; // first, so its close event is ignored
    if (old) attempt(() => old.close());
  }

  function connect() {
    clearTimeout(retryTimer);
    if (!me) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = attempt(() => new WebSocket(`${scheme}//${location.host}${API}live`), null);
    if (!ws) return onSocketClosed();
    socket = ws;
    ws.addEventListener("open", () => {
      if (socket !== ws) return;
      backoffMs = 1000;
      clearInterval(pingTimer);
      pingTimer = setInterval(() => { if (ws.readyState === WebSocket.OPEN) ws.send("ping"); }, PING_MS);
      if (socketWasDown) {
        socketWasDown = false;
        setStatus("Live updates are back.");
        reloadCurrent(); // catch up on anything said while the feed was down
        loadCases();
      }
    });
    ws.addEventListener("message", (event) => { if (socket === ws) onFrame(event.data); });
    ws.addEventListener("close", (event) => {
      if (socket !== ws) return;
      socket = null;
      if (event.code === 4401) sessionEnded();
      else onSocketClosed();
    });
  }

  // Try again with growing pauses; meanwhile fetch the queue by hand (this also notices a 401).
  function onSocketClosed() {
    clearInterval(pingTimer);
    if (!me) return;
    if (!socketWasDown) setStatus("Live updates stopped. Reconnecting…");
    socketWasDown = true;
    loadQueue();
    retryTimer = setTimeout(connect, backoffMs);
    backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
  }

  // --- Logging in and out -----------------------------------------------------------

  function startConsole(data) {
    me = { username: String(data.username), csrf: String(data.csrf_token || "") };
    ui.loginError.textContent = "";
    ui.login.hidden = true;
    ui.signedIn.textContent = `Signed in as ${me.username}`;
    ui.insightsLink.hidden = data.admin !== true; // the page and its API check this too
    ui.account.hidden = false;
    ui.console.hidden = false;
    updateAlertsButton();
    clearError();
    queueLoaded = false;
    seenIds = new Set();
    loadQueue();
    loadCases();
    connect();
    clearInterval(tickTimer);
    tickTimer = setInterval(refreshTimes, TICK_MS);
  }

  function showLogin(message) {
    me = null;
    stopSocket();
    clearInterval(tickTimer);
    socketWasDown = false;
    backoffMs = 1000;
    queue = [];
    queueLoaded = false;
    seenIds = new Set();
    openToken += 1;
    clearConversation();
    resetPassOn(null);
    clearCases();
    ui.queue.textContent = "";
    ui.queueSummary.textContent = "";
    ui.account.hidden = true;
    ui.console.hidden = true;
    ui.login.hidden = false;
    clearError();
    setStatus(message || "");
    updateTitle();
    ui.username.focus();
  }

  function sessionEnded() {
    if (me) showLogin("Your session has ended. Please log in again.");
  }

  function loginProblem(text, field) {
    ui.loginError.textContent = text;
    ui.username.setAttribute("aria-invalid", String(field === ui.username || !field));
    ui.password.setAttribute("aria-invalid", String(field === ui.password || !field));
    (field || ui.password).focus();
  }

  async function onLogin(event) {
    event.preventDefault();
    unlockAudio(); // a click or Enter here counts as the gesture browsers want before sound
    const username = ui.username.value.trim();
    const password = ui.password.value;
    if (!username) return loginProblem("Enter your username.", ui.username);
    if (!password) return loginProblem("Enter your password.", ui.password);
    ui.loginError.textContent = "";
    ui.loginSubmit.disabled = true;
    try {
      const data = await api("POST", "login", { username, password }, { expect401: true });
      ui.password.value = "";
      ui.username.removeAttribute("aria-invalid");
      ui.password.removeAttribute("aria-invalid");
      startConsole(data);
      ui.queueHeading.focus(); // the heading says where we are now
    } catch (err) {
      ui.password.value = "";
      let text = err.message;
      const wait = Math.ceil(Number(err.retryAfter));
      if (err.status === 429 && wait > 0) {
        text += wait < 120 ? ` You can try again in ${plural(wait, "second")}.`
          : ` You can try again in ${plural(Math.ceil(wait / 60), "minute")}.`;
      }
      loginProblem(text, err.status === 400 || err.status === 401 ? null : ui.password);
    } finally {
      ui.loginSubmit.disabled = false;
    }
  }

  async function onLogout() {
    clearError();
    ui.logout.disabled = true;
    try {
      await api("POST", "logout");
      showLogin("You've logged out.");
    } catch (err) {
      report(err); // still logged in: say so rather than pretend
    } finally {
      ui.logout.disabled = false;
    }
  }

  // Logged in already (a reload)? Go straight to the queue.
  async function start() {
    try {
      startConsole(await api("GET", "me", undefined, { expect401: true }));
    } catch (err) {
      showLogin(err.status === 401 ? "" : err.message);
    }
  }

  // --- Wiring -----------------------------------------------------------------------

  ui.loginForm.addEventListener("submit", onLogin);
  ui.logout.addEventListener("click", onLogout);
  ui.alerts.addEventListener("click", onAlertsClick);
  ui.claim.addEventListener("click", claim);
  ui.release.addEventListener("click", () => finish("release"));
  ui.close.addEventListener("click", () => finish("close"));
  ui.replyForm.addEventListener("submit", (event) => {
    event.preventDefault();
    sendReply();
  });
  // Enter sends; Shift+Enter adds a new line; don't interrupt an input method mid-word.
  ui.replyText.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendReply();
    }
  });
  ui.replyText.addEventListener("input", updateCount);
  ui.noteForm.addEventListener("submit", (event) => {
    event.preventDefault();
    saveNote();
  });
  ui.passOnForm.addEventListener("submit", (event) => {
    event.preventDefault();
    passOn();
  });
  ui.consent.addEventListener("change", () => {
    if (ui.consent.checked) {
      ui.consent.removeAttribute("aria-invalid");
      ui.passOnError.textContent = "";
    }
  });
  // The first click or key press anywhere lets the alert sound play later.
  document.addEventListener("pointerdown", unlockAudio, { once: true, capture: true });
  document.addEventListener("keydown", unlockAudio, { once: true, capture: true });

  start();
})();

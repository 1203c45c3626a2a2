// The staff console (staff.html): wires the modules together. Start reading here.
//   api.js           the fetch client (CSRF token, JSON errors) and who is signed in
//   feed.js          the live WebSocket feed
//   queue.js         the queue of handed-off conversations
//   conversation.js  the open conversation and its controls
//   transcript.js    its messages and internal notes
//   pass-on.js       passing a case on for the person
//   cases.js         the cases passed on, and the alert when one fails
//   alerts.js        sound and notifications
//   login.js         logging in and out, the account bar
//   status.js        the status and error lines;  words.js  words and times
//   saved-replies.js "/" in the reply box: the team's saved replies
//   typing.js        typing indicators, both ways
import { setupAlerts, updateAlertsButton } from "./alerts.js";
import { api, signedIn, signIn, signOut, whenSessionEnds } from "./api.js";
import { clearCases, loadCases, onCaseFailed, whenCasesChange } from "./cases.js";
import {
  closeConversation, heldId, openConversation, openId, refreshControls, refreshMeta, reloadCurrent,
  setupConversation, syncCurrent,
} from "./conversation.js";
import { closeFeed, listen, openFeed } from "./feed.js";
import { setupLogin, showConsole, showLoginForm } from "./login.js";
import { connectPassOn, setupPassOn } from "./pass-on.js";
import { applyQueue, connectQueue, forgetQueue, loadQueue, refreshQueueTimes, startQueue } from "./queue.js";
import { forgetSavedReplies, loadSavedReplies, setupSavedReplies } from "./saved-replies.js";
import { clearError, setStatus } from "./status.js";
import { addMessage, addNote } from "./transcript.js";
import { connectTyping, hidePersonTyping, showPersonTyping } from "./typing.js";

const TICK_MS = 30000; // how often the "waiting for" times are refreshed
let tickTimer = 0;

const chosen = (id) => {
  hidePersonTyping(); // it was about the conversation open before
  return openConversation(id, true);
};

function refreshTimes() {
  refreshQueueTimes();
  refreshMeta();
}

function startConsole(data) {
  const username = signIn(data);
  showConsole(username, data.admin === true);
  updateAlertsButton();
  clearError();
  startQueue();
  loadCases();
  loadSavedReplies();
  openFeed();
  clearInterval(tickTimer);
  tickTimer = setInterval(refreshTimes, TICK_MS);
}

function showLogin(message) {
  signOut();
  closeFeed();
  clearInterval(tickTimer);
  forgetQueue();
  closeConversation();
  clearCases();
  forgetSavedReplies();
  hidePersonTyping();
  showLoginForm(message);
}

function sessionEnded() {
  if (signedIn()) showLogin("Your session has ended. Please log in again.");
}

// What may have been missed while the feed was down or the gateways lost touch.
function catchUp() {
  reloadCurrent();
  loadCases();
}

// What the live feed's news does to the console. Messages and notes are shown only
// for the conversation that is open.
function forOpen(frame, show) {
  const id = openId();
  if (id !== null && frame.conversation === id) show();
}

listen({
  frames: {
    queue: (frame) => applyQueue(frame.conversations),
    message: (frame) => forOpen(frame, () => {
      if (frame.message && frame.message.from === "user") hidePersonTyping();
      addMessage(frame.message);
    }),
    typing: (frame) => forOpen(frame, showPersonTyping),
    note: (frame) => forOpen(frame, () => addNote(frame.note)),
    cases_changed: () => loadCases(),
    case_failed: () => onCaseFailed(),
    reload: catchUp, // the gateways lost touch for a while: what is shown may be behind
    undelivered: () => setStatus("A reply couldn't be delivered to the person's messaging app. They may not have seen it."),
  },
  back: catchUp, // anything said while the feed was down
  down: loadQueue,
  ended: sessionEnded,
});

whenSessionEnds(sessionEnded);
connectQueue({ openId, open: chosen, changed: syncCurrent });
connectPassOn({ heldId, reload: reloadCurrent });
whenCasesChange(refreshControls);
setupLogin({ loggedIn: startConsole, loggedOut: () => showLogin("You've logged out.") });
setupConversation();
setupSavedReplies();
connectTyping(heldId);
setupPassOn();
setupAlerts();

// Logged in already (a reload)? Go straight to the queue.
async function start() {
  try {
    startConsole(await api("GET", "me", undefined, { expect401: true }));
  } catch (err) {
    showLogin(err.status === 401 ? "" : err.message);
  }
}

start();

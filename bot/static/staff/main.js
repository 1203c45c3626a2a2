// The staff console (staff.html): wires the modules together. Start reading here.
//   api.js           the fetch client (CSRF token, JSON errors) and who is signed in
//   feed.js          the live WebSocket feed
//   queue.js         the queue of handed-off conversations
//   conversation.js  the open conversation and its controls
//   transcript.js    its messages and internal notes
//   tabs.js          a tab for each conversation held, unread counts, their alerts
//   transfer.js      handing a conversation to a colleague or back to the queue; offers
//   supervisor.js    the supervisor's Shift panel: who holds what, silent reads, takeovers
//   pass-on.js       passing a case on for the person
//   cases.js         the cases passed on, and the alert when one fails
//   alerts.js        sound and notifications
//   login.js         logging in (password, then the two-factor code) and out, the account bar
//   my-account.js    one's own password and two-factor; a step the session must take first
//   accounts.js      admins: everyone's accounts
//   saved-replies.js "/" in the reply box: the team's saved replies
//   typing.js        typing indicators, both ways
//   seen.js          "Not seen yet" on web replies the person's page hasn't been sent
//   status.js        the status and error lines;  words.js  words and times
import { allowAccounts, hideAccounts, setupAccounts, showAccounts } from "./accounts.js";
import { setupAlerts, updateAlertsButton } from "./alerts.js";
import { byId } from "../common.js";
import { api, myName, signedIn, signIn, signOut, whenSessionEnds } from "./api.js";
import { clearCases, loadCases, onCaseFailed, whenCasesChange } from "./cases.js";
import {
  closeConversation, heldId, openConversation, openId, refreshControls, refreshMeta, reloadCurrent,
  setupConversation, syncCurrent,
} from "./conversation.js";
import { closeFeed, listen, openFeed } from "./feed.js";
import { setupLogin, showCodeStep, showConsole, showLoginForm } from "./login.js";
import { hideMyAccount, setupMyAccount, showMyAccount } from "./my-account.js";
import { connectPassOn, setupPassOn } from "./pass-on.js";
import {
  applyQueue, connectQueue, forgetQueue, loadQueue, queueNow, refreshQueueTimes, startQueue,
} from "./queue.js";
import { forgetSavedReplies, loadSavedReplies, setupSavedReplies } from "./saved-replies.js";
import { markSeen } from "./seen.js";
import { clearError, setStatus } from "./status.js";
import { connectSupervisor, forgetShift, loadShift, setupSupervisor, showShift } from "./supervisor.js";
import { connectTabs, forgetTab, forgetTabs, messageArrived, opened, renderTabs, setupTabs } from "./tabs.js";
import { connectTransfer, forgetOffers, renderOffers, setupTransfer, transferFrames } from "./transfer.js";
import { addMessage, addNote } from "./transcript.js";
import { connectTyping, hidePersonTyping, showPersonTyping } from "./typing.js";

const TICK_MS = 30000; // how often the "waiting for" times are refreshed
let tickTimer = 0;

async function chosen(id, watch) {
  hidePersonTyping(); // it was about the conversation open before
  await openConversation(id, true, watch);
  opened(id);
}

// A conversation has left this staff member (handed on, taken over, requeued): its tab closes.
function gone(id) {
  if (openId() === id) closeConversation();
  forgetTab(id);
  renderTabs();
}

function refreshTimes() {
  refreshQueueTimes();
  refreshMeta();
  loadShift();
}

function queueChanged() {
  syncCurrent();
  renderTabs();
  renderOffers();
  loadShift();
}

// A step the session must take before the console (GET me's `pending`).
function startPendingStep(data) {
  const username = signIn(data);
  if (data.pending === "code") return showCodeStep(); // a reload mid-way through signing in
  showConsole(username, false);
  allowAccounts(false);
  byId("my-account-open").hidden = true; // this step is "my account" already
  showMyAccount(data.pending);
}

function startConsole(data) {
  if (data.pending) return startPendingStep(data);
  const username = signIn(data);
  hideMyAccount();
  hideAccounts();
  showConsole(username, data.admin === true);
  allowAccounts(data.role === "admin");
  byId("my-account-open").hidden = false;
  updateAlertsButton();
  clearError();
  startQueue();
  showShift();
  loadCases();
  loadSavedReplies();
  openFeed();
  clearInterval(tickTimer);
  tickTimer = setInterval(refreshTimes, TICK_MS);
}

// An admin changed this account's role: show what the new one may do, hide the rest.
async function roleChanged() {
  let data;
  try {
    data = await api("GET", "me");
  } catch (err) {
    return; // a 401 ends the session by itself
  }
  if (data.pending) return; // the live feed closes for the step to be taken
  const username = signIn(data);
  showConsole(username, data.admin === true);
  allowAccounts(data.role === "admin");
  if (data.role !== "admin") hideAccounts();
  forgetShift();
  showShift();
  refreshControls();
}

function showLogin(message) {
  signOut();
  closeFeed();
  clearInterval(tickTimer);
  forgetQueue();
  closeConversation();
  forgetTabs();
  forgetOffers();
  forgetShift();
  clearCases();
  hideMyAccount();
  hideAccounts();
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
    message: (frame) => {
      forOpen(frame, () => {
        if (frame.message && frame.message.from === "user") hidePersonTyping();
        addMessage(frame.message);
      });
      messageArrived(frame);
    },
    typing: (frame) => forOpen(frame, showPersonTyping),
    seen: (frame) => forOpen(frame, () => markSeen(frame.seq)),
    note: (frame) => forOpen(frame, () => addNote(frame.note)),
    cases_changed: () => loadCases(),
    case_failed: () => onCaseFailed(),
    reload: catchUp, // the gateways lost touch for a while: what is shown may be behind
    session_changed: roleChanged,
    ...transferFrames,
    undelivered: (frame) => {
      // Only news of a chat this staff member holds (a supervisor hears of all of them).
      if (!queueNow().some((c) => c.id === frame.conversation && c.claimed_by === myName())) return;
      setStatus("A reply couldn't be delivered to the person's messaging app. They may not have seen it.");
    },
  },
  back: catchUp, // anything said while the feed was down
  down: loadQueue,
  ended: sessionEnded,
});

whenSessionEnds(sessionEnded);
connectQueue({ openId, open: chosen, changed: queueChanged });
connectTabs({ openId, open: chosen, queue: queueNow });
connectTransfer({ heldId, open: chosen, queue: queueNow, gone });
connectSupervisor({ open: chosen, openId });
connectPassOn({ heldId, reload: reloadCurrent });
whenCasesChange(refreshControls);
setupLogin({ loggedIn: startConsole, loggedOut: () => showLogin("You've logged out.") });
// The account panels replace the console while open; the step done, the server says what next.
const backToConsole = () => { byId("console").hidden = false; };
setupMyAccount({ stepDone: () => start(), closed: backToConsole });
setupAccounts({ closed: backToConsole });
byId("my-account-open").addEventListener("click", () => { hideAccounts(); showMyAccount(null); });
byId("accounts-open").addEventListener("click", () => { hideMyAccount(); showAccounts(); });
setupConversation();
setupSavedReplies();
connectTyping(heldId);
setupPassOn();
setupAlerts();
setupTabs();
setupTransfer();
setupSupervisor();

// Logged in already (a reload)? Go straight to the queue.
async function start() {
  try {
    startConsole(await api("GET", "me", undefined, { expect401: true }));
  } catch (err) {
    showLogin(err.status === 401 ? "" : err.message);
  }
}

start();

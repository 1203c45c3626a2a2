// The come-back code: seven words that open this chat again on this page after the tab
// is closed or quick exit pressed (bot/web/come_back.py, docs/privacy.md).
//   - "Save a code to come back" under the message box, once there is a conversation, and
//     the same offer under a message saying the chat was left for the team: the code is
//     shown in #code-panel, never as a message (staff read the transcript).
//   - "I have a code" on the start page: the words typed, and this tab takes that chat.
// The code is kept only in this module while the page is open: not in storage. So after a
// reload, or in a tab opened with the code, the page can't show it again: the server then
// says the chat has a code (409), the panel says so, and only "Make a new code" replaces it.
import { byId, el, fetchJson, onSubmit } from "../common.js";
import { setStatus } from "./status.js";
import { savedSession } from "./storage.js";

// The bot's messages that leave the chat for the team (on the web page): the offer goes under them.
const OFFER_AFTER = new Set(["utter_handoff_queued_later", "utter_handoff_queued"]);

const ui = {
  save: byId("save-code"), panel: byId("code-panel"), heading: byId("code-heading"),
  words: byId("code-words"), keep: byId("code-keep"), kept: byId("code-kept"),
  renew: byId("new-code"), hide: byId("hide-code"),
  toggle: byId("have-code"), form: byId("resume-form"), input: byId("resume-code"), open: byId("resume-open"),
};
let code = ""; // the code shown in this page, if one was made here
let codeSession = null; // the conversation it opens: never shown for another
let opener = null; // the button that showed the panel: focus goes back to it
let openSession = () => {}; // set by setupComeBack: this tab takes a chat, from its first message

// "made" (code holds it), "kept" (the chat has a code this page doesn't know: these are the
// server's words about it), or null (the status line says why).
async function askForCode(replace) {
  const session = savedSession();
  if (!session) {
    setStatus("Send a message first, then you can save a code.");
    return null;
  }
  try {
    const { res, data } = await fetchJson(`/api/chat/${encodeURIComponent(session)}/code`, {
      method: "POST", body: { replace },
    });
    if (res.ok && typeof data.code === "string") {
      code = data.code;
      codeSession = session;
      return "made";
    }
    if (res.status === 409 && data.error) return data.error;
    setStatus(data.error || "A code couldn't be made just now. Please try again.");
  } catch (e) {
    setStatus(e.message);
  }
  return null;
}

// The panel with the code, or with the server's words saying the chat has one already.
function showPanel(kept) {
  ui.words.textContent = kept ? "" : code; // a live region: new words are read out
  ui.keep.hidden = Boolean(kept);
  ui.kept.textContent = kept || "";
  ui.kept.hidden = !kept;
  ui.panel.hidden = false;
}

// The code shown, made first if this page has none for this conversation yet.
async function showCode(button) {
  opener = button;
  if (codeSession !== savedSession()) forgetCode(); // made for a chat this tab has left
  let answer = "made";
  if (!code) {
    button.disabled = true;
    answer = await askForCode(false);
    button.disabled = false;
    if (!answer) return;
  }
  showPanel(answer === "made" ? null : answer);
  ui.heading.focus();
}

async function makeNewCode() {
  ui.renew.disabled = true;
  if ((await askForCode(true)) === "made") {
    showPanel(null);
    setStatus("This is your new code. The old one no longer works.");
  }
  ui.renew.disabled = false;
}

function hideCode() {
  ui.panel.hidden = true;
  ui.words.textContent = "";
  if (opener && opener.isConnected && !opener.hidden) opener.focus();
  else ui.save.focus();
}

// This tab left the conversation (deleted, expired, or another opened): its code goes.
export function forgetCode() {
  code = "";
  codeSession = null;
  ui.panel.hidden = true;
  ui.words.textContent = "";
}

// The offer under a bot message that leaves the chat for the team, or null.
export function codeOffer(response) {
  if (!OFFER_AFTER.has(response)) return null;
  const offer = el("div", { class: "code-offer" });
  const button = el("button", { type: "button", class: "save-code-offer" }, "Save a code to come back");
  button.addEventListener("click", () => showCode(button));
  offer.append(button);
  return offer;
}

// Whether a conversation is on screen: the save button with one, the way back without.
export function conversationShown(shown) {
  ui.save.hidden = !shown;
  if (!shown) forgetCode(); // the conversation was deleted: its code went with it
}

function toggleForm() {
  const open = ui.form.hidden;
  ui.form.hidden = !open;
  ui.toggle.setAttribute("aria-expanded", String(open));
  if (open) ui.input.focus();
}

async function openWithCode() {
  const typed = ui.input.value.trim();
  if (!typed) {
    setStatus("Type the words of your code first.");
    ui.input.focus();
    return;
  }
  ui.open.disabled = true;
  setStatus("Opening your chat…");
  let answer = null;
  try {
    answer = await fetchJson("/api/chat/resume", { method: "POST", body: { code: typed } });
  } catch (e) {
    setStatus(e.message);
  }
  ui.open.disabled = false;
  if (!answer) return;
  const { res, data } = answer;
  if (res.ok && typeof data.session === "string") {
    ui.input.value = "";
    ui.form.hidden = true;
    ui.toggle.setAttribute("aria-expanded", "false");
    openSession(data.session);
  } else {
    setStatus(data.error || "That code didn't open a chat."); // what was typed stays, to check
  }
}

// open(session): this tab takes that conversation and shows it from its first message.
export function setupComeBack(open) {
  openSession = open;
  ui.save.addEventListener("click", () => showCode(ui.save));
  ui.renew.addEventListener("click", makeNewCode);
  ui.hide.addEventListener("click", hideCode);
  ui.toggle.addEventListener("click", toggleForm);
  onSubmit(ui.form, openWithCode);
}

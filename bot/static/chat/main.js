// The chat page (index.html): wires the modules together. Start reading here.
//   connection.js  the WebSocket, with a plain HTTP fallback; sending
//   messages.js    the conversation on screen: messages, suggested replies, scrolling
//   composer.js    the message box
//   status.js      the status line (with the emergency number), typing, pauses
//   quick-exit.js  leaving at once: the button or Esc three times
//   storage.js     which conversation this tab is in (sessionStorage)
//   come-back.js   the come-back code: saving one, and opening a chat again with it
import { byId } from "../common.js";
import { setupComeBack } from "./come-back.js";
import { setupComposer } from "./composer.js";
import { openSession, sendText, sendTyping, start, stop } from "./connection.js";
import { hideStarters, onQuickReply } from "./messages.js";
import { setupQuickExit } from "./quick-exit.js";

setupQuickExit(stop);
setupComposer(sendText, sendTyping);
onQuickReply(sendText);
setupComeBack(openSession);
// Starters aren't buttons the bot showed, so they go as ordinary typed text (the title).
byId("starters").querySelectorAll(".starter").forEach((button) => {
  button.addEventListener("click", () => {
    if (sendText(button.textContent.trim())) hideStarters();
  });
});
start();

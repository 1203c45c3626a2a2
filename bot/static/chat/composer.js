// The message box: Enter sends, a character count near the limit, and a message
// the server refused is put back in the box.
import { byId, charactersLeft, MAX_LENGTH, onSubmit, sendOnEnter } from "../common.js";

const ui = { form: byId("composer"), input: byId("message-input"), count: byId("char-count") };
let lastTyped = ""; // so a message the server refused can be put back in the box

function updateCount() {
  ui.count.textContent = charactersLeft(ui.input.value.length);
}

// It arrived (or the conversation is gone): nothing to put back.
export function forgetDraft() {
  lastTyped = "";
}

export function restoreDraft() {
  if (lastTyped && !ui.input.value) ui.input.value = lastTyped;
  lastTyped = "";
  updateCount();
}

// send(text) is true if the message went out.
function submitTyped(send) {
  const text = ui.input.value.trim().slice(0, MAX_LENGTH);
  if (!text || !send(text)) return;
  lastTyped = text;
  ui.input.value = "";
  updateCount();
}

// typing(): called as the person types (the connection decides how often it says so).
export function setupComposer(send, typing) {
  onSubmit(ui.form, () => submitTyped(send));
  sendOnEnter(ui.input, () => submitTyped(send));
  ui.input.addEventListener("input", updateCount);
  ui.input.addEventListener("input", () => { if (ui.input.value.trim()) typing(); });
  updateCount();
}

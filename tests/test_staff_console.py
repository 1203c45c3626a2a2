"""The staff console in headless Chromium, against the running system: a
support worker logs in, sees a new conversation appear live, claims it and
replies; the victim's own chat page (another browser) shows the reply; the
console has no serious or critical accessibility problems (axe-core)."""
import secrets

from tests.handoff_clients import PASSWORD, add_staff
from tests.test_web_page import (ARTIFACTS, browser,  # noqa: F401 - browser is a fixture
                                 send, serious_accessibility_problems)


def test_a_support_worker_answers_a_victim_from_the_console(stack, browser):
    name = f"jo{secrets.token_hex(3)}"
    add_staff(stack["env"], name)
    staff_context = browser.new_context(viewport={"width": 1280, "height": 900})
    victim_context = browser.new_context(viewport={"width": 390, "height": 844})
    console, chat = staff_context.new_page(), victim_context.new_page()
    try:
        console.goto(stack["base"] + "/staff")
        console.wait_for_selector("#login-form", state="visible")
        assert serious_accessibility_problems(console) == []
        console.fill("#username", name)
        console.fill("#password", "not the password")
        console.click("#login-submit")
        console.wait_for_function("() => document.querySelector('#login-error').textContent.length > 0")
        console.fill("#password", PASSWORD)
        console.click("#login-submit")
        console.wait_for_selector("#signed-in", state="visible")
        assert name in console.inner_text("#signed-in")
        console.wait_for_function("() => !document.querySelector('#console').hidden")
        before = console.locator("#queue .queue-item").count()

        # The victim asks for a person on the web page...
        chat.goto(stack["base"] + "/")
        send(chat, "someone is threatening to send my pics to everyone")
        send(chat, "can i talk to a real person")
        assert "in the queue" in chat.locator("#messages .message.from-bot").last.inner_text()

        # ...and it appears on the console live, without a reload.
        console.wait_for_function(
            "n => document.querySelectorAll('#queue .queue-item').length > n", arg=before, timeout=10_000)
        console.locator("#queue .queue-item").last.click()
        console.wait_for_selector("#claim", state="visible")
        transcript = console.inner_text("#transcript")
        assert "threatening to send my pics" in transcript
        console.click("#claim")
        console.wait_for_selector("#reply-text:not([disabled])")
        console.fill("#reply-text", "Hi, I'm Jo from the support team. You did the right thing coming here.")
        console.keyboard.press("Enter")

        # The reply shows on the victim's page, labelled as a person.
        chat.wait_for_selector("#messages .message.from-staff", timeout=5_000)
        shown = chat.locator("#messages .message.from-staff").last.inner_text()
        assert "Support worker" in shown and "right thing" in shown

        # The person answers: it shows in the console's transcript live.
        chat.fill("#message-input", "thank you so much")
        chat.keyboard.press("Enter")
        console.wait_for_function(
            "() => document.querySelector('#transcript').textContent.includes('thank you so much')",
            timeout=10_000)
        console.screenshot(path=ARTIFACTS / "staff-console.png", full_page=True)
        chat.screenshot(path=ARTIFACTS / "chat-with-staff.png")
        assert serious_accessibility_problems(console) == []

        # Hand back: the bot carries on in the victim's page.
        console.click("#release")
        chat.wait_for_function(
            "() => [...document.querySelectorAll('#messages .message.from-bot')]"
            ".some(m => m.textContent.includes('handed you back'))", timeout=15_000)
    finally:
        staff_context.close()
        victim_context.close()

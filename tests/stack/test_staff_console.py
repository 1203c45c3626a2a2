"""The staff console in headless Chromium, against the running system: a
support worker logs in, sees a new conversation appear live, claims it and
replies; the victim's own chat page (another browser) shows the reply; a reply
written while that page is closed shows "Not seen yet" until it is opened again; the
console has no serious or critical accessibility problems (axe-core). And a
support worker passes a victim's case on for them, with their consent."""
import asyncio
import re
import secrets
from concurrent.futures import ThreadPoolExecutor

from tests.conftest import INTERNAL_TOKEN, REPORT_SECRET
from tests.support.browser import ARTIFACTS, open_console, send, serious_accessibility_problems
from tests.support.fake_receiver import FakeReceiver
from tests.support.handoff_clients import PASSWORD, Victim, add_staff, responses
from tests.support.processes import call

REFERENCE = re.compile(r"\bSX-[0-9A-Z]{4}-[0-9A-Z]{4}\b")


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
        # Their page was open: the reply was sent to it, so nothing says "Not seen yet".
        console.wait_for_selector("#transcript .not-seen", state="detached", timeout=5_000)

        # They close the page; the next reply waits, and the console says so in words...
        chat.goto("about:blank")
        chat.wait_for_timeout(500)  # the page's socket closing reaches the gateway
        console.fill("#reply-text", "I'm still here whenever you want to talk.")
        console.keyboard.press("Enter")
        label = console.locator("#transcript .message.from-staff").last.locator(".not-seen")
        label.wait_for(timeout=5_000)
        assert label.inner_text() == "Not seen yet"
        assert "will wait" in console.inner_text("#reply-waits")
        console.screenshot(path=ARTIFACTS / "staff-console-not-seen.png", full_page=True)
        # ...until they open the chat again (the same tab: its sessionStorage): it goes, no reload.
        chat.goto(stack["base"] + "/")
        chat.wait_for_function(
            "() => document.querySelector('#messages').textContent.includes('whenever you want')",
            timeout=10_000)
        console.wait_for_selector("#transcript .not-seen", state="detached", timeout=5_000)
        console.wait_for_selector("#reply-waits", state="hidden")

        # Hand back: the bot carries on in the victim's page.
        console.click("#release")
        chat.wait_for_function(
            "() => [...document.querySelectorAll('#messages .message.from-bot')]"
            ".some(m => m.textContent.includes('handed you back'))", timeout=15_000)
    finally:
        staff_context.close()
        victim_context.close()


def as_victim(base, *texts, session=None, wait_for=None):
    """A victim on the web API (tests/support/handoff_clients.py), in a thread of its own: Playwright's
    sync API owns this one. Says `texts`, then waits for a message matching `wait_for`."""
    async def talk():
        victim = Victim(base)
        victim.session = session
        try:
            said = [await victim.say(text) for text in texts]
            found = await victim.wait_for(wait_for) if wait_for else None
            return victim.session, said, found
        finally:
            await victim.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, talk()).result(timeout=120)



def test_a_support_worker_passes_a_case_on_with_consent_from_the_console(stack, receiver, browser):
    context, console = open_console(browser, stack, "sam")
    try:
        console.wait_for_function("() => !document.querySelector('#console').hidden")
        # The cases panel loads with the console: the counts come first.
        console.wait_for_function("() => / pending, \\d+ delivered, \\d+ failed$/"
                                  ".test(document.querySelector('#cases-summary').textContent)")
        before = console.eval_on_selector_all("#queue .queue-item", "items => items.map(i => i.dataset.id)")

        # A victim asks for a person; the stack is shared, so theirs is the conversation not there before.
        session, said, _ = as_victim(stack["base"], "someone is threatening to send my pics to everyone",
                                     "can i talk to a real person")
        assert "utter_handoff_queued" in responses(said[-1])
        new_one = "(items, before) => items.map(i => i.dataset.id).find(id => !before.includes(id))"
        console.wait_for_function(
            f"before => ({new_one})([...document.querySelectorAll('#queue .queue-item')], before)",
            arg=before, timeout=10_000)
        conversation = console.eval_on_selector_all("#queue .queue-item", new_one, before)
        console.click(f'#queue .queue-item[data-id="{conversation}"]')
        console.wait_for_selector("#claim", state="visible")
        assert console.is_hidden("#pass-on")  # not before they are talking with this person
        console.click("#claim")
        console.wait_for_selector("#pass-on", state="visible")
        console.click("#pass-on summary")
        console.wait_for_selector("#case-platform", state="visible")
        assert console.get_attribute("#case-consent", "required") is not None

        # Without their consent ticked, nothing is passed on.
        console.fill("#case-platform", "snapchat")
        console.click("#pass-on-submit")
        console.wait_for_function(
            "() => document.querySelector('#pass-on-error').textContent.includes('agreed')")
        assert console.get_attribute("#case-consent", "aria-invalid") == "true"
        assert console.inner_text("#pass-on-result") == ""

        console.check("#case-consent")
        console.fill("#case-blackmailer", "ghost_guy_1")
        console.click("#pass-on-submit")
        console.wait_for_function(
            "() => /SX-[0-9A-Z]{4}-[0-9A-Z]{4}/.test(document.querySelector('#pass-on-result').textContent)",
            timeout=10_000)
        reference = REFERENCE.search(console.inner_text("#pass-on-result")).group(0)
        assert console.inner_text("#pass-on-error") == ""

        delivered = receiver.wait_for(reference)
        assert delivered["blackmailer"] == "ghost_guy_1"
        assert delivered["answers"]["platform"] == "snapchat" and delivered["consent"]["by"] == "staff"
        # The person is told their reference in the chat.
        as_victim(stack["base"], session=session, wait_for=lambda m: reference in (m.get("text") or ""))

        # The panel follows live: the case is listed, then delivered.
        item = console.locator("#cases-list .case", has_text=reference)
        item.wait_for(timeout=10_000)
        console.wait_for_function(
            "ref => [...document.querySelectorAll('#cases-list .case.delivered')]"
            ".some(c => c.textContent.includes(ref))", arg=reference, timeout=15_000)
        assert "Delivered" in item.inner_text()
        assert "with the person's consent" in item.inner_text()
        assert serious_accessibility_problems(console) == []
        console.screenshot(path=ARTIFACTS / "staff-cases.png", full_page=True)
    finally:
        context.close()


def test_a_case_that_cannot_be_passed_on_alerts_the_console_and_can_be_retried(start_gateway, browser):
    # A gateway whose receiver is down, and which gives up after a few seconds.
    receiver = FakeReceiver(REPORT_SECRET, listening=False)
    gateway = start_gateway(REPORT_WEBHOOK_URL=receiver.url, REPORT_GIVE_UP_HOURS="0.001")
    context, console = open_console(browser, gateway, "ash")
    try:
        console.wait_for_function("() => document.querySelector('#cases-summary').textContent"
                                  " === '0 pending, 0 delivered, 0 failed'")
        assert console.inner_text("#case-alert") == ""

        # The action server talks to the main gateway, so this one is asked for a person directly,
        # as tests/stack/test_handoff.py does.
        session, _, _ = as_victim(gateway["base"], "hi")
        status, _, _ = call("POST", f"{gateway['internal']}/internal/handoffs", {"session": session},
                            headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"})
        assert status == 200
        console.locator("#queue .queue-item").first.click()
        console.click("#claim")
        console.click("#pass-on summary")
        console.check("#case-consent")
        console.click("#pass-on-submit")
        console.wait_for_function(
            "() => /SX-/.test(document.querySelector('#pass-on-result').textContent)", timeout=10_000)
        reference = REFERENCE.search(console.inner_text("#pass-on-result")).group(0)

        # It gives up: an alert, in words, and the case says why, with a way to try again.
        alert = console.locator("#case-alert")
        alert.get_by_text("1 case could not be passed on. Check the receiver, then retry it.").wait_for(
            timeout=30_000)
        assert alert.get_attribute("role") == "alert"
        failed = console.locator("#cases-list .case.failed", has_text=reference)
        failed.wait_for()
        assert "Failed" in failed.inner_text() and "Last error: no answer" in failed.inner_text()
        assert console.inner_text("#cases-summary").endswith("1 failed")
        assert serious_accessibility_problems(console) == []
        console.screenshot(path=ARTIFACTS / "staff-case-failed.png", full_page=True)

        # The receiver is back: a retry delivers it, and the alert goes.
        receiver.start()
        failed.get_by_role("button", name=f"Retry {reference}").click()
        assert receiver.wait_for(reference)["consent"]["by"] == "staff"
        console.locator("#cases-list .case.delivered", has_text=reference).wait_for(timeout=15_000)
        console.wait_for_function("() => document.querySelector('#case-alert').textContent === ''")
    finally:
        context.close()
        receiver.stop()

"""The come-back code on the web page, in headless Chromium against the whole system
(make run: Rasa, the action server, the gateway), as the issue's "done when" says:
with nobody on shift a person leaves the chat for the team, saves the code, and
presses quick exit; a support worker claims it and replies; in a new tab the person
opens the chat with the code and finds the transcript and the reply, and writes on.
A wrong code gets the same answer as the code of a deleted chat, and after "delete
my chat" the code opens nothing. axe-core checks the code panel and the form.
Screenshots go to test-artifacts/."""
import asyncio
import secrets
from concurrent.futures import ThreadPoolExecutor

from playwright.sync_api import expect

from bot.conversation.come_back_code import WORDS, WORDS_IN_A_CODE
from bot.web.come_back import ALREADY, NOT_OPENED
from tests.support.browser import ARTIFACTS, WAIT_MS, send, serious_accessibility_problems, tap
from tests.support.handoff_clients import Staff, add_staff
from tests.support.processes import call

REPLY = "Hello, I'm from the support team. I've read your messages. You did the right thing by not paying."


def in_the_background(coroutine):
    """Runs a coroutine to its end: Playwright's sync API owns this thread's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def as_worker(stack, name, act):
    """`act(staff)` by the support worker `name`, signed in on the staff API for it."""
    staff = Staff(stack["base"])
    assert await staff.login(name) == 200
    try:
        return await act(staff)
    finally:
        await staff.close()


async def queue_ids(staff):
    return {c["id"] for c in await staff.queue()}


def accessible(page):
    problems = serious_accessibility_problems(page)
    assert problems == [], problems


def open_with(page, code):
    """Types the code into "I have a code" and opens it: (status, body) of the gateway's answer."""
    if page.locator("#resume-form").is_hidden():
        page.click("#have-code")
    page.fill("#resume-code", code)
    with page.expect_response("**/api/chat/resume", timeout=WAIT_MS) as answer:
        page.click("#resume-open")
    return answer.value.status, answer.value.json()


def test_a_person_comes_back_with_the_code_and_reads_the_workers_reply(stack, browser):
    worker = f"jo{secrets.token_hex(3)}"
    add_staff(stack["env"], worker)  # signed in on the API only: no console open, nobody on shift
    before = in_the_background(as_worker(stack, worker, queue_ids))

    first = browser.new_context(viewport={"width": 390, "height": 844})
    page = first.new_page()
    page.goto(stack["base"] + "/")
    expect(page.locator("#have-code")).to_be_visible()
    expect(page.locator("#save-code")).to_be_hidden()  # no conversation yet
    send(page, "a guy on insta says he'll send my pics to my family unless i pay")
    expect(page.locator("#save-code")).to_be_visible()
    expect(page.locator("#have-code")).to_be_hidden()  # only on the start page

    # Nobody on shift: the chat is left for the team, and the offer is right under that.
    send(page, "i need to speak to a human")
    expect(page.locator("[data-response='utter_handoff_nobody_on_shift']")).to_have_count(1, timeout=WAIT_MS)
    assert "save a code" in page.locator("[data-response='utter_handoff_nobody_on_shift']").inner_text()
    tap(page, "Yes, leave it for them")
    left = page.locator("[data-response='utter_handoff_queued_later']")
    expect(left).to_have_count(1, timeout=WAIT_MS)
    offer = page.locator("[data-response='utter_handoff_queued_later'] + .code-offer .save-code-offer")
    expect(offer).to_be_visible()

    offer.click()
    expect(page.locator("#code-panel")).to_be_visible()
    code = page.inner_text("#code-words").strip()
    assert len(code.split(" ")) == WORDS_IN_A_CODE and all(word in WORDS for word in code.split(" "))
    assert page.evaluate("() => document.activeElement.id") == "code-heading"
    assert code not in page.inner_text("#messages")  # not a message
    page.screenshot(path=ARTIFACTS / "come-back-code.png", full_page=True)
    accessible(page)
    page.click("#hide-code")
    expect(page.locator("#code-panel")).to_be_hidden()
    assert page.evaluate("() => document.activeElement.classList.contains('save-code-offer')")

    session = page.evaluate("() => sessionStorage.getItem('chat-session')")
    page.click("#quick-exit")
    page.wait_for_url(stack["env"]["QUICK_EXIT_URL"])
    first.close()

    # Meanwhile a support worker claims the conversation and replies.
    async def claim_and_reply(staff):
        conversation, = await queue_ids(staff) - before
        assert (await staff.act(conversation, "claim"))[0] == 200
        assert (await staff.act(conversation, "messages", REPLY))[0] == 200
        status, transcript = await staff.call("GET", f"/staff/api/conversations/{conversation}")
        assert status == 200 and code not in str(transcript) and session not in str(transcript)
        return conversation
    conversation = in_the_background(as_worker(stack, worker, claim_and_reply))

    # A new tab, later: "I have a code", typed as a person might.
    second = browser.new_context(viewport={"width": 390, "height": 844})
    page = second.new_page()
    page.goto(stack["base"] + "/")
    page.click("#have-code")
    assert page.get_attribute("#have-code", "aria-expanded") == "true"
    assert page.evaluate("() => document.activeElement.id") == "resume-code"
    page.screenshot(path=ARTIFACTS / "come-back-form.png", full_page=True)
    accessible(page)
    typed = "-".join(word.capitalize() for word in code.split(" "))
    assert open_with(page, typed) == (200, {"session": session})
    staff_reply = page.locator("#messages .message.from-staff")
    expect(staff_reply).to_have_count(1, timeout=WAIT_MS)
    assert "I've read your messages" in staff_reply.inner_text()
    said = page.locator("#messages .message.from-user")
    assert "send my pics to my family" in said.first.inner_text()
    expect(page.locator("[data-response='utter_handoff_queued_later']")).to_have_count(1)
    assert page.evaluate("() => sessionStorage.getItem('chat-session')") == session
    page.screenshot(path=ARTIFACTS / "come-back-resumed.png", full_page=True)
    accessible(page)

    # The person writes on, in the same conversation: the worker reads it.
    page.fill("#message-input", "thank you, i read your message")
    page.keyboard.press("Enter")
    expect(said.filter(has_text="thank you, i read your message")).to_have_count(1, timeout=WAIT_MS)

    async def read_on(staff):
        status, transcript = await staff.call("GET", f"/staff/api/conversations/{conversation}")
        assert status == 200
        return [m["text"] for m in transcript["messages"]]
    assert "thank you, i read your message" in in_the_background(as_worker(stack, worker, read_on))

    # "Delete my chat": the code goes with it, and opens nothing, exactly as a wrong code.
    page.fill("#message-input", "please delete my chat and everything")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('#messages .message').length === 0",
                           timeout=WAIT_MS)  # answered, then deleted: the page starts afresh
    expect(page.locator("#have-code")).to_be_visible()
    deleted = open_with(page, code)
    deleted_words = page.inner_text("#status")
    assert page.input_value("#resume-code") == code  # kept, to check
    wrong = open_with(page, " ".join(secrets.choice(WORDS) for _ in range(WORDS_IN_A_CODE)))
    assert deleted == wrong == (404, {"error": NOT_OPENED})
    assert page.inner_text("#status") == deleted_words and deleted_words.startswith(NOT_OPENED)
    accessible(page)
    second.close()
    assert call("POST", f"{stack['base']}/api/chat/resume", {"code": code})[::2] == (404, {"error": NOT_OPENED})
    assert call("GET", f"{stack['base']}/api/chat/{session}/messages")[0] == 404


def save_a_code(page):
    """Taps "Save a code to come back": (status of the gateway's answer, the words shown)."""
    with page.expect_response("**/code", timeout=WAIT_MS) as answer:
        page.click("#save-code")
    expect(page.locator("#code-panel")).to_be_visible()
    return answer.value.status, page.inner_text("#code-words").strip()


def resumes(stack, code):
    """The session a code opens now, or None."""
    status, _, body = call("POST", f"{stack['base']}/api/chat/resume", {"code": code})
    return body["session"] if status == 200 else None


def test_a_page_that_does_not_know_the_code_never_replaces_it_without_asking(stack, browser):
    """The page keeps a code only in memory. In a tab opened with the code, "Save a code"
    must not end the code the person wrote down: the panel says the chat has one, and
    only "Make a new code" replaces it."""
    first = browser.new_context(viewport={"width": 390, "height": 844})
    page = first.new_page()
    page.goto(stack["base"] + "/")
    send(page, "someone on snap wants money or he posts my pics")
    status, code = save_a_code(page)
    assert status == 201 and len(code.split(" ")) == WORDS_IN_A_CODE
    session = page.evaluate("() => sessionStorage.getItem('chat-session')")
    first.close()

    second = browser.new_context(viewport={"width": 390, "height": 844})
    page = second.new_page()
    page.goto(stack["base"] + "/")
    assert open_with(page, code) == (200, {"session": session})
    expect(page.locator("#save-code")).to_be_visible(timeout=WAIT_MS)
    status, shown = save_a_code(page)
    assert status == 409 and shown == ""  # no code shown: the page doesn't know it
    expect(page.locator("#code-kept")).to_have_text(ALREADY)
    expect(page.locator("#code-keep")).to_be_hidden()  # "write these words down": there are none
    assert page.evaluate("() => document.activeElement.id") == "code-heading"
    assert resumes(stack, code) == session  # the code written down still works
    page.screenshot(path=ARTIFACTS / "come-back-code-kept.png", full_page=True)
    accessible(page)

    with page.expect_response("**/code", timeout=WAIT_MS) as answer:
        page.click("#new-code")
    assert answer.value.status == 201
    expect(page.locator("#code-kept")).to_be_hidden()
    expect(page.locator("#code-keep")).to_be_visible()
    new = page.inner_text("#code-words").strip()
    assert len(new.split(" ")) == WORDS_IN_A_CODE and new != code
    assert resumes(stack, code) is None and resumes(stack, new) == session
    page.click("#hide-code")
    asked = []
    page.on("request", lambda request: asked.append(request.url) if request.url.endswith("/code") else None)
    page.click("#save-code")  # the page knows this one: shown again, nothing asked
    expect(page.locator("#code-words")).to_have_text(new)
    assert asked == [] and resumes(stack, new) == session
    second.close()


def wait_for_socket(page, sockets, count):
    """Until the page has opened `count` WebSockets (it reconnects after a second)."""
    for _ in range(WAIT_MS // 100):
        if len(sockets) >= count:
            return
        page.wait_for_timeout(100)  # Playwright calls the route's handler meanwhile
    raise AssertionError(f"the page opened {len(sockets)} WebSockets, not {count}")


def test_a_code_is_never_shown_for_another_chat(stack, browser):
    """The page's connection is away while its chat is deleted; back, it finds the chat
    gone and starts a new one. The code of the old chat goes with it: the panel is
    hidden, and "Save a code" makes one for the new chat."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    # The page's WebSocket goes through here: to the gateway, or (held) to nobody.
    sockets, held = [], []

    def through(socket):
        if not held:
            socket.connect_to_server()
        sockets.append(socket)
    page.route_web_socket("**/ws", through)
    page.goto(stack["base"] + "/")
    send(page, "a girl on insta says she will share my nudes")
    status, code = save_a_code(page)
    assert status == 201
    old = page.evaluate("() => sessionStorage.getItem('chat-session')")

    held.append(True)
    sockets[-1].close()  # the connection drops; the page's next one reaches nobody
    wait_for_socket(page, sockets, 2)
    # Meanwhile the chat is deleted ("delete my chat", sent from elsewhere).
    status, _, body = call("POST", f"{stack['base']}/api/chat",
                           {"session": old, "text": "please delete my chat and everything"})
    assert status == 200 and resumes(stack, code) is None, body
    held.clear()
    sockets[-1].close()  # back to the gateway: the chat is gone, and a new one starts
    page.wait_for_function("old => (sessionStorage.getItem('chat-session') || old) !== old", arg=old,
                           timeout=WAIT_MS)
    expect(page.locator("#code-panel")).to_be_hidden()
    assert page.inner_text("#code-words") == ""
    status, shown = save_a_code(page)
    assert status == 201 and shown != code
    assert resumes(stack, shown) == page.evaluate("() => sessionStorage.getItem('chat-session')")
    context.close()


def left_as(page, base):
    """Presses quick exit on a page whose way out is held (the exit address never
    answers, see below) and reads it as it is left: what the code's panel and the
    "I have a code" box still show. Playwright can't read a page while its navigation
    is pending, so a listener added after the page's own reads it at once."""
    seen = []
    page.expose_function("leftAs", lambda state: seen.append(state))
    page.evaluate("""() => document.getElementById("quick-exit").addEventListener("click", () => window.leftAs({
        words: document.getElementById("code-words").textContent,
        panelHidden: document.getElementById("code-panel").hidden,
        typed: document.getElementById("resume-code").value}))""")
    page.click("#quick-exit", no_wait_after=True)  # the navigation it starts never ends
    for _ in range(WAIT_MS // 100):
        if seen:
            break
        page.wait_for_timeout(100)
    assert page.url == base + "/"  # still here: leaving is held
    return seen[0]


def test_quick_exit_blanks_a_code_on_screen_and_one_being_typed_before_the_page_goes(stack, browser):
    """Quick exit blanks the screen first, in case leaving takes a moment: here the weather
    page never answers, so the chat page stays in view."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.route(stack["env"]["QUICK_EXIT_URL"], lambda route: None)  # held: never answered
    code = " ".join(secrets.choice(WORDS) for _ in range(WORDS_IN_A_CODE))

    page = context.new_page()
    page.goto(stack["base"] + "/")
    page.click("#have-code")
    page.fill("#resume-code", code)
    assert left_as(page, stack["base"])["typed"] == ""

    page = context.new_page()
    page.goto(stack["base"] + "/")
    send(page, "he says he will send the video to my school")
    status, shown = save_a_code(page)
    assert status == 201 and shown
    left = left_as(page, stack["base"])
    assert left["words"] == "" and left["panelHidden"], left
    context.close()

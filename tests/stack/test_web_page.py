"""The web chat page in headless Chromium (Debian's chromium, driven by
Playwright), against the running system: a conversation with buttons, keyboard
use, small screens, quick exit, and axe-core's accessibility rules.
Screenshots go to test-artifacts/ for a person to look at."""
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import ROOT
from tests.support.browser import ARTIFACTS, WAIT_MS, bot_messages, send, serious_accessibility_problems, tap


def test_a_victim_chats_taps_a_button_and_the_page_is_accessible(stack, page):
    page.goto(stack["base"] + "/")
    assert page.title() == "Help"  # neutral in a tab list or history
    page.screenshot(path=ARTIFACTS / "chat-start.png", full_page=True)
    assert serious_accessibility_problems(page) == []

    send(page, "someone on insta is blackmailing me with my pics, says pay or he sends them to my family")
    assert page.locator("#messages .message.from-user").first.inner_text().count("blackmailing") == 1
    # A turn's messages arrive one by one: wait for the one that matters.
    expect(page.locator("[data-response='utter_step_dont_pay']")).to_have_count(1, timeout=WAIT_MS)
    assert "pay" in page.locator("[data-response='utter_step_dont_pay']").inner_text().lower()
    replies = page.locator(".quick-replies .quick-reply")
    replies.first.wait_for()

    # The live region announces new messages to screen readers.
    assert page.get_attribute("#messages", "aria-live") == "polite"
    page.screenshot(path=ARTIFACTS / "chat-reply.png")  # what the phone shows

    title = replies.first.inner_text()
    before = bot_messages(page).count()
    replies.first.click()
    page.wait_for_function(
        "n => document.querySelectorAll('#messages .message.from-bot').length > n", arg=before,
        timeout=30_000)
    # What the person "said" is the button's title, not its payload.
    assert page.locator("#messages .message.from-user").last.inner_text().endswith(title)
    page.screenshot(path=ARTIFACTS / "chat-after-button.png")
    assert serious_accessibility_problems(page) == []


@pytest.mark.parametrize("text, expected, shot", [
    # Under 18 said inside the story: the under-18 help, then step 1, in one turn.
    ("im 15 and someone on snap says he'll send my nudes to my school unless i pay",
     ["utter_under_18", "utter_step_dont_pay"], "facts-under-18"),
    ("my son is 14 and someone is blackmailing him", ["utter_helping_someone"], "facts-parent"),
    ("he's posting them right now", ["utter_images_shared"], "facts-posting-now"),
])
def test_what_a_message_says_changes_the_answer(stack, page, text, expected, shot):
    """The issue's three checks by hand, each in a fresh chat on the web page."""
    page.goto(stack["base"] + "/")
    send(page, text)
    for response in expected:
        expect(page.locator(f"[data-response='{response}']")).to_have_count(1, timeout=WAIT_MS)
    order = page.eval_on_selector_all("[data-response]", "items => items.map(i => i.dataset.response)")
    assert [name for name in order if name in expected] == expected
    page.screenshot(path=ARTIFACTS / f"{shot}.png", full_page=True)


def test_the_chat_works_with_the_keyboard_alone(stack, page):
    page.goto(stack["base"] + "/")
    page.locator("#message-input").wait_for()
    # Tab from the top of the page reaches the message box.
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "message-input":
            break
    assert page.evaluate("() => document.activeElement.id") == "message-input"
    page.keyboard.type("should i pay him")
    before = bot_messages(page).count()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#messages .message.from-bot').length > n", arg=before,
        timeout=30_000)
    # The buttons are reachable with Shift+Tab from the message box and show where the focus is.
    page.locator(".quick-reply").first.wait_for()
    page.locator("#message-input").focus()
    for _ in range(8):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("() => document.activeElement.classList.contains('quick-reply')"):
            break
    assert page.evaluate("() => document.activeElement.classList.contains('quick-reply')")
    outline = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth, s.boxShadow]; }")
    assert outline[0] != "none" or outline[2] != "none", outline
    page.keyboard.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#messages .message.from-bot').length > n + 1", arg=before,
        timeout=30_000)


def test_at_200_percent_zoom_nothing_needs_sideways_scrolling(stack, browser):
    # 200% zoom of a 640-pixel-wide window is a 320 CSS pixel layout.
    context = browser.new_context(viewport={"width": 320, "height": 568}, device_scale_factor=2)
    page = context.new_page()
    page.goto(stack["base"] + "/")
    send(page, "he wants 200 quid by tonight what do i do")
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    page.screenshot(path=ARTIFACTS / "chat-zoom-200.png", full_page=True)
    context.close()
    assert widths[0] <= widths[1], widths


def test_quick_exit_leaves_for_a_neutral_page_and_back_does_not_return(stack, page):
    exit_url = stack["env"]["QUICK_EXIT_URL"]
    came_from = exit_url.replace("/weather", "/news")
    page.goto(came_from)
    page.goto(stack["base"] + "/")
    send(page, "hi")
    session = page.evaluate("() => sessionStorage.getItem('chat-session')")
    assert session

    page.click("#quick-exit")
    page.wait_for_url(exit_url)
    page.go_back()
    assert page.url == came_from  # the chat was replaced in the history

    # Coming back starts afresh: the old conversation is not shown or kept.
    page.goto(stack["base"] + "/")
    page.wait_for_function("() => sessionStorage.getItem('chat-session') !== null")
    assert page.evaluate("() => sessionStorage.getItem('chat-session')") != session
    assert bot_messages(page).count() == 0


def test_escape_three_times_is_a_quick_exit_too(stack, page):
    page.goto(stack["base"] + "/")
    page.locator("#message-input").click()
    page.keyboard.type("something private i was typing")
    for _ in range(3):
        page.keyboard.press("Escape")
    page.wait_for_url(stack["env"]["QUICK_EXIT_URL"])
    assert re.search("weather", page.title(), re.IGNORECASE)


def test_the_page_loads_nothing_from_anywhere_else(stack, page):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("websocket", lambda socket: requested.append(socket.url))
    page.goto(stack["base"] + "/")
    send(page, "hello")
    sockets = [url for url in requested if url.startswith("ws")]
    assert sockets == [stack["base"].replace("http", "ws", 1) + "/ws"]
    assert all(url.startswith(stack["base"]) for url in requested if url not in sockets), requested
    assert page.context.cookies() == []



def test_getting_ready_to_report_ends_with_notes_to_download(stack, page):
    page.goto(stack["base"] + "/")
    send(page, "a girl on snap says she'll post my nudes unless i pay her")
    send(page, "how do i report it to the police")
    tap(page, "Help me get ready")
    # The app was named in the story: it is not asked again (docs/facts.md).
    expect(page.locator("[data-response='utter_ask_report_started']")).to_have_count(1, timeout=WAIT_MS)
    assert page.locator("[data-response='utter_ask_report_platform']").count() == 0
    send(page, "2 days ago")
    tap(page, "Money")
    tap(page, "No")  # not paid: no payment question
    tap(page, "Skip")
    tap(page, "Yes")
    tap(page, "Skip")
    assert "Snapchat" in page.locator("[data-response='utter_report_summary']").inner_text()
    tap(page, "Yes, that's right")
    notes = page.locator("[data-response='utter_report_notes']")
    save = notes.locator("a.save-notes")
    expect(save).to_be_visible(timeout=WAIT_MS)
    page.screenshot(path=ARTIFACTS / "report-notes.png", full_page=True)
    assert serious_accessibility_problems(page) == []
    with page.expect_download() as download:
        save.click()
    assert download.value.suggested_filename == "report-notes.txt"
    saved = Path(download.value.path()).read_text(encoding="utf-8")
    assert "Your notes for reporting" in saved and "App or website: Snapchat" in saved
    assert "Evidence to keep" in saved and "When it started: 2 days ago" in saved
    assert "Paid or sent anything: No" in saved and "How much" not in saved


# --- A small phone: 999 and quick exit in view, before and after a crisis ------
PHONE = {"width": 360, "height": 640}

# Where the first "999" inside an element is drawn, and whether it is really seen
# there (the element on top at that point is the one holding the text, not the
# sticky top bar or the message box over it).
WHERE_IS_999 = """([selector, number]) => {
  const holder = document.querySelector(selector);
  const walker = document.createTreeWalker(holder, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(number);
    if (at === -1) continue;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + number.length);
    const box = range.getBoundingClientRect();
    const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    return {top: box.top, bottom: box.bottom, seen: !!top && node.parentElement.contains(top)};
  }
  return null;
}"""


def in_view(box, height=PHONE["height"]):
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def test_on_a_small_phone_999_and_quick_exit_are_in_view_before_and_after_a_crisis(stack, browser):
    from bot.fact_sheet import fact_sheet

    emergency = fact_sheet()["emergency"].phone
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(stack["base"] + "/")
    page.locator("#message-input").wait_for()

    # Before anything is sent: the emergency number and quick exit, without scrolling.
    number = page.locator("#emergency-phone")
    expect(number).to_be_visible()
    expect(number).to_have_text(emergency)
    assert number.get_attribute("href") == "tel:" + emergency
    expect(page.locator("#quick-exit")).to_be_visible()
    assert in_view(number.bounding_box()), number.bounding_box()
    assert in_view(page.locator("#quick-exit").bounding_box())
    assert page.evaluate(WHERE_IS_999, ["#emergency", emergency])["seen"]
    page.screenshot(path=ARTIFACTS / "phone-start.png")
    assert serious_accessibility_problems(page) == []

    # A crisis: several bot messages in a row. The first one's 999 stays in view
    # without the person (or this test) scrolling.
    send(page, "i want to kill myself")
    expect(page.locator("[data-response='utter_crisis']")).to_have_count(1, timeout=WAIT_MS)
    expect(page.locator("[data-response='utter_ask_safe']")).to_have_count(1, timeout=WAIT_MS)
    page.locator(".quick-replies .quick-reply").first.wait_for()
    where = page.evaluate(WHERE_IS_999, ["[data-response='utter_crisis']", emergency])
    page.screenshot(path=ARTIFACTS / "phone-crisis.png")
    assert where is not None, "the crisis message does not give the emergency number"
    assert where["top"] >= 0 and where["bottom"] <= PHONE["height"], where
    assert where["seen"], where  # not under the top bar or the message box
    expect(page.locator("#quick-exit")).to_be_visible()
    assert in_view(page.locator("#quick-exit").bounding_box())
    context.close()


def test_no_service_number_is_typed_into_the_page(stack):
    """The page's numbers come from services.yml (bot/web/page.py fills them in)."""
    import urllib.request

    from bot.fact_sheet import fact_sheet

    sheet = fact_sheet()
    for name in ("index.html", "common.js", "chat/main.js", "chat/connection.js", "chat/messages.js",
                 "chat/composer.js", "chat/status.js", "chat/quick-exit.js", "chat/storage.js",
                 "chat/come-back.js"):
        source = (ROOT / "bot" / "static" / name).read_text()
        for number in sheet.numbers():
            # "116 123", "116-123" and "116123" alike, but not inside a longer number.
            typed = r"(?<!\d)" + r"[\s.-]?".join(number) + r"(?!\d)"
            assert not re.search(typed, source), f"{number} is typed into {name}"

    with urllib.request.urlopen(stack["base"] + "/") as response:
        page = response.read().decode("utf-8")
    for service in ("emergency", "samaritans"):
        phone = sheet[service].phone
        assert phone and phone in page
        assert 'href="tel:' + re.sub(r"\D", "", phone) + '"' in page
    assert not re.search(r"\{\{\s*[a-z_]+\.[a-z_]+\s*\}\}", page)  # every detail was filled in

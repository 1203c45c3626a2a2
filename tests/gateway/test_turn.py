"""One turn of a conversation (Conversations.say, bot/conversation/turn.py) through the
web API of a gateway in this process, against a fake Rasa: what the person is
answered, what is stored, and what reaches Rasa. Rasa's and the action server's
troubles are in test_turn_faults.py; a conversation held for staff in test_handoffs.py."""
import asyncio
import functools
import json
import time
from pathlib import Path

import pytest

from bot.conversation import language
from bot.conversation.replies import reply
from bot.reporting.held_answers import HELD_PAYLOAD, PLACEHOLDERS
from tests.conftest import REPORT_SECRET
from tests.support.fake_rasa import DEFAULT_REPLY, utter
from tests.support.gateways import NOBODY, running
from tests.support.handoff_clients import responses


def stored_bytes(sqlite_url: str) -> bytes:
    """Everything SQLite has on disk: the database and its write-ahead log."""
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    return b"".join(path.read_bytes() for path in database.parent.glob(database.name + "*"))


async def test_a_turn_passes_rasas_replies_on_with_their_names_and_buttons_and_stores_both_sides(rasa, gw):
    said = "he wants money or he posts my pics"
    answer = [utter("utter_not_your_fault"), utter("utter_step_dont_pay")]
    rasa.says(said, *answer)
    status, body, _ = await gw.chat(said)
    assert status == 200 and body["messages"] == answer
    session = body["session"]
    assert [(c.route, c.sender, c.text, c.channel) for c in rasa.calls if c.route == "webhook"] == [
        ("webhook", session, said, "web")]
    assert await gw.transcript(session) == [
        {"seq": 1, "from": "user", "text": said},
        {"seq": 2, "from": "bot", **answer[0]}, {"seq": 3, "from": "bot", **answer[1]}]
    # The conversation goes on as the same sender; Rasa's /model/parse is not asked.
    assert await gw.say(session, "ok") == [DEFAULT_REPLY]
    assert rasa.sent(session) == [said, "ok"] and rasa.parsed() == []


@pytest.mark.parametrize("typed, shown", [
    ("my name is ryan and my number is 07700 900123", "my name is [NAME] and my number is [PHONE]"),
    ("his snap is jayy_x2007, email me ryan.k99@hotmail.co.uk", "his snap is [HANDLE], email me [EMAIL]"),
    # Fancy-font letters are read as plain ones; unseen direction controls are dropped.
    ("\U0001d5f5\U0001d5f2 wants money by \u202etonight\u202c", "he wants money by tonight"),
])
async def test_only_redacted_text_is_stored_or_reaches_rasa(rasa, gw, sqlite_url, typed, shown):
    session = await gw.start(typed)
    assert rasa.sent(session) == [shown]
    assert (await gw.transcript(session))[0]["text"] == shown
    on_disk = stored_bytes(sqlite_url)
    for raw in ("07700 900123", "jayy_x2007", "ryan.k99", typed):
        assert raw.encode() not in on_disk


async def test_a_tapped_button_sends_its_payload_to_rasa_and_stores_its_title(rasa, gw):
    first, second = utter("utter_step_dont_pay"), utter("utter_step_stop_replying")
    rasa.says("hi", first)
    session = await gw.start("hi")
    ok, paid = first["buttons"]
    rasa.says(ok["payload"], second)
    assert await gw.say(session, ok["payload"]) == [second]
    # An older message's button is still on screen in a messaging app: it still counts.
    await gw.say(session, paid["payload"])
    assert rasa.sent(session) == ["hi", ok["payload"], paid["payload"]]
    assert [m["text"] for m in await gw.transcript(session) if m["from"] == "user"] == [
        "hi", ok["title"], paid["title"]]


@pytest.mark.parametrize("typed, to_rasa", [
    ('/ask_pay{"platform": "zzz"}', 'ask_pay{"platform": "zzz"}'),
    ("/already_paid", "already_paid"),  # a payload, but of no button shown
    ("// / hello", "hello"),
])
async def test_typed_text_starting_with_a_slash_reaches_rasa_as_words_not_an_intent(rasa, gw, typed, to_rasa):
    session = await gw.start("hi")
    await gw.say(session, typed)
    assert rasa.sent(session) == ["hi", to_rasa]
    assert (await gw.transcript(session))[2]["text"] == typed


@pytest.mark.parametrize("typed, kind", [
    ("😭😭😭", "gateway_no_words"),
    ("?!", "gateway_no_words"),
    ("\x00\x07\u200b\u202e", "gateway_no_words"),  # nothing left once the controls are out
    ("он шантажирует меня фотографиями", "gateway_other_language"),
    ("me está chantajeando con mis fotos, qué hago", "gateway_other_language"),
])
async def test_what_the_assistant_cannot_read_gets_the_gateways_kind_reply_without_rasa(rasa, gw, typed, kind):
    session = await gw.start("hi")
    answered = await gw.say(session, typed)
    assert answered == [reply(kind)] and "999" in answered[0]["text"]
    assert rasa.sent(session) == ["hi"] and rasa.parsed() == []
    assert [(m["from"], m.get("response")) for m in await gw.transcript(session)][2:] == [
        ("user", None), ("bot", kind)]


async def test_an_emoji_rasa_knows_reaches_it_as_words_and_is_stored_as_sent(rasa, gw):
    session = await gw.start("hi")
    rasa.says("yes", utter("utter_step_stop_replying"))
    assert responses(await gw.say(session, "👍🏽👍")) == ["utter_step_stop_replying"]
    assert rasa.sent(session) == ["hi", "yes"]
    assert (await gw.transcript(session))[2]["text"] == "👍🏽👍"


@pytest.mark.parametrize("text, status", [("  \n\t", 400), ("x" * 2001, 413), ("\ufdfa" * 1001, 413)])
async def test_refused_text_is_neither_kept_nor_sent_to_rasa(rasa, gw, text, status):
    session = await gw.start("hi")
    assert (await gw.chat(text))[0] == status  # a new conversation: none is made
    assert (await gw.chat(text, session))[0] == status
    assert await gw.store.sessions_idle_since(time.time() + 60) == [session]
    assert rasa.sent() == ["hi"] and len(await gw.transcript(session)) == 2


async def test_a_burst_is_refused_before_it_reaches_rasa_and_holds_up_nobody_else(rasa, sqlite_url):
    async with running(rasa, database_url=sqlite_url, messages_per_minute=3) as gw:
        session = await gw.start("one")
        for text in ("two", "three"):
            await gw.say(session, text)
        status, body, headers = await gw.chat("four", session)
        assert status == 429 and "wait" in body["error"] and 50 <= int(headers["Retry-After"]) <= 60
        async with gw.page(session, after=6) as socket:
            await socket.send_json({"type": "say", "text": "five"})
            refused = await socket.receive_json()
            assert (refused["type"], refused["status"]) == ("error", 429)
            assert 50 <= refused["retry_after"] <= 60
        assert rasa.sent(session) == ["one", "two", "three"]
        assert len(await gw.transcript(session)) == 6
        assert (await gw.chat("hello"))[0] == 200  # another conversation


# --- answers kept out of the conversation (bot/reporting/held_answers.py) ---------------
HANDLE, CONTACT = "utter_ask_report_handle", "utter_ask_report_contact"
CANNOT_READ = None  # /model/parse answers 500
REPORTING = {"report_webhook_url": NOBODY + "/cases", "report_webhook_secret": "held-answers"}


@pytest.mark.parametrize("asked, typed, reading, kept", [
    (HANDLE, "his insta is jayy_x2007", "inform", "blackmailer"),
    (HANDLE, "x_x_99", CANNOT_READ, "blackmailer"),  # looks like a username: kept all the same
    (HANDLE, "иван_петров", "inform", "blackmailer"),  # not words Rasa reads: not even asked
    (CONTACT, "email me on ryan.k99@hotmail.co.uk after 6", "inform", "contact"),
    (CONTACT, "mi número es 07700 900123, después de las seis", "inform", "contact"),  # any language
    (HANDLE, "i cant do this anymore i want to die", "crisis", None),  # never evidence
    (HANDLE, "skip", "skip", None),
    (HANDLE, "not sure", CANNOT_READ, None),  # Rasa can't say, and it's no username
])
async def test_an_answer_to_a_held_question_is_kept_for_the_case_and_rasa_gets_only_that_it_was_given(
        rasa, sqlite_url, asked, typed, reading, kept):
    rasa.says("hi", utter(asked))
    if reading is CANNOT_READ:
        rasa.fail("parse")
    else:
        rasa.default_intent = (reading, 0.9)
    async with running(rasa, database_url=sqlite_url, **REPORTING) as gw:
        session = await gw.start("hi")
        await gw.say(session, typed)
        stored = (await gw.transcript(session))[2]["text"]
        held = await gw.store.held_answers(session)
        if kept:
            assert (stored, rasa.sent(session)[-1], list(held)) == (PLACEHOLDERS[kept], HELD_PAYLOAD, [kept])
            assert typed not in held[kept]  # sealed
        else:
            assert (stored, rasa.sent(session)[-1], held) == (typed, typed, {})
        # Rasa reads only the redacted text, and a script it can't read not at all.
        assert len(rasa.parsed()) == (0 if typed.startswith(("иван", "mi número")) else 1)
        assert not [text for text in rasa.parsed() + rasa.sent() if "jayy_x2007" in text or "ryan.k99" in text]


@pytest.mark.parametrize("typed, kind", [
    ("😭😭", "gateway_no_words"),
    ("no sé quién es, tengo mucho miedo", "gateway_other_language"),
])
async def test_a_reply_that_cannot_be_a_username_is_not_kept_as_one(rasa, sqlite_url, typed, kind):
    rasa.says("hi", utter(HANDLE))
    async with running(rasa, database_url=sqlite_url, **REPORTING) as gw:
        session = await gw.start("hi")
        assert await gw.say(session, typed) == [reply(kind)]
        assert await gw.store.held_answers(session) == {}
        assert rasa.sent(session) == ["hi"]


async def test_a_kept_username_goes_into_the_case_and_nowhere_else(rasa, receiver, sqlite_url):
    rasa.says("hi", utter(HANDLE))
    rasa.default_intent = ("inform", 0.9)
    async with running(rasa, database_url=sqlite_url, report_webhook_url=receiver.url,
                       report_webhook_secret=REPORT_SECRET) as gw:
        session = await gw.start("hi")
        await gw.say(session, "its jayy_x2007 on insta")
        status, case = await gw.internal_call("/internal/cases", {
            "session": session, "answers": {"handle": "given", "platform": "Instagram"}})
        assert status == 200 and case["status"] == "pending"
        for _ in range(300):
            if receiver.by_reference(case["reference"]):
                break
            await asyncio.sleep(0.01)
        [delivered] = receiver.by_reference(case["reference"])
        assert delivered["blackmailer"] == "its jayy_x2007 on insta"
        assert PLACEHOLDERS["blackmailer"] in [m["text"] for m in delivered["transcript"]]
        assert "jayy_x2007" not in json.dumps(delivered["transcript"])
        assert "jayy_x2007" not in str(rasa.calls)
        assert b"jayy_x2007" not in stored_bytes(sqlite_url)


async def test_the_first_message_after_a_start_holds_up_nobody_else(rasa, sqlite_url, monkeypatch):
    # The first load, as slow as a fraction of the real one: the loop must stay free meanwhile.
    load = language._stop_words.__wrapped__
    monkeypatch.setattr(language, "_stop_words", functools.lru_cache(maxsize=1)(
        lambda: (time.sleep(0.5), load())[1]))
    async with running(rasa, database_url=sqlite_url) as gw:
        gaps, ticking = [], True

        async def tick():
            while ticking:
                before = time.monotonic()
                await asyncio.sleep(0.01)
                gaps.append(time.monotonic() - before)

        ticker = asyncio.ensure_future(tick())
        await gw.start("he wants money for my pics")  # words enough to tell the language
        ticking = False
        await ticker
        assert max(gaps) < 0.3

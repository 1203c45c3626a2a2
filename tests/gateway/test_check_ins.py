"""A check-in, only when asked for (bot/conversation/check_in.py, bot/messaging/check_ins.py):
offered on Telegram and WhatsApp after "did this help?", answered by a tap or a typed
yes or no, sent once when due with the steps left and the numbers, and cancelled by the
person writing, "delete my chat" or a crisis. Gateways in this process on SQLite and the
real PostgreSQL (two of them sharing it and Redis), the fake Rasa, and Telegram's and
WhatsApp's servers faked on loopback (tests/support/fake_provider.py). A gateway killed
before it is due, and two gateway processes: tests/stack/test_check_ins.py."""
import asyncio
import itertools
import os
import re
import secrets
import subprocess
import time
from datetime import datetime, timedelta, timezone
from typing import Tuple

import pytest
from sqlalchemy import text as sql

from bot.conversation import check_in
from bot.conversation.check_in_time import CheckInSettingsError
from bot.conversation.replies import domain_reply
from bot.messaging import check_ins as schedule
from bot.messaging.shared import user_hash
from bot.staff.hours import clock
from bot.store import Store
from tests.conftest import ROOT
from tests.support.fake_rasa import utter
from tests.support.gateways import gateway_app, running
from tests.support.messaging_apps import (
    telegram_says,
    telegram_sends,
    telegram_settings,
    telegram_tap,
    whatsapp_sends,
    whatsapp_settings,
    whatsapp_tap,
    whatsapp_text,
)

CHATS = itertools.count(610_000_000 + secrets.randbelow(10_000_000))
KEY = b"one channel id key for every start"
REDIS = "redis://127.0.0.1:6379/0"
DID_THIS_HELP = "/did_this_help_four_steps_yes"
OFFER = "Would you like me to check on you"
# When, as said by day (which day depends on the hour the test runs at).
BY_DAY = r"(later today|this morning|tomorrow morning|tomorrow)"
CHECK_IN = "Hi, it's the support chat. You asked me to check on you."


def apps(provider, **more) -> dict:
    """Telegram and WhatsApp on; no night (CHECK_IN_NIGHT empty), so that a check-in
    due in seconds is sent in seconds whatever the hour."""
    return {**telegram_settings(provider), **whatsapp_settings(provider), "channel_id_key": KEY,
            "check_in_night": "", **more}


def night_now() -> Tuple[str, datetime]:
    """A CHECK_IN_NIGHT (in UTC) that it is now, whatever the hour the test runs at:
    from an hour ago to six hours from now (so 4 hours after a yes is in it); and when
    it ends."""
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    ends = now + timedelta(hours=6)
    return f"{now - timedelta(hours=1):%H:%M}-{ends:%H:%M}", ends


def to_telegram(chat):
    return lambda r: r["path"].endswith("/sendMessage") and r["json"].get("chat_id") == str(chat)


def to_whatsapp(number):
    return lambda r: r["path"].endswith("/messages") and r["json"].get("to") == number


def words(request) -> str:
    """The text of a message to Telegram or WhatsApp (plain or with buttons)."""
    sent = request["json"]
    return sent.get("text") if isinstance(sent.get("text"), str) else \
        (sent.get("text") or {}).get("body") or sent["interactive"]["body"]["text"]


def delivered(provider, to, since: int = 0, starts: str = ""):
    return [r for r in provider.requests[since:] if not r["failed"] and to(r) and words(r).startswith(starts)]


async def arrives(provider, to, starts: str, since: int = 0, timeout: float = 10):
    """The first message to this chat since `since` that starts with `starts`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = delivered(provider, to, since, starts)
        if found:
            return found[0]
        await asyncio.sleep(0.02)
    raise AssertionError(f"nothing starting {starts!r} arrived")


async def session_of(gw, chat, channel: str = "telegram") -> str:
    return await gw.store.session_for_user(user_hash(KEY, channel, str(chat)), channel, "none-yet")


async def counts(gw) -> dict:
    per_day, _ = await gw.store.insight_sums([(0, 2 ** 40)])
    return {name: total for _, name, total in per_day}


async def offered(gw, rasa, provider, chat) -> dict:
    """A Telegram person at the end of the four steps taps "Yes" to "did this help?":
    the offer that follows (the request to Telegram)."""
    rasa.says("no thanks", utter("utter_no_human"), utter("utter_did_this_help"))
    since = len(provider.requests)
    await telegram_says(gw, chat, "no thanks")
    await arrives(provider, to_telegram(chat), utter("utter_did_this_help")["text"], since)
    since = len(provider.requests)
    await telegram_sends(gw, telegram_tap(chat, DID_THIS_HELP))
    await arrives(provider, to_telegram(chat), "Thank you for telling us", since)
    return await arrives(provider, to_telegram(chat), OFFER, since)


async def agreed(gw, rasa, provider, chat) -> str:
    """Offered, and "Yes, please" tapped: the conversation's session id."""
    await offered(gw, rasa, provider, chat)
    since = len(provider.requests)
    await telegram_sends(gw, telegram_tap(chat, "/check_in_yes"))
    await arrives(provider, to_telegram(chat), "OK. I'll send you one message", since)
    return await session_of(gw, chat)


async def status_becomes(gw, session, status: str, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = await gw.store.check_in(session)
        if row and row["status"] == status:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"the check-in never became {status}: {row}")


async def test_offered_on_telegram_after_did_this_help_and_a_yes_schedules_it(rasa, provider, database_url):
    chat = next(CHATS)
    async with running(rasa, database_url=database_url, **apps(provider)) as gw:
        offer = await offered(gw, rasa, provider, chat)
        assert re.fullmatch(rf"{OFFER} {BY_DAY}\? I'd send you one message in about 4 hours, and nothing else\.",
                            words(offer))
        assert offer["json"]["reply_markup"]["inline_keyboard"] == [
            [{"text": "Yes, please", "callback_data": "/check_in_yes"}],
            [{"text": "No thanks", "callback_data": "/check_in_no"}]]
        session = await session_of(gw, chat)
        assert (await gw.store.check_in(session))["status"] == "offered"
        since = len(provider.requests)
        before = time.time()
        await telegram_sends(gw, telegram_tap(chat, "/check_in_yes"))
        said = await arrives(provider, to_telegram(chat), "OK.", since)
        assert re.match(rf"OK\. I'll send you one message {BY_DAY}, in about 4 hours\. "
                        r"If you come back and write to me before then, I won't send it\. "
                        r"It will show on your phone like any message, so others may see it\.\n", words(said))
        assert "999" in words(said) and "116 123" in words(said)
        row = await gw.store.check_in(session)
        assert row["status"] == "scheduled" and before <= row["agreed_at"] <= time.time()
        assert row["due_at"] == pytest.approx(row["agreed_at"] + 4 * 3600)
        assert row["give_up_at"] == pytest.approx(row["agreed_at"] + 23 * 3600)
        # The chat id is kept sealed, never as it is.
        assert row["sealed_address"] and str(chat) not in row["sealed_address"]
        assert gw.chats.addresses.opened(session, row["sealed_address"]) == str(chat)
        # None of it went to Rasa; the taps are in the transcript as their titles.
        assert rasa.sent() == ["no thanks"]
        transcript = await gw.store.messages_after(session, 0)
        assert [m["text"] for m in transcript if m["from"] == "user"][-2:] == ["Yes", "Yes, please"]
        assert [m.get("response") for m in transcript][-4:] == [
            "gateway_thanks_for_answer", "gateway_check_in_offer", None, "gateway_check_in_agreed"]
        totals = await counts(gw)
        assert (totals["check_in_offered"], totals["check_in_agreed"]) == (1, 1)
        assert "check_in_sent" not in totals


async def test_offered_after_a_handoff_and_not_answered_while_a_person_holds_the_chat(
        rasa, provider, sqlite_url):
    chat = next(CHATS)
    async with running(rasa, database_url=sqlite_url, **apps(provider)) as gw:
        worker = await gw.staff_member()
        await telegram_says(gw, chat, "hi")
        await rasa.wait_for("webhook")
        session = await session_of(gw, chat)
        assert (await gw.internal_call("/internal/handoffs", {"session": session}))[0] == 200
        conversation = (await gw.store.handoff_for_session(session))["id"]
        assert (await worker.act(conversation, "claim"))[0] == 200
        since = len(provider.requests)
        assert (await worker.act(conversation, "close"))[0] == 200
        await arrives(provider, to_telegram(chat), "Did talking to the support worker help?", since)
        since = len(provider.requests)
        await telegram_sends(gw, telegram_tap(chat, "/did_this_help_handoff_a_bit"))
        await arrives(provider, to_telegram(chat), OFFER, since)
        # They ask for a person again before answering: while held, a tap schedules nothing.
        assert (await gw.internal_call("/internal/handoffs", {"session": session}))[0] == 200
        assert (await worker.act(conversation, "claim"))[0] == 200
        since = len(provider.requests)
        await telegram_sends(gw, telegram_tap(chat, "/check_in_yes"))
        await worker.next_event(lambda e: e["type"] == "message" and e["message"]["text"] == "Yes, please")
        assert (await gw.store.check_in(session))["status"] == "offered"
        assert delivered(provider, to_telegram(chat), since) == []


async def test_offered_on_whatsapp_with_short_titles_and_a_typed_yes_works(rasa, provider, sqlite_url):
    number = f"4477009{next(CHATS) % 100000:05d}"
    rasa.says("no thanks", utter("utter_no_human"), utter("utter_did_this_help"))
    rasa.reads("yes please", "affirm")
    async with running(rasa, database_url=sqlite_url, **apps(provider)) as gw:
        await whatsapp_sends(gw, whatsapp_text(number, "no thanks"))
        await arrives(provider, to_whatsapp(number), utter("utter_did_this_help")["text"])
        since = len(provider.requests)
        await whatsapp_sends(gw, whatsapp_tap(number, DID_THIS_HELP))
        offer = await arrives(provider, to_whatsapp(number), OFFER, since)
        buttons = offer["json"]["interactive"]["action"]["buttons"]
        assert [(b["reply"]["id"], b["reply"]["title"]) for b in buttons] == [
            ("/check_in_yes", "Yes, please"), ("/check_in_no", "No thanks")]
        since = len(provider.requests)
        await whatsapp_sends(gw, whatsapp_text(number, "yes please"))  # typed, not tapped
        await arrives(provider, to_whatsapp(number), "OK. I'll send you one message", since)
        session = await session_of(gw, number, "whatsapp")
        assert (await gw.store.check_in(session))["status"] == "scheduled"
        assert rasa.sent() == ["no thanks"] and rasa.parsed() == ["yes please"]  # only read


async def test_a_crisis_typed_after_the_offer_while_rasa_is_full_gets_the_crisis_reply_at_once(
        rasa, provider, sqlite_url):
    """Rasa has no place free (here: one place, taken by a message it is stuck on) and
    can't read anything (parse hangs): the gateway's own crisis check answers, and a
    typed message after the offer is not first sent to be read as a yes or a no."""
    chat, other = next(CHATS), next(CHATS)
    rasa.says("hold on", hang=True)
    async with running(rasa, database_url=sqlite_url, rasa_in_flight=1, **apps(provider)) as gw:
        await offered(gw, rasa, provider, chat)
        webhooks = len([c for c in rasa.calls if c.route == "webhook"])
        await telegram_says(gw, other, "hold on")  # takes the one place, and keeps it
        await rasa.wait_for("webhook", webhooks + 1)
        rasa.hang("parse")
        since = len(provider.requests)
        await telegram_says(gw, chat, "i want to end it all")
        await arrives(provider, to_telegram(chat), domain_reply("utter_crisis", "telegram")["text"][:40],
                      since, timeout=6)
        assert rasa.parsed() == []
        assert (await gw.store.check_in(await session_of(gw, chat)))["status"] == "offered"
        rasa.release()


async def test_at_night_a_yes_is_told_the_real_time_and_nothing_is_sent_until_morning(rasa, provider, sqlite_url):
    """4 hours after the yes falls in CHECK_IN_NIGHT: it waits for the night's end, and
    the offer and the yes say when. One due at night all the same (a retry, every
    gateway down when it fell due) is not sent then either."""
    chat = next(CHATS)
    night, ends = night_now()
    async with running(rasa, database_url=sqlite_url,
                       **apps(provider, check_in_night=night, support_timezone="UTC")) as gw:
        offer = await offered(gw, rasa, provider, chat)
        assert f"? I'd send you one message at about {clock(ends)}, and nothing else." in words(offer)
        since = len(provider.requests)
        await telegram_sends(gw, telegram_tap(chat, "/check_in_yes"))
        said = await arrives(provider, to_telegram(chat), "OK.", since)
        assert re.match(rf"OK\. I'll send you one message {BY_DAY}, at about {clock(ends)}\. ", words(said))
        session = await session_of(gw, chat)
        row = await gw.store.check_in(session)
        assert row["due_at"] == ends.timestamp()
        assert row["give_up_at"] == pytest.approx(row["agreed_at"] + 23 * 3600)
        await gw.store._run(lambda db: db.execute(sql(
            "UPDATE check_ins SET due_at = :now WHERE session_id = :s"), {"now": time.time() - 1, "s": session}))
        gw.chats.bus.publish(check_in.TOPIC, {"type": "scheduled"})  # look now
        await asyncio.sleep(2)
        assert delivered(provider, to_telegram(chat), 0, CHECK_IN) == []
        assert (await gw.store.check_in(session))["status"] == "scheduled"


async def test_a_no_declines_and_a_typed_no_too(rasa, provider, sqlite_url):
    tapped, typed = next(CHATS), next(CHATS)
    rasa.reads("nah", "deny")
    async with running(rasa, database_url=sqlite_url, **apps(provider)) as gw:
        await offered(gw, rasa, provider, tapped)
        since = len(provider.requests)
        await telegram_sends(gw, telegram_tap(tapped, "/check_in_no"))
        said = await arrives(provider, to_telegram(tapped), "That's fine. I won't send you anything.", since)
        assert "116 123" in words(said)
        row = await gw.store.check_in(await session_of(gw, tapped))
        assert (row["status"], row["sealed_address"], row["due_at"]) == ("declined", None, None)
        await offered(gw, rasa, provider, typed)
        since = len(provider.requests)
        await telegram_says(gw, typed, "nah")
        await arrives(provider, to_telegram(typed), "That's fine.", since)
        assert (await gw.store.check_in(await session_of(gw, typed)))["status"] == "declined"
        # Anything else after the offer goes to the assistant as usual; the offer stays open.
        other = next(CHATS)
        await offered(gw, rasa, provider, other)
        await telegram_says(gw, other, "he messaged me again")
        await rasa.wait_for("webhook", 4)
        assert rasa.sent()[-1] == "he messaged me again"
        assert (await gw.store.check_in(await session_of(gw, other)))["status"] == "offered"


async def test_never_on_the_web_never_twice_never_after_a_crisis(rasa, provider, sqlite_url):
    async with running(rasa, database_url=sqlite_url, **apps(provider)) as gw:
        # The web page: thanked, nothing offered.
        rasa.says("no thanks", utter("utter_no_human"), utter("utter_did_this_help"))
        web = await gw.start("hi")
        await gw.say(web, "no thanks")
        assert [m["response"] for m in await gw.say(web, DID_THIS_HELP)] == ["gateway_thanks_for_answer"]
        assert await gw.store.check_in(web) is None
        # Twice: the second tap is thanked, and nothing more is offered.
        chat = next(CHATS)
        await offered(gw, rasa, provider, chat)
        since = len(provider.requests)
        await telegram_sends(gw, telegram_tap(chat, "/check_in_no"))
        await arrives(provider, to_telegram(chat), "That's fine.", since)
        since = len(provider.requests)
        await telegram_sends(gw, telegram_tap(chat, "/did_this_help_four_steps_no"))
        await arrives(provider, to_telegram(chat), "Thank you for telling us", since)
        await asyncio.sleep(0.5)
        assert delivered(provider, to_telegram(chat), since, OFFER) == []
        # A crisis after "did this help?" was asked: its old button still works, but no offer.
        crisis = next(CHATS)
        rasa.says("i want to end it all", utter("utter_crisis"))
        since = len(provider.requests)
        await telegram_says(gw, crisis, "no thanks")
        await arrives(provider, to_telegram(crisis), utter("utter_did_this_help")["text"], since)
        await telegram_says(gw, crisis, "i want to end it all")
        await arrives(provider, to_telegram(crisis), utter("utter_crisis")["text"][:40], since)
        since = len(provider.requests)
        await telegram_sends(gw, telegram_tap(crisis, DID_THIS_HELP))
        await arrives(provider, to_telegram(crisis), "Thank you for telling us", since)
        await asyncio.sleep(0.5)
        assert delivered(provider, to_telegram(crisis), since, OFFER) == []
        assert await gw.store.check_in(await session_of(gw, crisis)) is None
        assert (await counts(gw))["check_in_offered"] == 1


@pytest.mark.parametrize("steps, left", [
    ((), ["Don't pay", "Stop replying", "Screenshot", "Report it"]),
    (("utter_step_dont_pay", "utter_step_keep_evidence"), ["Stop replying", "Report it"]),
    (("utter_step_dont_pay", "utter_step_stop_replying", "utter_step_keep_evidence", "utter_step_report"), []),
])
async def test_when_due_it_is_sent_once_with_the_steps_left_and_the_numbers(rasa, provider, database_url,
                                                                             steps, left):
    chat = next(CHATS)
    rasa.says("what do i do", *(utter(step) for step in steps))
    async with running(rasa, database_url=database_url, **apps(provider, check_in_after_minutes=0.02)) as gw:
        await telegram_says(gw, chat, "what do i do")
        await rasa.wait_for("webhook")
        session = await agreed(gw, rasa, provider, chat)
        sent = await arrives(provider, to_telegram(chat), CHECK_IN, timeout=15)
        text = words(sent)
        assert text.startswith(f"{CHECK_IN} How are you doing?\n")
        for step, line in check_in.STEPS_LEFT.items():
            assert (line in text) == any(line.startswith(first) for first in left), step
        if not left:
            assert "We've been through all four steps." in text
        assert ("If you're in danger now, call 999. To talk to someone any time, call Samaritans free "
                "on 116 123. Under 19? Childline is free on 0800 1111.") in text
        assert sent["json"]["reply_markup"]["inline_keyboard"] == [
            [{"text": "What do I do next?", "callback_data": "/ask_next"}],
            [{"text": "Talk to a person", "callback_data": "/request_human"}]]
        row = await status_becomes(gw, session, "sent")
        assert row["sealed_address"] is None and row["sent_at"] and row["attempts"] == 1
        await asyncio.sleep(1.5)
        assert len(delivered(provider, to_telegram(chat), 0, CHECK_IN)) == 1
        # In the transcript, as a person coming back sees it; counted once.
        last = (await gw.store.messages_after(session, 0))[-1]
        assert (last["response"], last["text"]) == ("gateway_check_in", text)
        assert (await counts(gw))["check_in_sent"] == 1
        # Its buttons go to Rasa as usual.
        await telegram_sends(gw, telegram_tap(chat, "/ask_next"))
        await rasa.wait_for("webhook", 3)
        assert rasa.sent(session)[-1] == "/ask_next"


async def test_the_person_writing_while_it_is_being_sent_is_answered_at_once_and_it_counts_as_sent(
        rasa, provider, sqlite_url):
    """The provider takes its time over the check-in (with retries, up to about 43 s):
    the conversation isn't held meanwhile, so the person's own message (it could be a
    crisis) is answered at once. Written after the grace, it would cancel the check-in,
    but that is on its way already: stored once, marked sent, never sent again."""
    chat = next(CHATS)
    settings = apps(provider, check_in_after_minutes=0.02, check_in_grace_minutes=0)
    async with running(rasa, database_url=sqlite_url, **settings) as gw:
        session = await agreed(gw, rasa, provider, chat)
        provider.slow(3, lambda r: CHECK_IN in str(r["json"]))
        try:
            await arrives(provider, to_telegram(chat), CHECK_IN, timeout=15)  # taken, not yet answered
            webhooks = len([c for c in rasa.calls if c.route == "webhook"])
            started = time.monotonic()
            await telegram_says(gw, chat, "im ok now")
            await rasa.wait_for("webhook", webhooks + 1)
            assert time.monotonic() - started < 1.5
        finally:
            provider.slow(0)
        row = await status_becomes(gw, session, "sent")
        assert row["sealed_address"] is None and row["attempts"] == 1
        transcript = await gw.store.messages_after(session, 0)
        assert [m.get("response") for m in transcript].count("gateway_check_in") == 1
        assert [m["text"] for m in transcript if m["from"] == "user"][-1] == "im ok now"
        await asyncio.sleep(1.5)
        assert len(delivered(provider, to_telegram(chat), 0, CHECK_IN)) == 1


async def test_writing_again_after_the_grace_cancels_it_and_within_it_does_not(rasa, provider, sqlite_url):
    keeps, cancels = next(CHATS), next(CHATS)
    settings = apps(provider, check_in_after_minutes=0.08, check_in_grace_minutes=0.01)  # 4.8 s, 0.6 s
    async with running(rasa, database_url=sqlite_url, **settings) as gw:
        kept = await agreed(gw, rasa, provider, keeps)
        await telegram_says(gw, keeps, "thanks")  # straight after the yes
        cancelled = await agreed(gw, rasa, provider, cancels)
        await asyncio.sleep(0.8)
        await telegram_says(gw, cancels, "actually im ok now")
        row = await status_becomes(gw, cancelled, "cancelled")
        assert row["sealed_address"] is None
        await arrives(provider, to_telegram(keeps), CHECK_IN, timeout=15)
        await status_becomes(gw, kept, "sent")
        await asyncio.sleep(1)
        assert delivered(provider, to_telegram(cancels), 0, CHECK_IN) == []


async def test_yes_tapped_again_after_the_grace_keeps_it_rather_than_cancelling_it(rasa, provider, sqlite_url):
    """The old "Yes, please" button is still on screen: tapping it later is the same
    answer again, not the person writing about something else."""
    chat = next(CHATS)
    settings = apps(provider, check_in_grace_minutes=0.01)  # 0.6 s
    async with running(rasa, database_url=sqlite_url, **settings) as gw:
        session = await agreed(gw, rasa, provider, chat)
        await asyncio.sleep(0.8)
        since = len(provider.requests)
        await telegram_sends(gw, telegram_tap(chat, "/check_in_yes"))
        await arrives(provider, to_telegram(chat), "OK. I'll send you one message", since)
        assert delivered(provider, to_telegram(chat), since, "Sorry") == []
        assert (await gw.store.check_in(session))["status"] == "scheduled"


async def test_delete_my_chat_takes_the_check_in_with_it(rasa, provider, database_url):
    chat = next(CHATS)
    rasa.says("delete my chat", utter("utter_forget_me"))
    async with running(rasa, database_url=database_url,
                       **apps(provider, check_in_after_minutes=0.05)) as gw:
        session = await agreed(gw, rasa, provider, chat)
        await telegram_says(gw, chat, "delete my chat")  # within the grace: only the erasure cancels it
        deadline = time.monotonic() + 5
        while await gw.chats.exists(session) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert await gw.store.check_in(session) is None  # gone with the conversation
        await asyncio.sleep(3.5)  # well past when it was due
        assert delivered(provider, to_telegram(chat), 0, CHECK_IN) == []


async def test_a_crisis_after_the_yes_cancels_it_when_it_is_due(rasa, provider, sqlite_url):
    chat = next(CHATS)
    rasa.says("i cant do this anymore", utter("utter_crisis"))
    async with running(rasa, database_url=sqlite_url, **apps(provider, check_in_after_minutes=0.05)) as gw:
        session = await agreed(gw, rasa, provider, chat)
        await telegram_says(gw, chat, "i cant do this anymore")  # within the grace
        row = await status_becomes(gw, session, "cancelled")
        assert row["sealed_address"] is None
        await asyncio.sleep(1)
        assert delivered(provider, to_telegram(chat), 0, CHECK_IN) == []


async def test_the_provider_down_is_retried_then_given_up(rasa, provider, sqlite_url, monkeypatch):
    monkeypatch.setattr(schedule, "RETRY_FIRST_SECONDS", 0.2)
    monkeypatch.setattr(schedule, "RETRY_MAX_SECONDS", 0.4)
    retried, lost = next(CHATS), next(CHATS)
    async with running(rasa, database_url=sqlite_url, **apps(provider, check_in_after_minutes=0.02)) as gw:
        session = await agreed(gw, rasa, provider, retried)
        provider.fail_next = 2  # the first two tries
        await arrives(provider, to_telegram(retried), CHECK_IN, timeout=15)
        row = await status_becomes(gw, session, "sent")
        assert row["attempts"] == 3
        assert len([r for r in provider.requests if r["failed"] and to_telegram(retried)(r)]) == 2
        # Down for good: given up at the end of the messaging app's window (here 3 s).
        monkeypatch.setattr(check_in, "GIVE_UP_AFTER_SECONDS", 3)
        session = await agreed(gw, rasa, provider, lost)
        provider.fail_next = 10 ** 6
        try:
            row = await status_becomes(gw, session, "failed", timeout=15)
        finally:
            provider.fail_next = 0
        assert row["sealed_address"] is None and row["attempts"] >= 3
        await asyncio.sleep(1)
        assert delivered(provider, to_telegram(lost), 0, CHECK_IN) == []


async def test_a_send_that_raises_is_a_failed_attempt_retried_with_back_off(rasa, provider, sqlite_url,
                                                                              monkeypatch):
    """Not only a send the provider refused: one that raised (a bug, a surprise in the
    provider's answer) is counted, retried later, and given up at the end of the window,
    never retried every lease period for ever."""
    monkeypatch.setattr(schedule, "RETRY_FIRST_SECONDS", 0.2)
    monkeypatch.setattr(schedule, "RETRY_MAX_SECONDS", 0.4)
    monkeypatch.setattr(check_in, "GIVE_UP_AFTER_SECONDS", 3)
    chat = next(CHATS)
    async with running(rasa, database_url=sqlite_url, **apps(provider, check_in_after_minutes=0.02)) as gw:
        tries = []

        async def raises(address, message):
            tries.append(time.monotonic())
            raise RuntimeError("a surprise")

        gw.chats.deliverers["telegram"] = raises
        session = await agreed(gw, rasa, provider, chat)
        row = await status_becomes(gw, session, "failed", timeout=10)
        assert row["sealed_address"] is None and row["attempts"] == len(tries) >= 3


async def test_it_survives_a_restart_and_a_key_it_cannot_open_is_given_up(rasa, provider, sqlite_url):
    kept, lost = next(CHATS), next(CHATS)
    settings = apps(provider, check_in_after_minutes=0.05)
    async with running(rasa, database_url=sqlite_url, **settings) as gw:
        lost_session = await agreed(gw, rasa, provider, lost)
    # Started again with another CHANNEL_ID_KEY: the address can't be opened, so it is given up.
    async with running(rasa, database_url=sqlite_url, **{**settings, "channel_id_key": b"another"}) as other:
        row = await status_becomes(other, lost_session, "failed", timeout=15)
        assert row["sealed_address"] is None
    async with running(rasa, database_url=sqlite_url, **settings) as gw:
        session = await agreed(gw, rasa, provider, kept)
    store = Store(sqlite_url)  # stopped before it was due: nothing sent yet
    assert (await store.check_in(session))["status"] == "scheduled"
    await store.close()
    assert delivered(provider, to_telegram(kept), 0, CHECK_IN) == []
    # The same store and key: the gateway that starts next sends it.
    async with running(rasa, database_url=sqlite_url, **settings) as again:
        await arrives(provider, to_telegram(kept), CHECK_IN, timeout=15)
        await status_becomes(again, session, "sent")
    assert delivered(provider, to_telegram(lost), 0, CHECK_IN) == []


async def test_two_gateways_on_postgresql_and_redis_send_each_once(rasa, provider, postgres_schema):
    url = postgres_schema()
    settings = apps(provider, check_in_after_minutes=0.04, redis_url=REDIS)
    chats = [next(CHATS) for _ in range(4)]
    async with running(rasa, database_url=url, **settings) as first, \
            running(rasa, database_url=url, **settings) as second:
        sessions = [await agreed(gw, rasa, provider, chat) for gw, chat in zip([first, second] * 2, chats)]
        for chat in chats:
            await arrives(provider, to_telegram(chat), CHECK_IN, timeout=20)
        for session in sessions:
            await status_becomes(first, session, "sent")
        await asyncio.sleep(1.5)
        assert [len(delivered(provider, to_telegram(chat), 0, CHECK_IN)) for chat in chats] == [1] * 4


def test_settings_outside_the_24_hour_window_stop_the_start(provider):
    telegram = telegram_settings(provider)
    with pytest.raises(CheckInSettingsError, match="CHECK_IN_AFTER_MINUTES must be above 0 and at most 1200"):
        gateway_app(check_in_after_minutes=1201, **telegram)
    with pytest.raises(CheckInSettingsError, match="shorter than RETENTION_HOURS"):
        gateway_app(check_in_after_minutes=120, retention_hours=1, **telegram)
    with pytest.raises(CheckInSettingsError):
        gateway_app(check_in_after_minutes=0, **whatsapp_settings(provider))
    with pytest.raises(CheckInSettingsError, match="shorter than RETENTION_HOURS"):
        gateway_app(retention_hours=4, **telegram)
    with pytest.raises(CheckInSettingsError, match="together can make a check-in wait 1260 minutes"):
        gateway_app(check_in_after_minutes=600, **telegram)  # with the default night, 22:00-08:00


async def test_a_night_that_cant_be_read_stops_the_start_saying_what_to_fix(sqlite_url):
    """As the team would see it: `python -m bot` says what to fix, and stops."""
    done = await asyncio.to_thread(
        subprocess.run, [str(ROOT / ".venv" / "bin" / "python"), "-m", "bot"], cwd=ROOT,
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "DATABASE_URL": sqlite_url, "CHECK_IN_NIGHT": "10pm to 8am",
             "TELEGRAM_BOT_TOKEN": "123:token", "TELEGRAM_WEBHOOK_SECRET": "secret"})
    assert done.returncode == 1
    assert "CHECK_IN_NIGHT: can't read '10pm to 8am'; write it like '22:00-08:00'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_web_only_gateway_starts_whatever_the_check_in_settings(sqlite_url):
    """No messaging app, no check-in: its settings can't stop the web chat starting."""
    gateway_app(database_url=sqlite_url, retention_hours=4)
    gateway_app(database_url=sqlite_url, check_in_after_minutes=1201)

"""The check-in's words and rules (bot/conversation/check_in.py) and its table
(bot/store/check_ins.py) on SQLite and the real PostgreSQL: every message it can send
reads plainly, fits a phone and gives the numbers as the fact sheet has them; of two
gateways leasing at once each check-in goes to one; it goes with its conversation.
Through a gateway: tests/gateway/test_check_ins.py."""
import asyncio
import itertools
import re
import time

import pytest
import textstat
from sqlalchemy import text

from bot.conversation import check_in
from bot.fact_sheet import fact_sheet
from bot.store import Store
from tests.unit.test_domain import numbers_in, readable

STEPS = ("step_1", "step_2", "step_3", "step_4")
EVERY_MARKS = [set(marks) for n in range(5) for marks in itertools.combinations(STEPS, n)]


@pytest.mark.parametrize("marks", EVERY_MARKS, ids=lambda marks: "+".join(sorted(marks)) or "none")
def test_every_check_in_reads_plainly_fits_a_phone_and_gives_the_numbers(marks):
    sheet = fact_sheet()
    message = check_in.message(marks)
    text = message["text"]
    assert textstat.flesch_kincaid_grade(readable(text)) <= 6
    assert len(text) <= 520 and len(text.split()) <= 100  # a phone screen, keyboard down
    for service in ("emergency", "samaritans", "childline"):
        assert sheet[service].phone in text, service
    for found in numbers_in(text):
        assert re.sub(r"\D", "", found.group()) in sheet.numbers(), found.group()
    assert text.count("•") == 4 - len(marks)


def test_button_titles_fit_whatsapp_and_payloads_fit_telegram():
    buttons = check_in.offer(240)["buttons"] + check_in.message(set())["buttons"]
    assert all(len(b["title"]) <= 20 and len(b["payload"].encode()) <= 64 for b in buttons)
    assert [check_in.answer_in(b["payload"]) for b in check_in.offer(240)["buttons"]] == ["yes", "no"]
    assert check_in.answer_in("/check_in_maybe") is None and check_in.answer_in("yes") is None


@pytest.mark.parametrize("minutes, words", [
    (240, "about 4 hours"), (1200, "about 20 hours"), (90, "about 2 hours"), (60, "about an hour"),
    (30, "about 30 minutes"), (0.05, "about a minute")])
def test_the_time_is_said_as_the_setting_makes_it(minutes, words):
    assert check_in.when(minutes) == words
    assert f"in {words}," in check_in.offer(minutes)["text"]


def test_only_telegram_and_whatsapp_and_never_after_a_crisis():
    assert check_in.may_offer("telegram", ["step_1"]) and check_in.may_offer("whatsapp", [])
    assert not check_in.may_offer("web", [])
    assert not check_in.may_offer("telegram", ["crisis"]) and not check_in.may_offer("whatsapp", ["check_risk"])


SESSIONS = [f"{n}" * 24 for n in range(6)]


async def scheduled(store: Store, session: str, due: float) -> None:
    await store.create_session(session, "telegram")
    assert await store.offer_check_in(session, time.time())
    assert not await store.offer_check_in(session, time.time())  # never a second one
    assert await store.schedule_check_in(session, time.time(), due, due + 3600, f"sealed-{session}")


async def test_two_gateways_leasing_at_once_each_get_different_check_ins(database_url):
    store, other = Store(database_url), Store(database_url)
    now = time.time()
    for session in SESSIONS:
        await scheduled(store, session, now - 1)
    leases = await asyncio.gather(*(s.lease_due_check_ins(now, 60, limit=3)
                                    for s in (store, other, store, other)))
    leased = [row["session_id"] for rows in leases for row in rows]
    assert leased and len(leased) == len(set(leased))  # none by both
    leased += [row["session_id"] for row in await other.lease_due_check_ins(now, 60)]
    assert sorted(leased) == sorted(SESSIONS)  # the rest at the next pass, each once
    assert await store.lease_due_check_ins(now + 30, 60) == []  # still leased
    [row] = [row for rows in leases for row in rows if row["session_id"] == SESSIONS[0]]
    assert (row["channel"], row["sealed_address"], row["attempts"]) == ("telegram", f"sealed-{SESSIONS[0]}", 0)
    assert await store.still_leased(SESSIONS[0], row["leased_until"])
    # A failed attempt: due again later, with the address; then given up, without it.
    await store.check_in_attempt_failed(SESSIONS[0], now + 5, give_up=False)
    assert await store.lease_due_check_ins(now + 1, 60) == []
    assert [r["attempts"] for r in await store.lease_due_check_ins(now + 6, 60, limit=1)] == [1]
    await store.check_in_attempt_failed(SESSIONS[0], now + 6, give_up=True)
    failed = await store.check_in(SESSIONS[0])
    assert (failed["status"], failed["sealed_address"]) == ("failed", None)
    await store.close()
    await other.close()


async def test_one_past_its_give_up_time_is_never_leased_and_is_given_up(database_url):
    """A gateway that was down past give_up_at (23 hours after the yes, inside WhatsApp's
    window) must not send it late: it is failed and its address wiped."""
    store = Store(database_url)
    now = time.time()
    await scheduled(store, SESSIONS[0], now - 7200)
    await store._run(lambda db: db.execute(text(
        "UPDATE check_ins SET give_up_at = :t WHERE session_id = :s"), {"t": now, "s": SESSIONS[0]}))
    await scheduled(store, SESSIONS[1], now - 60)  # due, and still in time
    assert [row["session_id"] for row in await store.lease_due_check_ins(now, 60)] == [SESSIONS[1]]
    assert await store.give_up_late_check_ins(now) == 1
    late = await store.check_in(SESSIONS[0])
    assert (late["status"], late["sealed_address"]) == ("failed", None)
    assert (await store.check_in(SESSIONS[1]))["status"] == "scheduled"
    await store.close()


async def test_a_check_in_goes_with_its_conversation_and_only_a_yes_keeps_the_address(database_url):
    store = Store(database_url)
    now = time.time()
    await scheduled(store, SESSIONS[0], now + 60)
    await store.delete_session(SESSIONS[0])  # forget me, or retention
    assert await store.check_in(SESSIONS[0]) is None
    await scheduled(store, SESSIONS[1], now + 60)
    assert not await store.cancel_check_in(SESSIONS[1], agreed_before=now - 60)  # within the grace
    assert await store.cancel_check_in(SESSIONS[1], agreed_before=now + 60)
    assert (await store.check_in(SESSIONS[1]))["sealed_address"] is None
    await scheduled(store, SESSIONS[2], now + 60)
    await store.decline_check_in(SESSIONS[2])
    declined = await store.check_in(SESSIONS[2])
    assert (declined["status"], declined["sealed_address"], declined["due_at"]) == ("declined", None, None)
    await scheduled(store, SESSIONS[3], now - 1)
    [leased] = await store.lease_due_check_ins(now, 60)
    await store.cancel_check_in(SESSIONS[3])  # the person wrote while it was on its way
    await store.check_in_sent(SESSIONS[3], now, leased["leased_until"])
    sent = await store.check_in(SESSIONS[3])
    assert (sent["status"], sent["sealed_address"], sent["attempts"]) == ("sent", None, 1)
    assert not await store.schedule_check_in(SESSIONS[3], now, now, now, "sealed")  # one only
    assert await store.next_check_in_due() is None
    await store.close()


def test_settings_the_24_hour_window_cannot_keep_are_refused():
    check_in.check_settings(240, 10, 48)
    check_in.check_settings(1200, 0, 48)
    for after, grace, retention in ((0, 10, 48), (1201, 10, 48), (240, 10, 3), (240, -1, 48)):
        with pytest.raises(check_in.CheckInSettingsError):
            check_in.check_settings(after, grace, retention)

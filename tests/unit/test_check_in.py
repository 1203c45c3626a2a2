"""The check-in's words and rules (bot/conversation/check_in.py), when it is sent
(bot/conversation/check_in_time.py, at fixed times in London, clock changes too) and its
table (bot/store/check_ins.py) on SQLite and the real PostgreSQL: every message it can
send reads plainly, fits a phone and gives the numbers as the fact sheet has them; none
at night; of two gateways leasing at once each check-in goes to one; it goes with its
conversation. Through a gateway: tests/gateway/test_check_ins.py."""
import asyncio
import itertools
import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import textstat
from sqlalchemy import text as sql

from bot.conversation import check_in
from bot.conversation.check_in_time import CheckInSettingsError, CheckInTime, check_settings, when
from bot.fact_sheet import fact_sheet
from bot.settings import Settings
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


LONDON = ZoneInfo("Europe/London")
# As by default: 4 hours after the yes, never between 10pm and 8am in London.
BY_DEFAULT = CheckInTime(240, "22:00-08:00", "Europe/London")
# Every way the offer and the yes can say when.
EVERY_WHEN = [{"day": day, "at": at} for day in ("later today", "this morning", "tomorrow morning", "tomorrow")
              for at in ("in about 4 hours", "in about 20 hours", "in about a minute", "at about 8am",
                         "at about 7:30am")]


def london(*when) -> float:
    return datetime(*when, tzinfo=LONDON).timestamp()


def test_button_titles_fit_whatsapp_and_payloads_fit_telegram():
    offer = check_in.offer(BY_DEFAULT.words(time.time()))
    buttons = offer["buttons"] + check_in.message(set())["buttons"]
    assert all(len(b["title"]) <= 20 and len(b["payload"].encode()) <= 64 for b in buttons)
    assert [check_in.answer_in(b["payload"]) for b in offer["buttons"]] == ["yes", "no"]
    assert check_in.answer_in("/check_in_maybe") is None and check_in.answer_in("yes") is None


@pytest.mark.parametrize("words", EVERY_WHEN, ids=lambda words: f"{words['day']}, {words['at']}")
def test_every_offer_and_yes_reads_plainly_and_fits_a_phone(words):
    sheet = fact_sheet()
    offer, agreed = check_in.offer(words), check_in.agreed(words)
    assert offer["text"].startswith(f"Would you like me to check on you {words['day']}? "
                                    f"I'd send you one message {words['at']}, and nothing else.")
    assert agreed["text"].startswith(f"OK. I'll send you one message {words['day']}, {words['at']}. ")
    # True in the grace too (a "thanks" straight after the yes doesn't cancel it), and
    # honest about a phone someone else may see.
    assert "If you come back and write to me before then, I won't send it." in agreed["text"]
    assert "show on your phone like any message" in agreed["text"]
    for said in (offer["text"], agreed["text"]):
        assert textstat.flesch_kincaid_grade(readable(said)) <= 6, said
        assert len(said) <= 520 and len(said.split()) <= 100, said
        for found in numbers_in(said):
            assert re.sub(r"\D", "", found.group()) in sheet.numbers(), found.group()
    assert sheet["emergency"].phone in agreed["text"] and sheet["samaritans"].phone in agreed["text"]


@pytest.mark.parametrize("minutes, words", [
    (240, "about 4 hours"), (1200, "about 20 hours"), (90, "about 2 hours"), (60, "about an hour"),
    (30, "about 30 minutes"), (0.05, "about a minute")])
def test_the_time_is_said_as_the_setting_makes_it(minutes, words):
    assert when(minutes) == words
    assert CheckInTime(minutes).words(london(2025, 6, 10, 1, 0))["at"] == f"in {words}"  # no night set


NIGHTS = [
    ((2025, 6, 10, 14, 0), (2025, 6, 10, 18, 0), "later today", "in about 4 hours"),
    ((2025, 6, 10, 17, 59), (2025, 6, 10, 21, 59), "later today", "in about 4 hours"),
    ((2025, 6, 10, 19, 30), (2025, 6, 11, 8, 0), "tomorrow morning", "at about 8am"),
    ((2025, 6, 10, 23, 0), (2025, 6, 11, 8, 0), "tomorrow morning", "at about 8am"),
    ((2025, 6, 11, 2, 0), (2025, 6, 11, 8, 0), "this morning", "at about 8am"),
    ((2025, 6, 11, 4, 0), (2025, 6, 11, 8, 0), "this morning", "in about 4 hours"),  # 8am: day again
    ((2025, 6, 11, 7, 0), (2025, 6, 11, 11, 0), "this morning", "in about 4 hours"),
    # The clocks go forward (30 March 2025, 1am is 2am) and back (26 October, 2am is 1am).
    ((2025, 3, 29, 23, 0), (2025, 3, 30, 8, 0), "tomorrow morning", "at about 8am"),
    ((2025, 10, 25, 23, 0), (2025, 10, 26, 8, 0), "tomorrow morning", "at about 8am"),
    ((2025, 10, 26, 0, 30), (2025, 10, 26, 8, 0), "this morning", "at about 8am"),
]


@pytest.mark.parametrize("yes, sent, day, at", NIGHTS,
                         ids=[f"yes {y}-{m:02d}-{d:02d} {h:02d}:{mi:02d}" for (y, m, d, h, mi), *_ in NIGHTS])
def test_a_check_in_that_would_fall_in_the_night_waits_for_its_end_and_says_so(yes, sent, day, at):
    assert BY_DEFAULT.due(london(*yes)) == london(*sent)
    assert BY_DEFAULT.words(london(*yes)) == {"day": day, "at": at}
    assert BY_DEFAULT.night_end(london(*sent)) is None  # never sent at night


def test_the_longest_wait_is_the_night_and_an_hour_on_the_night_the_clocks_go_back():
    """4 hours after 6pm is 10pm, just as the night starts: it waits until 8am, and on
    26 October 2025 that night is 11 hours long."""
    yes = london(2025, 10, 25, 18, 0)
    assert BY_DEFAULT.due(yes) - yes == BY_DEFAULT.longest_wait_minutes * 60 == 15 * 3600
    assert BY_DEFAULT.due(yes) - yes < check_in.GIVE_UP_AFTER_SECONDS


def test_a_night_within_one_day_and_no_night():
    early = CheckInTime(60, "00:00-07:00", "Europe/London")
    assert early.due(london(2025, 6, 10, 23, 30)) == london(2025, 6, 11, 7, 0)
    assert early.words(london(2025, 6, 10, 23, 30)) == {"day": "tomorrow morning", "at": "at about 7am"}
    assert early.due(london(2025, 6, 10, 22, 0)) == london(2025, 6, 10, 23, 0)
    any_time = CheckInTime(240, "", "Europe/London")
    assert any_time.due(london(2025, 6, 10, 23, 0)) == london(2025, 6, 11, 3, 0)
    assert any_time.words(london(2025, 6, 10, 23, 0)) == {"day": "tomorrow morning", "at": "in about 4 hours"}
    assert any_time.night_end(london(2025, 6, 11, 3, 0)) is None


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
    await store._run(lambda db: db.execute(sql(
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
    assert not await store.cancel_check_in(SESSIONS[1], quiet_since=now - 60)  # within the grace
    assert await store.cancel_check_in(SESSIONS[1], quiet_since=now + 60)
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
    check_settings(BY_DEFAULT, 10, 48)
    check_settings(CheckInTime(540, "22:00-08:00"), 10, 48)  # 9 + 10 + 1 hours: 20 at most
    check_settings(CheckInTime(1200), 0, 48)
    check_settings(BY_DEFAULT, 10, 16)
    for times, grace, retention in ((CheckInTime(0), 10, 48), (CheckInTime(1201), 10, 48),
                                    (CheckInTime(541, "22:00-08:00"), 10, 48), (CheckInTime(240), 10, 3),
                                    (BY_DEFAULT, 10, 15), (CheckInTime(240), -1, 48)):
        with pytest.raises(CheckInSettingsError):
            check_settings(times, grace, retention)
    for night in ("22-08", "25:00-08:00", "22:00-08:60", "08:00-08:00", "at night"):
        with pytest.raises(CheckInSettingsError, match="CHECK_IN_NIGHT"):
            CheckInTime(240, night)


def test_check_in_night_set_empty_means_any_time():
    assert Settings.from_env({}).check_in_night == "22:00-08:00"
    assert Settings.from_env({"CHECK_IN_NIGHT": ""}).check_in_night == ""
    assert Settings.from_env({"CHECK_IN_NIGHT": " 23:00-07:30 "}).check_in_night == "23:00-07:30"


async def test_a_lease_must_outlast_the_send_and_only_its_holder_marks_it_sent(database_url):
    """Found in review: a lease that ends while the check-in is being sent lets a second
    gateway lease and send it too; a no then a yes while it is on its way must not
    drop its lease (a second check-in later); the sent mark is the lease holder's only."""
    store, other = Store(database_url), Store(database_url)
    now = time.time()
    await scheduled(store, SESSIONS[0], now - 1)
    [row] = await store.lease_due_check_ins(now, 60)
    assert await store.still_leased(SESSIONS[0], row["leased_until"], now + 30)
    assert not await store.still_leased(SESSIONS[0], row["leased_until"], now + 90)  # ends mid-send
    [taken] = await other.lease_due_check_ins(now + 61, 60)  # the lease ran out: another gateway's now
    assert not await store.check_in_sent(SESSIONS[0], now + 62, row["leased_until"])
    assert await other.check_in_sent(SESSIONS[0], now + 62, taken["leased_until"])
    # "No thanks", then "Yes, please", while it is on its way: still this send's to mark.
    await scheduled(store, SESSIONS[1], now - 1)
    [row] = await store.lease_due_check_ins(now, 60)
    await store.decline_check_in(SESSIONS[1])
    assert await store.schedule_check_in(SESSIONS[1], now + 1, now + 3600, now + 7200, "sealed")
    assert await store.check_in_sent(SESSIONS[1], now + 2, row["leased_until"])
    assert (await store.check_in(SESSIONS[1]))["status"] == "sent"
    await store.close()
    await other.close()


async def test_writing_cancels_it_only_when_the_person_came_back_after_a_quiet_while(database_url):
    """Found in review: still chatting a quarter of an hour after the yes is not coming
    back; only a message after the grace period with nothing from either side is."""
    store = Store(database_url)
    now = time.time()
    await scheduled(store, SESSIONS[0], now + 3600)
    await store._run(lambda db: db.execute(sql(
        "UPDATE check_ins SET agreed_at = :t WHERE session_id = :s"), {"t": now - 900, "s": SESSIONS[0]}))
    assert not await store.cancel_check_in(SESSIONS[0], quiet_since=now - 600)  # the chat went on
    await store._run(lambda db: db.execute(sql(
        "UPDATE sessions SET last_active = :t WHERE id = :s"), {"t": now - 700, "s": SESSIONS[0]}))
    assert await store.cancel_check_in(SESSIONS[0], quiet_since=now - 600)  # back after a quiet while
    await store.close()

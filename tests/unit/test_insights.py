"""Insights counting and summing up (bot/insights/counts.py) on the real store, SQLite
and PostgreSQL: a scripted week of conversations gives exactly the expected
counts, each conversation counts once, the counts outlive the conversations,
small counts are hidden, days and hours are the support team's local ones."""
from datetime import date, datetime, timezone

import pytest

from bot.insights.counts import COUNTERS, HIDDEN, Insights, share, shown, wait_bucket, wait_percentile
from bot.staff.hours import SupportHours
from bot.staff.wrapup import Choice, WrapUpList
from bot.store import Store

HOURS = SupportHours("Mon-Fri 09:00-17:00", "Europe/London")


def at(text: str) -> float:
    """An ISO time in UTC, as seconds."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def user(text="hello"):
    return {"from": "user", "text": text}


def bot(response):
    return {"from": "bot", "text": "...", "response": response}


@pytest.fixture
async def store(database_url):
    opened = Store(database_url)
    yield opened
    await opened.close()


async def conversation(store, insights, number, when, *steps, on_shift=None):
    session = f"insights-test-session-{number:04d}-{int(when)}"
    await store.create_session(session, "web")
    await insights.stored(session, [user()], at=when)
    for response in steps:
        await insights.stored(session, [bot(response)], typed="hello", at=when + 60)
    return session


async def test_a_scripted_week_counts_exactly_and_outlives_its_conversations(store):
    staff = {"on": 0}
    insights = Insights(store, HOURS, on_shift=lambda: staff["on"])
    steps = ["utter_step_dont_pay", "utter_step_stop_replying", "utter_step_keep_evidence",
             "utter_step_report"]
    sessions = []
    # Tuesday 24 Nov 2026, 02:00 in London (GMT): out of hours, nobody on shift.
    # 7 conversations: all reach step 1, 6 step 2, 6 step 3, 5 step 4.
    night = at("2026-11-24T02:00:00")
    for n, reached in enumerate([4, 4, 4, 4, 4, 3, 1]):
        sessions.append(await conversation(store, insights, n, night + n, *steps[:reached]))
    # Two of them hear step 1 again and one more "not understood": still counted once.
    await insights.stored(sessions[0], [bot("utter_step_dont_pay"), bot("utter_step_dont_pay")],
                          at=night + 300)
    # Wednesday 10:00 in London: in hours, with staff on shift. 6 conversations.
    staff["on"] = 2
    day = at("2026-11-25T10:00:00")
    for n in range(6):
        sessions.append(await conversation(store, insights, 100 + n, day + n))
    # Two crises, one under 18, one forget-me, three messages not understood.
    await insights.stored(sessions[7], [bot("utter_crisis")], at=day + 10)
    await insights.stored(sessions[7], [bot("utter_crisis")], at=day + 20)
    await insights.stored(sessions[8], [bot("utter_crisis")], at=day + 10)
    await insights.stored(sessions[9], [bot("utter_under_18")], at=day + 10)
    # A parent, asked for a person with their child's age known: counted once each.
    await insights.stored(sessions[12], [bot("utter_helping_someone"), bot("utter_check_risk")], at=day + 10)
    await insights.facts_known(sessions[12], under_18=True, helping=True, at=day + 50)
    await insights.stored(sessions[10], [bot("utter_forget_me")], at=day + 10)
    for n, response in enumerate(["utter_ask_affirmation", "utter_ask_rephrase", "utter_default"]):
        await insights.stored(sessions[11], [bot(response)], typed=f"blah blah {n}", at=day + 30)
    # A tapped button answered with "not sure" is not a message not understood.
    await insights.stored(sessions[11], [bot("utter_default")], typed=None, at=day + 40)
    # Handoffs: 6 asked (asking twice counts once), 1 when nobody could answer; 6 reached a person.
    for session in sessions[:6]:
        await insights.handoff_requested(session, answered=True, at=day)
        await insights.handoff_requested(session, answered=True, at=day + 1)
    await insights.handoff_requested(sessions[6], answered=False, at=day)
    for session, waited in zip(sessions[:6], [30, 90, 200, 240, 400, 1500]):
        await insights.reached_person(session, waited, at=day + waited)
    await insights.passed_on(sessions[0], at=day)

    # The conversations are deleted (retention, forget me): the counts stay.
    for session in sessions:
        await store.delete_session(session)
    summary = await insights.summary(7, today=date(2026, 11, 25))

    assert summary["totals"] == {
        "conversations": 13, "out_of_hours": 7, "nobody_on_shift": 7,
        "step_1": 7, "step_2": 6, "step_3": 6, "step_4": 5,
        "crisis": HIDDEN, "under_18": HIDDEN, "helping_someone": HIDDEN, "check_risk": HIDDEN,
        "handoff_requested": 7, "handoff_unstaffed": HIDDEN,
        "reached_person": 6, "report_passed_on": HIDDEN, "forget_me": HIDDEN, "fallbacks": HIDDEN,
        # Nobody was asked "did this help?", wrapped up, offered a check-in or came back with a code this week.
        **{name: 0 for name in COUNTERS if name.startswith(("helped_", "wrapups", "come_back_", "check_in_"))}}
    assert [step["count"] for step in summary["funnel"]] == [13, 7, 6, 6, 5]
    assert summary["shares"]["out_of_hours"] == round(7 / 13, 3)
    assert summary["shares"]["crisis"] is None  # 2 of 13 would single people out
    # Waits of 0.5, 1.5, 3.3, 4, 6.7 and 25 minutes: half within 4, 9 in 10 within 30.
    assert summary["waits"]["count"] == 6
    assert (summary["waits"]["median_minutes"], summary["waits"]["p90_minutes"]) == (4, 30)
    # The heat map is in London time: Tuesday 02:00 and Wednesday 10:00.
    assert summary["heatmap"][1][2] == 7 and summary["heatmap"][2][10] == 6
    assert sum(1 for row in summary["heatmap"] for cell in row if cell) == 2
    assert [d["conversations"] for d in summary["days"]] == [0, 0, 0, 0, 0, 7, 6]
    assert summary["days"][-1]["waits"]["median_minutes"] == 4
    # The messages not understood went with their conversations.
    assert await store.unclear_messages() == []


async def test_the_csv_has_a_row_a_day_and_hides_small_counts(store):
    insights = Insights(store, HOURS)
    when = at("2026-11-23T20:30:00")
    for n in range(5):
        await conversation(store, insights, 200 + n, when + n, "utter_step_dont_pay",
                           *(["utter_crisis"] if n < 2 else []))
    rows = await insights.csv_rows(3, today=date(2026, 11, 25))
    header, *days, total = rows
    assert header[:4] == ["date", "conversations", "out_of_hours", "nobody_on_shift"]
    assert header[-3:] == ["waits", "wait_median_minutes", "wait_p90_minutes"]
    assert [row[0] for row in days] == ["2026-11-23", "2026-11-24", "2026-11-25"]
    column = {name: i for i, name in enumerate(header)}
    assert days[0][column["conversations"]] == 5 and days[0][column["crisis"]] == HIDDEN
    assert days[0][column["step_1"]] == 5 and days[1][column["conversations"]] == 0
    assert total[0] == "total" and total[column["conversations"]] == 5
    assert total[column["wait_median_minutes"]] == ""  # nobody waited: nothing to show


async def test_a_message_not_understood_is_kept_only_if_an_admin_keeps_it(store):
    insights = Insights(store, HOURS)
    when = at("2026-11-25T12:00:00")
    kept = await conversation(store, insights, 300, when)
    dropped = await conversation(store, insights, 301, when)
    await insights.stored(kept, [bot("utter_ask_rephrase")], typed="my sextortionist is on [NAME]",
                          at=when)
    await insights.stored(dropped, [bot("utter_default")], typed="hmmm idk", at=when)
    found = {m["text"]: m for m in await store.unclear_messages()}
    assert set(found) == {"my sextortionist is on [NAME]", "hmmm idk"}
    assert found["hmmm idk"]["day"] == "2026-11-25" and found["hmmm idk"]["intent"] is None
    assert await store.keep_unclear(found["my sextortionist is on [NAME]"]["id"], "explain_situation")
    await store.delete_session(kept)
    await store.delete_session(dropped)
    left = await store.unclear_messages()
    assert [(m["text"], m["intent"]) for m in left] == [("my sextortionist is on [NAME]",
                                                         "explain_situation")]
    assert await store.drop_unclear(left[0]["id"]) and await store.unclear_messages() == []
    assert not await store.drop_unclear(left[0]["id"])


async def test_a_conversation_erased_meanwhile_leaves_no_mark_and_no_text(store):
    insights = Insights(store, HOURS)
    await insights.stored("never-existed-session-id-000000", [user(), bot("utter_default")],
                          typed="gone")
    assert await store.unclear_messages() == []


async def test_days_and_hours_follow_the_support_teams_clock():
    """Summer time: 08:30 UTC on 1 July is 09:30 in London."""
    store = Store("sqlite:///:memory:")
    insights = Insights(store, HOURS)
    for n in range(5):
        await conversation(store, insights, 400 + n, at("2026-07-01T08:30:00") + n)
        await conversation(store, insights, 500 + n, at("2026-06-30T23:30:00") + n)
    summary = await insights.summary(2, today=date(2026, 7, 1))
    assert summary["heatmap"][2][9] == 5  # Wednesday, 09:00-10:00
    assert summary["heatmap"][2][0] == 5  # 23:30 UTC on Tuesday is 00:30 on Wednesday
    assert [d["conversations"] for d in summary["days"]] == [0, 10]
    assert summary["totals"]["out_of_hours"] == 5
    await store.close()


def test_small_counts_and_shares_are_hidden():
    assert [shown(n) for n in (0, 1, 4, 5, 120)] == [0, HIDDEN, HIDDEN, 5, 120]
    assert share(0, 10) == 0 and share(5, 10) == 0.5
    assert share(3, 100) is None and share(4, 4) is None


def test_waits_are_read_from_the_histogram():
    assert [wait_bucket(s) for s in (0, 60, 61, 299, 3600, 20_000)] == [
        "wait_le_1", "wait_le_1", "wait_le_2", "wait_le_5", "wait_le_60", "wait_over_240"]
    histogram = {"wait_le_1": 4, "wait_le_10": 4, "wait_over_240": 2}
    assert wait_percentile(histogram, 0.5) == 10 and wait_percentile(histogram, 0.9) == ">240"
    assert wait_percentile({"wait_le_1": 4}, 0.5) is None  # fewer than 5 waits: not shown


async def test_counts_and_kept_examples_older_than_their_retention_go(store):
    insights = Insights(store, HOURS)
    old, recent = at("2024-11-01T10:00:00"), at("2026-11-20T10:00:00")
    for n in range(5):
        await conversation(store, insights, 600 + n, old + n)
        await conversation(store, insights, 700 + n, recent + n)
    await insights.stored(f"insights-test-session-0600-{int(old)}", [bot("utter_default")],
                          typed="old words", at=old)
    recent_words = f"insights-test-session-0700-{int(recent)}"
    await insights.stored(recent_words, [bot("utter_default")], typed="new words", at=recent)
    for message in await store.unclear_messages():
        assert await store.keep_unclear(message["id"], "greet")
    await store.delete_insights_before(int(at("2025-11-25T00:00:00")))
    assert [m["text"] for m in await store.unclear_messages()] == ["new words"]
    _, hourly = await store.insight_sums([(0, 2 ** 40)])
    assert hourly == [(int(recent) // 3600 * 3600, 5)]


def test_the_training_export_is_plain_text_to_rasa_whatever_the_person_typed():
    """A kept message is the person's words: Rasa's markup in them ("[text](entity)",
    "[text]{...}", "[text][...]") must not become entities in our training data."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    from bot.insights.api import nlu_yaml

    typed = {
        "[click](javascript:alert(1))": "[click] (javascript:alert(1))",
        '[snap]{"entity": "platform", "value": "tiktok"} he has my pics':
            '[snap] {"entity": "platform", "value": "tiktok"} he has my pics',
        '[50][{"entity": "amount"}, {"entity": "platform"}]': '[50] [{"entity": "amount"}, {"entity": "platform"}]',
        "he sent [it](platform:snap) to [my [NAME]](x)": "he sent [it] (platform:snap) to [my [NAME]] (x)",
        "my [NAME] will see it": "my [NAME] will see it",
        "  spaced\tout   words ": "spaced out words",
    }
    read = RasaYAMLReader().reads(nlu_yaml({"ask_next": list(typed)}))
    assert [(m.get("intent"), m.get("text")) for m in read.intent_examples] == [
        ("ask_next", text) for text in typed.values()]
    assert read.entity_examples == [] and not any(m.get("entities") for m in read.training_examples)


WRAPUP = WrapUpList(
    categories=(Choice("under_18", "Under 18", "under_18"), Choice("paid", "Paid", "paid"),
                Choice("childline", "Childline")),
    outcomes=(Choice("got_what_they_needed", "Got what they needed"),
              Choice("left_before_the_end", "Left before the end")))


async def test_wrapups_are_counted_by_category_and_outcome_and_small_counts_hidden(store):
    insights = Insights(store, HOURS, wrapup=WRAPUP)
    when = at("2026-11-25T12:00:00")
    for n in range(6):
        await insights.wrapped_up(["under_18", *(["childline"] if n < 2 else [])],
                                  "got_what_they_needed" if n < 5 else "left_before_the_end",
                                  at=when + n)
    summary = await insights.summary(7, today=date(2026, 11, 25))
    assert summary["wrapup"] == {
        "count": 6,
        "categories": [{"id": "under_18", "label": "Under 18", "count": 6},
                       {"id": "paid", "label": "Paid", "count": 0},
                       {"id": "childline", "label": "Childline", "count": HIDDEN}],
        "outcomes": [{"id": "got_what_they_needed", "label": "Got what they needed", "count": 5},
                     {"id": "left_before_the_end", "label": "Left before the end", "count": HIDDEN}]}
    header, *_, total = await insights.csv_rows(1, today=date(2026, 11, 25))
    column = {name: i for i, name in enumerate(header)}
    assert total[column["wrapups"]] == 6 and total[column["wrapup_category_under_18"]] == 6
    assert total[column["wrapup_category_childline"]] == HIDDEN
    assert total[column["wrapup_outcome_left_before_the_end"]] == HIDDEN
    assert total[column["wrapup_category_paid"]] == 0


async def test_did_this_help_counts_once_per_conversation_and_route(store):
    insights = Insights(store, HOURS)
    when = at("2026-11-25T12:00:00")
    sessions = [await conversation(store, insights, 400 + n, when) for n in range(6)]
    for session in sessions:
        await insights.stored(session, [bot("gateway_did_this_help")], at=when)
        await insights.helped(session, "handoff", "yes", at=when)
        await insights.helped(session, "handoff", "no", at=when)  # a second tap: not counted
        await insights.helped(session, "four_steps", "a_bit", at=when)  # its own route
    for session in sessions[:2]:
        await insights.stored(session, [bot("utter_did_this_help")], at=when)
    summary = await insights.summary(1, today=date(2026, 11, 25))
    answers = {route: {a["answer"]: a["count"] for a in counted["answers"]}
               for route, counted in summary["helped"].items()}
    assert answers == {"handoff": {"yes": 6, "a_bit": 0, "no": 0},
                       "four_steps": {"yes": 0, "a_bit": 6, "no": 0}}
    assert summary["helped"]["handoff"]["asked"] == 6
    assert summary["helped"]["four_steps"]["asked"] == HIDDEN
    # The marks say it was answered, for the gateway not to ask again.
    assert {"helped_handoff", "helped_four_steps"} <= set(await store.marks_of(sessions[0]))


async def test_facts_known_mark_paid_and_shared_without_counting_them(store):
    insights = Insights(store, HOURS)
    when = at("2026-11-25T12:00:00")
    session = await conversation(store, insights, 500, when)
    await insights.facts_known(session, under_18=False, helping=False, paid=True,
                               images_shared=True, at=when)
    assert {"paid", "images_shared"} <= set(await store.marks_of(session))
    summary = await insights.summary(1, today=date(2026, 11, 25))
    assert "paid" not in summary["totals"] and "images_shared" not in summary["totals"]

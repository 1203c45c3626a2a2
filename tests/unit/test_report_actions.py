"""The reporting actions (actions/report.py) with the real rasa_sdk Tracker and
CollectingDispatcher. The whole conversation runs end to end in test_reporting.py;
these pin down the decisions each action makes."""
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.report import (
    ANSWERS,
    ActionReportConfirmed,
    ActionReportCorrect,
    ActionReportStart,
    ActionSubmitCase,
    ValidatePassOnForm,
    ValidateReportForm,
    clean_answer,
    summary_lines,
)
from tests.conftest import make_tracker
from tests.support.processes import free_port

ALL_SLOTS = list(ANSWERS)


def with_entities(tracker: Tracker, **entities) -> Tracker:
    tracker.latest_message["entities"] = [{"entity": k, "value": v} for k, v in entities.items()]
    return tracker


def said(dispatcher: CollectingDispatcher):
    return [m["response"] for m in dispatcher.messages]


@pytest.mark.parametrize("paid, asks_payment", [
    (None, True), ("yes", True), ("kind of, a gift card", True), ("no", False), ("skipped", False)])
async def test_the_payment_question_follows_only_a_yes(paid, asks_payment):
    slots = await ValidateReportForm().required_slots(
        ALL_SLOTS, CollectingDispatcher(), make_tracker("inform", slots={"report_paid": paid}), {})
    assert ("report_payment" in slots) is asks_payment


@pytest.mark.parametrize("value", ["given", "@dark_lord_99", "instagram.com/someone", "skipped"])
def test_the_username_slot_never_holds_the_username(value):
    assert clean_answer("report_handle", value) == ("skipped" if value == "skipped" else "given")


def test_answers_are_trimmed_and_kept_short():
    assert clean_answer("report_started", "  last\n night   about 11 ") == "last night about 11"
    assert len(clean_answer("report_demand", "money " * 200)) == 300


def test_the_summary_reads_plainly():
    lines = summary_lines(make_tracker("affirm", slots={
        "report_platform": "instagram", "report_paid": "no", "report_handle": "given",
        "report_demand": "skipped"}))
    assert "• App or website: Instagram" in lines
    assert "• What they asked for: skipped" in lines
    assert "How much" not in lines  # not paid: no payment line
    assert "• Their username or link: given (kept only for your case, not shown here)" in lines


@pytest.mark.parametrize("slots, asked", [
    ({}, ["report_consent", "report_contact_wanted", "report_contact"]),
    ({"report_consent": "no"}, ["report_consent"]),
    ({"report_consent": "yes", "report_contact_wanted": "no"}, ["report_consent", "report_contact_wanted"]),
])
async def test_consent_first_and_contact_only_if_wanted(slots, asked):
    required = await ValidatePassOnForm().required_slots(
        ["report_consent", "report_contact_wanted", "report_contact"], CollectingDispatcher(),
        make_tracker("affirm", slots=slots), {})
    assert required == asked


async def test_pass_on_without_a_reporting_channel_says_how_to_report_instead():
    dispatcher = CollectingDispatcher()
    events = await ActionReportStart().run(dispatcher, make_tracker("report_pass_on"), {})
    assert said(dispatcher) == ["utter_report_pass_on_unavailable"] and events == []


async def test_pass_on_after_a_checked_summary_goes_straight_to_consent():
    dispatcher = CollectingDispatcher()
    events = await ActionReportStart().run(dispatcher, make_tracker(
        "report_pass_on", slots={"can_pass_on": True, "report_confirmed": True}), {})
    assert said(dispatcher) == []
    assert {"event": "followup", "name": "pass_on_form", "timestamp": None} in events


async def test_a_case_already_passed_on_is_not_sent_again():
    dispatcher = CollectingDispatcher()
    await ActionReportStart().run(dispatcher, make_tracker(
        "report_pass_on", slots={"can_pass_on": True, "report_reference": "SX-AAAA-BBBB"}), {})
    assert said(dispatcher) == ["utter_report_already_sent"]


async def test_a_correction_clears_one_answer_and_asks_it_again():
    tracker = with_entities(make_tracker("correct_report", slots={"report_paid": "yes",
                                                                  "report_payment": "£5"}),
                            report_field="report_paid")
    events = await ActionReportCorrect().run(CollectingDispatcher(), tracker, {})
    cleared = {e["name"] for e in events if e["event"] == "slot" and e["value"] is None}
    assert cleared == {"report_paid", "report_payment"}
    assert events[-1]["event"] == "followup" and events[-1]["name"] == "report_form"


@pytest.mark.parametrize("field", [None, "report_payment", "not_a_field"])
async def test_a_correction_without_a_known_answer_asks_which(field):
    tracker = make_tracker("correct_report")
    if field:
        tracker = with_entities(tracker, report_field=field)
    dispatcher = CollectingDispatcher()
    assert await ActionReportCorrect().run(dispatcher, tracker, {}) == []
    assert said(dispatcher) == ["utter_report_which_answer"]


async def test_confirmed_notes_then_what_next_or_consent():
    dispatcher = CollectingDispatcher()
    await ActionReportConfirmed().run(dispatcher, make_tracker("affirm", slots={"report_goal": "ready"}), {})
    assert said(dispatcher) == ["utter_report_notes", "utter_report_next"]
    assert "Evidence" not in dispatcher.messages[0]["summary"]  # the checklist is in the response
    dispatcher = CollectingDispatcher()
    events = await ActionReportConfirmed().run(dispatcher, make_tracker(
        "affirm", slots={"report_goal": "pass_on", "can_pass_on": True}), {})
    assert said(dispatcher) == ["utter_report_notes"] and events[-1]["name"] == "pass_on_form"


async def test_no_consent_sends_nothing():
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitCase().run(dispatcher, make_tracker(
        "deny", slots={"report_consent": "no"}), {})
    assert said(dispatcher) == ["utter_report_not_sent"]
    assert {e["name"] for e in events} == {"report_consent", "report_contact_wanted", "report_contact"}


async def test_with_the_gateway_down_the_person_is_told_nothing_was_sent(monkeypatch):
    monkeypatch.setenv("GATEWAY_INTERNAL_URL", f"http://127.0.0.1:{free_port()}")
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitCase().run(dispatcher, make_tracker(
        "affirm", slots={"report_consent": "yes", "report_platform": "tiktok"}), {})
    assert said(dispatcher) == ["utter_report_send_failed"]
    assert not any(e["name"] == "report_reference" for e in events)


async def test_getting_ready_again_after_a_case_was_passed_on_starts_afresh():
    dispatcher = CollectingDispatcher()
    events = await ActionReportStart().run(dispatcher, make_tracker(
        "report_get_ready", slots={"can_pass_on": True, "report_reference": "SX-AAAA-BBBB"}), {})
    assert said(dispatcher) == ["utter_report_intro"]
    assert events[-1]["event"] == "followup" and events[-1]["name"] == "report_form"

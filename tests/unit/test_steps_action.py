"""action_four_steps with the real rasa_sdk Tracker and CollectingDispatcher."""
from typing import Any, Dict, List, Tuple

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.four_steps import steps_already_done
from actions.steps import ActionFourSteps
from tests.conftest import make_tracker


async def run_turn(
    slots: Dict[str, Any], intent: str, text: str = ""
) -> Tuple[List[str], Dict[str, Any]]:
    """Runs the action once; returns the response names sent and the slots after."""
    dispatcher = CollectingDispatcher()
    events = await ActionFourSteps().run(dispatcher, make_tracker(intent, text, slots), {})
    after = dict(slots)
    for event in events:
        assert event["event"] == "slot"
        after[event["name"]] = event["value"]
    return [message["response"] for message in dispatcher.messages], after


async def conversation(turns: List[Tuple[str, str]]) -> List[List[str]]:
    slots: Dict[str, Any] = {}
    said = []
    for intent, text in turns:
        responses, slots = await run_turn(slots, intent, text)
        said.append(responses)
    return said


@pytest.mark.parametrize(
    "intent, step",
    [
        ("ask_pay", "utter_step_dont_pay"),
        ("already_paid", "utter_step_dont_pay"),
        ("ask_reply", "utter_step_stop_replying"),
        ("ask_delete", "utter_step_keep_evidence"),
        ("ask_report", "utter_step_report"),
        ("ask_next", "utter_step_dont_pay"),
        ("explain_situation", "utter_step_dont_pay"),
    ],
)
async def test_each_entry_point_gives_its_step_at_once(intent, step):
    responses, slots = await run_turn({}, intent)
    assert responses == [step]
    assert slots["last_step"] == step.replace("utter_step_", "")


async def test_what_next_walks_the_steps_in_order_then_summarises_and_offers_a_person():
    said = await conversation([("ask_next", "")] * 4)
    assert said == [
        ["utter_step_dont_pay"],
        ["utter_step_stop_replying"],
        ["utter_step_keep_evidence"],
        ["utter_step_report", "utter_summary"],
    ]


async def test_what_next_continues_with_the_first_step_not_yet_given():
    said = await conversation(
        [("ask_delete", ""), ("ask_next", ""), ("ask_next", ""), ("ask_next", "")]
    )
    assert said == [
        ["utter_step_keep_evidence"],
        ["utter_step_dont_pay"],
        ["utter_step_stop_replying"],
        ["utter_step_report", "utter_summary"],
    ]


async def test_a_step_the_person_has_done_is_not_told_again():
    said = await conversation(
        [
            ("ask_next", "what do i do, i already stopped replying and took screenshots"),
            ("ask_next", ""),
        ]
    )
    assert said[0] == ["utter_step_already_done", "utter_step_dont_pay"]
    assert said[1] == ["utter_step_report", "utter_summary"]


async def test_already_reported_is_not_told_to_report():
    responses, slots = await run_turn({}, "ask_report", "i already reported it to the police")
    assert responses == ["utter_step_already_done", "utter_step_dont_pay"]
    assert "report" in slots["steps_covered"]


async def test_done_marks_the_step_just_given():
    slots: Dict[str, Any] = {}
    _, slots = await run_turn(slots, "ask_reply")
    responses, slots = await run_turn(slots, "affirm", "done")
    assert responses == ["utter_step_dont_pay"]
    assert slots["steps_covered"] == ["stop_replying", "dont_pay"]


async def test_not_yet_waits_instead_of_pushing_the_next_step():
    slots: Dict[str, Any] = {}
    _, slots = await run_turn(slots, "ask_pay")
    responses, after = await run_turn(slots, "deny", "not yet")
    assert responses == ["utter_take_your_time"]
    assert after["steps_covered"] == ["dont_pay"]


@pytest.mark.parametrize(
    "answer, response", [("affirm", ["utter_request_human"]),
                         ("deny", ["utter_no_human", "utter_did_this_help"])]
)
async def test_the_offer_of_a_person_after_the_summary(answer, response, monkeypatch):
    """A yes asks the gateway for a person (tests/stack/test_handoff.py runs that for
    real); with the gateway unreachable, as here, the person still gets the helplines."""
    from tests.support.processes import free_port

    monkeypatch.setenv("GATEWAY_INTERNAL_URL", f"http://127.0.0.1:{free_port()}")
    slots: Dict[str, Any] = {}
    for _ in range(4):
        _, slots = await run_turn(slots, "ask_next")
    assert slots["offer"] == "human"
    responses, after = await run_turn(slots, answer)
    assert responses == response  # a no ends the four steps: "did this help?"
    assert after["offer"] is None


async def test_asking_about_a_step_again_repeats_it_without_a_second_summary():
    slots: Dict[str, Any] = {}
    for _ in range(4):
        _, slots = await run_turn(slots, "ask_next")
    responses, after = await run_turn(slots, "ask_pay", "so i definitely shouldnt pay?")
    assert responses == ["utter_step_dont_pay"]
    assert after["offer"] is None


async def test_what_next_when_everything_is_covered_summarises_again():
    slots: Dict[str, Any] = {}
    for _ in range(4):
        _, slots = await run_turn(slots, "ask_next")
    _, slots = await run_turn(slots, "deny")
    responses, after = await run_turn(slots, "ask_next", "what else")
    assert responses == ["utter_summary"]
    assert after["offer"] == "human"


@pytest.mark.parametrize(
    "text, done",
    [
        ("i stopped replying to him last night", {"stop_replying"}),
        ("ive blocked him already", {"stop_replying"}),
        ("i took loads of screenshots", {"keep_evidence"}),
        ("screenshotted everything", {"keep_evidence"}),
        ("i've got screenshots of all the messages", {"keep_evidence"}),
        ("I told the police yesterday", {"report"}),
        ("my mum rang 101 for me", {"report"}),
        ("i didnt pay him", {"dont_pay"}),
        ("im not going to pay", {"dont_pay"}),
        ("i went quiet and stopped replying", {"stop_replying"}),
        ("sent screenshots to my mum", set()),
        ("stopped replying, saved the evidence and reported it to the police",
         {"stop_replying", "keep_evidence", "report"}),
    ],
)
def test_recognises_steps_already_done(text, done):
    assert steps_already_done(text) == done


@pytest.mark.parametrize(
    "text",
    [
        "should i stop replying",
        "i havent stopped replying",
        "i haven't taken any screenshots",
        "should i tell the police",
        "i never told the police",
        "i didn't take screenshots",
        "still havent blocked him",
        "hes still messaging me",
        "i paid him £50",
        "reported him on insta",
        # Not paid *yet* is not a decision: step 1 still comes.
        "I haven't paid yet, what do I do",
        "i havent paid him yet, should i pay?",
        # What the blackmailer did or said is not a step the person has done.
        "he took screenshots of our video call",
        "he told me the police will arrest me",
        "she's blocked me on snap now",
    ],
)
def test_questions_and_negations_are_not_taken_as_done(text):
    assert steps_already_done(text) == set()


def tracker_after(events: List[Dict[str, Any]], intent: str, slots: Dict[str, Any]) -> Tracker:
    """A tracker with this history, whose latest message has this intent."""
    tracker = make_tracker(intent, "", slots)
    tracker.events = events
    return tracker


SUMMARISED = {"steps_covered": ["dont_pay", "stop_replying", "keep_evidence", "report"],
              "last_step": "report", "offer": "human"}


@pytest.mark.parametrize("history", [
    [{"event": "action", "name": "utter_crisis"}],
    [{"event": "bot", "text": "...", "metadata": {"utter_action": "utter_check_risk"}}],
    [{"event": "user", "text": "...", "parse_data": {"intent": {"name": "crisis"}}}],
    [{"event": "user", "text": "...", "parse_data": {"intent": {"name": "unclear_risk"}}}],
    [{"event": "bot", "text": "...", "metadata": {"utter_action": "utter_did_this_help"}}],
])
async def test_did_this_help_is_never_asked_after_a_crisis_and_only_once(history):
    dispatcher = CollectingDispatcher()
    await ActionFourSteps().run(dispatcher, tracker_after(history, "deny", SUMMARISED), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_no_human"]


async def test_did_this_help_follows_an_ordinary_history_and_not_a_no_to_leaving_it_for_later():
    ordinary = [{"event": "action", "name": "utter_step_report"},
                {"event": "user", "text": "no", "parse_data": {"intent": {"name": "deny"}}}]
    dispatcher = CollectingDispatcher()
    await ActionFourSteps().run(dispatcher, tracker_after(ordinary, "deny", SUMMARISED), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_no_human", "utter_did_this_help"]
    # "Shall I leave this for the team?" - no: the four steps have not just ended.
    dispatcher = CollectingDispatcher()
    await ActionFourSteps().run(dispatcher, tracker_after(
        ordinary, "deny", {**SUMMARISED, "offer": "queue_later"}), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_no_human"]


def test_the_four_steps_buttons_are_the_ones_the_gateway_counts(domain):
    from bot.conversation import feedback

    (variation,) = domain["responses"]["utter_did_this_help"]
    assert variation["buttons"] == feedback.buttons("four_steps")

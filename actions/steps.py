"""action_four_steps: which of the four steps to give (don't pay, stop replying,
keep the evidence, report it) as the conversation goes, "not told twice":
- a question about one step ("should I pay?", "should I delete it all?") gets
  that step at once;
- "what next?", "ok", "done" get the first step not yet covered;
- a step the person says they have already done is not told again;
- once all four are covered, a short summary and the offer of a person
  (a yes is a handoff: actions/handoff.py; a no ends the four steps, and the
  person is asked "did this help?" with one tap, never after a crisis).
The steps' order, what counts as already done and which response says each
step are in actions/four_steps.py, shared with action_after_handoff.
"""
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.four_steps import (
    STEP_FOR_INTENT,
    STEPS,
    next_step,
    step_response,
    steps_already_done,
    steps_covered,
)
from actions.handoff import request_handoff

DID_THIS_HELP = "utter_did_this_help"
# What the conversation said or heard that makes "did this help?" wrong to ask:
# a crisis, the gentle question about suicide or self-harm, or asked already.
NOT_AFTER = {"utter_crisis", "utter_check_risk", "utter_handoff_crisis", "utter_crisis_safe",
             "utter_crisis_danger", DID_THIS_HELP}
CRISIS_INTENTS = {"crisis", "unclear_risk"}


def _said(event: Dict[str, Any]) -> Any:
    """The response an event said: an action's name, or a bot message's response."""
    if event.get("event") == "action":
        return event.get("name")
    if event.get("event") == "bot":
        return (event.get("metadata") or {}).get("utter_action")
    return None


def may_ask_did_this_help(tracker: Tracker) -> bool:
    """Never in a conversation that has had a crisis (the classifier's, or the
    safety net's), and once only. The answer is counted by the gateway."""
    for event in tracker.events:
        if _said(event) in NOT_AFTER:
            return False
        if event.get("event") == "user" and \
                ((event.get("parse_data") or {}).get("intent") or {}).get("name") in CRISIS_INTENTS:
            return False
    return tracker.get_intent_of_latest_message() not in CRISIS_INTENTS


class ActionFourSteps(Action):
    """Gives the right step for where the person is (see module docstring)."""

    def name(self) -> Text:
        return "action_four_steps"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        intent = tracker.get_intent_of_latest_message()
        covered = steps_covered(tracker)
        last_step = tracker.get_slot("last_step")

        # The summary asked "would you like to talk to a person?", or, with nobody
        # on shift, "shall I leave this for the team?": a yes is a handoff.
        offer = tracker.get_slot("offer")
        if offer in ("human", "queue_later") and intent in ("affirm", "deny"):
            if intent == "affirm":
                return await request_handoff(dispatcher, tracker,
                                             queue_when_closed=offer == "queue_later")
            dispatcher.utter_message(response="utter_no_human")
            # The end of the four steps: one tap, never needed to go on.
            if offer == "human" and may_ask_did_this_help(tracker):
                dispatcher.utter_message(response=DID_THIS_HELP)
            return [SlotSet("offer", None)]

        told_done = steps_already_done(tracker.latest_message.get("text") or "")
        if told_done - set(covered):
            dispatcher.utter_message(response="utter_step_already_done")
        done = set(told_done)
        if intent == "affirm" and last_step:
            done.add(last_step)  # "done", "ok": the step just given
        was_complete = all(step in covered for step in STEPS)
        covered += [step for step in STEPS if step in done and step not in covered]

        if intent == "deny":
            dispatcher.utter_message(response="utter_take_your_time")
            return [SlotSet("steps_covered", covered), SlotSet("offer", None)]

        asked = STEP_FOR_INTENT.get(intent)
        step = asked if asked and asked not in told_done else next_step(covered)
        events: List[EventType] = []
        if step:
            dispatcher.utter_message(response=step_response(step))
            # Under 18 (and writing for themselves): CEOP, and not in trouble for the pictures.
            if step == "report" and tracker.get_slot("under_18") and not tracker.get_slot("for_someone"):
                dispatcher.utter_message(response="utter_step_report_under_18")
            if step not in covered:
                covered.append(step)
            events.append(SlotSet("last_step", step))

        offer = None
        if next_step(covered) is None and (step is None or not was_complete):
            dispatcher.utter_message(response="utter_summary")
            offer = "human"
        return [*events, SlotSet("steps_covered", covered), SlotSet("offer", offer)]

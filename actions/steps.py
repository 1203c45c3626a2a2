"""action_four_steps: which of the four steps to give (don't pay, stop replying,
keep the evidence, report it) as the conversation goes, "not told twice":
- a question about one step ("should I pay?", "should I delete it all?") gets
  that step at once;
- "what next?", "ok", "done" get the first step not yet covered;
- a step the person says they have already done is not told again;
- once all four are covered, a short summary and the offer of a person
  (a yes is a handoff: actions/handoff.py).
The steps' order, what counts as already done and which response says each
step are in actions/four_steps.py, shared with action_after_handoff.
"""
from typing import List, Text

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

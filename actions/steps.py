"""The four steps: don't pay, stop replying, keep the evidence, report it.

One action decides which step to give, so the order and the "not told twice"
rule live in one place:
- a question about one step ("should I pay?", "should I delete it all?") gets
  that step at once;
- "what next?", "ok", "done" get the first step not yet covered;
- a step the person says they have already done is not told again;
- once all four are covered, a short summary and the offer of a person
  (a yes is a handoff: actions/handoff.py).
The words are the `utter_step_*` responses in domain.yml.
"""
import re
from typing import Any, Dict, List, Optional, Set, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import request_handoff

STEPS = ("dont_pay", "stop_replying", "keep_evidence", "report")

STEP_FOR_INTENT = {
    "ask_pay": "dont_pay",
    "already_paid": "dont_pay",
    "ask_reply": "stop_replying",
    "ask_delete": "keep_evidence",
    "ask_report": "report",
}

# What people type when they have already done a step. Deliberately narrow:
# a wrong "done" would skip advice, a missed one only repeats it.
_NEGATED = re.compile(
    r"\b(not|never|no|(have|has|had|did|do|does|is|was|are|were|ca|could|would|wo)n'?t"
    r"|cant|dont|wont)\s+(\w+\s+)?$"
)
ALREADY_DONE = {
    "dont_pay": re.compile(
        r"\b(didn'?t|did not|haven'?t|have not|won'?t|will not|not going to|never|refused to)"
        r"\s+(pay|paid|send|sent)\b"
    ),
    "stop_replying": re.compile(
        r"\b(stopped|quit|stopped all)\s+(replying|responding|answering|talking|messaging)\b"
        r"|\b(blocked|ignoring|ignored)\s+(him|her|them|the account|their account)\b"
    ),
    "keep_evidence": re.compile(
        r"\b(took|taken|saved|made|kept|got)\s+(\w+\s+){0,3}"
        r"(screenshots?|screenshoots?|screenies|screen shots?|screengrabs?|evidence)\b"
        r"|\bscreenshotted\b"
    ),
    "report": re.compile(
        r"\b(reported|told|called|rang|phoned|contacted|went to|spoke to|spoken to)\s+"
        r"(\w+\s+){0,3}(police|101|cops|ceop)\b"
    ),
}


# Said of the blackmailer, not done by the person: "he took screenshots of our
# call", "she's blocked me", "he told me the police will arrest me".
_SOMEONE_ELSE = re.compile(
    r"\b(he|she|they|hes|shes|he's|she's|theyve|they've|hell|he'll|shell|she'll|theyll|they'll"
    r"|blackmailer|scammer)\s+(\w+\s+){0,2}$")
_TOLD_ME = re.compile(r"\btold (me|us)\b")
# "i haven't paid (him) yet": not paying so far is not a decision not to pay.
_NOT_YET = re.compile(r"^\s+(\w+\s+){0,2}yet\b")


def steps_already_done(text: Text) -> Set[Text]:
    """The steps that the person's message says they have already done."""
    lowered = text.lower()
    done = set()
    for step, pattern in ALREADY_DONE.items():
        for match in pattern.finditer(lowered):
            before, after = lowered[: match.start()], lowered[match.end():]
            negated = step != "dont_pay" and _NEGATED.search(before)
            not_theirs = bool(_SOMEONE_ELSE.search(before) or _TOLD_ME.search(match.group()))
            not_yet = step == "dont_pay" and _NOT_YET.match(after)
            if not (negated or not_theirs or not_yet):
                done.add(step)
                break
    return done


def next_step(covered: List[Text]) -> Optional[Text]:
    """The first of the four steps not yet covered."""
    return next((step for step in STEPS if step not in covered), None)


class ActionFourSteps(Action):
    """Gives the right step for where the person is (see module docstring)."""

    def name(self) -> Text:
        return "action_four_steps"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        intent = tracker.get_intent_of_latest_message()
        covered = list(tracker.get_slot("steps_covered") or [])
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
            dispatcher.utter_message(response=f"utter_step_{step}")
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

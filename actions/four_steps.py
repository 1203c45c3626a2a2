"""The four steps: don't pay, stop replying, keep the evidence, report it.

What both actions that give a step need to agree on, and nothing of Rasa's:
their order (`next_step`), which step a question asks about (`STEP_FOR_INTENT`),
what a message says the person has already done (`steps_already_done`), which
steps the conversation has covered (the `steps_covered` slot) and the response
that says each one (`step_response`, the `utter_step_*` responses in domain.yml).

- action_four_steps (actions/steps.py) gives the right step as the person goes;
- action_after_handoff (actions/handoff.py) picks up with the next one when a
  person from the support team hands the conversation back.
"""
import re
from typing import List, Optional, Set, Text

from rasa_sdk import Tracker

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


def steps_covered(tracker: Tracker) -> List[Text]:
    """The steps given or already done so far (a new list: the caller may add to it)."""
    return list(tracker.get_slot("steps_covered") or [])


def next_step(covered: List[Text]) -> Optional[Text]:
    """The first of the four steps not yet covered."""
    return next((step for step in STEPS if step not in covered), None)


def step_response(step: Text) -> Text:
    """The domain.yml response that gives the step."""
    return f"utter_step_{step}"

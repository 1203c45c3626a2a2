""""Did this help?": one tap, Yes / A bit / No, counted in insights by route.

Two routes ask it:
- `handoff`: the gateway itself, after a support worker closes the conversation or
  hands it back to the bot (bot/staff/handoffs.py, `gateway_did_this_help`);
- `four_steps`: the assistant, when the person has had all four steps and says
  no to a person (actions/steps.py, `utter_did_this_help` in domain.yml).

Both offer the same kind of buttons, and the answer never goes to Rasa: the
turn (bot/conversation/turn.py) recognises the payload, counts it once per
conversation and route, and answers with a short thank-you. So nothing is
learnt by the model, and the conversation carries on where it was.

Never asked in a crisis: not when the handoff was a crisis, and not in a
conversation that got the crisis response or the gentle question about
suicide or self-harm (their insight marks; actions/steps.py checks the tracker).
"""
import re
from typing import Any, Dict, Iterable, List, Optional, Tuple

ROUTES = ("handoff", "four_steps")
# Answer id -> the button's title (short enough for WhatsApp's 20 characters).
ANSWERS = {"yes": "Yes", "a_bit": "A bit", "no": "No"}
PAYLOAD = re.compile(r"^/did_this_help_(handoff|four_steps)_(yes|a_bit|no)$")
# Marks (insights) in whose conversation it is never asked.
CRISIS_MARKS = frozenset({"crisis", "check_risk"})
# The gateway's own question and thanks (bot/conversation/replies.py).
ASK = "gateway_did_this_help"
FOUR_STEPS_QUESTION = "utter_did_this_help"  # the assistant's, at the end of the four steps
THANKS = "gateway_thanks_for_answer"


def payload(route: str, answer: str) -> str:
    return f"/did_this_help_{route}_{answer}"


def buttons(route: str) -> List[Dict[str, str]]:
    return [{"title": title, "payload": payload(route, answer)} for answer, title in ANSWERS.items()]


def answer_in(text: str) -> Optional[Tuple[str, str]]:
    """(route, answer) if this is a "did this help?" button's payload."""
    found = PAYLOAD.match(text)
    return (found.group(1), found.group(2)) if found else None


def mark(route: str) -> str:
    """The insight mark that says this conversation answered for this route."""
    return f"helped_{route}"


def may_ask(marks: Iterable[str], crisis_handoff: bool = False) -> bool:
    """Not in a crisis, and not once it has been answered for the handoff."""
    known = set(marks)
    return not crisis_handoff and not (known & CRISIS_MARKS) and mark("handoff") not in known


def with_question(said: List[Dict[str, Any]], question: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The bot's messages, then the question last, so that its buttons are the
    newest (the web page shows only those). The buttons of what the bot just said
    ("OK, what's next?") come along after the three answers, so none is lost."""
    carried = (said[-1].get("buttons") or []) if said else []
    return [*said, {**question, "buttons": [*question["buttons"], *carried]}]

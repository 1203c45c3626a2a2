"""Handing the conversation to a person from the support team, and back.

`action_handoff` runs when someone asks for a person, says yes to the offer of
one, or is in crisis. It asks the gateway's internal handoff API (loopback
only, a shared secret: GATEWAY_INTERNAL_URL and GATEWAY_INTERNAL_TOKEN) to
queue the conversation, and tells the person honestly what happens next:

- staff on shift: their place in the queue, a rough wait, that a trained person
  will read what they wrote, and the emergency numbers meanwhile. The bot pauses
  (ConversationPaused): the gateway sends their messages to the staff member.
  In a crisis the bot keeps going (are you safe? 999) until a person claims the
  conversation; it goes to the top of the queue.
- nobody on shift, or out of support hours: when people are there, and the
  offer to leave the conversation in the queue for them (only if they agree:
  offer slot "queue_later", answered through action_four_steps).
- the gateway can't be reached: the helplines (utter_request_human).

`action_after_handoff` runs when staff hand the conversation back (the bot picks
up with the next step not yet given) or close it; the gateway's Rasa channel
resumes the conversation and runs it.
"""
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.four_steps import next_step, step_response, steps_covered
from actions.gateway_client import post_to_gateway

logger = logging.getLogger(__name__)

CRISIS_INTENT = "crisis"


def in_crisis(tracker: Tracker) -> bool:
    """A crisis message, or "yes" to "are you thinking of hurting yourself?"."""
    intent = tracker.get_intent_of_latest_message()
    if intent != "affirm":
        return intent == CRISIS_INTENT
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
        elif seen_user and event.get("event") == "action" and event.get("name") != "action_listen":
            return event.get("name") == "utter_check_risk"  # what the "yes" answered
    return False


async def ask_gateway(session: Text, crisis: bool, queue_when_closed: bool,
                      facts: Optional[Dict[str, bool]] = None) -> Optional[Dict[str, Any]]:
    """The gateway's answer to a handoff request, or None if it can't be reached.
    `facts` (under_18, helping, paid, images_shared) show in the staff queue or its wrap-up."""
    answered = await post_to_gateway("/internal/handoffs", {
        "session": session, "crisis": crisis, "queue_when_closed": queue_when_closed,
        **(facts or {})})
    if answered is None:
        return None
    status, answer = answered
    if status != 200:
        logger.warning("The gateway refused a handoff (HTTP %d).", status)
        return None
    return answer


def place_in_queue(position: int) -> Text:
    return "next" if position <= 1 else f"number {position}"


async def request_handoff(
    dispatcher: CollectingDispatcher, tracker: Tracker, queue_when_closed: bool = False
) -> List[EventType]:
    """Queues the conversation for a person and says what happens (module docstring)."""
    crisis = in_crisis(tracker)
    # Shown in the staff queue, and ticked in the wrap-up when the worker closes it.
    facts = {"under_18": bool(tracker.get_slot("under_18")), "helping": bool(tracker.get_slot("for_someone")),
             "paid": bool(tracker.get_slot("paid")), "images_shared": bool(tracker.get_slot("images_shared"))}
    answer = await ask_gateway(tracker.sender_id, crisis, queue_when_closed, facts)
    if answer is None:
        # In a crisis the numbers were just given: don't bury "are you safe?" under more.
        if not crisis:
            dispatcher.utter_message(response="utter_request_human")
        return [SlotSet("offer", None)]

    if answer.get("status") == "queued":
        if crisis:
            if not answer.get("already"):
                dispatcher.utter_message(response="utter_handoff_crisis")
            return []
        if not answer.get("paused"):  # left for when the team is back: the bot carries on
            dispatcher.utter_message(response="utter_handoff_queued_later")
            return [SlotSet("offer", None)]
        dispatcher.utter_message(
            response="utter_handoff_queued",
            place=place_in_queue(int(answer.get("position") or 1)),
            wait=int(answer.get("wait_minutes") or 10),
        )
        return [SlotSet("offer", None), ConversationPaused()]

    # Nobody there: crisis numbers were just given, and they are there all night.
    if crisis:
        return []
    opens = answer.get("opens")
    if opens:
        dispatcher.utter_message(response="utter_handoff_closed_hours", opens=opens)
    else:
        dispatcher.utter_message(response="utter_handoff_nobody_on_shift")
    return [SlotSet("offer", "queue_later")]


class ActionHandoff(Action):
    def name(self) -> Text:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        return await request_handoff(dispatcher, tracker)


class ActionAfterHandoff(Action):
    """Back with the bot after a person: the `handoff` slot says how it ended."""

    def name(self) -> Text:
        return "action_after_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        if tracker.get_slot("handoff") == "closed":
            dispatcher.utter_message(response="utter_handoff_ended")
            return [SlotSet("handoff", None)]
        dispatcher.utter_message(response="utter_handback")
        covered = steps_covered(tracker)
        step = next_step(covered)
        if step is None:
            dispatcher.utter_message(response="utter_handback_all_steps")
            return [SlotSet("handoff", None)]
        dispatcher.utter_message(response=step_response(step))
        return [
            SlotSet("handoff", None),
            SlotSet("steps_covered", [*covered, step]),
            SlotSet("last_step", step),
        ]

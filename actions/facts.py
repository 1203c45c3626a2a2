"""The help that the facts of a conversation call for, before the answer to what was asked.

One message can say several things ("im 15 and he wants £200 should i pay").
The classifier picks the question (step 1 here); components/facts.py finds the
facts and domain.yml keeps them as slots. `action_facts` runs first in every
answering rule (data/rules/) and gives, once each, in this order:

1. for a parent, carer, friend or professional: their route (utter_helping_someone),
   which carries the under-18 routes (Report Remove, CEOP) for the young person;
2. for an under-18 writing about themselves: the under-18 help (utter_under_18);
3. when the images are already out, or being sent now: the takedown help
   (utter_images_shared), unless that is what the rule answers anyway.

Crisis comes before all of these: its rules answer first, and the help owed
follows after the person says whether they are safe.
"""
from typing import List, Set, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

HELPERS = ("parent", "friend", "professional")
HELPING_INTENT = "helping_someone"


def writes_for_someone(tracker: Tracker) -> bool:
    """A parent, carer, friend or professional is writing about someone else, unless
    the latest message is the person's own story ("he's blackmailing me")."""
    if next(tracker.get_latest_entity_values("writer"), None) == "self":
        return False
    return bool(tracker.get_slot("for_someone")) or tracker.get_slot("writer") in HELPERS \
        or tracker.get_intent_of_latest_message() == HELPING_INTENT


def young_person_named(tracker: Tracker) -> bool:
    """The latest message gives someone else's age under 18 ("my son is 14")."""
    return any(True for _ in tracker.get_latest_entity_values("young_person"))


class ActionFacts(Action):
    """Gives the help each known fact calls for, once (see module docstring)."""

    def name(self) -> Text:
        return "action_facts"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        intent = tracker.get_intent_of_latest_message()
        answered_before: Set[Text] = set(tracker.get_slot("facts_answered") or [])
        answered = set(answered_before)
        events: List[EventType] = []

        for_someone = writes_for_someone(tracker)
        under_18 = bool(tracker.get_slot("under_18"))
        if for_someone != bool(tracker.get_slot("for_someone")):
            events.append(SlotSet("for_someone", for_someone))
        if for_someone and young_person_named(tracker) and not under_18:
            under_18 = True
            events.append(SlotSet("under_18", True))

        if for_someone:
            if "helping_someone" not in answered or intent == HELPING_INTENT:
                dispatcher.utter_message(response="utter_helping_someone")
                answered.add("helping_someone")
        elif under_18 and ("under_18" not in answered or intent == "under_18"):
            dispatcher.utter_message(response="utter_under_18")
            answered.add("under_18")

        if intent == "images_shared":
            answered.add("images_shared")  # its own rule answers it, next
        elif tracker.get_slot("images_shared") and "images_shared" not in answered:
            dispatcher.utter_message(response="utter_images_shared")
            answered.add("images_shared")

        if answered != answered_before:
            events.append(SlotSet("facts_answered", sorted(answered)))
        return events

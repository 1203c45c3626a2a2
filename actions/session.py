"""Starts each conversation with the configured police route and reporting channel in its slots."""
from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.settings import police_route_overrides, reporting_slots


class ActionSessionStart(Action):
    """Rasa's own session start, plus the police route and the reporting channel from .env (step 4's words)."""

    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        settings = {**police_route_overrides(), **reporting_slots()}
        overrides = [SlotSet(slot, value) for slot, value in settings.items()]
        return [SessionStarted(), *overrides, ActionExecuted("action_listen")]

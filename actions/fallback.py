"""The first stage of Rasa's two-stage fallback, in words a person understands.

Rasa's default asks "Did you mean 'ask_delete'?"; this asks what the intent
means instead. The question and buttons are `utter_ask_affirmation` in domain.yml.
"""
from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

# Each fits "Just to check, ...?"
MEANINGS = {
    "greet": "are you saying hello",
    "goodbye": "do you want to leave the chat",
    "affirm": "is that a yes",
    "deny": "is that a no",
    "thank": "are you saying thanks",
    "explain_situation": "is someone threatening to share private pictures or videos of you",
    "ask_pay": "are you asking whether to pay them",
    "already_paid": "have you already paid them or sent them more",
    "ask_reply": "are you asking what to say to them",
    "ask_delete": "are you asking about deleting or blocking",
    "ask_report": "are you asking about reporting it or the police",
    "ask_next": "do you want to know what to do next",
    "ask_recovery": "are you asking about someone who offers to delete the pictures for money",
    "images_shared": "have the pictures already been shared",
    "feel_ashamed": "are you feeling ashamed or worried what people will think",
    "crisis": "are you thinking about hurting yourself, or are you in danger",
    "under_18": "are you under 18",
    "request_human": "would you like to talk to a real person",
    "ask_privacy": "are you asking whether this chat is private",
    "forget_me": "do you want me to clear this conversation",
    "bot_challenge": "are you asking whether I'm a bot",
    "out_of_scope": "is this about something else",
    "helping_someone": "are you writing about someone else who is being blackmailed",
    "unclear_risk": "are you thinking about hurting yourself",
    "report_get_ready": "do you want help getting ready to report it",
    "report_pass_on": "do you want us to pass your case on",
    "report_police": "do you want the number or the link to report it yourself",
    "correct_report": "do you want to change one of your answers",
    "skip": "do you want to skip this question",
    "inform": "is that your answer to my question",
}


# What "yes" to the question means, where it is not the guess itself: "are you thinking
# about hurting yourself?" answered yes is a crisis, not a reason to ask again.
YES_MEANS = {"unclear_risk": "crisis"}


class ActionDefaultAskAffirmation(Action):
    """Asks whether the classifier's best guess is what the person meant."""

    def name(self) -> Text:
        return "action_default_ask_affirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        ranking = tracker.latest_message.get("intent_ranking") or []
        guesses = [entry["name"] for entry in ranking if entry["name"] in MEANINGS]
        if not guesses:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        intent = guesses[0]
        dispatcher.utter_message(
            response="utter_ask_affirmation", meaning=MEANINGS[intent],
            intent=YES_MEANS.get(intent, intent),
        )
        return []

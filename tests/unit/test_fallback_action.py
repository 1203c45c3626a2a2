"""The first stage of the two-stage fallback asks in plain words."""
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import MEANINGS, ActionDefaultAskAffirmation
from tests.conftest import make_tracker


async def ask(ranking):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("nlu_fallback", "hmm idk", ranking=ranking)
    await ActionDefaultAskAffirmation().run(dispatcher, tracker, {})
    return dispatcher.messages


async def test_asks_about_the_best_guess_in_words():
    (message,) = await ask([
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "ask_delete", "confidence": 0.4},
        {"name": "ask_reply", "confidence": 0.3},
    ])
    assert message["response"] == "utter_ask_affirmation"
    assert message["meaning"] == MEANINGS["ask_delete"]
    assert message["intent"] == "ask_delete"


async def test_asks_to_rephrase_when_there_is_no_guess():
    (message,) = await ask([{"name": "nlu_fallback", "confidence": 0.5}])
    assert message["response"] == "utter_ask_rephrase"


def test_every_intent_has_a_meaning(domain):
    assert set(domain["intents"]) == set(MEANINGS)


async def test_yes_to_are_you_thinking_about_hurting_yourself_is_a_crisis():
    """Not the same question again: the crisis response."""
    (message,) = await ask([
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "unclear_risk", "confidence": 0.4},
    ])
    assert message["meaning"] == MEANINGS["unclear_risk"] and message["intent"] == "crisis"

"""The facts a message states (components/facts.py), by kind of wording, and the
help they call for (actions/facts.py) with the real rasa_sdk Tracker.

The blind sets that measure these through the whole system are in
tests/stack/test_understanding.py; these examples were written for the rules.
"""
import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa_sdk.executor import CollectingDispatcher

from actions.facts import ActionFacts
from components.facts import FactFinder, MessageFacts
from tests.conftest import make_tracker


@pytest.fixture(scope="module")
def finder():
    return FactFinder.from_file()


def facts(finder, text):
    return {entity: value for entity, value, *_ in finder.find(text)}


@pytest.mark.parametrize("text", [
    "im 15 and a man on snap says he'll send my pics to my school",
    "I'm only 14 pls help",
    "16m, he wants £200",
    "m15 here, someone has my nudes",
    "im in year 10 and hes threatening me",
    "yr 11 btw",
    "i have my gcses next month and this is happening",
    "im in sixth form and someone has my pictures",
    "i'm still at school, will i get arrested",
    "will i be in trouble because im underage",
    "im a minor is this child porn now",
    "im sixteen",
    "not 18 till march",
])
def test_under_18_said_any_way(finder, text):
    assert facts(finder, text).get("under_18") is True


@pytest.mark.parametrize("text", [
    "im 19 and at uni, someone has my pics",
    "I was 17 back then but I'm 21 now",
    "im 24 and my wife might see them",
    "i'm 18, not a kid",
    "she said she was 16 and now her dad says he'll go to the police",
    "my little brother is in year 8 and uses my laptop",
    "he wants £15 by tonight",
    "i'm 15 minutes from home",
])
def test_adults_and_other_peoples_ages_are_not_the_writer(finder, text):
    assert facts(finder, text).get("under_18") is not True


@pytest.mark.parametrize("text, writer", [
    ("my son is 14 and someone is blackmailing him", "parent"),
    ("our daughter has been sent threats about her photos", "parent"),
    ("im his mum, what do we do", "parent"),
    ("my stepson told me someone has his pictures", "parent"),
    ("my best mate is being blackmailed with his nudes", "friend"),
    ("someone is threatening my girlfriend with her pics", "friend"),
    ("asking for a friend, hes being scammed", "friend"),
    ("somebody close to me is getting threatened over pics", "friend"),
    # Someone not named by a role word, by kind: the passive verb, asking how to help,
    # someone who came to them, writing on someone's behalf.
    ("a lad in my form got sextorted last week and now he wont come to school", "friend"),
    ("how should i support a person who is getting threats over photos", "friend"),
    ("my neighbour's kid messaged me saying a stranger has pics of her", "friend"),
    ("writing on behalf of someone who is too scared to", "friend"),
    ("a pupil in my class is being sextorted", "professional"),
    ("one of my students told me someone has her images", "professional"),
    ("im the safeguarding lead at a secondary school", "professional"),
])
def test_who_is_writing(finder, text, writer):
    assert facts(finder, text).get("writer") == writer


@pytest.mark.parametrize("text", [
    "my mum will see them if he sends them",
    "he's threatening to send them to my son",
    "my friend told me about this site",
    "my mate said just pay him",
    "should i tell my teacher",
    "someone is blackmailing me and says he'll send my nudes to my girlfriend",
    "someone is threatening to share pics of me",
    "im scared someone i know will see the pics",
    "what do i say to him, he wont stop",
    "someone i used to know is blackmailing me",
    "im being blackmailed by someone on snap",
])
def test_victims_who_mention_others_are_writing_for_themselves(finder, text):
    assert facts(finder, text).get("writer", "self") == "self"


@pytest.mark.parametrize("text", [
    "i already paid him £50",
    "ive sent her money twice now",
    "i paid and he wants more",
    "he's had £300 off me already",
    "i sent more pics like he asked",
    "my son already paid them",
])
def test_already_paid(finder, text):
    assert facts(finder, text).get("paid") is True


@pytest.mark.parametrize("text", [
    "should i pay him",
    "i havent paid yet",
    "i didnt pay him",
    "i sent him pics and now he wants money",
    "im about to pay",
])
def test_not_paid(finder, text):
    assert "paid" not in facts(finder, text)


@pytest.mark.parametrize("text", [
    "he's sending them to my friends right now",
    "hes posting them rn",
    "he already sent them to my mum",
    "my pics are all over instagram",
    "everyone at school has seen them",
    "she posted the video on tiktok",
    "they've been shared in a group chat",
])
def test_images_already_out_or_going_out_now(finder, text):
    assert facts(finder, text).get("images_shared") is True


@pytest.mark.parametrize("text", [
    "he says he'll send them to my friends tonight",
    "he's sending them at 8 unless i pay",
    "he hasnt posted anything yet",
    "if he posts them im dead",
    "he sent me a screenshot of my followers",
    "he's threatening to send them to everyone",
    "it was on insta",  # where it happened, answering "which app?"
])
def test_threats_are_not_images_out(finder, text):
    assert "images_shared" not in facts(finder, text)


def test_the_component_adds_entities_and_sends_helpers_down_their_route():
    component = MessageFacts({})
    message = Message(data={"text": "my son is 14 and someone wants money for his pics",
                            "intent": {"name": "explain_situation", "confidence": 0.8}})
    component.process([message])
    entities = {entity["entity"]: entity["value"] for entity in message.get("entities")}
    assert entities == {"writer": "parent", "young_person": True}
    assert message.get("intent")["name"] == "helping_someone"
    button = Message(data={"text": "/ask_next", "intent": {"name": "ask_next", "confidence": 1.0}})
    component.process([button])
    assert not button.get("entities")


async def run_facts(intent, slots=None, entities=None, text="something"):
    tracker = make_tracker(intent, text, slots={"facts_answered": [], **(slots or {})})
    tracker.latest_message["entities"] = entities or []
    dispatcher = CollectingDispatcher()
    events = await ActionFacts().run(dispatcher, tracker, {})
    return events, dispatcher


@pytest.mark.parametrize("intent", ["ask_pay", "explain_situation", "ask_report"])
async def test_under_18_help_comes_first_and_once(intent):
    events, dispatcher = await run_facts(intent, slots={"under_18": True})
    assert [m["response"] for m in dispatcher.messages] == ["utter_under_18"]
    assert {"event": "slot", "name": "facts_answered", "value": ["under_18"], "timestamp": None} in events
    _, again = await run_facts(intent, slots={"under_18": True, "facts_answered": ["under_18"]})
    assert again.messages == []


async def test_a_parent_gets_their_route_and_their_childs_age_counts():
    events, dispatcher = await run_facts(
        "helping_someone", slots={"writer": "parent"},
        entities=[{"entity": "young_person", "value": True}])
    assert [m["response"] for m in dispatcher.messages] == ["utter_helping_someone"]
    names = {event["name"]: event["value"] for event in events}
    assert names["for_someone"] is True and names["under_18"] is True


async def test_images_out_get_the_takedown_help_with_the_answer_to_the_question():
    _, dispatcher = await run_facts("ask_pay", slots={"images_shared": True, "under_18": True})
    assert [m["response"] for m in dispatcher.messages] == ["utter_under_18", "utter_images_shared"]
    _, own_rule = await run_facts("images_shared", slots={"images_shared": True})
    assert own_rule.messages == []  # the images_shared rule answers it next


async def test_nothing_known_nothing_said():
    events, dispatcher = await run_facts("ask_pay")
    assert dispatcher.messages == [] and events == []


def parsed(text, intent, ranking=()):
    message = Message(data={"text": text, "intent": {"name": intent, "confidence": 0.6},
                            "intent_ranking": [{"name": intent, "confidence": 0.6}, *ranking]})
    MessageFacts({}).process([message])
    return message


def test_a_victim_the_classifier_took_for_a_helper_is_answered_as_themselves():
    message = parsed("can childline help? im 15 and someone has nudes of me", "helping_someone",
                     [{"name": "ask_report", "confidence": 0.3}])
    assert message.get("intent")["name"] == "ask_report"
    assert {e["entity"]: e["value"] for e in message.get("entities")}["under_18"] is True


def test_an_unsure_classifier_answers_the_fact_instead_of_asking_what_was_meant():
    assert parsed("im 15 and they dont even know i have it", "nlu_fallback").get("intent")["name"] == "under_18"
    assert parsed("he's posting them rn", "nlu_fallback").get("intent")["name"] == "images_shared"


def test_round_5_set_helpers_without_role_words_and_steps_not_done(finder):
    """tests/data/helpers_and_steps_blind5.yml, written blind, scored once before any fix
    (docs/evaluation.md, round 5), since used for tuning. The bars are what was
    reached, so that a change that loses ground fails."""
    import yaml

    from actions.four_steps import steps_already_done
    from tests.conftest import ROOT

    sets = yaml.safe_load((ROOT / "tests" / "data" / "helpers_and_steps_blind5.yml").read_text())

    def helping(text):
        return facts(finder, text).get("writer", "self") != "self"

    assert sum(map(helping, sets["helpers"])) >= 22  # of 30
    assert [t for t in sets["self_not_helpers"] if helping(t)] == []
    # A wrong "done" skips advice: never, on what is not done yet or what the blackmailer did.
    assert [t for t in sets["not_done_yet"] if steps_already_done(t)] == []
    found = [set(x["done"]) <= steps_already_done(x["text"]) for x in sets["done_already"]]
    assert sum(found) >= 11  # of 15: narrow on purpose (a missed one only repeats a step)
    assert all(steps_already_done(x["text"]) <= set(x["done"]) for x in sets["done_already"])

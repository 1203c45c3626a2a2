"""The gateway's safety floor (bot/conversation/crisis_floor.py): the crisis patterns alone,
as the gateway runs them when Rasa can't read a message. Without the classifier
it must still catch nearly every crisis in the crisis sets, and raise few false
alarms (a false alarm is a kind message with phone numbers)."""
import asyncio

import pytest
import yaml

import components.crisis_safety_net as safety_net
from bot.conversation.crisis_floor import load_crisis_floor
from components.crisis_matcher import DEFAULT_PATTERNS, CrisisMatcher
from tests.conftest import DATA

SETS = ["crisis_set.yml", "crisis_unseen.yml", "crisis_blind3.yml", "crisis_blind4.yml",
        "crisis_blind5.yml"]


@pytest.fixture(scope="module")
def floor():
    return load_crisis_floor()


@pytest.mark.parametrize("name", SETS)
def test_the_floor_catches_crises_on_its_own(floor, name):
    labelled = yaml.safe_load((DATA / name).read_text())
    crises, others = labelled["crisis"], labelled["not_crisis"]
    caught = [text for text in crises if floor.needs_crisis_reply(text)]
    alarms = [text for text in others if floor.needs_crisis_reply(text)]
    assert len(caught) / len(crises) >= 0.95, sorted(set(crises) - set(caught))
    assert len(alarms) / len(others) <= 0.06, alarms


def test_the_floor_reads_the_safety_nets_own_patterns(floor):
    # One matcher, one patterns file: Rasa's net and the gateway's floor can't drift apart.
    assert safety_net.CrisisMatcher is CrisisMatcher and safety_net.DEFAULT_PATTERNS == DEFAULT_PATTERNS
    assert isinstance(floor._matcher, CrisisMatcher)
    # Upper case, a filter-dodging spelling and a reassurance, as Rasa reads them.
    assert floor.needs_crisis_reply("I WANT TO KILL MYSELF")
    assert floor.needs_crisis_reply("k i l l m y s e l f")
    assert not floor.needs_crisis_reply("i'm not suicidal, just really stressed about the pics")
    assert not floor.needs_crisis_reply("he says he'll post my pics tonight")


def test_checks_made_at_once_are_batched_and_each_gets_its_own_answer(floor):
    from bot.conversation.crisis_floor import CrisisChecks, CrisisFloor

    batches = []

    class Counting(CrisisFloor):
        def needs_crisis_replies(self, texts):
            batches.append(len(texts))
            return super().needs_crisis_replies(texts)

    checks = CrisisChecks(Counting(floor._matcher, floor._nlp))
    texts = ["he wants £200 or he posts them", "i want to kill myself"] * 50

    async def all_at_once():
        return await asyncio.gather(*(checks.check(text) for text in texts))

    try:
        answers = asyncio.run(all_at_once())
    finally:
        checks.close()
    assert answers == [False, True] * 50
    assert sum(batches) == 100 and len(batches) <= 3  # the first alone, the rest together

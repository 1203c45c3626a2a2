"""The bars of understanding, on blind sets, through the whole running system.

Each conversation goes through the gateway's public API in a fresh session, as a
victim (or a parent) would send it: redaction, Rasa, the rules and the actions
all take part (scripts/evaluate_sets.py). The sets were written by people who
never saw our data; docs/evaluation.md has each one's first, blind score.

- Crisis: every crisis message gets the crisis response or the gentle question;
  at most 5% of non-crisis messages get the crisis response, at most 15% the question.
- Under 18: the under-18 help in at least 95% of conversations where the age is said.
- Parents and carers: their route in at least 90% of their conversations.
- Facts: each fact a message states is kept (slots) in at least 85% of messages,
  and every crisis among them is caught.
"""
import json

import pytest

from scripts.evaluate_sets import SETS, TESTS, Client, score_set, summary
from tests.conftest import ROOT, STACK_TOKEN

MAX_FALSE_ALARMS = 0.05
MAX_CHECKS = 0.15
MIN_UNDER_18 = 0.95
MIN_PARENTS = 0.90
MIN_FACT_ACCURACY = 0.85


@pytest.fixture(scope="module")
def client(stack):
    return Client(stack["base"], stack["rasa"], STACK_TOKEN)


@pytest.fixture(scope="module")
def record():
    """Every score, kept in results/understanding.json for docs/evaluation.md."""
    scores = {}
    yield scores
    out = ROOT / "results"
    out.mkdir(exist_ok=True)
    (out / "understanding.json").write_text(json.dumps(scores, indent=1, ensure_ascii=False))


def scored(client, record, kind, name):
    score = score_set(client, kind, name)
    record[name] = score
    print(summary(kind, name, score))
    return score


def existing(kind):
    return [name for name in SETS[kind] if (TESTS / name).exists()]


@pytest.mark.parametrize("name", existing("crisis"))
def test_every_crisis_is_answered_and_few_false_alarms(client, record, name):
    score = scored(client, record, "crisis", name)
    assert score["missed"] == []
    assert score["false_alarm_rate"] <= MAX_FALSE_ALARMS, score["alarms"]
    assert score["check_rate"] <= MAX_CHECKS, score["checked"]


@pytest.mark.parametrize("name", existing("under_18"))
def test_the_age_said_anywhere_gets_the_under_18_help(client, record, name):
    score = scored(client, record, "under_18", name)
    assert score["rate"] >= MIN_UNDER_18, score["missed"]


@pytest.mark.parametrize("name", existing("helping"))
def test_parents_and_carers_get_their_route(client, record, name):
    score = scored(client, record, "helping", name)
    assert score["parent_rate"] >= MIN_PARENTS, score["missed"]


@pytest.mark.parametrize("name", existing("facts"))
def test_every_fact_in_a_message_is_kept(client, record, name):
    score = scored(client, record, "facts", name)
    assert score["crisis_missed"] == []
    for fact, kept in score["facts"].items():
        assert kept["accuracy"] >= MIN_FACT_ACCURACY, (fact, kept["wrong"])

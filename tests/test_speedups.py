"""channels/speedups.py gives the same verdicts as Rasa's own validation."""
import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from channels import speedups

ORIGINAL = RemoteAction._validate_action_result
ANSWERS = [
    {"events": [{"event": "slot", "name": "step", "value": 2}],
     "responses": [{"response": "utter_step_stop_replying"}]},
    {"events": [], "responses": []},
    {"events": "not a list"},
    {"events": [{"no": "event"}]},
    {"events": [{"event": 3}]},
    {"responses": [{"text": 5}]},
    {"events": [{"event": "slot", "name": 5}]},
]


@pytest.fixture
def action():
    return RemoteAction("action_steps", None)


def verdict(check, action, answer):
    try:
        return check(action, answer)
    except ValidationError as error:
        return error.message


@pytest.mark.parametrize("answer", ANSWERS)
def test_every_answer_gets_the_same_verdict_and_message(action, answer):
    assert verdict(speedups._validate_action_result, action, answer) == verdict(ORIGINAL, action, answer)


def test_the_samples_include_both_verdicts(action):
    verdicts = [verdict(ORIGINAL, action, answer) for answer in ANSWERS]
    assert True in verdicts and any(isinstance(v, str) for v in verdicts)


def test_apply_replaces_rasas_check():
    speedups.apply()
    try:
        assert RemoteAction._validate_action_result is speedups._validate_action_result
    finally:
        RemoteAction._validate_action_result = ORIGINAL

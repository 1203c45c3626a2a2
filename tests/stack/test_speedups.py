"""channels/speedups.py gives the same verdicts as Rasa's own validation, and
every trained model still loads."""
from pathlib import Path

import pytest
import yaml
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.utils.tensorflow.models import RasaModel

from channels import speedups

ROOT = Path(__file__).resolve().parents[2]
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


@pytest.fixture
def applied():
    """speedups.apply() for one test, then Rasa as it was (the log filter stays:
    TensorFlow warns about the optimizer's unused state when the model is freed)."""
    load, fit = RasaModel.__dict__["load"], RasaModel.fit
    speedups.apply()
    yield
    RemoteAction._validate_action_result, RasaModel.fit = ORIGINAL, fit
    RasaModel.load = load


def test_apply_replaces_rasas_check(applied):
    assert RemoteAction._validate_action_result is speedups._validate_action_result


def test_with_the_speedups_every_trained_model_loads(applied):
    """TEDPolicy's weights once failed to load behind the loading speedup, and Rasa
    went on without TED, saying so at debug level only."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(ROOT / "models" / "assistant.tar.gz"))
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    expected = {item["name"] for item in config["pipeline"] + config["policies"]
                if item["name"] in ("DIETClassifier", "TEDPolicy")}
    loaded = {type(node._component).__name__: node._component.model
              for node in agent.processor.graph_runner._instantiated_nodes.values()
              if isinstance(getattr(node._component, "model", None), (RasaModel, type(None)))
              and type(node._component).__name__ in expected}
    assert set(loaded) == expected
    assert all(isinstance(model, RasaModel) for model in loaded.values()), loaded


def test_training_outside_loading_still_trains(applied):
    """Rasa's HTTP API can train in the same process (/model/train): only a load
    skips the training step."""
    calls = []

    class Model(RasaModel):
        def batch_loss(self, batch_in):
            calls.append("forward only")

    def original_fit(self, data, *args, **kwargs):
        calls.append("trained")

    speedups._FIT, kept = original_fit, speedups._FIT
    try:
        Model.fit(object.__new__(Model), [((1,), None)])
        assert calls == ["trained"]
        token = speedups._loading.set(True)
        Model.fit(object.__new__(Model), [((1,), None)])
        speedups._loading.reset(token)
        assert calls == ["trained", "forward only"]
    finally:
        speedups._FIT = kept

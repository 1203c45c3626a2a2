"""Two changes to how Rasa 3.6 runs, for speed (measured in docs/benchmarks.md):
checking the action server's answers, and loading the model (below).

Rasa checks every answer from the action server against a JSON schema with
`jsonschema.validate`, which first checks the *schema itself* and builds a new
validator, on every custom action of every message: a quarter of Rasa's CPU
time under load. The same check with one validator built once gives the same
answer and the same ValidationError, for a fraction of the cost.
"""
import logging
from contextvars import ContextVar
from typing import Any, Dict, Text

from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.utils.tensorflow.models import RasaModel

_SCHEMA = RemoteAction.action_response_format_spec()
_VALIDATOR = validator_for(_SCHEMA)(_SCHEMA)


def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    # What jsonschema.validate does, minus checking the schema and building a validator.
    error = best_match(_VALIDATOR.iter_errors(result))
    if error is None:
        return True
    error.message += (  # as Rasa's own: the same message and hint
        ". Failed to validate Action server response from API, make sure your "
        f"response from the Action endpoint is valid. For more information about "
        f"the format visit {DOCS_BASE_URL}/custom-actions")
    raise error


def apply() -> None:
    validator_for(_SCHEMA).check_schema(_SCHEMA)  # checked once, here
    RemoteAction._validate_action_result = _validate_action_result
    RasaModel.load = classmethod(_load_building_weights)
    RasaModel.fit = _fit
    logging.getLogger("tensorflow").addFilter(_unused_optimizer_state)


# --- Loading a model: its weights built without a training step ----------------
# To load a model Rasa builds its weights by training it on one example
# (RasaModel.load: compile, fit, then load_weights over the result). fit traces
# the whole training step into a TensorFlow graph first: most of the time Rasa
# takes to start, for a step whose result is overwritten. One forward pass on
# the same example, run eagerly, builds the same weights; load_weights then fills
# them in. The optimizer takes no step, so it has no state for load_weights to
# match: a step run eagerly made its state in another order, and TEDPolicy's
# weights then failed to load (Rasa logs that at debug level only and goes on
# without TED). Predictions are traced as before (RasaModel.run_inference).
# Only inside RasaModel.load: Rasa's HTTP API can also train in this process
# (/model/train, /model/test/intents), and that must really train.
_LOAD, _FIT = RasaModel.load.__func__, RasaModel.fit
_loading: ContextVar[bool] = ContextVar("loading", default=False)


def _load_building_weights(cls: type, *args: Any, **kwargs: Any) -> RasaModel:
    token = _loading.set(True)
    try:
        return _LOAD(cls, *args, **kwargs)
    finally:
        _loading.reset(token)


def _fit(self: RasaModel, data: Any, *args: Any, **kwargs: Any) -> Any:
    if not _loading.get():
        return _FIT(self, data, *args, **kwargs)
    batch_in, _ = data[0]  # RasaBatchDataGenerator: the one example, as fit would see it
    self.batch_loss(batch_in)
    return None


def _unused_optimizer_state(record: logging.LogRecord) -> bool:
    """TensorFlow warns, line by line, that the saved optimizer state went unused:
    expected, as no training step is taken. Any other unused value still shows."""
    message = record.getMessage()
    return not (message.startswith("Detecting that an object or model or tf.train.Checkpoint")
                or (message.startswith("Value in checkpoint could not be found")
                    and ".optimizer." in message))

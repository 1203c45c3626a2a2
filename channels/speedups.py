"""Two changes to how Rasa 3.6 runs, for speed (measured in docs/benchmarks.md):
checking the action server's answers, and loading the model (below).

Rasa checks every answer from the action server against a JSON schema with
`jsonschema.validate`, which first checks the *schema itself* and builds a new
validator, on every custom action of every message: a quarter of Rasa's CPU
time under load. The same check with one validator built once gives the same
answer and the same ValidationError, for a fraction of the cost.
"""
from typing import Any, Dict, Text

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.utils.tensorflow.models import RasaModel
from rasa.shared.constants import DOCS_BASE_URL

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
    RasaModel.fit = _fit_once_eagerly


# --- Loading a model: one training step, run eagerly ---------------------------
# To load a model Rasa builds its weights by training it on one example
# (RasaModel.load: compile, fit, then load_weights over the result). fit traces
# the whole training step into a TensorFlow graph first: most of the time Rasa
# takes to start, for a step that runs once and whose result is overwritten.
# Run eagerly, the same step builds the same weights without tracing; predictions
# are traced as before (run_inference). Rasa's own `run_eagerly` option does this
# for training; `rasa run` never trains, so here every fit is that one step.
_FIT = RasaModel.fit


def _fit_once_eagerly(self: RasaModel, *args: Any, **kwargs: Any) -> Any:
    traced = self.run_eagerly
    self.run_eagerly = True
    try:
        return _FIT(self, *args, **kwargs)
    finally:
        self.run_eagerly = traced  # predictions stay traced (RasaModel._rasa_predict)

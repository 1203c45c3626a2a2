"""The crisis safety net: a rule-based check that runs after the classifier.

The classifier can miss a crisis written in slang, with typos, or buried in a
long message, and it can raise one on an idiom. This component decides, in
three tiers, with spaCy's PhraseMatcher (on words and on lemmas) and Matcher
over the patterns in crisis_patterns.yml:

- **crisis**: crisis wording matches (`phrases`, `lemma_phrases`,
  `token_patterns`). The `crisis` intent is forced with full confidence,
  whatever the classifier thought.
- **unclear**: wording that may mean suicide or self-harm but isn't clear
  (`check`: "my life is over if this gets out", "giving my stuff away"), or only
  the classifier thinks it is a crisis. The `unclear_risk` intent is set, and the
  assistant asks directly and gently (utter_check_risk, with 999 in view).
  Asking does not plant the idea; it finds the people that rules miss, and the
  classifier's confident mistakes ("im hanging, hungover") cost a question,
  not a false alarm (docs/evaluation.md, round 4).
- **reassured**: the person says they are not at risk ("I'm not suicidal, just
  stressed"). The classifier's crisis guess is dropped for its next guess.

The id of the pattern group that fired is added to the parse result as
`crisis_match` (a pattern name, never the person's words).
"""
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from spacy.tokens import Doc

from components.crisis_matcher import DEFAULT_PATTERNS, CrisisMatcher
from components.respelling import unfiltered  # noqa: F401 - the tests import it from here

CRISIS_INTENT = "crisis"
UNCLEAR_INTENT = "unclear_risk"
MATCH_KEY = "crisis_match"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
    is_trainable=False,
    model_from="PackagedSpacyNLP",
)
class CrisisSafetyNet(GraphComponent):
    """Forces the crisis intent when crisis wording matches (see module docstring)."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [SpacyNLP]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"patterns_file": None}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._patterns_file = Path(config.get("patterns_file") or DEFAULT_PATTERNS)
        self._matcher: Optional[CrisisMatcher] = None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "CrisisSafetyNet":
        return cls(config)

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        if self._matcher is None:
            self._matcher = CrisisMatcher.from_file(model.model, self._patterns_file)
        for message in messages:
            text = message.get(TEXT)
            if not text or text.startswith("/"):  # a button's payload says what it means
                continue
            self.decide(message, text, message.get(SPACY_DOCS[TEXT]))
        return messages

    def decide(self, message: Message, text: Text, doc: Optional[Doc]) -> None:
        """The three tiers of the module docstring, most urgent first."""
        reading = self._matcher.read(text.lower(), doc)
        if reading.crisis:
            # "I had those thoughts years ago, I'm in a good place now": ask, don't alarm.
            force_intent(message, UNCLEAR_INTENT if reading.reassured else CRISIS_INTENT, reading.crisis)
            return
        guess = classifier_guess(message)
        if reading.reassured:
            if guess in (CRISIS_INTENT, UNCLEAR_INTENT):
                drop_intent(message, guess)
            return
        if reading.unclear:
            force_intent(message, UNCLEAR_INTENT, reading.unclear)
        elif guess in (CRISIS_INTENT, UNCLEAR_INTENT):
            force_intent(message, UNCLEAR_INTENT, "classifier")


def classifier_guess(message: Message) -> Optional[Text]:
    """The classifier's best intent, looking past the fallback: "not sure, but
    leaning to crisis" counts as a guess of crisis."""
    intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
    if intent != DEFAULT_NLU_FALLBACK_INTENT_NAME:
        return intent
    guesses = [entry.get(INTENT_NAME_KEY) for entry in message.get(INTENT_RANKING_KEY) or []
               if entry.get(INTENT_NAME_KEY) != DEFAULT_NLU_FALLBACK_INTENT_NAME]
    return guesses[0] if guesses else None


def drop_intent(message: Message, name: Text) -> None:
    """The next guess instead of `name` (the person said they are not at risk)."""
    ranking = [entry for entry in message.get(INTENT_RANKING_KEY) or []
               if entry.get(INTENT_NAME_KEY) not in (name, CRISIS_INTENT, UNCLEAR_INTENT)]
    if ranking:
        message.set(INTENT, ranking[0], add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
    message.set(MATCH_KEY, "reassured", add_to_output=True)


def force_intent(message: Message, name: Text, pattern_name: Text) -> None:
    """Makes `name` the top intent at full confidence, keeping the rest of the ranking."""
    forced = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
    ranking = [
        entry
        for entry in message.get(INTENT_RANKING_KEY) or []
        if entry.get(INTENT_NAME_KEY) != name
    ]
    message.set(INTENT, forced, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [forced, *ranking], add_to_output=True)
    message.set(MATCH_KEY, pattern_name, add_to_output=True)

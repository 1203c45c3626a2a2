"""The crisis safety net: a rule-based check that runs after the classifier.

The classifier can miss a crisis written in slang, with typos, or buried in a
long message. This component matches the phrase and token patterns in
crisis_patterns.yml with spaCy's PhraseMatcher (on words and on lemmas) and
Matcher and, on any match,
forces the `crisis` intent with full confidence. It never removes a crisis the
classifier found, and when the fallback fired on a message whose best guess
was crisis, it picks crisis rather than asking "did you mean...?". The id of the pattern group that fired is added to the parse
result as `crisis_match` (a pattern name, never the person's words).
"""
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Type

import yaml
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
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

CRISIS_INTENT = "crisis"
MATCH_KEY = "crisis_match"
DEFAULT_PATTERNS = Path(__file__).with_name("crisis_patterns.yml")
# "dieeee" -> "die", "kmsss" -> "kms": panic typing stretches words.
_REPEATS = re.compile(r"(\w)\1{2,}")


class CrisisMatcher:
    """Finds crisis wording in text with spaCy matchers built from a patterns file."""

    def __init__(self, nlp: Language, patterns: Dict[Text, Any]) -> None:
        self._nlp = nlp
        self._phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        for name, phrases in (patterns.get("phrases") or {}).items():
            self._phrases.add(name, [nlp.make_doc(p) for p in phrases])
        # Matched on lemmas, so "topping myself" counts as "top myself".
        self._lemma_phrases = PhraseMatcher(nlp.vocab, attr="LEMMA")
        for name, phrases in (patterns.get("lemma_phrases") or {}).items():
            self._lemma_phrases.add(name, list(nlp.pipe(phrases)))
        self._tokens = Matcher(nlp.vocab)
        for name, token_patterns in (patterns.get("token_patterns") or {}).items():
            self._tokens.add(name, token_patterns)
        self._exceptions = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._exceptions.add("exception", [nlp.make_doc(p) for p in patterns.get("exceptions") or []])

    @classmethod
    def from_file(cls, nlp: Language, path: Path = DEFAULT_PATTERNS) -> "CrisisMatcher":
        return cls(nlp, yaml.safe_load(path.read_text(encoding="utf-8")))

    def match(self, text: Text, doc: Optional[Doc] = None) -> Optional[Text]:
        """The name of the first pattern group that matches, or None.

        `doc` is the message as spaCy already parsed it (with lemmas); without
        it, the text is parsed here.
        """
        candidates = [doc if doc is not None else self._nlp(text)]
        squeezed = _REPEATS.sub(r"\1", text)
        if squeezed != text:
            candidates.append(self._nlp(squeezed))
        for candidate in candidates:
            excepted = [(start, end) for _, start, end in self._exceptions(candidate)]
            for matcher in (self._phrases, self._lemma_phrases, self._tokens):
                for match_id, start, end in matcher(candidate):
                    if not any(start < e and s < end for s, e in excepted):
                        return self._nlp.vocab.strings[match_id]
        return None


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
            if not text:
                continue
            matched = self._matcher.match(text, message.get(SPACY_DOCS[TEXT]))
            if matched:
                force_crisis(message, matched)
            elif unsure_about_crisis(message):
                force_crisis(message, "classifier_unsure")
        return messages


def unsure_about_crisis(message: Message) -> bool:
    """True when the fallback fired but the classifier's best guess was crisis.

    Asking "did you mean...?" of someone who may be suicidal wastes the moment
    that matters; they get the crisis response instead.
    """
    if (message.get(INTENT) or {}).get(INTENT_NAME_KEY) != DEFAULT_NLU_FALLBACK_INTENT_NAME:
        return False
    guesses = [
        entry.get(INTENT_NAME_KEY)
        for entry in message.get(INTENT_RANKING_KEY) or []
        if entry.get(INTENT_NAME_KEY) != DEFAULT_NLU_FALLBACK_INTENT_NAME
    ]
    return bool(guesses) and guesses[0] == CRISIS_INTENT


def force_crisis(message: Message, pattern_name: Text) -> None:
    """Makes crisis the top intent at full confidence, keeping the rest of the ranking."""
    crisis = {INTENT_NAME_KEY: CRISIS_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
    ranking = [
        entry
        for entry in message.get(INTENT_RANKING_KEY) or []
        if entry.get(INTENT_NAME_KEY) != CRISIS_INTENT
    ]
    message.set(INTENT, crisis, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [crisis, *ranking], add_to_output=True)
    message.set(MATCH_KEY, pattern_name, add_to_output=True)

"""Facts a message states, whatever its intent: the writer's age, who is writing,
already paid, images already out. A message says several things at once ("im 15,
i already paid him and hes sent them to my mates"); the classifier picks one
intent, and this component keeps the rest.

Each fact found becomes an entity (`under_18`, `young_person`, `writer`, `paid`,
`images_shared`); domain.yml maps them to the slots of ../shared/CONVERSATION.md,
so a fact said once is kept for the whole conversation, and actions/facts.py
gives the help each fact calls for. The patterns live in fact_patterns.yml
(regular expressions: ages, school years and the like are spelt, not meant, so
rules find them more reliably than a classifier trained on a few examples).

Why a component and not DIET entities: a fact such as "under 18" is said in
many ways that share no words ("im 15", "year 10", "my GCSEs"), and a missed
one sends a child down an adult's route. Rules we can read, test and extend
by kind are the safer tool here; DIET still finds the platform and the amount.
"""
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Pattern, Text, Tuple

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

DEFAULT_PATTERNS = Path(__file__).with_name("fact_patterns.yml")
WRITERS = ("parent", "professional", "friend")
# How much of the text before a match the skip tests read ("if he posts them",
# "my brother is in year 8", "he thinks i'm 19").
LOOK_BACK_CHARS = 30
# Someone else named just before a sign of school: "my little brother is in year 8".
THIRD_PERSON = re.compile(
    r"\b(he|she|they|his|her|their|brother|sister|son|daughter|nephew|niece|cousin|kid|child|friend"
    r"|mate)(?:'s|s| is| was| are| were)?\s+(?:in|at|doing|still at|starting|finished)?\s*(?:his|her|their)?\s*$"
)
# Not the writer's age but a likeness: "he says it looks like im a kid".
LIKENESS = re.compile(r"\b(like|as if|as though|looks?|looked|pretend\w*|thinks?|thought)\s+$")
# An adult age that is a lie or a pretence: "he thinks i'm 19", "i said i was 18 on my profile".
PRETENDED = re.compile(r"\b(thinks?|thought|lied|pretend\w*|said|told (?:him|her|them)|on my profile)\b[^.?!]{0,15}$")
HELPING_INTENT = "helping_someone"
FALLBACK_INTENT = "nlu_fallback"
# Someone else is writing, and the classifier heard only the story (or nothing it
# knew): theirs is the helpers' route. A question (should he pay?) keeps its answer.
HELPER_INSTEAD_OF = {"explain_situation", "out_of_scope", FALLBACK_INTENT, "under_18", "greet",
                     "feel_ashamed", "inform"}
# The classifier was unsure, but the message states a fact: answer the fact
# rather than ask "did you mean...?". Most important first.
INTENT_FOR_FACT = (("helper", HELPING_INTENT), ("under_18", "under_18"),
                   ("images_shared", "images_shared"), ("paid", "already_paid"))


def normalise(text: Text) -> Text:
    """Lower case with straight quotes: the same length, so spans still fit the text."""
    return text.lower().replace("\u2019", "'").replace("\u2018", "'")


class FactFinder:
    """Finds facts in text with the regular expressions of a patterns file."""

    def __init__(self, patterns: Dict[Text, Any]) -> None:
        words = patterns.get("words") or {}

        def compile_all(name: Text) -> List[Pattern]:
            compiled = []
            for pattern in patterns.get(name) or []:
                for word, expansion in words.items():
                    pattern = pattern.replace("{" + word + "}", expansion)
                compiled.append(re.compile(pattern))
            return compiled

        self._facts = {name: compile_all(name) for name in (
            "under_18", "at_school", "adult", "young_person", "paid", "images_shared", *WRITERS)}
        # Only the word or two just before: "if he posts", "he hasn't sent", "says hes sending".
        self._not_yet = re.compile(r"\b" + words.get("NOT_YET", "(?!x)x") + r"\s+(?:\w+\s+)?$")
        self._first_person = re.compile(words.get("FIRST_PERSON_VICTIM", "(?!x)x"))

    @classmethod
    def from_file(cls, path: Path = DEFAULT_PATTERNS) -> "FactFinder":
        return cls(yaml.safe_load(path.read_text(encoding="utf-8")))

    def _first(self, fact: Text, text: Text, skip=None) -> Optional[Tuple[int, int]]:
        for pattern in self._facts[fact]:
            for match in pattern.finditer(text):
                if skip is None or not skip(text[max(0, match.start() - LOOK_BACK_CHARS):match.start()]):
                    return match.span()
        return None

    def find(self, text: Text) -> List[Tuple[Text, Any, int, int]]:
        """(entity, value, start, end) for each fact the text states."""
        text = normalise(text)
        found: List[Tuple[Text, Any, int, int]] = []

        writer = None
        first_person = self._first_person.search(text)
        if first_person:
            found.append(("writer", "self", *first_person.span()))
        else:
            for name in WRITERS:
                span = self._first(name, text)
                if span:
                    writer = name
                    found.append(("writer", name, *span))
                    break

        if not writer:
            said_young = self._first("under_18", text, skip=LIKENESS.search)
            young = said_young or self._first("at_school", text, skip=THIRD_PERSON.search)
            adult = self._first("adult", text, skip=PRETENDED.search)
            # "I'm 19", "I'm not under 18": an adult, unless they also say their age is under 18.
            if adult and not said_young:
                found.append(("under_18", False, *adult))
            elif young:
                found.append(("under_18", True, *young))
        # Someone else's age: it counts if the writer is helping them (actions/facts.py).
        span = self._first("young_person", text)
        if span:
            found.append(("young_person", True, *span))

        for fact in ("paid", "images_shared"):
            span = self._first(fact, text, skip=self._not_yet.search)
            if span:
                found.append((fact, True, *span))
        return found

    def speaks_for_self(self, text: Text) -> bool:
        """The writer is the one being blackmailed ("blackmailing me", "my pics", "I'm 15")."""
        text = normalise(text)
        return bool(self._first_person.search(text) or self._first("adult", text)
                    or self._first("under_18", text, skip=LIKENESS.search))


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class MessageFacts(GraphComponent):
    """Adds the facts a message states as entities (see module docstring)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"patterns_file": None}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._finder = FactFinder.from_file(Path(config.get("patterns_file") or DEFAULT_PATTERNS))

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "MessageFacts":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            # Button payloads ("/affirm") carry no facts of their own.
            if not text or text.startswith("/"):
                continue
            found = self._finder.find(text)
            self._route(message, text, found)
            facts = [
                {
                    ENTITY_ATTRIBUTE_TYPE: entity,
                    ENTITY_ATTRIBUTE_VALUE: value,
                    ENTITY_ATTRIBUTE_START: start,
                    ENTITY_ATTRIBUTE_END: end,
                    EXTRACTOR: self.__class__.__name__,
                }
                for entity, value, start, end in found
            ]
            if facts:
                message.set(ENTITIES, [*(message.get(ENTITIES) or []), *facts], add_to_output=True)
        return messages

    def _route(self, message: Message, text: Text, found: List[Tuple[Text, Any, int, int]]) -> None:
        """Where the facts settle what the classifier could not (see the constants)."""
        intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        stated = {entity: value for entity, value, *_ in found}
        helper = stated.get("writer") in WRITERS
        if helper and intent in HELPER_INSTEAD_OF:
            set_intent(message, HELPING_INTENT)
        elif intent == HELPING_INTENT and not helper and self._finder.speaks_for_self(text):
            # "can childline help? im 15 and someone has my nudes": the person themselves.
            ranking = [entry for entry in message.get(INTENT_RANKING_KEY) or []
                       if entry.get(INTENT_NAME_KEY) not in (HELPING_INTENT, FALLBACK_INTENT)]
            if ranking:
                set_intent(message, ranking[0][INTENT_NAME_KEY], ranking[0].get(PREDICTED_CONFIDENCE_KEY))
        elif intent == FALLBACK_INTENT:
            stated["helper"] = helper
            for fact, fact_intent in INTENT_FOR_FACT:
                if stated.get(fact):
                    set_intent(message, fact_intent)
                    break


def set_intent(message: Message, name: Text, confidence: Optional[float] = 1.0) -> None:
    """`name` becomes the intent, first in the ranking too (rasa_sdk's actions read the ranking)."""
    chosen = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}
    ranking = [entry for entry in message.get(INTENT_RANKING_KEY) or [] if entry.get(INTENT_NAME_KEY) != name]
    message.set(INTENT, chosen, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [chosen, *ranking], add_to_output=True)

"""Finds crisis wording in a message with spaCy's matchers and the patterns in
crisis_patterns.yml: the tiers are explained in crisis_safety_net.py.

No Rasa import: Rasa's safety net and the gateway's safety floor (bot/conversation/crisis_floor.py,
for when Rasa can't answer) read the same patterns with the same code.
"""
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Text, Tuple

import yaml
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from components.respelling import unfiltered

DEFAULT_PATTERNS = Path(__file__).with_name("crisis_patterns.yml")


class Reading(NamedTuple):
    """What a message's wording says: the crisis group that matched, the `check`
    group that matched, and whether the person says they are not at risk."""
    crisis: Optional[Text]
    unclear: Optional[Text]
    reassured: bool


class CrisisMatcher:
    """Finds crisis wording in text with spaCy matchers built from a patterns file."""

    def __init__(self, nlp: Language, patterns: Dict[Text, Any]) -> None:
        self._nlp = nlp
        self._phrases = self._phrase_matcher(nlp, patterns.get("phrases"), "LOWER")
        # Matched on lemmas, so "topping myself" counts as "top myself".
        self._lemma_phrases = self._phrase_matcher(nlp, patterns.get("lemma_phrases"), "LEMMA")
        self._tokens = Matcher(nlp.vocab)
        for name, token_patterns in (patterns.get("token_patterns") or {}).items():
            self._tokens.add(name, token_patterns)
        self._exceptions = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._exceptions.add("exception", [nlp.make_doc(p) for p in patterns.get("exceptions") or []])
        check = patterns.get("check") or {}
        self._check = [self._phrase_matcher(nlp, check.get("phrases"), "LOWER"),
                       self._phrase_matcher(nlp, check.get("lemma_phrases"), "LEMMA")]
        reassurance = patterns.get("reassurance") or []
        self._reassurance = PhraseMatcher(nlp.vocab, attr="LOWER")
        self._reassurance.add("reassurance", [nlp.make_doc(p) for p in reassurance])

    @staticmethod
    def _phrase_matcher(nlp: Language, groups: Optional[Dict[Text, List[Text]]], attr: Text) -> PhraseMatcher:
        matcher = PhraseMatcher(nlp.vocab, attr=attr)
        for name, phrases in (groups or {}).items():
            matcher.add(name, list(nlp.pipe(phrases)) if attr == "LEMMA" else [nlp.make_doc(p) for p in phrases])
        return matcher

    @classmethod
    def from_file(cls, nlp: Language, path: Path = DEFAULT_PATTERNS) -> "CrisisMatcher":
        return cls(nlp, yaml.safe_load(path.read_text(encoding="utf-8")))

    def _candidates(self, text: Text, doc: Optional[Doc]) -> List[Doc]:
        """The message as parsed, then as written to get past filters, undone."""
        candidates = [doc if doc is not None else self._nlp(text)]
        for respelt in {unfiltered(text)} - {text}:
            candidates.append(self._nlp(respelt))
        return candidates

    def read(self, text: Text, doc: Optional[Doc] = None) -> Reading:
        """The tiers' evidence in one pass over the message (parsed once, and once
        more respelt). `doc` is the message as spaCy already parsed it (with
        lemmas); without it, the text is parsed here. Crisis matches inside an
        everyday phrase (`exceptions`) or a reassurance ("I'd never kill myself")
        don't count; nor do `check` matches."""
        crisis = unclear = None
        reassured = False
        for candidate in self._candidates(text, doc):
            reassurances = [(start, end) for _, start, end in self._reassurance(candidate)]
            reassured = reassured or bool(reassurances)
            excepted = reassurances + [(start, end) for _, start, end in self._exceptions(candidate)]
            crisis = crisis or self._first(candidate, (self._phrases, self._lemma_phrases, self._tokens),
                                           excepted)
            unclear = unclear or self._first(candidate, self._check, excepted)
        return Reading(crisis, unclear, reassured)

    def _first(self, doc: Doc, matchers, excepted: List[Tuple[int, int]]) -> Optional[Text]:
        for matcher in matchers:
            for match_id, start, end in matcher(doc):
                if not any(start < e and s < end for s, e in excepted):
                    return self._nlp.vocab.strings[match_id]
        return None

    def match(self, text: Text, doc: Optional[Doc] = None) -> Optional[Text]:
        """The name of the first crisis pattern group that matches, or None."""
        return self.read(text, doc).crisis

    def unclear(self, text: Text, doc: Optional[Doc] = None) -> Optional[Text]:
        """The name of the first `check` group that matches: may mean risk, ask."""
        return self.read(text, doc).unclear

    def reassured(self, text: Text, doc: Optional[Doc] = None) -> bool:
        """The person says they are not at risk ("not suicidal", "would never hurt myself")."""
        return self.read(text, doc).reassured

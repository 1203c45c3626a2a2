"""Tells when a message is something the English assistant cannot read:
emoji or symbols only, or another language. Those get a kind reply from the
gateway (replies.py) instead of a confused guess from the classifier.

Other languages are recognised two ways: a script other than Latin (Arabic,
Cyrillic, Chinese, ...), or Latin-script text made mostly of another language's
common words (spaCy's stop-word lists) and hardly any English ones.
"""
import re
import unicodedata
from functools import lru_cache
from typing import Dict, FrozenSet, Optional

from components.respelling import unfiltered

# Latin-script languages a UK chat is most likely to see.
OTHER_LATIN_LANGUAGES = ("es", "fr", "pt", "it", "de", "pl", "ro", "nl", "tr", "sq", "lt")
# Text-speak and chat words that appear in other lists but are English here.
ENGLISH_EXTRA = frozenset(
    ["im", "u", "ur", "pls", "plz", "ok", "okay", "lol", "omg", "idk", "bro", "yeah", "yes", "no", "hi",
     "hey", "hello", "help", "me", "dont", "cant", "wont", "he", "she", "they", "him", "her", "his", "my",
     "pics", "pic", "nudes", "money", "pay", "police", "scared"])


def load_word_lists() -> None:
    """Reads the languages' word lists now (seconds: spaCy builds each language's
    tokenizer rules on import), at start-up, rather than inside the first turn, where
    every conversation would wait for it."""
    _stop_words()


@lru_cache(maxsize=1)
def _stop_words() -> Dict[str, FrozenSet[str]]:
    import importlib

    words = {}
    for code in ("en", *OTHER_LATIN_LANGUAGES):
        module = importlib.import_module(f"spacy.lang.{code}.stop_words")
        words[code] = frozenset(w.lower() for w in module.STOP_WORDS)
    words["en"] = words["en"] | ENGLISH_EXTRA
    return words


# Emoji people answer with, as the words the classifier knows. Any other
# emoji-only message gets the kind "words, please" reply: the classifier
# has no features for an emoji it never saw and would guess at random.
EMOJI_MEANINGS = {
    "👍": "yes", "👌": "ok", "✅": "done", "✔": "done", "☑": "done", "🆗": "ok",
    "👎": "no", "❌": "no", "✖": "no", "🚫": "no",
    "🙏": "thank you", "🙌": "thank you", "💯": "yes",
    "👋": "hi",
}
# Skin tones, variation selectors and joiners change how an emoji looks, not what it means.
EMOJI_MODIFIERS = re.compile("[\U0001F3FB-\U0001F3FF\uFE0E\uFE0F\u200D]")


def emoji_meaning(text: str) -> Optional[str]:
    """The words for an emoji-only answer like "👍👍", or None if we don't know it."""
    symbols = set(EMOJI_MODIFIERS.sub("", "".join(text.split())))
    meanings = {EMOJI_MEANINGS.get(symbol) for symbol in symbols}
    return meanings.pop() if len(meanings) == 1 and None not in meanings else None


def _letters(text: str):
    return [c for c in text if c.isalpha()]


def kind_of_text(text: str) -> Optional[str]:
    """'no_words' (emoji or symbols only), 'other_language', or None for English.

    Digits count as words: "16" answers "how old are you?".
    """
    letters = _letters(text)
    if not letters:
        return None if any(c.isdigit() for c in text) else "no_words"
    latin = sum("LATIN" in unicodedata.name(c, "") for c in letters)
    if latin / len(letters) < 0.5:
        return "other_language"
    # Spaced or dotted letters ("k.m.s") read as the word they spell, not as
    # one-letter words that happen to be in another language's list.
    words = re.findall(r"[^\W\d_]+", unfiltered(text.lower()))
    if len(words) < 3:
        return None  # too short to tell: let the assistant try
    lists = _stop_words()
    english = sum(w in lists["en"] for w in words)
    foreign = max(len({w for w in words if w in lists[code] and w not in lists["en"]})
                  for code in OTHER_LATIN_LANGUAGES)
    if foreign >= 2 and foreign >= 0.3 * len(words) and english <= 0.25 * len(words):
        return "other_language"
    return None

"""Words written to get past filters, put back: "dieeee", "k i l l m y s e l f", "su1c1de".

Shared by the crisis safety net (which matches the respelt text too) and the
gateway's redaction (which must never hide such a word as a postcode or a
username: the safety net reads the redacted text). Plain Python: the gateway
imports it without Rasa.
"""
import re

# "dieeee" -> "die", "kmsss" -> "kms": panic typing stretches words.
_REPEATS = re.compile(r"(\w)\1{2,}")
# "k i l l  m y s e l f": letters spaced out to get past filters.
_SPACED = re.compile(r"\b(?:[a-z][ .*_-]){2,}[a-z]\b")
# "su1c1de", "d1e": digits for letters, inside a word that has letters too.
_LEET = str.maketrans({"1": "i", "3": "e", "0": "o", "4": "a", "5": "s", "@": "a", "$": "s", "!": "i"})
_LEET_WORD = re.compile(r"\b(?=\S*[a-z])(?=\S*[0-9@$!])[a-z0-9@$!]+\b")


def unfiltered(text: str) -> str:
    """The (lower-case) text with stretched, spaced-out and digit-for-letter words put back."""
    text = _REPEATS.sub(r"\1", text)
    text = _SPACED.sub(lambda m: re.sub(r"[ .*_-]", "", m.group()), " ".join(text.split()))
    return _LEET_WORD.sub(lambda m: m.group().translate(_LEET), text)

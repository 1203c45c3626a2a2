"""The redactor on its own: what it hides, and what it must leave alone so that
the assistant still understands the person. Recall and precision per kind on the
labelled sets are reported by `make redaction` (part of `make test`)."""
import pytest

from bot.redaction import load_redactor


@pytest.fixture(scope="module")
def redact():
    return load_redactor().redact


@pytest.mark.parametrize("text, expected", [
    ("my names ryan and my number is 07700 900123",
     "my names [NAME] and my number is [PHONE]"),
    ("text me on +44 (0)7700-900-456 or ryan.k99@hotmail.co.uk",
     "text me on [PHONE] or [EMAIL]"),
    ("he wants it sent to paypal.me/kingd4490 tonight", "he wants it sent to [URL] tonight"),
    ("his snap is jayy_x2007", "his snap is [HANDLE]"),
    ("i live at 14 elm road NN1 1AA", "i live at [ADDRESS] [POSTCODE]"),
    ("sort code 20-00-00 acc 55779911", "sort code [BANK] acc [BANK]"),
    ("card 4539 1488 0343 6467", "card [CARD]"),
    ("he said he'd send them to my sister chloe", "he said he'd send them to my sister [NAME]"),
])
def test_personal_data_becomes_a_placeholder(redact, text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "he wants £300 by 9pm tonight or he posts them",
    "im 15 and in year 10",
    "should i call 999 or 101",
    "i rang samaritans on 116 123 and texted shout to 85258",
    "childline is 0800 1111 right?",
    "he found me on Snapchat and then Instagram",
    "I dont know what to do. Please help me",
    "i want to kill myself",
    "he says hes going to send it to my mum and dad and my whole school",
    "OMG HE SENT IT TO MY FRIENDS",
    "I'm doing my GCSEs and I'm in Year 10",
])
def test_what_the_assistant_needs_is_left_alone(redact, text):
    assert redact(text) == text


def test_the_crisis_words_are_never_hidden(redact):
    """The crisis safety net reads the redacted text: "how to hang myself" must not
    become "how to [NAME] myself" because Hang is also a name."""
    import re
    from collections import Counter
    from pathlib import Path

    import yaml

    from bot.redaction import crisis_words

    watched = crisis_words()
    assert {"hang", "pills", "bridge", "kms"} <= watched
    sets = sorted(Path(__file__).parent.glob("crisis_*.yml"))
    texts = [t for s in sets for part in yaml.safe_load(s.read_text()).values() for t in part]
    assert len(texts) > 400

    def words(text):
        return Counter(w for w in re.findall(r"[a-z']+", text.lower()) if w in watched)

    lost = [text for text in texts if words(redact(text)) != words(text)]
    assert lost == []


@pytest.mark.parametrize("pattern", ["1", "1 ", "1-", "(1)", "a.", "a_", "x at y dot ", "12 a b c "])
def test_hostile_text_cannot_stall_redaction(redact, pattern):
    """Redaction runs on one thread for every chat: a message built to make a
    regular expression backtrack ("1111…1a" once took days) must finish quickly.
    The bound is loose on purpose: the failure it guards against is exponential."""
    import time

    text = (pattern * 2000)[:1999] + "a"
    started = time.monotonic()
    redact(text)
    assert time.monotonic() - started < 10

"""Finding a come-back code typed into a message (bot/conversation/come_back_code.py,
`hidden`): however it is typed, and only a code: every message of the training data
and the blind test sets is left as it was."""
import itertools
from pathlib import Path

import yaml

from bot.conversation.come_back_code import HIDE_FROM, PLACEHOLDER, hidden, new_code

ROOT = Path(__file__).resolve().parents[2]


def messages():
    """Every string in data/nlu and tests/data, line by line, as people typed them."""
    def strings(node):
        if isinstance(node, str):
            yield node
        elif isinstance(node, (list, dict)):
            for child in node.values() if isinstance(node, dict) else node:
                yield from strings(child)
    for path in itertools.chain((ROOT / "data" / "nlu").glob("*.yml"), (ROOT / "tests" / "data").glob("*.yml")):
        for text in strings(yaml.safe_load(path.read_text(encoding="utf-8"))):
            yield from (line.lstrip("- ").strip() for line in text.splitlines() if line.strip())


def test_a_code_is_hidden_however_it_is_typed():
    code = new_code()
    words = code.split(" ")
    for typed in (code, code.upper(), "-".join(words), ", ".join(words) + ".", '"' + code + '"',
                  "\n".join(words), f"{code} {code}", "  " + " . ".join(w.capitalize() for w in words)):
        assert hidden(typed) == PLACEHOLDER, typed
    assert hidden(f"my code is {code}, it doesnt work") == f"my code is {PLACEHOLDER}, it doesnt work"
    assert hidden(f"1. {code}") == f"1. {PLACEHOLDER}"  # a number is more than a code
    # Most of a code is hidden too: one word mistyped or left out (found in review).
    mistyped = " ".join([*words[:6], "tulpi"])
    assert hidden(mistyped) == f"{PLACEHOLDER} tulpi"
    five = " ".join(words[:HIDE_FROM])
    assert hidden(five) == PLACEHOLDER
    four = " ".join(words[:HIDE_FROM - 1])
    assert hidden(four) == four  # four words in a row happen in what people write


def test_what_people_write_is_left_alone():
    said = list(messages())
    assert len(said) > 5000
    changed = [text for text in said if hidden(text) != text]
    assert changed == []

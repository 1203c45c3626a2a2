"""Wrap-up on close: the categories a support worker ticks and the one outcome they
choose, from the list the team edits (`wrapup.yml`, WRAPUP_FILE).

Read once at start-up: a malformed file stops the gateway with a clear error
(WrapUpFileError), so a typo is found at deploy time, not mid-shift. What is
chosen becomes anonymous counts in insights (bot/insights/counts.py), never
free text. The facts the assistant already knows (insight marks, and a crisis
handoff) tick their categories before the worker opens the form.
"""
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

import yaml

from bot.errors import Problem

# What the gateway may know of a conversation when it closes: the insight marks
# of the same names (bot/insights/counts.py), and a crisis handoff.
FACTS = ("under_18", "paid", "images_shared", "crisis", "helping_someone")
# Ids are counter names in the store: short, plain, and safe in a CSV heading.
ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_LABEL = 80


class WrapUpFileError(ValueError):
    """The wrap-up file can't be used: the message says where and why."""


@dataclass(frozen=True)
class Choice:
    id: str
    label: str
    ticked_when: Optional[str] = None


@dataclass(frozen=True)
class WrapUpList:
    categories: Tuple[Choice, ...]
    outcomes: Tuple[Choice, ...]

    def ticked(self, facts: Iterable[str]) -> List[str]:
        """The categories that the known facts tick before the worker looks."""
        known = set(facts)
        return [c.id for c in self.categories if c.ticked_when in known]

    def form(self, facts: Iterable[str]) -> Dict[str, Any]:
        """What the console's form shows: the lists, and what is ticked already."""
        return {"categories": [{"id": c.id, "label": c.label} for c in self.categories],
                "outcomes": [{"id": o.id, "label": o.label} for o in self.outcomes],
                "ticked": self.ticked(facts)}

    def chosen(self, body: Dict[str, Any]) -> Optional[Tuple[List[str], str]]:
        """(categories, outcome) from a close request's body; None when it gives no
        wrap-up at all (an older console). Raises Problem(400) for anything unknown."""
        if body.get("categories") is None and body.get("outcome") is None:
            return None
        given = body.get("categories") or []
        if not isinstance(given, list) or not all(isinstance(c, str) for c in given):
            raise Problem(400, "categories must be a list of category ids.")
        known = {c.id for c in self.categories}
        unknown = [c for c in given if c not in known]
        if unknown:
            raise Problem(400, f"Unknown category: {unknown[0][:40]}. Reload the console "
                               f"to get the current list.")
        outcome = body.get("outcome")
        if not isinstance(outcome, str) or not outcome:
            raise Problem(400, "Choose one outcome.")
        if outcome not in {o.id for o in self.outcomes}:
            raise Problem(400, f"Unknown outcome: {outcome[:40]}. Reload the console "
                               f"to get the current list.")
        # In the file's order, each once: a double tick is one tick.
        return [c.id for c in self.categories if c.id in given], outcome


def load_wrapup(path: Path) -> WrapUpList:
    """The team's list, checked; WrapUpFileError says what is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise WrapUpFileError(f"Can't read the wrap-up file {path}: {error.strerror}.") from None
    except yaml.YAMLError as error:
        raise WrapUpFileError(f"The wrap-up file {path} is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise WrapUpFileError(f"The wrap-up file {path} must have `categories` and `outcomes`.")
    categories = _choices(data, "categories", path, facts_allowed=True)
    outcomes = _choices(data, "outcomes", path, facts_allowed=False)
    return WrapUpList(categories, outcomes)


def _choices(data: Dict[str, Any], key: str, path: Path, facts_allowed: bool) -> Tuple[Choice, ...]:
    entries = data.get(key)
    if not isinstance(entries, list) or not entries:
        raise WrapUpFileError(f"The wrap-up file {path} needs a non-empty list `{key}`.")
    choices, seen = [], set()
    for number, entry in enumerate(entries, start=1):
        where = f"{path}, {key} entry {number}"
        if not isinstance(entry, dict):
            raise WrapUpFileError(f"{where}: give `id` and `label`.")
        extra = set(entry) - {"id", "label", *(("ticked_when",) if facts_allowed else ())}
        if extra:
            raise WrapUpFileError(f"{where}: unknown key `{sorted(extra)[0]}`.")
        id_, label, fact = entry.get("id"), entry.get("label"), entry.get("ticked_when")
        if not isinstance(id_, str) or not ID.match(id_):
            raise WrapUpFileError(f"{where}: `id` must be lower case letters, digits and _ "
                                  f"(up to 40), starting with a letter.")
        if id_ in seen:
            raise WrapUpFileError(f"{where}: the id `{id_}` is used twice.")
        if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL:
            raise WrapUpFileError(f"{where}: `label` must be text, 1 to {MAX_LABEL} characters.")
        if fact is not None and fact not in FACTS:
            raise WrapUpFileError(f"{where}: `ticked_when` must be one of {', '.join(FACTS)}.")
        seen.add(id_)
        choices.append(Choice(id_, label.strip(), fact))
    return tuple(choices)

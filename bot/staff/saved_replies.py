"""Saved replies: the titled snippets a support worker inserts by typing "/" in the
reply box (GET /staff/api/saved-replies; docs/handoff.md, "Saved replies").

The team edits saved_replies.yml (SAVED_REPLIES_FILE). Numbers and links are never
typed there: a placeholder such as {childline.phone} takes them from the fact sheet
(services.yml), so they are right and pass redaction as they are. The file is read
once, when the gateway starts; anything wrong with it (a placeholder the fact sheet
doesn't have, a missing title, a repeated id) stops the start with words saying
what and where, rather than a worker finding out mid-chat.
"""
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml

from bot.fact_sheet import FactSheet
from bot.settings import ROOT

# What a placeholder may take from a service (bot/fact_sheet.py Service).
FIELDS = ("name", "phone", "text", "number", "web", "email", "hours")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
ID_SHAPE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_TITLE = 80


class SavedRepliesError(ValueError):
    """The saved replies file can't be used: the gateway does not start."""


@dataclass(frozen=True)
class SavedReply:
    id: str
    title: str
    text: str


def file_path(setting: str) -> Path:
    """SAVED_REPLIES_FILE: relative to the repository's root unless absolute."""
    path = Path(setting)
    return path if path.is_absolute() else ROOT / path


def fill_in(text: str, sheet: FactSheet, where: str) -> str:
    """{service.field} -> the fact sheet's value, exactly as written there."""
    def value(match: "re.Match[str]") -> str:
        key, _, field = match.group(1).partition(".")
        service = sheet.services.get(key)
        if service is None or field not in FIELDS or not getattr(service, field):
            known = ", ".join(sorted(sheet.services))
            raise SavedRepliesError(
                f"{where}: the fact sheet (services.yml) has no {{{match.group(1)}}}. "
                f"Use {{service.field}} with a service from: {known}; "
                f"and a field it has from: {', '.join(FIELDS)}.")
        return str(getattr(service, field))

    filled = PLACEHOLDER.sub(value, text)
    if "{" in filled or "}" in filled:
        raise SavedRepliesError(f"{where}: a curly bracket is not part of a placeholder "
                                "like {childline.phone}.")
    return filled


def _reply(entry: Any, number: int, sheet: FactSheet, max_chars: int) -> SavedReply:
    where = f"reply {number}"
    if not isinstance(entry, dict) or set(entry) != {"id", "title", "text"}:
        raise SavedRepliesError(f"{where}: give exactly an id, a title and a text.")
    for field in ("id", "title", "text"):
        if not isinstance(entry[field], str) or not entry[field].strip():
            raise SavedRepliesError(f"{where}: its {field} must be some words.")
    reply_id = entry["id"]
    where = f"reply {number} ({reply_id})"
    if not ID_SHAPE.fullmatch(reply_id):
        raise SavedRepliesError(f"{where}: an id is lower-case letters, digits and dashes.")
    if len(entry["title"]) > MAX_TITLE:
        raise SavedRepliesError(f"{where}: its title is over {MAX_TITLE} characters.")
    text = fill_in(entry["text"].strip(), sheet, where)
    if len(text) > max_chars:
        raise SavedRepliesError(f"{where}: its text is over {max_chars} characters, "
                                "the longest reply a worker can send.")
    return SavedReply(reply_id, entry["title"].strip(), text)


def load(path: Path, sheet: FactSheet, max_chars: int = 2000) -> Tuple[SavedReply, ...]:
    """Every saved reply, placeholders filled in, in the file's order."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SavedRepliesError(f"can't read it ({error.strerror or error}).") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" near line {mark.line + 1}" if mark else ""
        raise SavedRepliesError(f"it is not valid YAML{line}.") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("replies"), list) or not raw["replies"]:
        raise SavedRepliesError('it needs a list of replies under "replies:".')
    replies = [_reply(entry, number, sheet, max_chars)
               for number, entry in enumerate(raw["replies"], start=1)]
    ids = [reply.id for reply in replies]
    for reply_id in ids:
        if ids.count(reply_id) > 1:
            raise SavedRepliesError(f"the id {reply_id} is used twice.")
    return tuple(replies)


class SavedReplies:
    """The team's saved replies, read once at start-up."""

    def __init__(self, setting: str, sheet: FactSheet, max_chars: int = 2000) -> None:
        self.path = file_path(setting)
        try:
            self.replies = load(self.path, sheet, max_chars)
        except SavedRepliesError as error:
            raise SavedRepliesError(f"The saved replies file {self.path}: {error}") from None

    def as_json(self) -> List[Dict[str, str]]:
        return [asdict(reply) for reply in self.replies]

"""The checks on what a client sends, for every channel: typed text, session ids and
JSON bodies. A failed check raises Problem (bot/errors.py) with words the page shows."""
import json
import unicodedata
from typing import Any, Dict

from aiohttp import web

from bot.conversation.turn import SESSION_ID
from bot.errors import Problem


def check_text(value: Any, max_chars: int) -> str:
    """The one place typed text is checked, for every channel."""
    if not isinstance(value, str):
        raise Problem(400, "'text' must be a string.")
    if not value.strip():
        raise Problem(400, "The message is empty.")
    # Also as read: one character can unfold into 18 (U+FDFA), and the redactor's time
    # grows with the text, so 2,000 of them would hold up every conversation for seconds.
    if len(value) > max_chars or len(unicodedata.normalize("NFKC", value)) > 2 * max_chars:
        raise Problem(413, f"The message is too long: at most {max_chars} characters "
                           "(some symbols count as several), please.")
    return value


def check_session(value: Any) -> str:
    if not isinstance(value, str) or not SESSION_ID.match(value):
        raise Problem(400, "'session' is not a valid session id.")
    return value


def check_after(value: str) -> int:
    """?after=N and a join's "after": how many messages the client has already."""
    if not (value.isascii() and value.isdigit()) or len(value) > 12:
        raise Problem(400, "'after' must be a whole number, 0 or more.")
    return int(value)


def parse_json(raw) -> Any:
    """JSON from a body or frame; ValueError for anything that isn't JSON,
    including bytes that aren't UTF-8 and nesting deep enough to exhaust Python."""
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, RecursionError) as error:
        raise ValueError("not JSON") from error


def json_object(raw: bytes) -> Dict[str, Any]:
    """A body that must be a JSON object: the API's, and the webhooks' once their
    signature or secret has been checked."""
    try:
        data = parse_json(raw)
    except ValueError:
        raise Problem(400, "The body must be JSON.") from None
    if not isinstance(data, dict):
        raise Problem(400, "The body must be a JSON object.")
    return data


async def read_json_object(request: web.Request) -> Dict[str, Any]:
    return json_object(await request.read())

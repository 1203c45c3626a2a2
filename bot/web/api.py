"""The HTTP API (docs/api.md; the OpenAPI document is openapi.yaml):

    GET  /api/health                      200 when Rasa and the action server answer, else 503
    POST /api/chat                        {"session"?, "text"} -> {"session", "messages"}
    GET  /api/chat/{session}/messages     ?after=N -> {"messages": [...]}
    GET  /api/openapi.json
"""
import json
import unicodedata
from pathlib import Path
from typing import Any, Dict

import yaml
from aiohttp import web

from bot.conversation.turn import SESSION_ID, Busy, Conversations, RateLimited, SessionNotFound
from bot.errors import json_error
from bot.keys import CONVERSATIONS, SETTINGS

OPENAPI = yaml.safe_load((Path(__file__).resolve().parent.parent / "openapi.yaml").read_text())


class BadInput(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def conversations(request: web.Request) -> Conversations:
    return request.app[CONVERSATIONS]


def check_text(value: Any, max_chars: int) -> str:
    """The one place typed text is checked, for every channel."""
    if not isinstance(value, str):
        raise BadInput(400, "'text' must be a string.")
    if not value.strip():
        raise BadInput(400, "The message is empty.")
    # Also as read: one character can unfold into 18 (U+FDFA), and the redactor's time
    # grows with the text, so 2,000 of them would hold up every conversation for seconds.
    if len(value) > max_chars or len(unicodedata.normalize("NFKC", value)) > 2 * max_chars:
        raise BadInput(413, f"The message is too long: at most {max_chars} characters "
                            "(some symbols count as several), please.")
    return value


def check_session(value: Any) -> str:
    if not isinstance(value, str) or not SESSION_ID.match(value):
        raise BadInput(400, "'session' is not a valid session id.")
    return value


def parse_json(raw) -> Any:
    """JSON from a body or frame; ValueError for anything that isn't JSON,
    including bytes that aren't UTF-8 and nesting deep enough to exhaust Python."""
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, RecursionError) as error:
        raise ValueError("not JSON") from error


async def read_json_object(request: web.Request) -> Dict[str, Any]:
    try:
        data = parse_json(await request.read())
    except ValueError:
        raise BadInput(400, "The body must be JSON.") from None
    if not isinstance(data, dict):
        raise BadInput(400, "The body must be a JSON object.")
    return data


def public(message: Dict[str, Any]) -> Dict[str, Any]:
    """A reply as POST /api/chat shows it."""
    shown = {"text": message.get("text", "")}
    for key in ("buttons", "response"):
        if message.get(key):
            shown[key] = message[key]
    return shown


async def health(request: web.Request) -> web.Response:
    parts = await conversations(request).assistant.health()
    ok = all(state == "up" for state in parts.values())
    return web.json_response({"status": "ok" if ok else "unavailable", **parts},
                             status=200 if ok else 503)


async def chat(request: web.Request) -> web.Response:
    try:
        data = await read_json_object(request)
        text = check_text(data.get("text"), request.app[SETTINGS].max_text_chars)
        session = data.get("session")
        chats = conversations(request)
        if session is None:
            session, replies = await chats.start_with("web", text)
        else:
            replies = await chats.say(check_session(session), text)
    except BadInput as error:
        return json_error(error.status, error.message)
    except SessionNotFound:
        return json_error(404, SessionNotFound.message)
    except RateLimited as error:
        return json_error(429, error.message, **{"Retry-After": str(error.retry_after)})
    except Busy:  # nothing was kept: the page puts the words back to send again
        return json_error(503, Busy.message, **{"Retry-After": str(Busy.retry_after)})
    return web.json_response({"session": session, "messages": [public(m) for m in replies]})


async def messages(request: web.Request) -> web.Response:
    try:
        session = check_session(request.match_info["session"])
        after = request.query.get("after", "0")
        if not (after.isascii() and after.isdigit()) or len(after) > 12:
            raise BadInput(400, "'after' must be a whole number, 0 or more.")
    except BadInput as error:
        return json_error(error.status, error.message)
    found = await conversations(request).store.messages_after(session, int(after))
    if found is None:
        return json_error(404, "No such conversation.")
    return web.json_response({"messages": found})


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/health", health)
    app.router.add_post("/api/chat", chat)
    app.router.add_get("/api/chat/{session}/messages", messages)
    app.router.add_get("/api/openapi.json", openapi)

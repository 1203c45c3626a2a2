"""The HTTP API (docs/api.md; the OpenAPI document is openapi.yaml):

    GET  /api/health                      200 when Rasa and the action server answer, else 503
    POST /api/chat                        {"session"?, "text"} -> {"session", "messages"}
    GET  /api/chat/{session}/messages     ?after=N -> {"messages": [...]}
    GET  /api/openapi.json

The come-back code's routes (POST /api/chat/{session}/code, POST /api/chat/resume) are
in come_back.py.
"""
from pathlib import Path
from typing import Any, Dict

import yaml
from aiohttp import web

from bot.conversation.turn import Conversations
from bot.errors import Problem
from bot.keys import CONVERSATIONS, SETTINGS
from bot.staff.seen import sent_to_page
from bot.web.checks import check_after, check_session, check_text, read_json_object

# A session that isn't there (never was, or deleted): the same words on every chat route.
NO_CHAT = "No such conversation."

OPENAPI = yaml.safe_load((Path(__file__).resolve().parent.parent / "openapi.yaml").read_text())


def conversations(request: web.Request) -> Conversations:
    return request.app[CONVERSATIONS]


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
    data = await read_json_object(request)
    text = check_text(data.get("text"), request.app[SETTINGS].max_text_chars)
    session = data.get("session")
    chats = conversations(request)
    if session is None:
        session, replies = await chats.start_with("web", text)
    else:
        replies = await chats.say(check_session(session), text)
    return web.json_response({"session": session, "messages": [public(m) for m in replies]})


async def messages(request: web.Request) -> web.Response:
    session = check_session(request.match_info["session"])
    after = check_after(request.query.get("after", "0"))
    found = await conversations(request).store.messages_after(session, after)
    if found is None:
        raise Problem(404, NO_CHAT)
    await sent_to_page(conversations(request), session, found)  # staff replies: no longer "not seen"
    return web.json_response({"messages": found})


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/api/health", health)
    app.router.add_post("/api/chat", chat)
    app.router.add_get("/api/chat/{session}/messages", messages)
    app.router.add_get("/api/openapi.json", openapi)

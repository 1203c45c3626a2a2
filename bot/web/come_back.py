"""The come-back code: an anonymous way back to a web conversation after the tab
is closed or quick exit pressed, with no account, email or phone number
(docs/privacy.md, "The come-back code").

    POST /api/chat/{session}/code   {"replace": bool}? -> 201 {"code": "seven words"}; 409 if the
                                    chat has a code and replace isn't true (then the old one stops working)
    POST /api/chat/resume           {"code": str} -> 200 {"session": str}, or 404 after a pause

A code's words, how it is read back and what the store keeps of it are
bot/conversation/come_back_code.py. We never see addresses, so there is no limit per
address to set: the bits are what make guessing hopeless.

A code that opens nothing is answered with the same 404 and the same words,
COME_BACK_FAIL_SECONDS after the request came or later (whether the words were
unknown, too few, replaced, or their chat deleted or expired), so that neither the
answer nor its time says why, and one guesser is slowed; each one is counted
(insights: come_back_failed, in memory and written as one sum now and then, so that
a flood of guesses is not a flood of writes) and logged only as having happened.
At most LOOKUPS_AT_ONCE store lookups run at once, gateway-wide: the rest wait
their turn, and a long wait only makes the answer later, never different. A body
that is not a JSON object, or a `code` that is not text or is far longer than any
code, is not a guess: 400 at once.
"""
import asyncio
import logging
import time

from aiohttp import web

from bot.conversation.come_back_code import code_hash, new_code, normalised
from bot.errors import Problem
from bot.keys import COME_BACK_LOOKUPS, SETTINGS
from bot.web.api import NO_CHAT, conversations
from bot.web.checks import check_session, json_object, read_json_object

logger = logging.getLogger(__name__)

# Longer than any code typed with generous spaces: more is not a code at all.
MAX_CODE_CHARS = 200
# Store lookups of a code running at once, for the whole gateway (app[COME_BACK_LOOKUPS]):
# a flood of guesses waits here, not in front of everyone's turns (crisis turns too),
# which on SQLite share the store's one thread with it.
LOOKUPS_AT_ONCE = 4

NOT_OPENED = ("That code didn't open a chat. Check the words and try again, or start a new chat. "
              "A code stops working when its chat is deleted or a new code is made.")
ALREADY = ("This chat already has a code. If you've lost it, you can make a new one, "
           "and the old one will stop working.")


async def make_code(request: web.Request) -> web.Response:
    """Knowing the session id (192 random bits the page holds) is the authority, as
    for GET /api/chat/{session}/messages. A chat that has a code keeps it unless the
    body says {"replace": true}: a page that forgot the code (a reload, a return with
    it) must not end it without a word."""
    session = check_session(request.match_info["session"])
    raw = await request.read()
    replace = json_object(raw).get("replace", False) if raw else False
    if not isinstance(replace, bool):
        raise Problem(400, "'replace' must be true or false.")
    chats = conversations(request)
    code = new_code()
    if not await chats.store.save_come_back_code(session, code_hash(code), replace):
        if not replace and await chats.channel_of(session) == "web":
            raise Problem(409, ALREADY)
        raise Problem(404, NO_CHAT)
    await chats.insights.come_back("made")
    return web.json_response({"code": code}, status=201)


async def resume(request: web.Request) -> web.Response:
    started = time.monotonic()
    data = await read_json_object(request)
    typed = data.get("code")
    if not isinstance(typed, str) or len(typed) > MAX_CODE_CHARS:
        raise Problem(400, f"'code' must be the words of a code, as text (at most {MAX_CODE_CHARS} characters).")
    chats = conversations(request)
    settings = request.app[SETTINGS]
    words = normalised(typed)
    session = None
    if words is not None:
        lasts_since = time.time() - settings.retention_hours * 3600
        async with request.app[COME_BACK_LOOKUPS]:  # a long wait here only makes it slower
            session = await chats.store.come_back_session(code_hash(words), lasts_since)
    if session is None:
        chats.insights.tally("come_back_failed")  # written with the others now and then
        logger.info("A come-back code opened no chat.")  # never the code, never a session
        await asyncio.sleep(max(0.0, settings.come_back_fail_seconds - (time.monotonic() - started)))
        raise Problem(404, NOT_OPENED)
    await chats.insights.come_back("used")
    return web.json_response({"session": session})


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/api/chat/{session}/code", make_code)
    app.router.add_post("/api/chat/resume", resume)

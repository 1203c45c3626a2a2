"""The console's routes for running a shift (bot/staff/shift.py, docs/api.md).

    GET  /staff/api/colleagues                            -> {"colleagues": [...]}: on shift, to hand to
    POST /staff/api/conversations/{id}/transfer           {"to", "note"?}: offer it to a colleague
    POST /staff/api/conversations/{id}/transfer/accept    the colleague takes it (their limit applies)
    POST /staff/api/conversations/{id}/transfer/decline   it stays with the holder
    POST /staff/api/conversations/{id}/requeue            {"note"?}: back to the queue, unclaimed
  Supervisors and admins only (403 for a worker):
    GET  /staff/api/shift                                 who is on shift, what each holds, the queue
    GET  /staff/api/conversations/{id}/watch              read it silently (audited as "watch")
    POST /staff/api/conversations/{id}/takeover           take it from the worker holding it

The staff_only middleware (bot/staff/api.py) has checked the session (401) and,
on a POST, the CSRF token (403) before any of these runs.
"""
from typing import Any, Dict, Tuple

from aiohttp import web

from bot.errors import Problem
from bot.keys import SETTINGS, SHIFT
from bot.staff.api import API, MAX_USERNAME, staff
from bot.staff.roles import require
from bot.web.checks import check_text, json_object

CONVERSATION = API + "conversations/{id}"


async def optional_note(request: web.Request) -> Tuple[Dict[str, Any], str]:
    """The body's JSON object (an empty body is fine) and its note, checked like any text."""
    raw = await request.read()
    data = json_object(raw) if raw else {}
    note = data.get("note")
    if note is None or (isinstance(note, str) and not note.strip()):
        return data, ""
    if not isinstance(note, str):
        raise Problem(400, "'note' must be a string.")
    return data, check_text(note, request.app[SETTINGS].max_text_chars)


async def colleagues(request: web.Request) -> web.Response:
    return web.json_response({"colleagues": await request.app[SHIFT].colleagues(staff(request))})


async def transfer(request: web.Request) -> web.Response:
    data, note = await optional_note(request)
    to = data.get("to")
    if not isinstance(to, str) or not 0 < len(to) <= MAX_USERNAME:
        raise Problem(400, "Choose the colleague to hand this conversation to.")
    return web.json_response(await request.app[SHIFT].offer(
        request.match_info["id"], staff(request), to, note))


async def accept(request: web.Request) -> web.Response:
    return web.json_response(await request.app[SHIFT].accept(request.match_info["id"], staff(request)))


async def decline(request: web.Request) -> web.Response:
    return web.json_response(await request.app[SHIFT].decline(request.match_info["id"], staff(request)))


async def requeue(request: web.Request) -> web.Response:
    _, note = await optional_note(request)
    return web.json_response(await request.app[SHIFT].requeue(
        request.match_info["id"], staff(request), note))


async def overview(request: web.Request) -> web.Response:
    require(request, "supervisor")
    return web.json_response(await request.app[SHIFT].overview())


async def watch(request: web.Request) -> web.Response:
    require(request, "supervisor")
    return web.json_response(await request.app[SHIFT].watch(request.match_info["id"], staff(request)))


async def take_over(request: web.Request) -> web.Response:
    require(request, "supervisor")
    return web.json_response(await request.app[SHIFT].take_over(
        request.match_info["id"], staff(request)))


def setup_routes(app: web.Application) -> None:
    app.router.add_get(API + "colleagues", colleagues)
    app.router.add_get(API + "shift", overview)
    app.router.add_post(CONVERSATION + "/transfer", transfer)
    app.router.add_post(CONVERSATION + "/transfer/accept", accept)
    app.router.add_post(CONVERSATION + "/transfer/decline", decline)
    app.router.add_post(CONVERSATION + "/requeue", requeue)
    app.router.add_get(CONVERSATION + "/watch", watch)
    app.router.add_post(CONVERSATION + "/takeover", take_over)

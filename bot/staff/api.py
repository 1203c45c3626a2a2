"""The staff console: the page (GET /staff) and its API (docs/api.md).

    POST /staff/api/login                        {"username", "password"} -> cookie, the session (below)
    POST /staff/api/logout
    GET  /staff/api/me                           -> {"username", "csrf_token", "role", "admin",
                                                     "pending", "two_factor"}
    GET  /staff/api/queue                        -> {"conversations": [...]} in queue order
    GET  /staff/api/conversations/{id}           -> the redacted transcript and notes
    POST /staff/api/conversations/{id}/claim     one staff member per conversation (409 if taken)
    POST /staff/api/conversations/{id}/messages  {"text"} -> to the person, on their channel
    POST /staff/api/conversations/{id}/notes     {"text"} -> internal, staff only
    POST /staff/api/conversations/{id}/release   back to the bot
    POST /staff/api/conversations/{id}/close     {"categories"?, "outcome"?}: the wrap-up (bot/staff/wrapup.py)
    GET  /staff/api/conversations/{id}/wrapup    -> {"categories", "outcomes", "ticked"}
    POST /staff/api/conversations/{id}/typing    the worker is typing: shown to the person, never stored
    GET  /staff/api/saved-replies                -> [{"id", "title", "text"}] (bot/staff/saved_replies.py)
    GET  /staff/api/live                         WebSocket: the queue and transcripts, live

Every /staff/api/ route but login refuses a caller without a live session (401);
every POST needs the X-CSRF-Token header (403). A session with a `pending` step (a
two-factor code to give, a one-time password to change, two-factor to set up) opens
only that step, me and logout (403 for the rest; bot/staff/accounts_api.py has the
account routes and the code step).
"""
import asyncio
import contextlib
import html

from aiohttp import WSMsgType, web

from bot.errors import Problem
from bot.fact_sheet import FactSheet
from bot.keys import AUTH, CONSOLE_PAGE, HANDOFFS, SAVED_REPLIES, SETTINGS, TYPING
from bot.staff.accounts_api import PENDING_ALLOWS, PENDING_WORDS, session_body
from bot.staff.auth import FAILURE_DELAY_SECONDS, clear_session_cookie, csrf_ok, pending_step, set_session_cookie
from bot.staff.feed import SIGNED_OUT, visible_to
from bot.staff.roles import at_least
from bot.web.checks import check_text, json_object, read_json_object
from bot.web.page import STATIC
from bot.web.websocket import same_origin

API = "/staff/api/"
MAX_USERNAME = 64
# How often a live console checks that its session is still good, for what no event
# tells it (an account disabled by `python -m bot.staff`); a logout tells it at once.
RECHECK_SECONDS = 30


@web.middleware
async def staff_only(request: web.Request, handler):
    """401 without a live session, 403 without the CSRF token on a POST."""
    if not request.path.startswith(API) or request.path == API + "login":
        return await handler(request)
    session = await request.app[AUTH].session(request)
    if session is None:
        raise Problem(401, "Log in first.")
    if request.method not in ("GET", "HEAD", "OPTIONS") and not csrf_ok(request, session):
        raise Problem(403, "Missing or wrong X-CSRF-Token header. Reload the console.")
    pending = session["pending"]
    if pending and (request.method, request.path[len(API):]) not in PENDING_ALLOWS[pending]:
        raise Problem(403, PENDING_WORDS[pending])
    request["staff"] = session
    return await handler(request)


def staff(request: web.Request) -> str:
    return request["staff"]["username"]


async def login(request: web.Request) -> web.Response:
    if not same_origin(request):
        raise Problem(403, "Log in from the console page.")
    data = await read_json_object(request)
    username, password = data.get("username"), data.get("password")
    if not (isinstance(username, str) and isinstance(password, str)
            and 0 < len(username) <= MAX_USERNAME and 0 < len(password) <= 1024):
        raise Problem(400, "Give a username and a password.")
    auth = request.app[AUTH]
    address, wait = await auth.throttle.attempt(request)
    if wait:
        raise Problem(429, "Too many failed attempts from here. Try again later.", retry_after=wait)
    member = await auth.check_password(username, password)
    if member is None:
        # Audited alike for unknown names (as "?"), so timing doesn't tell which exist.
        known = await auth.store.staff_member(username) is not None
        await auth.store.audit(username if known else "?", "login_failed")
        await asyncio.sleep(FAILURE_DELAY_SECONDS)
        raise Problem(401, "Wrong username or password.")
    await auth.throttle.succeeded(address)
    # Two-factor on: a half session that opens only the code step (accounts_api.login_code).
    stage = "code" if member["two_factor"] else None
    started = await auth.start_session(username, stage)
    await auth.store.audit(username, "login_code_asked" if stage else "login")
    response = web.json_response(session_body(
        {**member, "stage": stage}, started["csrf_token"], pending_step({**member, "stage": stage},
                                                                         auth.totp_for_all)))
    set_session_cookie(response, request, started["token"], started["seconds"])
    return response


async def logout(request: web.Request) -> web.Response:
    auth = request.app[AUTH]
    await auth.end_session(request)
    await auth.store.audit(staff(request), "logout")
    # Off shift at once, but not for leaving the code step: someone who has only the
    # password must not be able to take a worker's open consoles off shift.
    if request["staff"]["pending"] is None:
        request.app[HANDOFFS].feed.signed_out(staff(request))
    response = web.json_response({"ok": True})
    clear_session_cookie(response, request)
    return response


async def me(request: web.Request) -> web.Response:
    session = request["staff"]
    return web.json_response(session_body(session, session["csrf_token"], session["pending"]))


async def queue(request: web.Request) -> web.Response:
    return web.json_response({"conversations": await request.app[HANDOFFS].queue()})


async def staff_action(request: web.Request, action: str, needs_text: bool = False) -> web.Response:
    handoffs = request.app[HANDOFFS]
    conversation = request.match_info["id"]
    if needs_text:
        data = await read_json_object(request)
        text = check_text(data.get("text"), request.app[SETTINGS].max_text_chars)
    supervisor = at_least(request["staff"]["role"], "supervisor")
    if action == "view":
        result = await handoffs.conversation(conversation, staff(request), supervisor)
    elif action == "claim":
        result = await handoffs.claim(conversation, staff(request))
    elif action == "reply":
        result = await handoffs.reply(conversation, staff(request), text)
    elif action == "note":
        result = await handoffs.note(conversation, staff(request), text)
    else:
        result = await handoffs.end(conversation, staff(request), action)
    return web.json_response(result)


async def close(request: web.Request) -> web.Response:
    """Closes a held conversation, with the wrap-up if the body gives one (checked
    first: a wrong id closes nothing). An empty body closes it as older consoles do."""
    handoffs = request.app[HANDOFFS]
    await handoffs.held_by(request.match_info["id"], staff(request))  # 403/409 before 400
    raw = await request.read()
    body = json_object(raw) if raw.strip() else {}
    wrapup = handoffs.chats.insights.wrapup.chosen(body)
    return web.json_response(await handoffs.end(request.match_info["id"], staff(request),
                                                "closed", wrapup))


async def wrapup_form(request: web.Request) -> web.Response:
    return web.json_response(await request.app[HANDOFFS].wrapup_form(
        request.match_info["id"], staff(request)))


def route(action: str, needs_text: bool = False):
    async def handler(request: web.Request) -> web.Response:
        return await staff_action(request, action, needs_text)
    return handler


async def typing(request: web.Request) -> web.Response:
    """Only from the worker who holds it; passed on at most every few seconds."""
    await request.app[TYPING].worker(request.match_info["id"], staff(request))
    return web.json_response({"ok": True})


async def saved_replies(request: web.Request) -> web.Response:
    return web.json_response(request.app[SAVED_REPLIES].as_json())


async def live(request: web.Request) -> web.StreamResponse:
    """Pushes {"type": "queue", "conversations"}, {"type": "message", "conversation",
    "message"}, {"type": "note", ...}, {"type": "undelivered"}, {"type": "typing",
    "conversation"} (the person is typing, bot/staff/typing.py) and {"type": "seen",
    "conversation", "seq"} (their web page was sent it, bot/staff/seen.py)."""
    if not same_origin(request):
        raise Problem(403, "Connect from the console page.")
    socket = web.WebSocketResponse(heartbeat=30)
    await socket.prepare(request)
    handoffs, auth = request.app[HANDOFFS], request.app[AUTH]
    username = staff(request)
    events = handoffs.feed.listen(username)
    logged_out = asyncio.Event()

    async def push() -> None:
        await socket.send_json({"type": "queue", "conversations": await handoffs.queue()})
        while True:
            try:
                batch = [await asyncio.wait_for(events.get(), RECHECK_SECONDS)]
            except asyncio.TimeoutError:
                batch = []
            # After any event, a logout (here or on another gateway) among them, or a
            # new role: one that now needs two-factor set up first ends the console too.
            current = await auth.session(request)
            if current is None or current["pending"]:
                logged_out.set()
                await socket.close(code=4401, message=b"Logged out")
                return
            while not events.empty():
                batch.append(events.get_nowait())
            # Least privilege: a worker hears only of what waits, or is theirs (the role
            # as it is now: a supervisor made a worker stops hearing of the rest at once).
            supervisor = at_least(current["role"], "supervisor")
            for event in batch:
                if event["type"] not in ("queue_changed", SIGNED_OUT) \
                        and visible_to(event, username, supervisor):
                    await socket.send_json({k: v for k, v in event.items() if k != "audience"})
            # A burst of changes: one fresh copy of the queue is enough.
            if any(event["type"] in ("queue_changed", "reload") for event in batch):
                await socket.send_json({"type": "queue", "conversations": await handoffs.queue()})

    pusher = asyncio.create_task(push())
    try:
        async for frame in socket:
            if frame.type == WSMsgType.TEXT and frame.data == "ping":
                await socket.send_str("pong")
    finally:
        # Closing with 4401 first ends the loop above: cancelled then, the pusher
        # would not send its close frame, and aiohttp would close with 1000.
        if not logged_out.is_set():
            pusher.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError, RuntimeError):
            await pusher
        handoffs.feed.stop_listening(username, events)
    return socket


def render_console(sheet: FactSheet) -> str:
    """staff.html with the fact sheet's services listed by the reply box: what a
    worker can give, exactly as the sheet has it, and that redaction lets through."""
    def item(service) -> str:
        details = [d for d in (service.phone, service.text and f"text {service.text}", service.web,
                               service.email) if d]
        when = f" ({service.hours})" if service.hours else ""
        who = f" For {service.for_whom}." if service.for_whom else ""
        return (f"<li><strong>{html.escape(service.name)}</strong>: "
                f"{html.escape(', '.join(details) + when)}.{html.escape(who)}</li>")

    listed = "".join(item(s) for s in sheet.services.values() if s.phone or s.text or s.web or s.email)
    return (STATIC / "staff.html").read_text().replace("__SERVICES__", listed)


async def console(request: web.Request) -> web.Response:
    return web.Response(text=request.app[CONSOLE_PAGE], content_type="text/html", charset="utf-8")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/staff", console)
    app.router.add_post(API + "login", login)
    app.router.add_post(API + "logout", logout)
    app.router.add_get(API + "me", me)
    app.router.add_get(API + "queue", queue)
    app.router.add_get(API + "live", live)
    base = API + "conversations/{id}"
    app.router.add_get(base, route("view"))
    app.router.add_post(base + "/claim", route("claim"))
    app.router.add_post(base + "/messages", route("reply", needs_text=True))
    app.router.add_post(base + "/notes", route("note", needs_text=True))
    app.router.add_post(base + "/release", route("released"))
    app.router.add_post(base + "/close", close)
    app.router.add_get(base + "/wrapup", wrapup_form)
    app.router.add_post(base + "/typing", typing)
    app.router.add_get(API + "saved-replies", saved_replies)

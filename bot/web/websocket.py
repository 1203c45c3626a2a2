"""The web page's live connection: GET /ws (a WebSocket), JSON text frames.

    client -> {"type": "join", "session"?: str, "after"?: int}
    server -> {"type": "joined", "session": str}, then every message after `after`
    client -> {"type": "say", "text": str}
    client -> {"type": "typing"}        the person is typing (passed to the team only in a handoff)
    server -> {"type": "message", "seq", "from", "text", "buttons"?, "response"?}   (live)
              {"type": "forgotten"}                   the conversation was deleted
              {"type": "typing", "from": "staff"}     the support worker is typing (live only)
              {"type": "error", "status", "error", "retry_after"?}

The same checks as POST /api/chat apply (bot/conversation/turn.py does the work).
What the page is sent is recorded for the console's "Not seen yet" (bot/staff/seen.py).
"""
import asyncio
import logging
from typing import Any, Dict, Optional
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from bot.conversation.replies import reply
from bot.conversation.turn import SessionNotFound
from bot.errors import Problem, log_failure
from bot.keys import CONVERSATIONS, SETTINGS, TYPING
from bot.staff.seen import sent_to_page
from bot.web.checks import check_session, check_text, parse_json

logger = logging.getLogger(__name__)


def same_origin(request: web.Request) -> bool:
    """Browsers send Origin with a WebSocket: refuse pages of other sites, which
    could otherwise talk to the chat from a victim's browser."""
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


async def chat_socket(request: web.Request) -> web.StreamResponse:
    if not same_origin(request):
        raise Problem(403, "Connect from the chat page.")
    socket = web.WebSocketResponse(heartbeat=30, max_msg_size=64 * 1024)
    await socket.prepare(request)
    chats = request.app[CONVERSATIONS]
    max_chars = request.app[SETTINGS].max_text_chars
    session: Optional[str] = None
    listener: Optional[asyncio.Queue] = None
    pusher: Optional[asyncio.Task] = None
    sent = 0  # the highest seq sent on this socket

    async def send_message(message: Dict[str, Any]) -> None:
        nonlocal sent
        await socket.send_json({**message, "type": "message"})
        sent = max(sent, message["seq"])

    async def catch_up() -> None:
        backlog = await chats.store.messages_after(session, sent) or []
        for message in backlog:
            await send_message(message)
        await sent_to_page(chats, session, backlog)  # one write for the lot, if any

    async def push(queue: asyncio.Queue) -> None:
        # The store is the record, live events only ring the bell: each message is
        # sent once and in order, even when another gateway's came first or was missed.
        while True:
            event = await queue.get()
            seq = event.get("seq")
            if event.get("type") == "message" and isinstance(seq, int):
                if seq == sent + 1:
                    await send_message(event)
                    await sent_to_page(chats, session, [event])
                elif seq > sent:
                    await catch_up()
            elif event.get("type") == "catch_up":
                await catch_up()
            else:
                await socket.send_json(event)

    async def join(data: Dict[str, Any]) -> None:
        nonlocal session, listener, pusher, sent
        after = data.get("after", 0)
        # At most 12 digits, as GET /api/chat/{session}/messages takes: the database's
        # integers end at 2**63, and a bigger one was an error (500) on reading the backlog.
        if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after < 10**12:
            raise Problem(400, "'after' must be a whole number, 0 or more.")
        wanted = data.get("session")
        if wanted is None:
            wanted = await chats.start("web")
        elif not await chats.exists(check_session(wanted)):
            # Not SessionNotFound: a join that fails keeps the conversation joined before.
            raise Problem(404, SessionNotFound.MESSAGE)
        await leave()
        session, listener = wanted, chats.listen(wanted)
        await socket.send_json({"type": "joined", "session": session})
        # Listening starts before the backlog is read: nothing falls in between.
        sent = after
        await catch_up()
        pusher = asyncio.create_task(push(listener))

    async def leave() -> None:
        nonlocal session, listener, pusher
        if pusher:
            pusher.cancel()
            # It may have failed already (a send on a closing socket): clean up all the same.
            await asyncio.gather(pusher, return_exceptions=True)
        if session and listener:
            chats.stop_listening(session, listener)
        session, listener, pusher = None, None, None

    try:
        async for frame in socket:
            if frame.type != WSMsgType.TEXT:
                if frame.type == WSMsgType.BINARY:
                    await socket.send_json(Problem(400, "Send JSON text frames.").frame())
                continue
            try:
                try:
                    data = parse_json(frame.data)
                except ValueError:
                    # Only here: a ValueError from inside a turn (a UnicodeEncodeError is
                    # one) is a failure of ours, and was answered "Send JSON." unlogged.
                    raise Problem(400, "Send JSON.") from None
                if not isinstance(data, dict):
                    raise Problem(400, "Send a JSON object.")
                kind = data.get("type")
                if kind == "join":
                    await join(data)
                elif kind == "say":
                    if session is None:
                        raise Problem(400, "Join a conversation first.")
                    # Replies arrive through the listener, like everything else.
                    await chats.say(session, check_text(data.get("text"), max_chars))
                elif kind == "typing":
                    # Nothing is answered, and nothing is kept: the team sees it live or not at all.
                    if session is not None:
                        await request.app[TYPING].person(session)
                else:
                    raise Problem(400, "Unknown message type.")
            except Problem as problem:
                if isinstance(problem, SessionNotFound):  # deleted meanwhile: nothing to hear
                    await leave()
                await socket.send_json(problem.frame())
            except ConnectionResetError:
                raise  # the person is gone: see below
            except Exception as failure:  # noqa: BLE001 - keep the socket, say something kind
                log_failure(logger, "Unexpected error on the chat socket", failure)
                await socket.send_json(Problem(500, reply("gateway_unavailable")["text"]).frame())
    except ConnectionResetError:
        # The connection dropped before an answer went out (a phone losing its signal):
        # nobody to tell, nothing broken. Closing stops aiohttp's heartbeat, which would
        # otherwise ping the dead connection 30 s later in a task nobody awaits.
        await socket.close()
    finally:
        await leave()
    return socket


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/ws", chat_socket)

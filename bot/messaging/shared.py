"""What the Telegram and WhatsApp channels share: who is who (as a keyed hash),
one turn of a messaging-app conversation, and sending to the provider with retries.

Webhooks answer the provider at once and do the work in the background, so a
slow assistant never makes the provider resend. The raw chat id or phone number
is used only in memory, to reply, and never logged; it is stored only sealed,
while a handoff is open (bot/messaging/addresses.py).
"""
import asyncio
import hashlib
import hmac
import logging
import time
from typing import Any, Awaitable, Dict, List, Optional, Set

import aiohttp
from aiohttp import web

from bot.conversation.replies import reply
from bot.conversation.turn import Busy, Conversations, RateLimited, SessionNotFound
from bot.errors import Problem, log_failure
from bot.keys import CONVERSATIONS, HTTP, SETTINGS, TASKS
from bot.web.checks import check_text

logger = logging.getLogger(__name__)
# How long a delivery is remembered: WhatsApp retries an unanswered webhook for up
# to 7 days, Telegram keeps an update for 24 hours.
DELIVERY_MEMORY_SECONDS = 7 * 86400


def user_hash(key: bytes, channel: str, raw_id: str) -> str:
    return hmac.new(key, f"{channel}:{raw_id}".encode(), hashlib.sha256).hexdigest()


async def first_delivery(app: web.Application, channel: str, delivery_id: str) -> bool:
    """False for a Telegram update or WhatsApp message we have taken before: providers
    deliver again when they think we missed one (no 200 in time), and the copy may
    come after a restart or reach another gateway.

    Remembered in the store (bot/store/deliveries.py) rather than in
    memory, which a restart empties and other gateways can't see, or in Redis,
    which the embedded default (SQLite, one gateway) doesn't have: the store is
    there in both, shared by every gateway, and one indexed insert per message is
    little beside the turn's own writes. What is kept is HMAC-SHA256 under
    CHANNEL_ID_KEY, like chat ids: a WhatsApp message id carries the sender's
    number. It expires after DELIVERY_MEMORY_SECONDS (the retention job deletes it).
    """
    id_hash = hmac.new(app[SETTINGS].channel_id_key, f"{channel}-delivery:{delivery_id}".encode(
        "utf-8", "surrogateescape"), hashlib.sha256).hexdigest()
    return await app[CONVERSATIONS].store.first_delivery(id_hash, time.time(),
                                                         DELIVERY_MEMORY_SECONDS)


def in_background(app: web.Application, work: Awaitable) -> None:
    async def guarded() -> None:
        try:
            await work
        except Exception as error:  # noqa: BLE001 - one failed reply must not take others down
            log_failure(logger, "A messaging-app reply failed", error)

    task = asyncio.ensure_future(guarded())
    app[TASKS].add(task)
    task.add_done_callback(app[TASKS].discard)


async def take_turn(app: web.Application, channel: str, raw_user_id: str,
                    text: Optional[str]) -> List[Dict[str, Any]]:
    """One message from a messaging-app user -> the replies to send back."""
    settings = app[SETTINGS]
    chats: Conversations = app[CONVERSATIONS]
    if text is None:
        return [reply("gateway_not_text")]
    try:
        text = check_text(text, settings.max_text_chars)
    except Problem as problem:
        return [reply("gateway_too_long" if problem.status == 413 else "gateway_no_words")]
    key = user_hash(settings.channel_id_key, channel, raw_user_id)
    for _ in range(2):  # a session erased meanwhile: start a new one once
        session = await chats.session_for_user(channel, key)
        chats.addresses.remember(session, raw_user_id)  # for a staff reply later
        try:
            return await chats.say(session, text)
        except SessionNotFound:
            continue
        except RateLimited:
            return [reply("gateway_slow_down")]
        except Busy:
            return [reply("gateway_busy")]
    return [reply("gateway_unavailable")]


async def send_with_retries(app: web.Application, url: str, payload: Dict[str, Any],
                            headers: Optional[Dict[str, str]] = None) -> bool:
    """POSTs JSON to the provider; retries outages (5xx, 429, no answer) with back-off."""
    return await _post_with_retries(app, url, headers, lambda: {"json": payload}) is not None


async def send_once(app: web.Application, url: str, payload: Dict[str, Any]) -> bool:
    """POSTs JSON to the provider once, for what is worthless late (a typing indicator)."""
    return await _post_with_retries(app, url, None, lambda: {"json": payload}, retries=0) is not None


async def send_file_with_retries(app: web.Application, url: str, fields: Dict[str, str],
                                 file_field: str, filename: str, content: str,
                                 headers: Optional[Dict[str, str]] = None) -> Optional[Dict[str, Any]]:
    """POSTs a text file (multipart) to the provider, with the same retries; the
    provider's JSON answer, or None if it was not taken."""
    def form():
        data = aiohttp.FormData()
        for name, value in fields.items():
            data.add_field(name, value)
        data.add_field(file_field, content.encode(), filename=filename,
                       content_type="text/plain; charset=utf-8")
        return {"data": data}
    return await _post_with_retries(app, url, headers, form)


async def _post_with_retries(app: web.Application, url: str, headers: Optional[Dict[str, str]],
                             body, retries: Optional[int] = None) -> Optional[Dict[str, Any]]:
    """The provider's JSON answer ({} if none) once it takes the request; None if it doesn't."""
    retries = app[SETTINGS].provider_retries if retries is None else retries
    for attempt in range(retries + 1):
        try:
            async with app[HTTP].post(url, headers=headers, timeout=aiohttp.ClientTimeout(total=10),
                                      **body()) as response:
                if response.status < 400:
                    try:
                        answer = await response.json(content_type=None)
                    except ValueError:
                        answer = None
                    return answer if isinstance(answer, dict) else {}
                if response.status != 429 and response.status < 500:
                    logger.warning("The provider refused a reply (HTTP %d).", response.status)
                    return None
        except (aiohttp.ClientError, asyncio.TimeoutError):
            pass
        if attempt < retries:
            await asyncio.sleep(0.5 * 2 ** attempt)
    logger.warning("The provider could not be reached; a reply was not delivered.")
    return None


async def finish(app: web.Application) -> None:
    """At shutdown: replies still on their way get 10 s, then the client closes."""
    tasks: Set[asyncio.Task] = app[TASKS]
    if tasks:
        await asyncio.wait(tasks, timeout=10)
    await app[HTTP].close()

"""Telegram (Bot API webhook): POST /webhooks/telegram.

Telegram sends the secret we gave it at setWebhook in X-Telegram-Bot-Api-Secret-Token;
anything without it is refused (401). Replies go out with sendMessage, buttons as
an inline keyboard; a tapped button comes back as a callback_query with its payload.
The notes for reporting also go as a text file (sendDocument), for the person to keep.
While a support worker types, the person sees "typing…" (sendChatAction).
Set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET to switch it on (404 otherwise).
"""
from typing import Any, Dict, Optional, Tuple

from aiohttp import web

from bot.errors import Problem
from bot.keys import SETTINGS
from bot.messaging import shared as messaging
from bot.reporting.outbox import NOTES_FILENAME, NOTES_RESPONSE
from bot.signatures import same_secret
from bot.web.checks import json_object

# Telegram's own commands, as the words a person would type.
COMMANDS = {"/start": "hello", "/help": "help", "/stop": "bye"}


def incoming(update: Dict[str, Any]) -> Optional[Tuple[str, Optional[str], Optional[str]]]:
    """(chat id, text or None for a photo/sticker/..., callback id) or None to ignore."""
    callback = update.get("callback_query")
    if isinstance(callback, dict):
        chat = ((callback.get("message") or {}).get("chat") or {}).get("id")
        data = callback.get("data")
        if chat is None or not isinstance(data, str):
            return None
        return str(chat), data, str(callback.get("id", ""))
    message = update.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("chat"), dict):
        return None  # edits, channel posts, joins: nothing to answer
    chat = message["chat"].get("id")
    if chat is None or message["chat"].get("type", "private") != "private":
        return None  # only one-to-one chats: a group would expose the person
    text = message.get("text")
    text = COMMANDS.get(text.split("@")[0].strip().lower(), text) if isinstance(text, str) else None
    return str(chat), text, None


def api_url(app: web.Application, method: str) -> str:
    settings = app[SETTINGS]
    return f"{settings.telegram_api_base}/bot{settings.telegram_token}/{method}"


def outgoing(chat_id: str, message: Dict[str, Any]) -> Dict[str, Any]:
    payload: Dict[str, Any] = {"chat_id": chat_id, "text": message["text"][:4096]}
    buttons = message.get("buttons") or []
    # callback_data is limited to 64 bytes; our payloads are intent names.
    usable = [b for b in buttons if len(b["payload"].encode()) <= 64]
    if usable:
        payload["reply_markup"] = {"inline_keyboard": [
            [{"text": b["title"], "callback_data": b["payload"]}] for b in usable]}
    return payload


async def send(app: web.Application, chat_id: str, message: Dict[str, Any]) -> bool:
    """One message; the notes for reporting also come as a text file to keep."""
    sent = await messaging.send_with_retries(app, api_url(app, "sendMessage"),
                                             outgoing(chat_id, message))
    if sent and message.get("response") == NOTES_RESPONSE:
        sent = await messaging.send_file_with_retries(
            app, api_url(app, "sendDocument"), {"chat_id": chat_id}, "document",
            NOTES_FILENAME, message["text"]) is not None
    return sent


def show_typing(app: web.Application, chat_id: str) -> None:
    """The "typing…" chat action while a support worker types: once, in the background,
    without retries (a late one means nothing; Telegram clears it after about 5 s or
    when the message arrives)."""
    messaging.in_background(app, messaging.send_once(
        app, api_url(app, "sendChatAction"), {"chat_id": chat_id, "action": "typing"}))


async def answer(app: web.Application, chat_id: str, text: Optional[str],
                 callback_id: Optional[str]) -> None:
    if callback_id:
        await messaging.send_with_retries(app, api_url(app, "answerCallbackQuery"),
                                          {"callback_query_id": callback_id})
    for message in await messaging.take_turn(app, "telegram", chat_id, text):
        await send(app, chat_id, message)


async def webhook(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    if not settings.telegram_enabled:
        raise Problem(404, "Telegram is not set up here.")
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not same_secret(given, settings.telegram_secret):
        raise Problem(401, "Unknown sender.")
    update = json_object(await request.read())
    try:
        found, update_id = incoming(update), update.get("update_id")
    except (AttributeError, TypeError):
        raise Problem(400, "Not a Telegram update.") from None
    if found and (update_id is None
                  or await messaging.first_delivery(request.app, "telegram", str(update_id))):
        messaging.in_background(request.app, answer(request.app, *found))
    return web.json_response({"ok": True})


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/webhooks/telegram", webhook)

"""WhatsApp (Cloud API webhook): GET and POST /webhooks/whatsapp.

GET answers Meta's verification challenge when hub.verify_token matches ours.
POST must carry X-Hub-Signature-256, the HMAC-SHA256 of the raw body under the
app secret; anything else is refused (401 missing, 403 wrong). Replies go to the
messages endpoint: interactive reply buttons (up to 3), a list (up to 10), or text.
The notes for reporting also go as a document (uploaded to /media first), to keep.
Set the four WHATSAPP_* settings to switch it on (404 otherwise).
"""
from typing import Any, Dict, Iterator, List, Optional, Tuple

from aiohttp import web

from bot.errors import Problem
from bot.keys import SETTINGS
from bot.messaging import shared as messaging
from bot.reporting.outbox import NOTES_FILENAME, NOTES_RESPONSE
from bot.signatures import body_signature, same_secret
from bot.web.checks import json_object


def incoming(payload: Dict[str, Any]) -> Iterator[Tuple[str, str, Optional[str]]]:
    """(message id, sender's number, text or None for media) for each user message."""
    for entry in payload.get("entry") or []:
        for change in (entry or {}).get("changes") or []:
            for message in ((change or {}).get("value") or {}).get("messages") or []:
                if not isinstance(message, dict) or "from" not in message:
                    continue
                kind, text = message.get("type"), None
                if kind == "text":
                    text = (message.get("text") or {}).get("body")
                elif kind == "interactive":
                    chosen = message.get("interactive") or {}
                    text = (chosen.get("button_reply") or chosen.get("list_reply") or {}).get("id")
                elif kind == "button":
                    text = (message.get("button") or {}).get("payload")
                yield str(message.get("id", "")), str(message["from"]), \
                    text if isinstance(text, str) else None


def outgoing(to: str, message: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The Cloud API messages for one reply (long text with buttons is sent in two)."""
    base = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
    text, buttons = message["text"], message.get("buttons") or []
    if not buttons:
        return [{**base, "type": "text", "text": {"body": text[:4096]}}]
    sent = []
    if len(text) > 1024:  # the limit for an interactive message's body
        sent.append({**base, "type": "text", "text": {"body": text[:4096]}})
        text = "You can tap one of these:"
    if len(buttons) <= 3:
        action = {"buttons": [{"type": "reply", "reply": {"id": b["payload"][:256],
                                                          "title": b["title"][:20]}}
                              for b in buttons]}
        kind = "button"
    else:
        action = {"button": "Choose", "sections": [{"title": "Options", "rows": [
            {"id": b["payload"][:200], "title": b["title"][:24]} for b in buttons[:10]]}]}
        kind = "list"
    sent.append({**base, "type": "interactive",
                 "interactive": {"type": kind, "body": {"text": text}, "action": action}})
    return sent


async def send(app: web.Application, number: str, message: Dict[str, Any]) -> bool:
    settings = app[SETTINGS]
    base = f"{settings.whatsapp_api_base}/{settings.whatsapp_phone_number_id}"
    headers = {"Authorization": f"Bearer {settings.whatsapp_token}"}
    sent = True
    for payload in outgoing(number, message):
        sent = await messaging.send_with_retries(app, f"{base}/messages", payload, headers) and sent
    if sent and message.get("response") == NOTES_RESPONSE:
        # A document is sent by reference: upload it first, then send its media id.
        uploaded = await messaging.send_file_with_retries(
            app, f"{base}/media", {"messaging_product": "whatsapp", "type": "text/plain"},
            "file", NOTES_FILENAME, message["text"], headers)
        media = (uploaded or {}).get("id")
        sent = bool(media) and await messaging.send_with_retries(app, f"{base}/messages", {
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": number,
            "type": "document", "document": {"id": str(media), "filename": NOTES_FILENAME}}, headers)
    return sent


async def answer(app: web.Application, number: str, text: Optional[str]) -> None:
    for message in await messaging.take_turn(app, "whatsapp", number, text):
        await send(app, number, message)


async def verify(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    if not settings.whatsapp_enabled:
        raise Problem(404, "WhatsApp is not set up here.")
    query = request.query
    token = query.get("hub.verify_token", "")
    if query.get("hub.mode") == "subscribe" and same_secret(
            token, settings.whatsapp_verify_token):
        return web.Response(text=query.get("hub.challenge", ""), content_type="text/plain")
    raise Problem(403, "Verification failed.")


async def webhook(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    if not settings.whatsapp_enabled:
        raise Problem(404, "WhatsApp is not set up here.")
    body = await request.read()
    signature = request.headers.get("X-Hub-Signature-256", "")
    if not signature:
        raise Problem(401, "Unsigned request.")
    expected = body_signature(settings.whatsapp_app_secret, body)
    if not same_secret(signature, expected):
        raise Problem(403, "Bad signature.")
    payload = json_object(body)
    try:
        messages = list(incoming(payload))
    except (AttributeError, TypeError):
        raise Problem(400, "Not a WhatsApp webhook payload.") from None
    for message_id, number, text in messages:
        if not message_id or await messaging.first_delivery(request.app, "whatsapp", message_id):
            messaging.in_background(request.app, answer(request.app, number, text))
    return web.json_response({"ok": True})


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/webhooks/whatsapp", verify)
    app.router.add_post("/webhooks/whatsapp", webhook)

"""Telegram's and WhatsApp's side of a conversation, for the tests: updates and
webhook payloads as the providers send them, signed as they sign them, and how to
find the replies the gateway sent to the fake provider (fake_provider.py)."""
import hashlib
import hmac
import itertools
import json

from tests.conftest import TELEGRAM_SECRET, WHATSAPP_SECRET
from tests.support.processes import call

IDS = itertools.count(int.from_bytes(hashlib.sha256(b"ids").digest()[:3], "big"))


def telegram(stack, update, secret=TELEGRAM_SECRET):
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return call("POST", f"{stack['base']}/webhooks/telegram", update, headers=headers)


def telegram_text(chat_id, text, chat_type="private"):
    return {"update_id": next(IDS), "message": {
        "message_id": next(IDS), "date": 1764000000, "text": text,
        "chat": {"id": chat_id, "type": chat_type},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Zed", "username": "zed_real_name"}}}


def telegram_tap(chat_id, payload):
    """The person taps a button: the callback query Telegram sends."""
    return {"update_id": next(IDS), "callback_query": {
        "id": f"cb-{next(IDS)}", "data": payload, "from": {"id": chat_id, "is_bot": False},
        "message": {"message_id": next(IDS), "chat": {"id": chat_id, "type": "private"}}}}


def sent_to_chat(provider, chat_id):
    return lambda r: r["path"].endswith("/sendMessage") and r["json"].get("chat_id") == str(chat_id)


def signed(body: bytes, secret: str = WHATSAPP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def whatsapp(stack, payload, signature=...):
    raw = json.dumps(payload).encode()
    headers = {} if signature is None else {
        "X-Hub-Signature-256": signed(raw) if signature is ... else signature}
    return call("POST", f"{stack['base']}/webhooks/whatsapp", raw=raw, headers=headers)


def whatsapp_message(number, message):
    return {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "447700900000", "phone_number_id": "1098765"},
            "contacts": [{"profile": {"name": "Zed Realname"}, "wa_id": number}],
            "messages": [{"from": number, "id": f"wamid.{next(IDS)}", "timestamp": "1764000000",
                          **message}]}}]}]}


def whatsapp_text(number, text):
    return whatsapp_message(number, {"type": "text", "text": {"body": text}})


def whatsapp_tap(number, payload, title="Yes"):
    """The person taps a reply button: the interactive message WhatsApp sends."""
    return whatsapp_message(number, {"type": "interactive", "interactive": {
        "type": "button_reply", "button_reply": {"id": payload, "title": title}}})


def sent_to_number(number):
    return lambda r: r["path"] == "/1098765/messages" and r["json"].get("to") == number


# --- Telegram, for a gateway in this process (tests/support/gateways.py) ---------------
IN_PROCESS_SECRET = "telegram-in-process-" + hashlib.sha256(str(next(IDS)).encode()).hexdigest()[:8]


def telegram_settings(provider, **more) -> dict:
    """A gateway's settings for Telegram, with the fake provider as Telegram's server."""
    return {"telegram_token": "123:telegram-token", "telegram_secret": IN_PROCESS_SECRET,
            "telegram_api_base": provider.url, "provider_retries": 0, **more}


async def telegram_says(gw, chat: int, text: str) -> None:
    """The person writes on Telegram: the update Telegram would send to the gateway."""
    update = {"update_id": next(IDS), "message": {
        "message_id": next(IDS), "date": 1764000000, "text": text,
        "chat": {"id": chat, "type": "private"}, "from": {"id": chat, "is_bot": False}}}
    await telegram_sends(gw, update)


async def telegram_sends(gw, update) -> None:
    """Any update (a message, a tap: telegram_tap) as Telegram posts it to the gateway."""
    async with gw.http.post(gw.base + "/webhooks/telegram", json=update,
                            headers={"X-Telegram-Bot-Api-Secret-Token": IN_PROCESS_SECRET}) as response:
        assert response.status == 200


# --- WhatsApp, for a gateway in this process -------------------------------------------
def whatsapp_settings(provider, **more) -> dict:
    """A gateway's settings for WhatsApp, with the fake provider as Meta's server."""
    return {"whatsapp_token": "whatsapp-token", "whatsapp_app_secret": WHATSAPP_SECRET,
            "whatsapp_verify_token": "whatsapp-verify", "whatsapp_phone_number_id": "1098765",
            "whatsapp_api_base": provider.url, "provider_retries": 0, **more}


async def whatsapp_sends(gw, payload) -> None:
    """A webhook payload (whatsapp_text, whatsapp_tap), signed, as WhatsApp posts it."""
    raw = json.dumps(payload).encode()
    async with gw.http.post(gw.base + "/webhooks/whatsapp", data=raw, headers={
            "X-Hub-Signature-256": signed(raw), "Content-Type": "application/json"}) as response:
        assert response.status == 200

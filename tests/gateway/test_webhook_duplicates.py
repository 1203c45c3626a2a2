"""Telegram and WhatsApp deliver an update again when they think we missed it: it is
answered once, even when the copy comes after a gateway restart or lands on
another gateway sharing the store. Gateways in this process on real sockets (Rasa
is away, so each turn gets the gateway's own calm reply), the providers faked on
loopback (tests/support/fake_provider.py)."""
import asyncio
import hashlib
import hmac
import json
import time

import aiohttp

from bot.keys import CONVERSATIONS
from bot.messaging.shared import DELIVERY_MEMORY_SECONDS
from bot.retention import sweep
from bot.store import Store
from tests.support.gateways import gateway, gateway_app
from tests.support.messaging_apps import sent_to_chat, sent_to_number, telegram_text, whatsapp_text

TELEGRAM_SECRET, WHATSAPP_SECRET = "telegram-duplicates", "whatsapp-duplicates"


def channels(provider) -> dict:
    return {"telegram_token": "123:telegram-token", "telegram_secret": TELEGRAM_SECRET,
            "telegram_api_base": provider.url, "whatsapp_token": "whatsapp-token",
            "whatsapp_app_secret": WHATSAPP_SECRET, "whatsapp_verify_token": "verify",
            "whatsapp_phone_number_id": "1098765", "whatsapp_api_base": provider.url,
            # Every gateway of a deployment has the same key (docs/deploy.md).
            "channel_id_key": b"one key for every gateway"}


async def deliver(base: str, channel: str, update: dict) -> None:
    raw = json.dumps(update).encode()
    if channel == "telegram":
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    else:
        headers = {"X-Hub-Signature-256": "sha256=" + hmac.new(
            WHATSAPP_SECRET.encode(), raw, hashlib.sha256).hexdigest()}
    async with aiohttp.ClientSession() as http, http.post(f"{base}/webhooks/{channel}", data=raw,
                         headers={**headers, "Content-Type": "application/json"}) as response:
        assert response.status == 200


async def replies(provider, sent_to, timeout: float = 20) -> int:
    """How many replies went to this chat, once at least one has and 1.5 s have
    passed with no more (a reply to a copy would have come by then)."""
    deadline, count, settled = time.monotonic() + timeout, 0, None
    while time.monotonic() < deadline:
        now = len([r for r in provider.requests if not r["failed"] and sent_to(r)])
        if now != count:
            count, settled = now, time.monotonic()
        elif count and time.monotonic() - settled > 1.5:
            return count
        await asyncio.sleep(0.1)
    raise AssertionError("no reply reached the chat")


def update_for(channel: str, user, text: str = "he wants money or he posts my pics") -> dict:
    return telegram_text(user, text) if channel == "telegram" else whatsapp_text(user, text)


def sent_to(channel: str, user):
    return sent_to_chat(None, user) if channel == "telegram" else sent_to_number(user)


USERS = {"telegram": (730_055_501, 730_055_502), "whatsapp": ("447700900901", "447700900902")}
REPLICA_USERS = {"telegram": (730_055_511, 730_055_512),
                 "whatsapp": ("447700900911", "447700900912")}


async def test_a_copy_after_a_restart_is_ignored(tmp_path, provider):
    settings = {"database_url": f"sqlite:///{tmp_path / 'store.sqlite3'}", **channels(provider)}
    for channel, (twice, once) in USERS.items():
        update = update_for(channel, twice)
        async with gateway(**settings) as base:
            await deliver(base, channel, update)
            await deliver(base, channel, update)  # at once, on the same gateway
            first = await replies(provider, sent_to(channel, twice))
        async with gateway(**settings) as restarted:  # a new gateway on the same database
            await deliver(restarted, channel, update)
            await deliver(restarted, channel, update_for(channel, once))  # a new one: answered
            assert await replies(provider, sent_to(channel, once)) == first
            assert await replies(provider, sent_to(channel, twice)) == first, channel


async def test_a_copy_on_another_gateway_sharing_postgresql_is_ignored(postgres_schema, provider):
    settings = {"database_url": postgres_schema(), **channels(provider)}
    async with gateway(**settings) as one, gateway(**settings) as other:
        for channel, (twice, once) in REPLICA_USERS.items():
            update = update_for(channel, twice)
            # Both copies at the same moment, one on each gateway.
            await asyncio.gather(deliver(one, channel, update), deliver(other, channel, update))
            await deliver(other, channel, update)
            await deliver(one, channel, update_for(channel, once))
            assert await replies(provider, sent_to(channel, twice)) == \
                await replies(provider, sent_to(channel, once)), channel


async def test_only_a_keyed_hash_of_the_id_is_kept_and_retention_clears_it(tmp_path, provider):
    """A WhatsApp message id carries the sender's number: never stored as it is."""
    database = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    update = whatsapp_text("447700900903", "hello")
    message_id = update["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    async with gateway(database_url=database, **channels(provider)) as base:
        await deliver(base, "whatsapp", update)
        await replies(provider, sent_to_number("447700900903"))
    for path in tmp_path.iterdir():
        assert message_id.encode() not in path.read_bytes(), path.name
    store = Store(database)
    assert await store.delete_expired_deliveries(time.time()) == 0  # still remembered
    assert await store.delete_expired_deliveries(time.time() + 8 * 86400) == 1  # then gone
    await store.close()


async def test_the_retention_job_deletes_expired_deliveries(tmp_path):
    app = gateway_app(database_url=f"sqlite:///{tmp_path / 'store.sqlite3'}")
    store, now = app[CONVERSATIONS].store, time.time()
    assert await store.first_delivery("expired", now - DELIVERY_MEMORY_SECONDS - 60,
                                      DELIVERY_MEMORY_SECONDS)
    assert await store.first_delivery("recent", now - 60, DELIVERY_MEMORY_SECONDS)
    await sweep(app)
    assert await store.delete_expired_deliveries(now) == 0  # the expired one is gone
    assert not await store.first_delivery("recent", now, DELIVERY_MEMORY_SECONDS)  # still known
    await store.close()

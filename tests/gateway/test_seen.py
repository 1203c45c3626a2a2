""""Not seen yet" (bot/staff/seen.py): a worker's reply to a web conversation whose
page is closed waits in the store, and the console's conversation shows it unseen
(`seen_seq` below it) until the person's page is sent it; then every console that may
see the conversation hears {"type": "seen"} live, on whichever gateway it is. Only
ever upwards; null on Telegram, where a reply is delivered at once. Gateways in this
process against the fake Rasa, on SQLite and PostgreSQL (and Redis between two)."""
import asyncio
import secrets

import pytest

from tests.support.gateways import ASK, claimed, running
from tests.support.handoff_clients import frames
from tests.support.messaging_apps import telegram_says, telegram_settings

MACHINE_REDIS = "redis://127.0.0.1:6379/0"


async def payload(staff, conversation: str):
    status, body = await staff.call("GET", f"/staff/api/conversations/{conversation}")
    assert status == 200, body
    return body


def seen_events(events, conversation: str):
    return [e for e in events if e["type"] == "seen" and e["conversation"] == conversation]


async def test_a_reply_waits_unseen_until_the_persons_page_is_sent_it(rasa, database_url):
    async with running(rasa, database_url=database_url) as gw:
        worker, colleague = await gw.staff_member(), await gw.staff_member()
        session, conversation = await claimed(gw, rasa, worker)
        before = await payload(worker, conversation)
        assert before["seen_seq"] == 0  # the person's page never had anything from the team
        shown = before["messages"][-1]["seq"]  # what the page showed before it was closed
        status, reply = await worker.act(conversation, "messages", "I'm here when you're ready.")
        assert status == 200
        # Nobody's page is open: the reply waits, unseen.
        await asyncio.sleep(0.3)
        assert (await payload(worker, conversation))["seen_seq"] < reply["seq"]
        assert seen_events(await frames(worker.socket, 0.2), conversation) == []
        async with gw.page(session, after=shown) as page:
            assert (await page.receive_json(timeout=5))["seq"] == reply["seq"]
            event = await worker.next_event(lambda e: e["type"] == "seen")
        assert event == {"type": "seen", "conversation": conversation, "seq": reply["seq"]}
        assert (await payload(worker, conversation))["seen_seq"] == reply["seq"]
        # Held: a colleague who doesn't hold it hears nothing of it (least privilege).
        assert seen_events(await frames(colleague.socket, 0.3), conversation) == []
        # The page open, a reply goes at once: seen moments later.
        async with gw.page(session, after=reply["seq"]) as page:
            status, again = await worker.act(conversation, "messages", "Take your time.")
            assert (await page.receive_json(timeout=5))["seq"] == again["seq"]
            assert (await worker.next_event(lambda e: e["type"] == "seen"))["seq"] == again["seq"]
        # A page joining with an older `after` later (another tab, a code) never lowers it.
        async with gw.page(session, after=0) as page:
            assert (await frames(page, 0.3))[-1]["seq"] == again["seq"]
        assert (await payload(worker, conversation))["seen_seq"] == again["seq"]
        assert seen_events(await frames(worker.socket, 0.3), conversation) == []


async def test_on_telegram_a_reply_is_delivered_and_seen_seq_is_null(rasa, provider, sqlite_url):
    chat = 810_000_000 + secrets.randbelow(10_000_000)
    rasa.says(ASK, {"text": "Someone will be with you.", "response": "utter_handoff_queued"},
              handoff={"crisis": False, "queue_when_closed": False})
    async with running(rasa, database_url=sqlite_url, **telegram_settings(provider)) as gw:
        worker = await gw.staff_member()
        await telegram_says(gw, chat, ASK)  # answered in the background
        for _ in range(100):
            if await worker.queue():
                break
            await asyncio.sleep(0.05)
        [entry] = await worker.queue()
        assert (await worker.act(entry["id"], "claim"))[0] == 200
        assert (await worker.act(entry["id"], "messages", "I'm here."))[0] == 200
        body = await payload(worker, entry["id"])
        assert body["channel"] == "telegram" and body["seen_seq"] is None


@pytest.mark.xdist_group("machine-redis")  # the machine's Redis is shared (test_staff_live.py)
async def test_the_console_on_another_gateway_hears_that_the_page_was_sent_it(rasa, postgres_schema):
    shared = {"database_url": postgres_schema(), "redis_url": MACHINE_REDIS,
              "channel_id_key": b"the same on every gateway"}
    async with running(rasa, **shared) as page_side, running(rasa, **shared) as console_side:
        worker = await console_side.staff_member()
        await asyncio.sleep(0.5)  # both gateways are listening on Redis by now
        session, conversation = await claimed(page_side, rasa, worker)
        status, reply = await worker.act(conversation, "messages", "Are you still there?")
        assert status == 200
        async with page_side.page(session) as page:
            assert (await frames(page, 0.3))[-1]["seq"] == reply["seq"]
            event = await worker.next_event(lambda e: e["type"] == "seen")
        assert event == {"type": "seen", "conversation": conversation, "seq": reply["seq"]}

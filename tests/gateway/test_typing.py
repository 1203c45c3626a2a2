"""Typing indicators (bot/staff/typing.py), both ways, never stored: the person typing
on the web page reaches the consoles only while their conversation is in the queue
or held; the worker holding it, and only they, reach the person's page and, on
Telegram, the "typing" chat action, at most once every few seconds. A gateway in
this process against the fake Rasa; Telegram's server faked on loopback
(tests/support/fake_provider.py), as in tests/gateway/test_messaging_turns.py."""
import asyncio
import secrets

import pytest

from bot.staff import typing
from tests.support.fake_rasa import utter
from tests.support.gateways import running
from tests.support.handoff_clients import frames
from tests.support.messaging_apps import telegram_says, telegram_settings

ASK = "i want to talk to a person"


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    """Each test says itself when the limits matter."""
    monkeypatch.setattr(typing, "PERSON_EVERY_SECONDS", 0)


def asks_for_a_person(rasa) -> None:
    rasa.says(ASK, utter("utter_handoff_queued"), handoff={"crisis": False, "queue_when_closed": False})


async def handoff_id(gw, session: str) -> str:
    return (await gw.store.handoff_for_session(session))["id"]


async def typed(page) -> None:
    """The page says the person is typing; an unknown frame after it comes back as
    an error once the gateway has dealt with the first (frames are read in order)."""
    await page.send_json({"type": "typing"})
    await page.send_json({"type": "done?"})
    while (await page.receive_json(timeout=5)).get("type") != "error":
        pass




async def test_the_person_typing_reaches_the_consoles_only_while_in_the_queue(gw, rasa):
    asks_for_a_person(rasa)
    worker = await gw.staff_member()
    session = await gw.start("hi")
    async with gw.page(session) as page:
        await typed(page)  # talking to the bot: the team hears nothing
        assert [e for e in await frames(worker.socket, 0.5) if e["type"] == "typing"] == []
        await gw.say(session, ASK)
        conversation = await handoff_id(gw, session)
        await worker.next_event(lambda e: e["type"] == "queue" and e["conversations"])
        await typed(page)
        event = await worker.next_event(lambda e: e["type"] == "typing")
        assert event == {"type": "typing", "conversation": conversation}
        assert (await worker.act(conversation, "claim"))[0] == 200
        # Held: the holder hears it, a colleague doesn't (like the conversation's messages).
        colleague = await gw.staff_member()
        await typed(page)
        await worker.next_event(lambda e: e["type"] == "typing")
        assert [e for e in await frames(colleague.socket, 0.5) if e["type"] == "typing"] == []
        assert (await worker.act(conversation, "close"))[0] == 200
        await typed(page)  # closed: nothing again
        seen = await frames(worker.socket, 0.5)
    assert [e for e in seen if e["type"] == "typing"] == []


async def test_a_page_that_says_it_too_often_is_passed_on_once(gw, rasa, monkeypatch):
    monkeypatch.setattr(typing, "PERSON_EVERY_SECONDS", 30)
    asks_for_a_person(rasa)
    worker = await gw.staff_member()
    session = await gw.start("hi")
    await gw.say(session, ASK)
    async with gw.page(session) as page:
        for _ in range(5):
            await typed(page)
    seen = await frames(worker.socket, 0.5)
    assert len([e for e in seen if e["type"] == "typing"]) == 1


async def test_the_worker_typing_reaches_the_persons_page_and_is_never_stored(gw, rasa):
    asks_for_a_person(rasa)
    worker = await gw.staff_member()
    session = await gw.start("hi")
    await gw.say(session, ASK)
    conversation = await handoff_id(gw, session)
    assert (await worker.act(conversation, "claim"))[0] == 200
    before = await gw.transcript(session)
    audit_before = await gw.store.audit_log()
    async with gw.page(session, after=len(before)) as page:
        assert await worker.act(conversation, "typing") == (200, {"ok": True})
        assert await page.receive_json(timeout=5) == {"type": "typing", "from": "staff"}
        # Again at once: the limit for Telegram holds for the page too.
        assert await worker.act(conversation, "typing") == (200, {"ok": True})
        assert await frames(page, 0.5) == []
    assert await gw.transcript(session) == before
    assert await gw.store.audit_log() == audit_before


async def test_only_the_worker_holding_it_can_say_they_are_typing(gw, rasa):
    asks_for_a_person(rasa)
    holder, other = await gw.staff_member(), await gw.staff_member()
    session = await gw.start("hi")
    await gw.say(session, ASK)
    conversation = await handoff_id(gw, session)
    assert (await other.act(conversation, "typing"))[0] == 409  # nobody holds it yet
    assert (await holder.act(conversation, "claim"))[0] == 200
    status, body = await other.act(conversation, "typing")
    assert status == 403 and body["error"]
    assert (await other.act("no-such-conversation", "typing"))[0] == 404
    assert (await other.call("POST", f"/staff/api/conversations/{conversation}/typing", csrf=False))[0] == 403


async def eventually(read, done=bool, seconds: float = 5):
    """What `read()` gives once `done` says so (polled: the gateway runs in this loop)."""
    for _ in range(int(seconds / 0.05)):
        found = await read()
        if done(found):
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("it never happened")






async def test_on_telegram_the_worker_typing_is_the_typing_chat_action_at_most_every_4_seconds(
        rasa, provider, sqlite_url, monkeypatch):
    chat = 800_000_000 + secrets.randbelow(10_000_000)
    asks_for_a_person(rasa)
    async with running(rasa, database_url=sqlite_url, **telegram_settings(provider)) as gw:
        worker = await gw.staff_member()
        await telegram_says(gw, chat, ASK)  # answered in the background
        [entry] = await eventually(worker.queue)
        assert (await worker.act(entry["id"], "claim"))[0] == 200

        async def actions():
            return [r["json"] for r in provider.requests[since:]
                    if r["path"].endswith("/sendChatAction") and r["json"].get("chat_id") == str(chat)]

        since = len(provider.requests)
        for _ in range(3):  # a console that says so too often: one chat action
            assert (await worker.act(entry["id"], "typing"))[0] == 200
        assert await eventually(actions) == [{"chat_id": str(chat), "action": "typing"}]
        await asyncio.sleep(0.3)
        assert len(await actions()) == 1
        # After the limit, once more.
        monkeypatch.setattr(typing, "WORKER_EVERY_SECONDS", 0)
        assert (await worker.act(entry["id"], "typing"))[0] == 200
        assert len(await eventually(actions, lambda found: len(found) == 2)) == 2

"""A turn and a handoff from Telegram: the same Conversations.say and Handoffs as the
web, with the app's own words and delivery. A gateway in this process against a fake
Rasa, Telegram's server faked on loopback (tests/support/fake_provider.py)."""
import asyncio
import itertools
import secrets

import pytest

from tests.support.fake_rasa import utter
from tests.support.gateways import running
from tests.support.messaging_apps import telegram_says, telegram_settings

ASK = "i want to talk to a person"

CHATS = itertools.count(700_000_000 + secrets.randbelow(10_000_000))






async def sent_to(provider, chat: int, since: int, count: int = 1):
    """The texts of the first `count` messages sent to this chat since request number `since`."""
    for _ in range(500):
        texts = [r["json"]["text"] for r in provider.requests[since:] if not r["failed"]
                 and r["path"].endswith("/sendMessage") and r["json"].get("chat_id") == str(chat)]
        if len(texts) >= count:
            return texts[:count]
        await asyncio.sleep(0.01)
    raise AssertionError("nothing reached the chat")


def telegram(provider) -> dict:
    return telegram_settings(provider, channel_id_key=b"the same key after a restart")


async def test_a_telegram_person_with_the_team_gets_replies_in_the_app_and_its_words(rasa, provider, sqlite_url):
    chat = next(CHATS)
    rasa.says(ASK, utter("utter_handoff_queued"), handoff={"crisis": False, "queue_when_closed": False})
    rasa.reads("delete my chat", "forget_me")
    async with running(rasa, database_url=sqlite_url, **telegram(provider)) as gw:
        staff = await gw.staff_member()
        since = len(provider.requests)
        await telegram_says(gw, chat, ASK)
        assert await sent_to(provider, chat, since) == [utter("utter_handoff_queued")["text"]]
        [asked] = [c for c in rasa.calls if c.route == "webhook"]
        assert (asked.text, asked.channel) == (ASK, "telegram")
        [entry] = await staff.queue()
        assert entry["channel"] == "telegram" and str(chat) not in str(entry)
        since = len(provider.requests)
        assert (await staff.act(entry["id"], "claim"))[0] == 200
        assert (await staff.act(entry["id"], "messages", "I'm here with you."))[0] == 200
        joined, said = await sent_to(provider, chat, since, 2)
        assert "joined the chat" in joined and said == "I'm here with you."
        # Telegram down: the worker's console is told the reply did not arrive; a
        # colleague's is not (it is not their chat).
        colleague = await gw.staff_member()
        provider.fail_next = 1
        assert (await staff.act(entry["id"], "messages", "Are you still there?"))[0] == 200
        await staff.next_event(lambda e: e == {"type": "undelivered", "conversation": entry["id"]})
        with pytest.raises((AssertionError, asyncio.TimeoutError)):  # nothing came
            await colleague.next_event(lambda e: e["type"] == "undelivered", timeout=0.5)
        # "Delete my chat" while held: the bot's answer, in the app's words.
        since = len(provider.requests)
        await telegram_says(gw, chat, "delete my chat")
        [forgotten] = await sent_to(provider, chat, since)
        assert "delete this chat in the app" in forgotten and "browser" not in forgotten
        assert await staff.queue() == []
        assert rasa.sent() == [ASK]


async def test_a_burst_on_telegram_gets_the_kind_slow_down_reply_not_silence(rasa, provider, sqlite_url):
    chat = next(CHATS)
    async with running(rasa, database_url=sqlite_url, messages_per_minute=1, **telegram(provider)) as gw:
        since = len(provider.requests)
        await telegram_says(gw, chat, "hello")
        await sent_to(provider, chat, since)
        await telegram_says(gw, chat, "hello??")
        _, slow_down = await sent_to(provider, chat, since, 2)
        assert slow_down.startswith("I couldn't read that message: they came too fast.")
        assert rasa.sent() == ["hello"]


async def test_after_a_restart_a_reply_from_the_team_still_reaches_the_telegram_chat(rasa, provider, sqlite_url):
    """The chat id is kept, sealed, while a handoff is open: a restarted gateway still
    knows where the worker's reply goes."""
    chat = next(CHATS)
    rasa.says(ASK, utter("utter_handoff_queued"), handoff={"crisis": False, "queue_when_closed": False})
    async with running(rasa, database_url=sqlite_url, **telegram(provider)) as gw:
        await gw.staff_member()
        since = len(provider.requests)
        await telegram_says(gw, chat, ASK)
        await sent_to(provider, chat, since)
    async with running(rasa, database_url=sqlite_url, **telegram(provider)) as restarted:
        staff = await restarted.staff_member()
        [entry] = await staff.queue()
        since = len(provider.requests)
        assert (await staff.act(entry["id"], "claim"))[0] == 200
        assert (await staff.act(entry["id"], "messages", "I'm here now."))[0] == 200
        assert (await sent_to(provider, chat, since, 2))[1] == "I'm here now."

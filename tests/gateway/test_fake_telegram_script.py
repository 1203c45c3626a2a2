"""scripts/fake_telegram.py, the pretend Telegram for running a shift by hand
(docs/handoff.md): what a person types there reaches the gateway as a signed
Telegram update, the gateway's replies and their buttons are printed, and a number
taps a button. Against a gateway in this process and a fake Rasa."""
import asyncio
import io

import aiohttp
from aiohttp import web

from scripts.fake_telegram import FakeTelegram
from tests.support.fake_rasa import utter
from tests.support.gateways import running
from tests.support.processes import free_port

SECRET = "pretend-telegram-secret"


async def printed(out: io.StringIO, words: str) -> str:
    for _ in range(500):
        if words in out.getvalue():
            return out.getvalue()
        await asyncio.sleep(0.01)
    raise AssertionError(f"never printed {words!r}: {out.getvalue()!r}")


async def test_lines_typed_reach_the_gateway_and_replies_and_buttons_are_printed(rasa, sqlite_url):
    greet = utter("utter_greet")
    assert greet.get("buttons"), "utter_greet has buttons to tap"
    rasa.says("hello", greet)
    first = greet["buttons"][0]
    rasa.says(first["payload"], utter("utter_not_your_fault"))
    out, port = io.StringIO(), free_port()
    telegram = FakeTelegram("", SECRET, out=out)
    runner = web.AppRunner(telegram.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with running(rasa, database_url=sqlite_url, telegram_token="123:fake",
                           telegram_secret=SECRET, telegram_api_base=f"http://127.0.0.1:{port}",
                           provider_retries=0) as gw:
            telegram.gateway = gw.base
            assert await telegram.write(gw.http, "hello") == 200
            shown = await printed(out, f"[1] {first['title']}")
            assert "Bot: " + greet["text"].splitlines()[0] in shown
            assert await telegram.write(gw.http, "1") == 200  # taps the first button
            await printed(out, "Bot: " + utter("utter_not_your_fault")["text"].splitlines()[0])
            assert rasa.sent() == ["hello", first["payload"]]
            # A wrong secret is refused, and said so in the terminal.
            telegram.secret = "not the secret"
            assert await telegram.write(gw.http, "hello again") == 401
            assert "the gateway said 401" in out.getvalue()
        async with aiohttp.ClientSession() as session:  # the gateway has stopped now
            assert await telegram.write(session, "anyone?") is None
        assert "can't reach the gateway" in out.getvalue()
    finally:
        await runner.cleanup()

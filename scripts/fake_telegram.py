"""A pretend Telegram on this machine, to be a victim on "Telegram" by hand
(docs/handoff.md, "Running a shift by hand"): no phone, no bot account, nothing
leaves the machine.

It plays both of Telegram's parts:
- its Bot API: the gateway's replies (sendMessage, sendChatAction, sendDocument,
  answerCallbackQuery) are printed in this terminal;
- its webhook: each line typed here goes to the gateway as a Telegram update,
  signed with TELEGRAM_WEBHOOK_SECRET. A number on its own taps that button of
  the last message.

    .venv/bin/python scripts/fake_telegram.py            # listens on 127.0.0.1:8099

with, in .env, before `make run`:

    TELEGRAM_BOT_TOKEN=123:fake
    TELEGRAM_WEBHOOK_SECRET=a-long-random-string
    TELEGRAM_API_BASE=http://127.0.0.1:8099
"""
import argparse
import asyncio
import itertools
import os
import sys
from typing import Any, Dict, List, Optional

import aiohttp
from aiohttp import web
from dotenv import load_dotenv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHAT_ID = 424242  # one pretend person


class FakeTelegram:
    def __init__(self, gateway: str, secret: str, chat_id: int = CHAT_ID, out=sys.stdout) -> None:
        self.gateway = gateway.rstrip("/")
        self.secret = secret
        self.chat_id = chat_id
        self.out = out
        self.buttons: List[Dict[str, str]] = []  # the last message's
        self.received: List[Dict[str, Any]] = []  # every Bot API call, for the tests
        self._ids = itertools.count(1)

    # --- Telegram's Bot API, as the gateway calls it ------------------------------
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self.bot_api)
        return app

    async def bot_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "multipart/form-data":
            body = {name: getattr(value, "filename", value) for name, value in (await request.post()).items()}
        else:
            body = await request.json()
        self.received.append({"method": method, **body})
        if method == "sendMessage":
            self.show_message(body)
        elif method == "sendChatAction":
            self.say("(typing…)")
        elif method == "sendDocument":
            self.say(f"(a file to keep: {body.get('document')})")
        return web.json_response({"ok": True, "result": {"message_id": next(self._ids)}})

    def show_message(self, body: Dict[str, Any]) -> None:
        self.say(f"Bot: {body.get('text', '')}")
        rows = (body.get("reply_markup") or {}).get("inline_keyboard") or []
        self.buttons = [button for row in rows for button in row]
        for number, button in enumerate(self.buttons, 1):
            self.say(f"  [{number}] {button['text']}")

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    # --- the person, writing --------------------------------------------------------
    def update(self, line: str) -> Dict[str, Any]:
        """What Telegram would send for this line: a tap if it is a button's number."""
        chat = {"id": self.chat_id, "type": "private"}
        choice = line.strip()
        if choice.isdigit() and 1 <= int(choice) <= len(self.buttons):
            return {"update_id": next(self._ids), "callback_query": {
                "id": str(next(self._ids)), "data": self.buttons[int(choice) - 1]["callback_data"],
                "message": {"message_id": next(self._ids), "chat": chat}}}
        return {"update_id": next(self._ids), "message": {
            "message_id": next(self._ids), "date": 0, "text": line, "chat": chat}}

    async def write(self, session: aiohttp.ClientSession, line: str) -> Optional[int]:
        """Sends the line to the gateway's webhook; its HTTP status, or None if unreachable."""
        try:
            async with session.post(f"{self.gateway}/webhooks/telegram", json=self.update(line),
                                    headers={"X-Telegram-Bot-Api-Secret-Token": self.secret}) as answer:
                if answer.status != 200:
                    self.say(f"(the gateway said {answer.status}: {(await answer.text())[:200]})")
                return answer.status
        except aiohttp.ClientError:
            self.say(f"(can't reach the gateway at {self.gateway}: is `make run` running?)")
            return None


async def main(argv: Optional[List[str]] = None) -> int:
    load_dotenv(os.path.join(ROOT, ".env"))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8099, help="where the pretend Bot API listens")
    parser.add_argument("--gateway", default=f"http://127.0.0.1:{os.environ.get('GATEWAY_PORT', '8080')}")
    args = parser.parse_args(argv)
    secret = os.environ.get("TELEGRAM_WEBHOOK_SECRET", "")
    if not secret:
        print("Set TELEGRAM_WEBHOOK_SECRET (and TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE) in .env first:"
              " see the top of this file.", file=sys.stderr)
        return 2
    telegram = FakeTelegram(args.gateway, secret)
    runner = web.AppRunner(telegram.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.port).start()
    telegram.say(f"Pretend Telegram on 127.0.0.1:{args.port}. Type as the person; a number taps a button;"
                 " Ctrl-D ends.")
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession() as session:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            if line.strip():
                await telegram.write(session, line.rstrip("\n"))
    await runner.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

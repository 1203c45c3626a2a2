"""Clients for the handoff tests: a support worker on the staff API (cookie,
CSRF token, the live WebSocket) and a victim on the web API. aiohttp, so a test
can listen live while it acts."""
import asyncio
import os
import secrets
import subprocess
import time
from typing import Any, Dict, List, Optional, Tuple

import aiohttp
import pyotp

from tests.conftest import ROOT

PASSWORD = "correct horse battery staple"


def staff_command(env: Dict[str, str], *args: str, password: str = "") -> subprocess.CompletedProcess:
    """The real command: python -m bot.staff ..."""
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "bot.staff", *args],
        input=password + "\n", text=True, capture_output=True, cwd=ROOT,
        env={**os.environ, **env}, timeout=60)


def add_staff(env: Dict[str, str], username: str, password: str = PASSWORD, *extra: str) -> str:
    done = staff_command(env, "add", username, "--password-stdin", *extra, password=password)
    assert done.returncode == 0, done.stderr
    return done.stdout


class Staff:
    def __init__(self, base: str, source: Optional[str] = None) -> None:
        """`source`: the loopback address to connect from (127.0.0.2, ...), so that
        one test can be a worker and an attacker at different addresses."""
        self.base = base
        # unsafe=True: keep cookies for an IP address host (127.0.0.1)
        # No keep-alive: a gateway restarted under a test must not leave a dead connection.
        connector = aiohttp.TCPConnector(force_close=True,
                                         local_addr=(source, 0) if source else None)
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                          connector=connector)
        self.csrf: Optional[str] = None
        self.username: Optional[str] = None
        self.socket: Optional[aiohttp.ClientWebSocketResponse] = None

    async def login(self, username: str, password: str = PASSWORD) -> int:
        status, body = await self.call("POST", "/staff/api/login",
                                       {"username": username, "password": password})
        if status == 200:
            self.csrf, self.username = body["csrf_token"], username
        return status

    async def give_code(self, code: str = "", recovery_code: str = "") -> Tuple[int, Any]:
        """The second step of signing in (two-factor on): a whole session, a new CSRF token."""
        body = {"recovery_code": recovery_code} if recovery_code else {"code": code}
        status, answer = await self.call("POST", "/staff/api/login/code", body)
        if status == 200:
            self.csrf = answer["csrf_token"]
        return status, answer

    async def set_up_two_factor(self) -> Tuple[str, List[str]]:
        """Two-factor on for this signed-in account, as the console does it: (the
        secret, for pyotp to make codes with; the recovery codes). Supervisors and
        admins can do nothing else until it is on."""
        status, setup = await self.call("POST", "/staff/api/account/two-factor/setup")
        assert status == 200, setup
        status, done = await self.call("POST", "/staff/api/account/two-factor/confirm",
                                       {"code": pyotp.TOTP(setup["secret"]).now()})
        assert status == 200, done
        return setup["secret"], done["recovery_codes"]

    async def call(self, method: str, path: str, body: Any = None,
                   csrf: bool = True) -> Tuple[int, Any]:
        headers = {"X-CSRF-Token": self.csrf} if csrf and self.csrf else {}
        async with self.http.request(method, self.base + path, json=body, headers=headers) as response:
            try:
                return response.status, await response.json(content_type=None)
            except ValueError:
                return response.status, await response.text()

    async def queue(self) -> List[Dict[str, Any]]:
        status, body = await self.call("GET", "/staff/api/queue")
        assert status == 200, body
        return body["conversations"]

    async def act(self, conversation: str, action: str, text: Optional[str] = None) -> Tuple[int, Any]:
        return await self.call("POST", f"/staff/api/conversations/{conversation}/{action}",
                               {"text": text} if text is not None else None)

    async def go_live(self) -> None:
        self.socket = await self.http.ws_connect(self.base.replace("http", "ws") + "/staff/api/live")

    async def next_event(self, predicate, timeout: float = 15) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, "no such event from the live console socket"
            frame = await self.socket.receive(timeout=left)
            if frame.type == aiohttp.WSMsgType.TEXT and frame.data != "pong":
                event = frame.json()
                if predicate(event):
                    return event

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        await self.http.close()


async def signed_in_staff(system: Dict[str, Any], prefix: str = "staff") -> "Staff":
    """A new staff account on this running system (its env and base URL), logged in."""
    name = f"{prefix}{secrets.token_hex(3)}"
    add_staff(system["env"], name)
    staff = Staff(system["base"])
    assert await staff.login(name) == 200
    return staff


class Victim:
    """Someone on the web chat, through POST /api/chat and GET .../messages."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))
        self.session: Optional[str] = None

    async def say(self, text: str) -> List[Dict[str, Any]]:
        body = {"text": text, **({"session": self.session} if self.session else {})}
        async with self.http.post(self.base + "/api/chat", json=body) as response:
            data = await response.json()
            assert response.status == 200, data
        self.session = data["session"]
        return data["messages"]

    async def messages(self, after: int = 0) -> List[Dict[str, Any]]:
        async with self.http.get(f"{self.base}/api/chat/{self.session}/messages",
                                 params={"after": after}) as response:
            assert response.status == 200
            return (await response.json())["messages"]

    async def wait_for(self, predicate, timeout: float = 10) -> Dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in await self.messages() if predicate(m)]
            if found:
                return found[-1]
            await asyncio.sleep(0.1)
        raise AssertionError("the message never reached the person")

    async def close(self) -> None:
        await self.http.close()


def responses(messages: List[Dict[str, Any]]) -> List[str]:
    return [m.get("response", "") for m in messages]


async def frames(socket: aiohttp.ClientWebSocketResponse, seconds: float) -> List[Dict[str, Any]]:
    """Every JSON frame a socket (a live console's, or the chat page's) gets for a while,
    pongs aside: for checking that something did not arrive."""
    found, deadline = [], time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            frame = await socket.receive(timeout=left)
        except asyncio.TimeoutError:
            break
        if frame.type == aiohttp.WSMsgType.TEXT and frame.data != "pong":
            found.append(frame.json())
    return found

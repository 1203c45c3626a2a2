"""Gateways built in this process as `python -m bot` builds them (bot.app.create_app),
on real loopback sockets. Unless a test gives a fake Rasa (tests/support/fake_rasa.py),
Rasa and the action server are addresses where nothing listens, so a turn gets the
gateway's own calm reply: enough for staff logins, the console's live feed, the
messaging apps' webhooks.

Several gateways on one database (and Redis) are replicas; a new gateway on the
database of one that stopped is that gateway restarted."""
import contextlib
import functools
import secrets
from typing import Any, AsyncIterator, Dict, List, Optional, Tuple

import aiohttp
from aiohttp import web

from bot.app import create_app
from bot.conversation.assistant import RasaClient
from bot.conversation.crisis_floor import CrisisFloor, load_crisis_floor
from bot.conversation.redaction import Redactor, load_redactor
from bot.errors import GuardedAppRunner
from bot.internal import create_internal_app
from bot.keys import CONVERSATIONS, HANDOFFS
from bot.settings import Settings
from bot.staff.auth import hash_password
from tests.support.fake_rasa import FakeRasa, utter
from tests.support.handoff_clients import PASSWORD, Staff
from tests.support.processes import free_port

NOBODY = f"http://127.0.0.1:{free_port()}"  # nothing listens here
INTERNAL_TOKEN = "internal-token-" + secrets.token_hex(8)


@functools.lru_cache(maxsize=1)
def redactor() -> Redactor:
    return load_redactor()  # spaCy's model, loaded once for every gateway here


@functools.lru_cache(maxsize=1)
def crisis_floor() -> CrisisFloor:
    return load_crisis_floor()  # the same: spaCy's model with lemmas, once


@functools.lru_cache(maxsize=1)
def password_hash() -> str:
    return hash_password(PASSWORD)  # scrypt is slow on purpose: once


def gateway_app(**settings) -> web.Application:
    """The gateway's app with these settings, not started."""
    return create_app(Settings(**{"rasa_url": NOBODY, "actions_url": NOBODY,
                                  "rasa_token": "unused", **settings}), redactor(), crisis_floor())


@contextlib.asynccontextmanager
async def gateway(**settings) -> AsyncIterator[str]:
    """A running gateway with these settings; yields its base URL."""
    async with running(**settings) as started:
        yield started.base


class Gateway:
    """A running gateway: its addresses, the parts a test looks inside (`chats`,
    `store`, `handoffs`), and the calls a victim's page, the action server and a
    support worker make."""

    def __init__(self, app: web.Application, base: str, internal: str) -> None:
        self.app, self.base, self.internal = app, base, internal
        self.chats = app[CONVERSATIONS]
        self.store = self.chats.store
        self.handoffs = app[HANDOFFS]
        self.http = aiohttp.ClientSession()
        self._staff: List[Staff] = []

    async def chat(self, text: Any, session: Optional[str] = None) -> Tuple[int, Dict[str, Any], Any]:
        """POST /api/chat: (status, body, headers)."""
        body = {"text": text, **({"session": session} if session else {})}
        async with self.http.post(self.base + "/api/chat", json=body) as response:
            return response.status, await response.json(), response.headers

    async def start(self, text: str = "hi") -> str:
        """A new conversation, its first message answered; its session id."""
        status, body, _ = await self.chat(text)
        assert status == 200, body
        return body["session"]

    async def say(self, session: str, text: str) -> List[Dict[str, Any]]:
        """One more message, answered 200: the replies."""
        status, body, _ = await self.chat(text, session)
        assert status == 200, body
        return body["messages"]

    async def transcript(self, session: str) -> Optional[List[Dict[str, Any]]]:
        """Every message stored, as the page reads them; None once there is no conversation."""
        async with self.http.get(f"{self.base}/api/chat/{session}/messages") as response:
            return (await response.json())["messages"] if response.status == 200 else None

    @contextlib.asynccontextmanager
    async def page(self, session: str, after: int = 0) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
        """The chat page's WebSocket, joined to this conversation: the messages after
        `after`, then every new one, arrive on it."""
        async with self.http.ws_connect(self.base.replace("http", "ws") + "/ws") as socket:
            await socket.send_json({"type": "join", "session": session, "after": after})
            assert (await socket.receive_json(timeout=5)) == {"type": "joined", "session": session}
            yield socket

    async def internal_call(self, path: str, body: Dict[str, Any]) -> Tuple[int, Any]:
        """The internal API, as the action server calls it."""
        async with self.http.post(self.internal + path, json=body,
                                  headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"}) as response:
            return response.status, await response.json()

    async def staff_member(self, live: bool = True, role: str = "worker") -> Staff:
        """A new staff member (a support worker unless `role` says), logged in; with
        the console open (on shift) if `live`."""
        name = f"staff{secrets.token_hex(3)}"
        assert await self.store.add_staff(name, password_hash(), role)
        staff = Staff(self.base)
        self._staff.append(staff)
        assert await staff.login(name) == 200
        if role != "worker":
            await staff.set_up_two_factor()  # supervisors and admins can do nothing before
        if live:
            await staff.go_live()
            await staff.next_event(lambda e: e["type"] == "queue")
        return staff

    async def close(self) -> None:
        for staff in self._staff:
            await staff.close()
        await self.http.close()


@contextlib.asynccontextmanager
async def running(rasa: Optional[FakeRasa] = None, rasa_timeout: Optional[float] = None,
                  **settings) -> AsyncIterator[Gateway]:
    """A gateway and its internal API on loopback, as `python -m bot` serves them.
    With `rasa`, Rasa and the action server are that fake, which can ask the
    internal API for a person as Rasa's actions do. `rasa_timeout`: how long the
    gateway waits for Rasa (create_app leaves it at RasaClient's 20 s default)."""
    if rasa is not None:
        settings = {"rasa_url": rasa.url, "actions_url": rasa.url, "rasa_token": rasa.token,
                    **settings}
    port, internal_port = free_port(), free_port()
    app = gateway_app(port=port, internal_token=INTERNAL_TOKEN, **settings)
    chats = app[CONVERSATIONS]
    if rasa_timeout is not None:
        chats.assistant = RasaClient(settings["rasa_url"], settings["actions_url"],
                                     settings["rasa_token"], timeout_seconds=rasa_timeout)
    # A request still waiting on a hanging Rasa when the test ends is not waited for long.
    public = GuardedAppRunner(app, access_log=None, shutdown_timeout=1)
    internal = GuardedAppRunner(create_internal_app(app, INTERNAL_TOKEN), access_log=None,
                                shutdown_timeout=1)
    await public.setup()
    await internal.setup()
    started = None
    try:
        await web.TCPSite(public, "127.0.0.1", port).start()
        await web.TCPSite(internal, "127.0.0.1", internal_port).start()
        started = Gateway(app, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{internal_port}")
        if rasa is not None:
            rasa.gateway = (started.internal, INTERNAL_TOKEN)
        yield started
    finally:
        if started is not None:
            await started.close()
        if rasa_timeout is not None:
            await chats.assistant.close()
        await internal.cleanup()
        await public.cleanup()


# --- a conversation handed to the team, through the fake Rasa ------------------------
ASK = "i want to talk to a person"


async def queued(gw, rasa, crisis: bool = False):
    """A web conversation whose person asked for someone from the team (Rasa's action
    asks the internal API): (session, handoff id)."""
    rasa.says(ASK, utter("utter_handoff_crisis" if crisis else "utter_handoff_queued"),
              handoff={"crisis": crisis, "queue_when_closed": False})
    session = await gw.start("hi")
    await gw.say(session, ASK)
    status, answer = rasa.handoff_answers[-1]
    assert status == 200 and answer["status"] == "queued", answer
    return session, (await gw.store.handoff_for_session(session))["id"]


async def claimed(gw, rasa, staff):
    session, conversation = await queued(gw, rasa)
    status, body = await staff.act(conversation, "claim")
    assert status == 200 and body["status"] == "claimed", body
    return session, conversation


def user_message(conversation: str, text: str):
    return lambda e: (e["type"] == "message" and e["conversation"] == conversation
                      and e["message"]["from"] == "user" and e["message"]["text"] == text)

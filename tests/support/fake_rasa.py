"""A stand-in for Rasa and the action server, on loopback, in the tests' own event loop:
what the gateway uses of them, and nothing else.

    POST   /webhooks/gateway/webhook                    {"sender", "message", "channel"?} -> [messages]
    POST   /webhooks/gateway/conversations/<id>/handoff {"state"} -> [messages]
    DELETE /webhooks/gateway/conversations/<id>         -> 204
    POST   /model/parse?token=                          {"text"} -> {"intent": {"name", "confidence"}}
    GET    /status?token=                               Rasa's model is loaded
    GET    /health                                      the action server answers

The channel routes want `Authorization: Bearer <token>`, Rasa's own API `?token=`, as
our Rasa input channel (GatewayInput, in channels/) and Rasa do. Per test, say what it answers (`says`, `reads`,
`on_handoff`) and what goes wrong (`fail`, `hang`, `slow`, `actions_up`); it records
every call (`calls`), so a test can check what reached Rasa (only redacted text).

A scripted answer can also ask for a person, as Rasa's action_handoff does: the
fake then posts to the gateway's internal API (/internal/handoffs) before it answers.
"""
import asyncio
import contextlib
import functools
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Dict, List, Optional, Tuple

import aiohttp
import yaml
from aiohttp import web

from tests.conftest import ROOT

TOKEN = "fake-rasa-token"
DEFAULT_REPLY = {"text": "I'm here to help. What's happening?", "response": "utter_default"}


@functools.lru_cache(maxsize=1)
def _responses() -> Dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]


def utter(name: str) -> Dict[str, Any]:
    """A message as our Rasa channel sends it: the domain's default words for a response,
    its buttons, and its name."""
    variant = next(v for v in _responses()[name] if not v.get("condition") and not v.get("channel"))
    message = {"text": variant["text"], "response": name}
    if variant.get("buttons"):
        message["buttons"] = [{"title": b["title"], "payload": b["payload"]} for b in variant["buttons"]]
    return message


@dataclass
class Answer:
    messages: List[Dict[str, Any]]
    handoff: Optional[Dict[str, Any]] = None  # asks the gateway for a person first
    delay: float = 0.0
    hang: bool = False  # until release()


@dataclass
class Call:
    route: str  # "webhook", "handoff", "erase", "parse", "status" or "health"
    sender: Optional[str] = None
    text: Optional[str] = None  # the message, the text to parse, or the handoff state
    channel: Optional[str] = None
    status: int = 200


@dataclass
class FakeRasa:
    token: str = TOKEN
    url: str = ""
    calls: List[Call] = field(default_factory=list)
    # What the gateway's internal API answered each handoff asked for.
    handoff_answers: List[Tuple[int, Any]] = field(default_factory=list)
    gateway: Optional[Tuple[str, str]] = None  # its internal API: (base URL, token)

    def reset(self) -> None:
        """As new: between tests, with one fake shared by a module."""
        self.release()
        self.calls.clear()
        self.handoff_answers.clear()
        self.answers: Dict[str, Answer] = {}
        self.intents: Dict[str, Tuple[str, float]] = {}
        self.default_intent = ("nlu_fallback", 0.3)  # what it makes of any other text
        self.on_handoff: Dict[str, List[Dict[str, Any]]] = {
            "paused": [], "resumed": [], "released": [utter("utter_handback")],
            "closed": [utter("utter_handoff_ended")]}
        self.failing: Dict[str, int] = {}  # route -> the status it answers
        self.hanging: set = set()
        self.delays: Dict[str, float] = {}
        self.actions_up = True
        self.gateway = None
        self._released = asyncio.Event()

    # --- the script --------------------------------------------------------------
    def says(self, text: str, *messages: Dict[str, Any], handoff: Optional[Dict[str, Any]] = None,
             delay: float = 0.0, hang: bool = False) -> None:
        """What Rasa answers to this text (as it reaches Rasa: redacted, or a payload).
        Anything else gets DEFAULT_REPLY."""
        self.answers[text] = Answer(list(messages), handoff, delay, hang)

    def reads(self, text: str, intent: str, confidence: float = 0.95) -> None:
        """What /model/parse makes of this text; of anything else, `default_intent`."""
        self.intents[text] = (intent, confidence)

    def fail(self, route: str, status: int = 500) -> None:
        self.failing[route] = status

    def hang(self, route: str) -> None:
        """The route never answers, until release()."""
        self.hanging.add(route)

    def slow(self, route: str, seconds: float) -> None:
        self.delays[route] = seconds

    def release(self) -> None:
        """Every call left hanging answers now; none hangs from here on."""
        if hasattr(self, "_released"):
            self._released.set()
            self.hanging = set()

    # --- what it was sent ----------------------------------------------------------
    def sent(self, sender: Optional[str] = None) -> List[str]:
        """The messages that reached the channel's webhook (of one conversation)."""
        return [c.text for c in self.calls if c.route == "webhook" and c.status == 200
                and sender in (None, c.sender)]

    def parsed(self) -> List[str]:
        return [c.text for c in self.calls if c.route == "parse"]

    def routes(self, sender: str) -> List[Tuple[str, Optional[str]]]:
        """(route, handoff state) of every call about one conversation, in order."""
        return [(c.route, c.text if c.route == "handoff" else None) for c in self.calls
                if c.sender == sender]

    async def wait_for(self, route: str, count: int = 1) -> None:
        for _ in range(500):
            if sum(c.route == route for c in self.calls) >= count:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"Rasa never got {count} {route} call(s)")

    # --- the server ----------------------------------------------------------------
    async def _trouble(self, route: str, answer: Optional[Answer] = None) -> Optional[web.Response]:
        """Waits or fails as told; the error response, if any."""
        delay = self.delays.get(route, 0.0) + (answer.delay if answer else 0.0)
        if delay:
            await asyncio.sleep(delay)
        if route in self.hanging or (answer and answer.hang):
            await self._released.wait()
        if route in self.failing:
            return web.json_response({"error": "Rasa is having a bad day"}, status=self.failing[route])
        return None

    def _bearer(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        call = Call("webhook", body["sender"], body["message"], body.get("channel"))
        self.calls.append(call)
        answer = self.answers.get(body["message"], Answer([DEFAULT_REPLY]))
        refused = (None if self._bearer(request) else web.json_response({}, status=401)) \
            or await self._trouble("webhook", answer)
        if refused is not None:
            call.status = refused.status
            return refused
        if answer.handoff is not None:
            await self._ask_for_a_person(body["sender"], answer.handoff)
        return web.json_response(answer.messages)

    async def _ask_for_a_person(self, sender: str, asked: Dict[str, Any]) -> None:
        """What action_handoff does: asks the gateway's internal API to queue the conversation."""
        base, token = self.gateway
        async with aiohttp.ClientSession() as http, http.post(
                f"{base}/internal/handoffs", json={"session": sender, **asked},
                headers={"Authorization": f"Bearer {token}"}) as response:
            self.handoff_answers.append((response.status, await response.json()))

    async def _handoff(self, request: web.Request) -> web.Response:
        state = (await request.json())["state"]
        call = Call("handoff", request.match_info["sender"], state)
        self.calls.append(call)
        refused = (None if self._bearer(request) else web.json_response({}, status=401)) \
            or await self._trouble("handoff")
        call.status = refused.status if refused is not None else 200
        return refused if refused is not None else web.json_response(self.on_handoff[state])

    async def _erase(self, request: web.Request) -> web.Response:
        call = Call("erase", request.match_info["sender"])
        self.calls.append(call)
        refused = (None if self._bearer(request) else web.json_response({}, status=401)) \
            or await self._trouble("erase")
        call.status = refused.status if refused is not None else 204
        return refused if refused is not None else web.Response(status=204)

    async def _parse(self, request: web.Request) -> web.Response:
        text = (await request.json())["text"]
        self.calls.append(Call("parse", text=text))
        if request.query.get("token") != self.token:
            return web.json_response({}, status=401)
        refused = await self._trouble("parse")
        if refused is not None:
            return refused
        name, confidence = self.intents.get(text, self.default_intent)
        return web.json_response({"text": text, "intent": {"name": name, "confidence": confidence},
                                  "entities": []})

    async def _status(self, request: web.Request) -> web.Response:
        self.calls.append(Call("status"))
        refused = await self._trouble("status")
        ok = refused is None and request.query.get("token") == self.token
        return web.json_response({"model_file": "fake"}, status=200 if ok else 409)

    async def _health(self, request: web.Request) -> web.Response:
        self.calls.append(Call("health"))
        return web.json_response({"status": "ok" if self.actions_up else "down"},
                                 status=200 if self.actions_up else 503)


@contextlib.asynccontextmanager
async def fake_rasa() -> AsyncIterator[FakeRasa]:
    """A fake Rasa listening on a free loopback port until the block ends."""
    fake = FakeRasa()
    fake.reset()
    app = web.Application()
    app.router.add_post("/webhooks/gateway/webhook", fake._webhook)
    app.router.add_post("/webhooks/gateway/conversations/{sender}/handoff", fake._handoff)
    app.router.add_delete("/webhooks/gateway/conversations/{sender}", fake._erase)
    app.router.add_post("/model/parse", fake._parse)
    app.router.add_get("/status", fake._status)
    app.router.add_get("/health", fake._health)
    # A call still hanging when the block ends is not waited for.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.url = "http://127.0.0.1:%d" % runner.addresses[0][1]
    try:
        yield fake
    finally:
        fake.release()
        await runner.cleanup()

"""`make test-scale`: two Rasa servers, two gateways and one action server on the
machine's real PostgreSQL (a schema of its own) and Redis.

A conversation whose messages alternate between the gateways keeps the same
dialogue as on one; staff on gateway A reach a victim on gateway B live; a
gateway killed mid-conversation loses nobody. (Restarts of PostgreSQL and Redis
are in test_scale_recovery.py, on private servers.)"""
import asyncio
import json

import aiohttp
import pytest
from sqlalchemy import create_engine, text

from bot.store import engine_url
from tests.support.handoff_clients import Staff, add_staff
from tests.support.processes import call
from tests.support.replicas import Replicas

MACHINE_REDIS = "redis://127.0.0.1:6379/0"
# Six messages, as a victim writes them; "tap" taps the first button of the last reply.
CONVERSATION = [
    "some guy on insta says hell send my nudes to my family unless i pay him 300",
    "tap", "tap", "tap", "tap", "thank you",
]


@pytest.fixture(scope="module")
def replicas(postgres_schema):
    database_url = postgres_schema()
    started = Replicas(database_url, MACHINE_REDIS)
    started.database_url = database_url
    yield started
    started.stop()


def say(base: str, text: str, session=None):
    status, _, body = call("POST", base + "/api/chat",
                           {"text": text, **({"session": session} if session else {})})
    assert status == 200, body
    return body["session"], body["messages"]


def run(replicas: Replicas, gateway_for_turn) -> tuple:
    """Plays CONVERSATION; returns (session, the response names of each turn)."""
    session, turns, buttons = None, [], []
    for n, line in enumerate(CONVERSATION):
        message = buttons[0]["payload"] if line == "tap" else line
        session, replies = say(replicas.base(gateway_for_turn(n)), message, session)
        turns.append([reply.get("response") for reply in replies])
        buttons = next((r["buttons"] for r in reversed(replies) if r.get("buttons")), buttons)
    return session, turns


def rasa_events(replicas: Replicas, session: str) -> list:
    engine = create_engine(engine_url(replicas.database_url), future=True)
    with engine.connect() as db:
        rows = db.execute(text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"),
                          {"s": session}).all()
    engine.dispose()
    return rows


def test_conversations_alternating_between_gateways_keep_one_consistent_dialogue(replicas):
    _, on_one = run(replicas, lambda n: 0)
    assert "utter_step_dont_pay" in on_one[0] and all(on_one), on_one

    async def alternate(offset: int):
        return await asyncio.to_thread(run, replicas, lambda n: n + offset)

    async def many():
        return await asyncio.gather(*(alternate(i) for i in range(8)))

    for session, turns in asyncio.run(many()):
        assert turns == on_one  # the same steps, in the same order
        status, _, stored = call("GET", f"{replicas.base(1)}/api/chat/{session}/messages")
        assert status == 200
        seqs = [m["seq"] for m in stored["messages"]]
        assert seqs == list(range(1, len(seqs) + 1))  # nothing lost, nothing twice
        said = [m for m in stored["messages"] if m["from"] == "user"]
        assert len(said) == len(CONVERSATION)
        # Rasa's shared tracker store holds each message exactly once.
        events = rasa_events(replicas, session)
        user_texts = [json.loads(data)["text"] for kind, data in events if kind == "user"]
        assert len(user_texts) == len(CONVERSATION), user_texts


def test_erasure_reaches_rasas_shared_tracker_store(replicas):
    session, _ = say(replicas.base(0), "he says he will post my pics unless i pay")
    assert rasa_events(replicas, session)
    say(replicas.base(1), "delete my chat", session)
    assert call("GET", f"{replicas.base(0)}/api/chat/{session}/messages")[0] == 404
    assert rasa_events(replicas, session) == []


async def listen(socket, predicate, timeout: float = 20):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        assert left > 0, "never arrived on the victim's socket"
        frame = await socket.receive(timeout=left)
        if frame.type == aiohttp.WSMsgType.TEXT:
            event = json.loads(frame.data)
            if predicate(event):
                return event


async def test_staff_on_gateway_a_reach_a_victim_on_gateway_b(replicas):
    username = "scale" + str(id(replicas))[-6:]
    add_staff(replicas.env, username)
    staff = Staff(replicas.base(0))
    assert await staff.login(username) == 200
    await staff.go_live()  # on shift, as seen from gateway A
    async with aiohttp.ClientSession() as http:
        victim = await http.ws_connect(replicas.base(1).replace("http", "ws") + "/ws")
        await victim.send_json({"type": "join"})
        session = (await listen(victim, lambda e: e["type"] == "joined"))["session"]
        await victim.send_json({"type": "say", "text": "someone is threatening to share my pics"})
        await listen(victim, lambda e: e.get("response") == "utter_step_dont_pay")
        await victim.send_json({"type": "say", "text": "can i talk to a real person please"})
        # Gateway B queued it: it knows the console on A is open.
        await listen(victim, lambda e: e.get("response") == "utter_handoff_queued")
        queued = await staff.next_event(lambda e: e["type"] == "queue" and e["conversations"], 30)
        handoff = queued["conversations"][0]["id"]

        status, _ = await staff.act(handoff, "claim")
        assert status == 200
        await listen(victim, lambda e: e.get("response") == "gateway_staff_joined")
        status, _ = await staff.act(handoff, "messages", "Hi, I'm Sam from the support team.")
        assert status == 200
        staff_said = await listen(victim, lambda e: e.get("from") == "staff")
        assert staff_said["text"].endswith("from the support team.")  # redacted like any other

        # The victim answers on B; the console on A sees it live.
        await victim.send_json({"type": "say", "text": "thank you, I'm really scared"})
        seen = await staff.next_event(
            lambda e: e["type"] == "message" and e["message"]["from"] == "user"
            and "scared" in e["message"]["text"], 20)
        assert seen["conversation"] == handoff
        status, _ = await staff.act(handoff, "release")
        assert status == 200
        await listen(victim, lambda e: e.get("from") == "bot" and e.get("seq", 0) > staff_said["seq"])
        await victim.close()
    await staff.close()
    assert session


async def test_a_gateway_killed_mid_conversation_loses_nobody(replicas):
    async with aiohttp.ClientSession() as http:
        socket = await http.ws_connect(replicas.base(0).replace("http", "ws") + "/ws")
        await socket.send_json({"type": "join"})
        session = (await listen(socket, lambda e: e["type"] == "joined"))["session"]
        await socket.send_json({"type": "say", "text": "a girl on snap wants money or she posts my nudes"})
        step = await listen(socket, lambda e: e.get("response") == "utter_step_dont_pay")

        replicas.gateways[0]["process"].kill()  # SIGKILL: no goodbye
        await socket.receive(timeout=10)  # the socket drops
        # The page reconnects to the other gateway with its session and last seq.
        again = await http.ws_connect(replicas.base(1).replace("http", "ws") + "/ws")
        await again.send_json({"type": "join", "session": session, "after": 0})
        assert (await listen(again, lambda e: e["type"] == "joined"))["session"] == session
        backlog = await listen(again, lambda e: e.get("seq") == step["seq"])
        assert backlog["response"] == "utter_step_dont_pay"
        await again.send_json({"type": "say", "text": step["buttons"][0]["payload"]})
        # Killed between its answer and freeing the conversation, A's lock lapses in 10 s.
        nxt = await listen(again, lambda e: e.get("response") == "utter_step_stop_replying", 40)
        assert nxt["seq"] > step["seq"]
        await again.close()
    _status, _, stored = call("GET", f"{replicas.base(1)}/api/chat/{session}/messages")
    seqs = [m["seq"] for m in stored["messages"]]
    assert seqs == list(range(1, len(seqs) + 1))

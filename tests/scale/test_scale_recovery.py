"""Redis and PostgreSQL restarted mid-conversation (private servers from the
machine's own binaries, so that the shared ones are never pulled away): the
person is told something kind with the emergency numbers meanwhile, never a
stack trace, and the system carries on by itself once they are back."""
import time
from typing import Optional

import pytest

from tests.support.processes import call
from tests.support.replicas import Replicas
from tests.support.services import PostgresServer, RedisServer

KIND = "999"  # every "something is down" reply carries the emergency numbers


@pytest.fixture(scope="module")
def services():
    postgres, redis = PostgresServer(), RedisServer()
    yield postgres, redis
    redis.stop()
    postgres.remove()


@pytest.fixture(scope="module")
def replicas(services):
    postgres, redis = services
    started = Replicas(postgres.url, redis.url)
    yield started
    started.stop()


def say(base: str, text: str, session: Optional[str] = None):
    return call("POST", base + "/api/chat", {"text": text, **({"session": session} if session else {})})


def assert_kind(status: int, body) -> None:
    """What the person sees while something is down: calm words and the numbers."""
    shown = body.get("error") if status != 200 else " ".join(m["text"] for m in body["messages"])
    assert KIND in shown, (status, body)
    assert "Traceback" not in str(body) and "sqlalchemy" not in str(body).lower(), body


def carries_on(replicas: Replicas, session: str, timeout: float = 60) -> dict:
    """Messages every second until the bot answers properly again; each answer
    meanwhile must be a kind one."""
    deadline = time.monotonic() + timeout
    n = 0
    while time.monotonic() < deadline:
        status, _, body = say(replicas.base(n), "should i pay him", session)
        n += 1
        if status == 200 and any((m.get("response") or "").startswith("utter_step")
                                 for m in body["messages"]):
            return body
        assert_kind(status, body)
        time.sleep(1)
    raise AssertionError("the system did not recover by itself:\n" + replicas.output()[-6000:])


def interrupted(replicas: Replicas, server, opener: str) -> str:
    """A conversation during which `server` stops and starts again; its session."""
    status, _, body = say(replicas.base(0), opener)
    assert status == 200
    session = body["session"]
    server.stop()
    for n in range(2):  # either gateway
        status, _, body = say(replicas.base(n), "please help, what do i do now", session)
        assert_kind(status, body)
    server.start()
    carries_on(replicas, session)
    return session


def test_redis_restarted_mid_conversation(replicas, services):
    session = interrupted(replicas, services[1], "someone on tiktok is blackmailing me with my nudes")
    # Nothing lost or doubled while the gateways could not share events.
    _status, _, stored = call("GET", f"{replicas.base(0)}/api/chat/{session}/messages")
    seqs = [m["seq"] for m in stored["messages"]]
    assert seqs == list(range(1, len(seqs) + 1))


def test_postgres_restarted_mid_conversation(replicas, services):
    opener = "he wants 200 quid or he sends my pics to everyone"
    session = interrupted(replicas, services[0], opener)
    # Nothing stored before the restart is lost, and nothing is doubled.
    status, _, stored = call("GET", f"{replicas.base(1)}/api/chat/{session}/messages")
    assert status == 200 and stored["messages"][0]["text"] == opener
    seqs = [m["seq"] for m in stored["messages"]]
    assert seqs == list(range(1, len(seqs) + 1))

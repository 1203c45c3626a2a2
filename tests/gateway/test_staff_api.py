"""Who may do what on the staff API: every route refuses anonymous, forged, expired
and logged-out callers; POSTs need the CSRF token; a conversation claimed by one staff
member is closed to the others; logins are throttled per address; accounts are made
and disabled with `python -m bot.staff`; a victim's session id opens nothing on the
staff side. A gateway in this process (the `gw` fixture, tests/gateway/conftest.py)
on SQLite, against the fake Rasa: all of this is the gateway's own.

The requests go through tests/support/processes.call (urllib) and the account command
runs as a real process: both block, so they run in a thread while the gateway, in
this event loop, answers."""
import asyncio
import secrets
import time

import pytest

from bot.staff import api as staff_api
from bot.staff.auth import MAX_FAILURES, token_hash
from tests.support import handoff_clients, processes
from tests.support.gateways import INTERNAL_TOKEN, password_hash
from tests.support.handoff_clients import PASSWORD, Staff, Victim

ROUTES = [
    ("POST", "/staff/api/logout"), ("GET", "/staff/api/me"), ("GET", "/staff/api/queue"),
    ("GET", "/staff/api/live"), ("GET", "/staff/api/conversations/abc"),
    ("POST", "/staff/api/conversations/abc/claim"), ("POST", "/staff/api/conversations/abc/messages"),
    ("POST", "/staff/api/conversations/abc/notes"), ("POST", "/staff/api/conversations/abc/release"),
    ("POST", "/staff/api/conversations/abc/close"),
]


async def call(*args, **kwargs):
    """processes.call: (status, headers, parsed JSON or text) for any status."""
    return await asyncio.to_thread(processes.call, *args, **kwargs)


async def staff_command(env, *args: str, password: str = ""):
    """The real command, python -m bot.staff, on the database in `env`."""
    return await asyncio.to_thread(handoff_clients.staff_command, env, *args, password=password)


async def add_staff(gw, username: str) -> None:
    """An account with handoff_clients.PASSWORD, straight into the gateway's store
    (the command is tested below; making an account with it takes a process each)."""
    assert await gw.store.add_staff(username, password_hash())


@pytest.fixture
def env(sqlite_url):
    """What the account command needs to act on the `gw` fixture's database."""
    return {"DATABASE_URL": sqlite_url}


@pytest.mark.parametrize("method, path", ROUTES)
@pytest.mark.parametrize("cookie", [None, "forged-" + "x" * 40, ""])
async def test_every_staff_route_refuses_a_caller_without_a_live_session(gw, method, path, cookie):
    headers = {"Cookie": f"staff_session={cookie}"} if cookie is not None else {}
    status, _, body = await call(method, gw.base + path, {"text": "hi"}, headers=headers)
    assert status == 401 and body["error"]


async def test_an_expired_session_is_refused(gw):
    name = f"exp{secrets.token_hex(3)}"
    await add_staff(gw, name)
    token = secrets.token_urlsafe(32)
    await gw.store.add_staff_session(token_hash(token), name, "csrf", time.time() - 5)
    status, _, _ = await call("GET", gw.base + "/staff/api/queue",
                              headers={"Cookie": f"staff_session={token}"})
    assert status == 401


async def test_login_sets_a_strict_http_only_cookie_and_posts_need_the_csrf_token(gw):
    name = f"kim{secrets.token_hex(3)}"
    await add_staff(gw, name)
    kim = Staff(gw.base)
    async with kim.http.post(gw.base + "/staff/api/login",
                             json={"username": name, "password": PASSWORD}) as response:
        assert response.status == 200
        cookie = response.headers["Set-Cookie"]
        kim.csrf = (await response.json())["csrf_token"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/staff" in cookie
    assert "Secure" not in cookie  # plain http here; behind TLS it is Secure:
    status, _, _ = await call("POST", gw.base + "/staff/api/login",
                              {"username": name, "password": PASSWORD}, headers={"X-Forwarded-Proto": "https"})
    assert status == 200
    assert (await kim.call("GET", "/staff/api/me"))[1]["username"] == name
    status, body = await kim.call("POST", "/staff/api/conversations/abc/claim", csrf=False)
    assert status == 403 and "CSRF" in body["error"]
    kim.csrf = "wrong"
    assert (await kim.call("POST", "/staff/api/conversations/abc/claim"))[0] == 403
    await kim.close()


async def test_login_from_another_site_is_refused(gw):
    name = f"ori{secrets.token_hex(3)}"
    await add_staff(gw, name)
    status, _, _ = await call("POST", gw.base + "/staff/api/login", {"username": name, "password": PASSWORD},
                              headers={"Origin": "https://evil.example"})
    assert status == 403


async def test_logout_ends_the_session(gw):
    name = f"out{secrets.token_hex(3)}"
    await add_staff(gw, name)
    staff = Staff(gw.base)
    assert await staff.login(name) == 200
    assert (await staff.call("POST", "/staff/api/logout"))[0] == 200
    staff.http.cookie_jar.clear()
    assert (await staff.call("GET", "/staff/api/queue"))[0] == 401
    await staff.close()


async def test_repeated_wrong_passwords_are_throttled_by_address_not_account(gw, monkeypatch):
    """The attacker connects from 127.0.0.9 (loopback, another address); the worker
    from 127.0.0.1. tests/gateway/test_staff_login.py has the rest. Each wrong password
    waits half a second (bot/staff/api.py): shortened, as there, since what is counted
    is the subject here, not how long it takes."""
    monkeypatch.setattr(staff_api, "FAILURE_DELAY_SECONDS", 0.01)
    name = f"thr{secrets.token_hex(3)}"
    await add_staff(gw, name)
    attacker = Staff(gw.base, source="127.0.0.9")
    statuses = [await attacker.login(name, "wrong password!") for _ in range(MAX_FAILURES)]
    assert statuses == [401] * MAX_FAILURES
    async with attacker.http.post(gw.base + "/staff/api/login",
                                  json={"username": name, "password": PASSWORD}) as response:
        assert response.status == 429 and int(response.headers["Retry-After"]) > 0
        assert (await response.json())["error"]  # even the right password, from there
    worker = Staff(gw.base)
    assert await worker.login(name) == 200  # the account itself is not locked
    for client in (attacker, worker):
        await client.close()


async def test_bad_login_input_gets_a_clear_error(gw):
    for body in ({}, {"username": "a"}, {"username": 5, "password": "x"}, {"username": "", "password": "x"}):
        status, _, answer = await call("POST", gw.base + "/staff/api/login", body)
        assert status == 400 and answer["error"]
    status, _, answer = await call("POST", gw.base + "/staff/api/login", raw=b"{nope")
    assert status == 400


async def test_a_disabled_account_is_logged_out_at_once(gw, env):
    name = f"dis{secrets.token_hex(3)}"
    await add_staff(gw, name)
    staff = Staff(gw.base)
    assert await staff.login(name) == 200
    done = await staff_command(env, "disable", name)
    assert done.returncode == 0
    assert (await staff.call("GET", "/staff/api/queue"))[0] == 401
    assert await staff.login(name) == 401
    listed = (await staff_command(env, "list")).stdout
    assert f"{name} (worker) (disabled)" in listed
    await staff.close()


async def test_the_account_command_refuses_bad_input(gw, env):
    short = await staff_command(env, "add", "shortpw", "--password-stdin", password="tiny")
    assert short.returncode == 2 and "12 characters" in short.stderr
    odd = await staff_command(env, "add", "no spaces please", "--password-stdin", password=PASSWORD)
    assert odd.returncode == 2
    name = f"dup{secrets.token_hex(3)}"
    await asyncio.to_thread(handoff_clients.add_staff, env, name)  # with the command itself
    again = await staff_command(env, "add", name, "--password-stdin", password=PASSWORD)
    assert again.returncode == 1 and "already" in again.stderr
    assert (await staff_command(env, "disable", "nobody-like-this")).returncode == 1


async def test_a_conversation_claimed_by_one_staff_member_is_closed_to_others(gw):
    """Queued through the internal API (what action_handoff calls); the fake Rasa
    answers the victim's first message."""
    web = Victim(gw.base)
    await web.say("hello")
    status, _, queued = await call("POST", f"{gw.internal}/internal/handoffs",
                                   {"session": web.session, "queue_when_closed": True},
                                   headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"})
    assert status == 200 and queued["status"] == "queued"
    names = [f"one{secrets.token_hex(3)}", f"two{secrets.token_hex(3)}"]
    one, two = Staff(gw.base), Staff(gw.base)
    for staff, name in zip((one, two), names):
        await add_staff(gw, name)
        assert await staff.login(name) == 200
    conversation = next(c["id"] for c in await one.queue() if c["status"] == "waiting")
    # nothing but a claim works before a claim
    assert (await one.act(conversation, "messages", "hi"))[0] == 409
    assert (await one.act(conversation, "release"))[0] == 409
    claims = await asyncio.gather(one.act(conversation, "claim"), two.act(conversation, "claim"))
    assert sorted(status for status, _ in claims) == [200, 409]
    holder, other = (one, two) if claims[0][0] == 200 else (two, one)
    for action, text in (("messages", "hello"), ("release", None), ("close", None)):
        status, body = await other.act(conversation, action, text)
        assert status == 403 and body["error"]
    assert (await holder.act(conversation, "claim"))[0] == 200  # claiming again is harmless
    # bad input is refused clearly, and nothing is lost
    assert (await holder.act(conversation, "messages", ""))[0] == 400
    assert (await holder.act(conversation, "messages", "x" * 2001))[0] == 413
    assert (await holder.call("POST", f"/staff/api/conversations/{conversation}/messages", [1]))[0] == 400
    assert (await holder.act("no-such-conversation", "claim"))[0] == 404
    # a victim's session id is not a conversation id on the staff side
    assert (await holder.call("GET", f"/staff/api/conversations/{web.session}"))[0] == 404
    assert (await holder.act(conversation, "close"))[0] == 200
    for client in (one, two, web):
        await client.close()


async def test_the_internal_api_needs_its_token_and_a_real_conversation(gw):
    url = f"{gw.internal}/internal/handoffs"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {INTERNAL_TOKEN}x"}):
        assert (await call("POST", url, {"session": "x" * 24}, headers=headers))[0] == 401
    auth = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
    assert (await call("POST", url, {"session": "x" * 24}, headers=auth))[0] == 404
    assert (await call("POST", url, {"session": "not a session"}, headers=auth))[0] == 400
    assert (await call("POST", url, raw=b"[", headers=auth))[0] == 400
    # and it is not on the public port
    assert (await call("POST", gw.base + "/internal/handoffs", {"session": "x" * 24}, headers=auth))[0] == 404

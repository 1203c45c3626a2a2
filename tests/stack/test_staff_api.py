"""Who may do what on the staff API, against the running gateway: every route
refuses anonymous, forged, expired and logged-out callers; POSTs need the CSRF
token; a conversation claimed by one staff member is closed to the others;
logins are throttled per address; accounts are made and disabled with `python -m bot.staff`;
a victim's session id opens nothing on the staff side."""
import asyncio
import secrets
import time

import pytest

from bot.staff.auth import MAX_FAILURES, token_hash
from bot.store import Store
from tests.conftest import INTERNAL_TOKEN
from tests.support.handoff_clients import PASSWORD, Staff, Victim, add_staff, staff_command
from tests.support.processes import call

ROUTES = [
    ("POST", "/staff/api/logout"), ("GET", "/staff/api/me"), ("GET", "/staff/api/queue"),
    ("GET", "/staff/api/live"), ("GET", "/staff/api/conversations/abc"),
    ("POST", "/staff/api/conversations/abc/claim"), ("POST", "/staff/api/conversations/abc/messages"),
    ("POST", "/staff/api/conversations/abc/notes"), ("POST", "/staff/api/conversations/abc/release"),
    ("POST", "/staff/api/conversations/abc/close"),
]


@pytest.mark.parametrize("method, path", ROUTES)
@pytest.mark.parametrize("cookie", [None, "forged-" + "x" * 40, ""])
def test_every_staff_route_refuses_a_caller_without_a_live_session(stack, method, path, cookie):
    headers = {"Cookie": f"staff_session={cookie}"} if cookie is not None else {}
    status, _, body = call(method, stack["base"] + path, {"text": "hi"}, headers=headers)
    assert status == 401 and body["error"]


async def test_an_expired_session_is_refused(stack):
    name = f"exp{secrets.token_hex(3)}"
    add_staff(stack["env"], name)
    token = secrets.token_urlsafe(32)
    store = Store(stack["env"]["DATABASE_URL"])
    await store.add_staff_session(token_hash(token), name, "csrf", time.time() - 5)
    await store.close()
    status, _, _ = call("GET", stack["base"] + "/staff/api/queue",
                        headers={"Cookie": f"staff_session={token}"})
    assert status == 401


async def test_login_sets_a_strict_http_only_cookie_and_posts_need_the_csrf_token(stack):
    name = f"kim{secrets.token_hex(3)}"
    add_staff(stack["env"], name)
    kim = Staff(stack["base"])
    async with kim.http.post(stack["base"] + "/staff/api/login",
                             json={"username": name, "password": PASSWORD}) as response:
        assert response.status == 200
        cookie = response.headers["Set-Cookie"]
        kim.csrf = (await response.json())["csrf_token"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/staff" in cookie
    assert "Secure" not in cookie  # plain http here; behind TLS it is Secure:
    status, _, _ = call("POST", stack["base"] + "/staff/api/login",
                        {"username": name, "password": PASSWORD}, headers={"X-Forwarded-Proto": "https"})
    assert status == 200
    assert (await kim.call("GET", "/staff/api/me"))[1]["username"] == name
    status, body = await kim.call("POST", "/staff/api/conversations/abc/claim", csrf=False)
    assert status == 403 and "CSRF" in body["error"]
    kim.csrf = "wrong"
    assert (await kim.call("POST", "/staff/api/conversations/abc/claim"))[0] == 403
    await kim.close()


async def test_login_from_another_site_is_refused(stack):
    name = f"ori{secrets.token_hex(3)}"
    add_staff(stack["env"], name)
    status, _, _ = call("POST", stack["base"] + "/staff/api/login", {"username": name, "password": PASSWORD},
                        headers={"Origin": "https://evil.example"})
    assert status == 403


async def test_logout_ends_the_session(stack):
    name = f"out{secrets.token_hex(3)}"
    add_staff(stack["env"], name)
    staff = Staff(stack["base"])
    assert await staff.login(name) == 200
    assert (await staff.call("POST", "/staff/api/logout"))[0] == 200
    staff.http.cookie_jar.clear()
    assert (await staff.call("GET", "/staff/api/queue"))[0] == 401
    await staff.close()


async def test_repeated_wrong_passwords_are_throttled_by_address_not_account(stack):
    """The attacker connects from 127.0.0.9 (loopback, another address): the rest of
    the suite, at 127.0.0.1, is not slowed. tests/gateway/test_staff_login.py has the rest."""
    name = f"thr{secrets.token_hex(3)}"
    add_staff(stack["env"], name)
    attacker = Staff(stack["base"], source="127.0.0.9")
    statuses = [await attacker.login(name, "wrong password!") for _ in range(MAX_FAILURES)]
    assert statuses == [401] * MAX_FAILURES
    async with attacker.http.post(stack["base"] + "/staff/api/login",
                                  json={"username": name, "password": PASSWORD}) as response:
        assert response.status == 429 and int(response.headers["Retry-After"]) > 0
        assert (await response.json())["error"]  # even the right password, from there
    worker = Staff(stack["base"])
    assert await worker.login(name) == 200  # the account itself is not locked
    for client in (attacker, worker):
        await client.close()


async def test_bad_login_input_gets_a_clear_error(stack):
    for body in ({}, {"username": "a"}, {"username": 5, "password": "x"}, {"username": "", "password": "x"}):
        status, _, answer = call("POST", stack["base"] + "/staff/api/login", body)
        assert status == 400 and answer["error"]
    status, _, answer = call("POST", stack["base"] + "/staff/api/login", raw=b"{nope")
    assert status == 400


async def test_a_disabled_account_is_logged_out_at_once(stack):
    name = f"dis{secrets.token_hex(3)}"
    add_staff(stack["env"], name)
    staff = Staff(stack["base"])
    assert await staff.login(name) == 200
    done = staff_command(stack["env"], "disable", name)
    assert done.returncode == 0
    assert (await staff.call("GET", "/staff/api/queue"))[0] == 401
    assert await staff.login(name) == 401
    listed = staff_command(stack["env"], "list").stdout
    assert f"{name} (disabled)" in listed
    await staff.close()


def test_the_account_command_refuses_bad_input(stack):
    short = staff_command(stack["env"], "add", "shortpw", "--password-stdin", password="tiny")
    assert short.returncode == 2 and "12 characters" in short.stderr
    odd = staff_command(stack["env"], "add", "no spaces please", "--password-stdin", password=PASSWORD)
    assert odd.returncode == 2
    name = f"dup{secrets.token_hex(3)}"
    add_staff(stack["env"], name)
    again = staff_command(stack["env"], "add", name, "--password-stdin", password=PASSWORD)
    assert again.returncode == 1 and "already" in again.stderr
    assert staff_command(stack["env"], "disable", "nobody-like-this").returncode == 1


async def test_a_conversation_claimed_by_one_staff_member_is_closed_to_others(stack):
    """Queued through the internal API (what action_handoff calls), so no bot is needed."""
    web = Victim(stack["base"])
    await web.say("hello")
    status, _, queued = call("POST", f"{stack['internal']}/internal/handoffs",
                             {"session": web.session, "queue_when_closed": True},
                             headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"})
    assert status == 200 and queued["status"] == "queued"
    names = [f"one{secrets.token_hex(3)}", f"two{secrets.token_hex(3)}"]
    one, two = Staff(stack["base"]), Staff(stack["base"])
    for staff, name in zip((one, two), names):
        add_staff(stack["env"], name)
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


def test_the_internal_api_needs_its_token_and_a_real_conversation(stack):
    url = f"{stack['internal']}/internal/handoffs"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {INTERNAL_TOKEN}x"}):
        assert call("POST", url, {"session": "x" * 24}, headers=headers)[0] == 401
    auth = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
    assert call("POST", url, {"session": "x" * 24}, headers=auth)[0] == 404
    assert call("POST", url, {"session": "not a session"}, headers=auth)[0] == 400
    assert call("POST", url, raw=b"[", headers=auth)[0] == 400
    # and it is not on the public port
    assert call("POST", stack["base"] + "/internal/handoffs", {"session": "x" * 24}, headers=auth)[0] == 404


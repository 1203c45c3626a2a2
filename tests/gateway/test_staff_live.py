"""The staff console's live feed (GET /staff/api/live, a WebSocket) ends the moment
its session does: logging out closes it at once with 4401 (what the console
reads as "logged out"), on this gateway and on another one sharing the store and
Redis; a session ended some other way (the account disabled) is found at the
next check and closed with 4401 too, never a plain 1000. Real sockets, gateways
in this process."""
import asyncio
import secrets
import time

import aiohttp
import pytest

from bot.staff import api as staff_api
from bot.staff.auth import hash_password
from bot.store import Store
from tests.support.gateways import gateway
from tests.support.handoff_clients import PASSWORD, Staff

# The machine's Redis is shared: in `make check`'s parallel run these modules take turns.
pytestmark = pytest.mark.xdist_group("machine-redis")

LOGGED_OUT = 4401
MACHINE_REDIS = "redis://127.0.0.1:6379/0"


async def signed_in(base: str, database_url: str) -> Staff:
    name = f"liv{secrets.token_hex(3)}"
    store = Store(database_url)
    assert await store.add_staff(name, hash_password(PASSWORD))
    await store.close()
    staff = Staff(base)
    assert await staff.login(name) == 200
    await staff.go_live()
    assert (await staff.next_event(lambda e: e["type"] == "queue"))["conversations"] == []
    return staff


async def closed_within(socket: aiohttp.ClientWebSocketResponse, seconds: float) -> int:
    """How the server closed the socket (its close code), if it did within `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        assert left > 0, "the live feed is still open"
        frame = await socket.receive(timeout=left)
        if frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING,
                          aiohttp.WSMsgType.CLOSED):
            return socket.close_code


async def test_logging_out_closes_the_live_feed_at_once_with_4401(tmp_path):
    database = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    async with gateway(database_url=database) as base:
        staff = await signed_in(base, database)
        assert (await staff.call("POST", "/staff/api/logout"))[0] == 200
        assert await closed_within(staff.socket, 3) == LOGGED_OUT
        await staff.close()


async def test_logging_out_on_another_gateway_closes_the_feed_here(postgres_schema):
    database = postgres_schema()
    shared = {"database_url": database, "redis_url": MACHINE_REDIS,
              "channel_id_key": b"the same on every gateway"}
    async with gateway(**shared) as here, gateway(**shared) as there:
        staff = await signed_in(here, database)
        await asyncio.sleep(0.5)  # both gateways are listening on Redis by now
        # The same browser's cookie, on the other gateway (the proxy sent it there).
        async with staff.http.post(there + "/staff/api/logout",
                                   headers={"X-CSRF-Token": staff.csrf}) as response:
            assert response.status == 200
        assert await closed_within(staff.socket, 3) == LOGGED_OUT
        await staff.close()


async def test_a_session_ended_otherwise_is_closed_with_4401_at_the_next_check(tmp_path, monkeypatch):
    """Disabling an account (python -m bot.staff disable, another process) ends its
    sessions in the store; the feed finds out at its next check."""
    monkeypatch.setattr(staff_api, "RECHECK_SECONDS", 0.5)
    database = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    async with gateway(database_url=database) as base:
        staff = await signed_in(base, database)
        store = Store(database)
        assert await store.disable_staff(staff.username)
        await store.close()
        assert await closed_within(staff.socket, 5) == LOGGED_OUT
        await staff.close()


async def test_another_workers_logout_leaves_this_feed_open(tmp_path):
    database = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    async with gateway(database_url=database) as base:
        staying, leaving = await signed_in(base, database), await signed_in(base, database)
        assert (await leaving.call("POST", "/staff/api/logout"))[0] == 200
        assert await closed_within(leaving.socket, 3) == LOGGED_OUT
        await staying.socket.send_str("ping")
        assert (await staying.socket.receive(timeout=3)).data == "pong"
        for staff in (staying, leaving):
            await staff.close()

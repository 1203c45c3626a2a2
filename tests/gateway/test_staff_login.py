"""The staff login throttle can't be used to lock a support worker out: failed
logins are counted per client address, in the store that every gateway shares, so
an attacker hammering an account from one address is refused (429, Retry-After)
while the worker, from their own address, logs in at once. Gateways in this
process, on real sockets; different loopback addresses (127.0.0.x) stand for
different people."""
import logging
import secrets
import time

import aiohttp
import pytest

from bot.keys import CONVERSATIONS
from bot.retention import sweep
from bot.staff import api as staff_api
from bot.staff.auth import FAILURE_WINDOW_SECONDS, MAX_FAILURES, hash_password
from bot.store import Store
from tests.support.gateways import gateway, gateway_app
from tests.support.handoff_clients import PASSWORD, Staff

WRONG = "not the right password"
ATTACKER, WORKER = "127.0.0.2", "127.0.0.1"


@pytest.fixture(autouse=True)
def no_wait_after_a_wrong_password(monkeypatch):
    """Every failed login waits half a second (bot/staff/api.py): what is counted, not how
    long it takes, is what these tests are about (they fail dozens of times)."""
    monkeypatch.setattr(staff_api, "FAILURE_DELAY_SECONDS", 0.01)


async def add_account(database_url: str) -> str:
    name = f"sam{secrets.token_hex(3)}"
    store = Store(database_url)
    assert await store.add_staff(name, hash_password(PASSWORD))
    await store.close()
    return name


async def login(base: str, name: str, password: str, source: str = WORKER,
                headers: dict | None = None):
    """(status, Retry-After or None) of one login from `source`."""
    connector = aiohttp.TCPConnector(force_close=True, local_addr=(source, 0))
    async with aiohttp.ClientSession(connector=connector) as http, http.post(
            base + "/staff/api/login", headers=headers or {},
            json={"username": name, "password": password}) as response:
        return response.status, response.headers.get("Retry-After")


async def hammer(base: str, name: str, source: str = ATTACKER, headers: dict | None = None) -> None:
    statuses = [(await login(base, name, WRONG, source, headers))[0] for _ in range(MAX_FAILURES)]
    assert statuses == [401] * MAX_FAILURES


def refused(status: int, retry_after) -> bool:
    return status == 429 and retry_after is not None and 0 < int(retry_after) <= 15 * 60


async def test_an_attacker_elsewhere_cannot_lock_the_worker_out(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    database = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    name = await add_account(database)
    async with gateway(database_url=database) as base:
        await hammer(base, name)
        # The attacker's address is refused, even with the right password...
        assert refused(*await login(base, name, PASSWORD, ATTACKER))
        assert refused(*await login(base, "someone-else", WRONG, ATTACKER))  # any account
        # ... and the worker, from their own address, logs in at once.
        began = time.monotonic()
        assert (await login(base, name, PASSWORD, WORKER))[0] == 200
        assert time.monotonic() - began < 2
        worker = Staff(base, source=WORKER)
        assert await worker.login(name) == 200 and len(await worker.queue()) >= 0
        await worker.close()
    # The address is used, never kept or logged: only a keyed hash of it, for a while.
    for path in tmp_path.iterdir():
        assert ATTACKER.encode() not in path.read_bytes(), path.name
    assert ATTACKER not in caplog.text


async def test_the_limit_holds_across_gateways_sharing_the_store(postgres_schema):
    database = postgres_schema()
    name = await add_account(database)
    # Replicas share CHANNEL_ID_KEY (docs/deploy.md): the address's hash is keyed with it.
    shared = {"database_url": database, "channel_id_key": b"the same on every gateway"}
    async with gateway(**shared) as first, gateway(**shared) as second:
        await hammer(first, name)
        assert refused(*await login(second, name, WRONG, ATTACKER))  # not a fresh start there
        assert (await login(second, name, PASSWORD, WORKER))[0] == 200
        assert (await login(first, name, PASSWORD, WORKER))[0] == 200


async def test_logging_in_is_not_counted_as_a_failure(tmp_path):
    """Attempts are counted before the password is checked (parallel guesses can't
    all slip in first); a right one is then taken off again. Typos still count: a
    login of one's own must not clear an address that guesses at other accounts."""
    database = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    name = await add_account(database)
    async with gateway(database_url=database) as base:
        for _ in range(MAX_FAILURES - 1):
            assert (await login(base, name, WRONG))[0] == 401
        assert [(await login(base, name, PASSWORD))[0] for _ in range(3)] == [200] * 3
        assert (await login(base, name, WRONG))[0] == 401
        assert refused(*await login(base, name, WRONG))


@pytest.mark.parametrize("trusted", [True, False])
async def test_behind_the_proxy_the_address_comes_from_its_header_only_when_told(tmp_path, trusted):
    """Behind the proxy every request comes from the proxy's address: the gateway
    reads the client's from the header the proxy sets (STAFF_LOGIN_ADDRESS_HEADER,
    deploy/Caddyfile). Without that setting the header is ignored, so it can't be
    forged to dodge the limit."""
    database = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    name = await add_account(database)
    header = "X-Staff-Client-Address"
    settings = {"staff_login_address_header": header} if trusted else {}
    async with gateway(database_url=database, **settings) as base:
        await hammer(base, name, WORKER, {header: "203.0.113.9"})
        for address in ("203.0.113.9", "203.0.113.10"):
            status, retry_after = await login(base, name, PASSWORD, WORKER, {header: address})
            if trusted and address != "203.0.113.9":
                assert status == 200  # another person behind the same proxy
            else:
                assert refused(status, retry_after)


async def test_a_window_ends_by_itself_and_retention_clears_it(database_url):
    store = Store(database_url)
    assert await store.count_login_attempt("key", 1000.0, 900) == (1, 1000.0)
    assert await store.count_login_attempt("key", 1800.0, 900) == (2, 1000.0)
    assert await store.count_login_attempt("key", 1900.0, 900) == (1, 1900.0)  # a new window
    await store.count_login_attempt("other", 1950.0, 900)
    await store.delete_login_attempts_before(1900.0)
    assert await store.count_login_attempt("key", 1960.0, 900) == (1, 1960.0)  # it was gone
    assert await store.count_login_attempt("other", 1960.0, 900) == (2, 1950.0)
    await store.close()


def test_ipv6_counts_per_slash_64_and_mapped_ipv4_as_ipv4():
    from bot.staff.auth import client_network

    assert client_network("2001:db8:1:2::1") == client_network("2001:db8:1:2:ffff::9")
    assert client_network("2001:db8:1:2::1") != client_network("2001:db8:1:3::1")
    assert client_network("::ffff:203.0.113.9") == client_network("203.0.113.9") == "203.0.113.9"


async def test_the_retention_job_deletes_ended_windows(tmp_path):
    app = gateway_app(database_url=f"sqlite:///{tmp_path / 'store.sqlite3'}")
    store, now = app[CONVERSATIONS].store, time.time()
    await store.count_login_attempt("ended", now - FAILURE_WINDOW_SECONDS - 60, FAILURE_WINDOW_SECONDS)
    await store.count_login_attempt("open", now - 60, FAILURE_WINDOW_SECONDS)
    await sweep(app)
    assert await store.delete_login_attempts_before(now - FAILURE_WINDOW_SECONDS) == 0  # gone
    assert await store.count_login_attempt("open", now, FAILURE_WINDOW_SECONDS) == (2, now - 60)
    await store.close()

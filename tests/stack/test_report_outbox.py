"""The reporting channel's outbox, through a real gateway process (python -m bot)
on SQLite and on the real PostgreSQL, with the receiver faked on loopback:
down then up, 500s then 200, the gateway killed (SIGKILL) before it could
deliver, giving up after the configured time with an alert for staff, and a
staff retry. Every case arrives once, signed, under one Idempotency-Key."""
import asyncio
import time

from tests.conftest import INTERNAL_TOKEN, REPORT_SECRET
from tests.support.fake_receiver import FakeReceiver
from tests.support.handoff_clients import signed_in_staff
from tests.support.outbox import FAST_RETRIES, delivered_once, submit


def gateway_with(start_gateway, receiver, database_url, **overrides):
    fast = {name.upper(): str(value) for name, value in FAST_RETRIES.items()}
    return start_gateway(DATABASE_URL=database_url, REPORT_WEBHOOK_URL=receiver.url,
                         REPORT_WEBHOOK_SECRET=REPORT_SECRET, **fast, **overrides)


async def submitted(gateway):
    """A conversation, and its case in the outbox (as action_submit_case does)."""
    return await submit(gateway["base"], gateway["internal"], INTERNAL_TOKEN)


async def test_receiver_down_at_first_then_up(start_gateway, database_url):
    receiver = FakeReceiver(REPORT_SECRET, listening=False)
    gateway = gateway_with(start_gateway, receiver, database_url)
    reference = await submitted(gateway)
    await asyncio.sleep(1.5)  # several attempts, none answered
    assert receiver.posts == []
    receiver.start()
    case, _ = await delivered_once(receiver, reference)
    assert case["answers"]["platform"] == "instagram"
    receiver.stop()


async def test_500s_then_200(start_gateway, database_url):
    receiver = FakeReceiver(REPORT_SECRET)
    receiver.fail_next = 3
    gateway = gateway_with(start_gateway, receiver, database_url)
    reference = await submitted(gateway)
    _, posts = await delivered_once(receiver, reference)
    assert [p["status"] for p in posts] == [500, 500, 500, 200]
    await asyncio.sleep(1)  # and nothing more after the 200
    assert len([p for p in receiver.posts if p["key"] == posts[0]["key"]]) == 4
    receiver.stop()


async def test_killed_before_delivering_then_delivered_after_restart(start_gateway, database_url):
    receiver = FakeReceiver(REPORT_SECRET, listening=False)
    first = gateway_with(start_gateway, receiver, database_url)
    reference = await submitted(first)
    first["process"].kill()  # SIGKILL: the case was written, never delivered
    receiver.start()
    await asyncio.sleep(1)
    assert receiver.by_reference(reference) == []
    gateway_with(start_gateway, receiver, database_url)  # the same store
    await delivered_once(receiver, reference, timeout=45)  # even if it died holding its 30 s lease
    receiver.stop()


async def test_gives_up_after_the_configured_time_alerts_staff_and_can_be_retried(
        start_gateway, database_url):
    receiver = FakeReceiver(REPORT_SECRET, listening=False)
    # 0.0005 hours: gives up after under two seconds.
    gateway = gateway_with(start_gateway, receiver, database_url, REPORT_GIVE_UP_HOURS="0.0005")
    staff = await signed_in_staff(gateway, "sam")
    await staff.go_live()
    reference = await submitted(gateway)
    alert = await staff.next_event(lambda e: e["type"] == "case_failed", timeout=20)
    assert alert["reference"] == reference
    _status, body = await staff.call("GET", "/staff/api/cases")
    failed = next(c for c in body["cases"] if c["reference"] == reference)
    assert failed["status"] == "failed" and failed["attempts"] >= 2
    assert failed["last_error"].startswith("no answer")
    assert body["counts"]["failed"] == 1
    # Pending and delivered cases can't be "retried"; the failed one can, once it's back.
    assert (await staff.call("POST", "/staff/api/cases/SX-0000-0000/retry"))[0] == 409
    receiver.start()
    assert (await staff.call("POST", f"/staff/api/cases/{reference}/retry"))[0] == 200
    await delivered_once(receiver, reference)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        body = (await staff.call("GET", "/staff/api/cases"))[1]
        if body["counts"]["delivered"] == 1:
            break
        await asyncio.sleep(0.1)
    assert body["counts"] == {"pending": 0, "delivered": 1, "failed": 0}
    await staff.close()
    receiver.stop()


async def test_a_wrong_signature_is_refused_and_retried_not_lost(start_gateway, tmp_path):
    receiver = FakeReceiver("not-the-same-secret")
    gateway = gateway_with(start_gateway, receiver, f"sqlite:///{tmp_path / 'store.sqlite3'}")
    await submitted(gateway)
    deadline = time.monotonic() + 10
    while len(receiver.posts) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert len(receiver.posts) >= 2 and not any(p["signed"] for p in receiver.posts)
    assert receiver.cases == {}
    receiver.stop()

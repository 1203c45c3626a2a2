"""The reporting channel's outbox (bot/reporting/outbox.py) in a gateway built in this
process, on SQLite and on the real PostgreSQL, with Rasa and the receiver faked on
loopback (tests/support/fake_receiver.py): the receiver down at first then up, 500s
then 200, giving up after the configured time with an alert for staff, and a staff
retry; and, on SQLite, a wrong signature refused and retried, not lost. Every case
arrives once, signed, under one Idempotency-Key. A gateway killed before it could
deliver, then restarted, needs real processes: tests/stack/test_report_outbox.py."""
import asyncio
import time

from tests.conftest import REPORT_SECRET
from tests.support.fake_receiver import FakeReceiver
from tests.support.gateways import INTERNAL_TOKEN, Gateway, running
from tests.support.outbox import FAST_RETRIES, delivered_once, submit


def gateway_with(rasa, receiver, database_url, **overrides):
    """A gateway whose cases go to `receiver`, retried fast (an async context manager)."""
    return running(rasa, database_url=database_url, report_webhook_url=receiver.url,
                   report_webhook_secret=REPORT_SECRET, **FAST_RETRIES, **overrides)


async def submitted(gateway: Gateway) -> str:
    """A conversation ("hi", the fake Rasa's default reply), and its case in the outbox."""
    return await submit(gateway.base, gateway.internal, INTERNAL_TOKEN)


async def test_receiver_down_at_first_then_up(rasa, database_url):
    receiver = FakeReceiver(REPORT_SECRET, listening=False)
    async with gateway_with(rasa, receiver, database_url) as gateway:
        reference = await submitted(gateway)
        await asyncio.sleep(1.5)  # several attempts, none answered
        assert receiver.posts == []
        receiver.start()
        case, _ = await delivered_once(receiver, reference)
        assert case["answers"]["platform"] == "instagram"
    receiver.stop()


async def test_500s_then_200(rasa, database_url):
    receiver = FakeReceiver(REPORT_SECRET)
    receiver.fail_next = 3
    async with gateway_with(rasa, receiver, database_url) as gateway:
        reference = await submitted(gateway)
        _, posts = await delivered_once(receiver, reference)
        assert [p["status"] for p in posts] == [500, 500, 500, 200]
        await asyncio.sleep(1)  # and nothing more after the 200
        assert len([p for p in receiver.posts if p["key"] == posts[0]["key"]]) == 4
    receiver.stop()


async def test_gives_up_after_the_configured_time_alerts_staff_and_can_be_retried(
        rasa, database_url):
    receiver = FakeReceiver(REPORT_SECRET, listening=False)
    # 0.0005 hours: gives up after under two seconds.
    async with gateway_with(rasa, receiver, database_url, report_give_up_hours=0.0005) as gateway:
        staff = await gateway.staff_member()  # signed in, the console's live feed open
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
    receiver.stop()


async def test_a_wrong_signature_is_refused_and_retried_not_lost(rasa, sqlite_url):
    receiver = FakeReceiver("not-the-same-secret")
    async with gateway_with(rasa, receiver, sqlite_url) as gateway:
        await submitted(gateway)
        deadline = time.monotonic() + 10
        while len(receiver.posts) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert len(receiver.posts) >= 2 and not any(p["signed"] for p in receiver.posts)
        assert receiver.cases == {}
    receiver.stop()

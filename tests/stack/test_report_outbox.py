"""The reporting channel's outbox surviving its gateway's death, with real gateway
processes (python -m bot) on SQLite and on the real PostgreSQL and the receiver
faked on loopback: a gateway killed (SIGKILL) after writing a case and before it
could deliver it; another started on the same store delivers it, once, signed,
under its one Idempotency-Key. The rest of the outbox (the receiver down then up,
500s then 200, giving up with an alert for staff and a staff retry, a wrong
signature) needs no process of its own: tests/gateway/test_report_outbox.py."""
import asyncio

from tests.conftest import INTERNAL_TOKEN, REPORT_SECRET
from tests.support.fake_receiver import FakeReceiver
from tests.support.outbox import FAST_RETRIES, delivered_once, submit


def gateway_with(start_gateway, receiver, database_url):
    fast = {name.upper(): str(value) for name, value in FAST_RETRIES.items()}
    return start_gateway(DATABASE_URL=database_url, REPORT_WEBHOOK_URL=receiver.url,
                         REPORT_WEBHOOK_SECRET=REPORT_SECRET, **fast)


async def test_killed_before_delivering_then_delivered_after_restart(start_gateway, database_url):
    receiver = FakeReceiver(REPORT_SECRET, listening=False)
    first = gateway_with(start_gateway, receiver, database_url)
    reference = await submit(first["base"], first["internal"], INTERNAL_TOKEN)
    first["process"].kill()  # SIGKILL: the case was written, never delivered
    receiver.start()
    await asyncio.sleep(1)
    assert receiver.by_reference(reference) == []
    gateway_with(start_gateway, receiver, database_url)  # the same store
    await delivered_once(receiver, reference, timeout=45)  # even if it died holding its 30 s lease
    receiver.stop()

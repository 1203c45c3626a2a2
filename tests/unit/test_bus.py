"""Two gateways' buses on the real Redis: live events and who is on shift cross
over, nothing comes twice, and a Redis restart is survived (a private Redis, so
the machine's own is never restarted)."""
import asyncio
import uuid

import pytest

from bot.bus import RedisBus
from bot.conversation.locks import TurnLocks
from bot.staff.feed import StaffFeed
from tests.support.services import RedisServer

# The machine's Redis is shared: in `make check`'s parallel run these modules take turns.
pytestmark = pytest.mark.xdist_group("machine-redis")

MACHINE_REDIS = "redis://127.0.0.1:6379/0"


async def eventually(check, timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.02)


async def two_gateways(url: str):
    channel = f"test-{uuid.uuid4().hex}"  # this test's own: other runs don't hear it
    buses = [RedisBus(url, channel), RedisBus(url, channel)]
    for bus in buses:
        await bus.start()
    await eventually(lambda: all(bus.connected for bus in buses))
    return buses


async def test_events_reach_the_other_gateway_once_and_in_order():
    a, b = await two_gateways(MACHINE_REDIS)
    heard_a, heard_b = [], []
    a.subscribe(lambda topic, event: heard_a.append((topic, event)))
    b.subscribe(lambda topic, event: heard_b.append((topic, event)))
    for n in range(50):
        a.publish("conversation", {"session": "s", "event": {"seq": n}})
    await eventually(lambda: len(heard_b) == 50)
    await asyncio.sleep(0.2)  # anything doubled would have come by now
    assert [event["event"]["seq"] for _, event in heard_b] == list(range(50))
    assert len(heard_a) == 50  # a's own, delivered here at once and not again from Redis
    for bus in (a, b):
        await bus.close()


async def test_a_console_on_one_gateway_counts_as_on_shift_on_the_other():
    a, b = await two_gateways(MACHINE_REDIS)
    on_a, on_b = StaffFeed(away_seconds=2, bus=a), StaffFeed(away_seconds=2, bus=b)
    await asyncio.sleep(2.1)  # past the start-up grace
    assert on_b.on_shift() == 0
    console = on_a.listen("sam")
    await eventually(lambda: on_b.on_shift() == 1 and on_b.is_on_shift("sam"))
    # Events published on b reach the console on a.
    on_b.publish({"type": "queue_changed"})
    assert (await asyncio.wait_for(console.get(), 5))["type"] == "queue_changed"
    # While the console stays open, a keeps saying so: b never takes sam for away.
    refresher = asyncio.create_task(on_a.keep_saying_who_is_here())
    await asyncio.sleep(3)  # longer than STAFF_AWAY_SECONDS
    assert on_b.is_on_shift("sam")
    on_a.signed_out("sam")
    await eventually(lambda: on_b.on_shift() == 0 and not on_b.is_on_shift("sam"))
    on_a.stop_listening("sam", console)
    refresher.cancel()
    for bus in (a, b):
        await bus.close()


async def test_a_redis_restart_is_survived_and_listeners_are_told_to_catch_up():
    redis = RedisServer()
    try:
        a, b = await two_gateways(redis.url)
        heard = []
        b.subscribe(lambda topic, event: heard.append((topic, event)))
        redis.stop()
        a.publish("conversation", {"session": "s", "event": {"seq": 1}})  # never raises
        await eventually(lambda: not b.connected)
        redis.start()
        await eventually(lambda: ("bus", {"type": "reconnected"}) in heard, timeout=20)
        await eventually(lambda: a.connected)
        a.publish("conversation", {"session": "s", "event": {"seq": 2}})
        await eventually(lambda: ("conversation", {"session": "s", "event": {"seq": 2}}) in heard)
        for bus in (a, b):
            await bus.close()
    finally:
        redis.stop()


async def test_a_turn_on_one_gateway_waits_for_the_same_conversation_on_the_other():
    first, second = TurnLocks(MACHINE_REDIS), TurnLocks(MACHINE_REDIS)
    session = uuid.uuid4().hex
    order = []

    async def turn(locks: TurnLocks, name: str) -> None:
        async with locks.hold(session):
            order.append(f"{name} in")
            await asyncio.sleep(0.3)
            order.append(f"{name} out")

    await asyncio.gather(turn(first, "a"), turn(second, "b"))
    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
    assert not first.busy(session) and not second.busy(session)  # nothing left behind
    await first.close()
    await second.close()


async def test_without_redis_a_turn_still_goes_ahead():
    locks = TurnLocks("redis://127.0.0.1:1/0")  # nothing listens there
    async with locks.hold("s"):
        pass
    await locks.close()


@pytest.fixture(autouse=True)
def _quiet_redis_logs(caplog):
    caplog.set_level("ERROR", logger="bot.bus")

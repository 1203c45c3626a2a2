"""The bound on messages in flight to Rasa (bot/conversation/admission.py): the most urgent
waiter goes first, a wait has a limit, and no place is ever lost."""
import asyncio

import pytest

from bot.conversation.admission import CRISIS, NEW, NEW_GIVES_WAY, UNDER_WAY, Admission, NoRoom


async def served_order(arrivals):
    """One place, held until every message in `arrivals` ((time, name, urgency)) is
    waiting; then the order they are served in."""
    clock = [0.0]
    admission, order = Admission(limit=1, clock=lambda: clock[0]), []
    release = asyncio.Event()

    async def holder():
        async with admission.place(UNDER_WAY, 1):
            await release.wait()

    async def waiter(name, urgency):
        async with admission.place(urgency, 5):
            order.append(name)

    tasks = [asyncio.create_task(holder())]
    await asyncio.sleep(0)
    for at, name, urgency in arrivals:
        clock[0] = at
        tasks.append(asyncio.create_task(waiter(name, urgency)))
        await asyncio.sleep(0)
    assert not admission.has_room() and admission.waiting() == len(arrivals)
    release.set()
    await asyncio.gather(*tasks)
    assert admission.in_flight == 0 and admission.has_room()
    return order


def test_a_crisis_goes_first_then_first_come_first_served():
    order = asyncio.run(served_order([(0, "new 1", NEW), (0, "under way 1", UNDER_WAY),
                                      (0, "new 2", NEW), (0, "crisis", CRISIS),
                                      (0, "under way 2", UNDER_WAY)]))
    # "new 2" came with "new 1" waiting for the one place: a flood, so it gives way.
    assert order == ["crisis", "new 1", "under way 1", "under way 2", "new 2"]


def test_a_wait_that_runs_out_raises_and_gives_nothing_away():
    async def scenario():
        admission = Admission(limit=2)
        release = asyncio.Event()

        async def holder():
            async with admission.place(UNDER_WAY, 1):
                await release.wait()

        holders = [asyncio.create_task(holder()) for _ in range(2)]
        await asyncio.sleep(0)
        with pytest.raises(NoRoom):
            async with admission.place(NEW, 0.05):
                pass
        # A waiter cancelled by its caller leaves no place behind either.
        gone = asyncio.create_task(admission._take(UNDER_WAY, 5))
        await asyncio.sleep(0.01)
        gone.cancel()
        await asyncio.gather(gone, return_exceptions=True)
        release.set()
        await asyncio.gather(*holders)
        assert admission.in_flight == 0 and admission.waiting() == 0 and admission.has_room()
        async with admission.place(NEW, 0):  # straight in
            assert admission.in_flight == 1

    asyncio.run(scenario())


def test_never_more_than_the_limit_in_flight():
    async def scenario():
        admission, most = Admission(limit=3), 0

        async def work(index):
            nonlocal most
            try:
                async with admission.place(index % 3, 2):
                    most = max(most, admission.in_flight)
                    await asyncio.sleep(0.001)
            except NoRoom:
                pass

        await asyncio.gather(*(work(i) for i in range(200)))
        assert most == 3 and admission.in_flight == 0

    asyncio.run(scenario())


def test_in_a_flood_a_new_visitor_gives_way_only_to_what_comes_soon_after_it():
    """With more new visitors waiting than places, a new one lets messages of
    conversations under way that arrive within NEW_GIVES_WAY seconds go first."""
    order = asyncio.run(served_order([
        (0.0, "new at 0", NEW), (0.1, "new at 0.1", NEW), (0.5, "under way at 0.5", UNDER_WAY),
        (1.05, "under way at 1.05", UNDER_WAY), (1.2, "under way at 1.2", UNDER_WAY)]))
    assert NEW_GIVES_WAY == 1.0
    # "new at 0" came when no other new visitor waited: first come, first served.
    # "new at 0.1" came in a flood (one new visitor waiting, one place): it gives way
    # to what came up to 1.1, not to what came after.
    assert order == ["new at 0", "under way at 0.5", "under way at 1.05", "new at 0.1",
                     "under way at 1.2"]


def test_a_new_visitor_is_told_at_once_when_the_wait_would_be_long():
    """The wait expected: those ahead, at the pace places have been coming free."""
    async def scenario():
        admission = Admission(limit=2)
        release = asyncio.Event()

        async def holder(seconds):
            async with admission.place(UNDER_WAY, 5):
                await asyncio.sleep(seconds)
                await release.wait()

        # Places held 0.2 s each, lately: with two, one comes free every 0.1 s.
        release.set()
        for _ in range(4):
            await asyncio.gather(holder(0.2), holder(0.2))
        release.clear()
        busy = [asyncio.create_task(holder(0)) for _ in range(2)]
        queued = [asyncio.create_task(holder(0)) for _ in range(10)]
        await asyncio.sleep(0.01)
        under_way, new = admission.expected_wait(UNDER_WAY), admission.expected_wait(NEW)
        began = asyncio.get_running_loop().time()
        with pytest.raises(NoRoom):
            async with admission.place(NEW, 5, expect_at_most=0.8):
                pass
        refused_after = asyncio.get_running_loop().time() - began
        release.set()
        await asyncio.gather(*busy, *queued)
        return under_way, new, refused_after

    under_way, new, refused_after = asyncio.run(scenario())
    assert 0.9 < under_way < 1.6  # 11 places ahead, one every ~0.1 s
    assert new == pytest.approx(under_way)  # no other new visitor waits: no flood
    assert refused_after < 0.05


def test_a_stuck_rasa_shows_at_once_and_does_not_skew_the_pace_later():
    async def scenario():
        now = [0.0]
        admission = Admission(limit=1, clock=lambda: now[0])
        release = asyncio.Event()

        async def holder():
            async with admission.place(UNDER_WAY, 1):
                await release.wait()

        stuck = asyncio.create_task(holder())
        await asyncio.sleep(0)
        now[0] = 30.0  # the one place has been held 30 s
        while_stuck = admission.expected_wait(UNDER_WAY)
        release.set()
        await stuck
        return while_stuck, admission._hold

    while_stuck, hold_after = asyncio.run(scenario())
    assert while_stuck == pytest.approx(30.0)
    assert hold_after <= 0.1 * 2.0 + 0.9 * 0.2 + 1e-9  # counted as 2 s, not 30

"""The bound on messages in flight to Rasa (bot/admission.py): the most urgent
waiter goes first, a wait has a limit, and no place is ever lost."""
import asyncio

import pytest

from bot.admission import CRISIS, NEW, UNDER_WAY, Admission, NoRoom


def test_a_crisis_goes_before_conversations_under_way_and_those_before_new_ones():
    async def scenario():
        admission, order = Admission(limit=1), []
        release = asyncio.Event()

        async def holder():
            async with admission.place(UNDER_WAY, 1):
                await release.wait()

        async def waiter(name, urgency):
            async with admission.place(urgency, 5):
                order.append(name)

        first = asyncio.create_task(holder())
        await asyncio.sleep(0)
        waiters = [asyncio.create_task(waiter(name, urgency)) for name, urgency in
                   [("new 1", NEW), ("under way 1", UNDER_WAY), ("new 2", NEW),
                    ("crisis", CRISIS), ("under way 2", UNDER_WAY)]]
        await asyncio.sleep(0.01)
        assert not admission.has_room() and admission.waiting() == 5
        release.set()
        await asyncio.gather(first, *waiters)
        assert order == ["crisis", "under way 1", "under way 2", "new 1", "new 2"]
        assert admission.in_flight == 0 and admission.has_room()

    asyncio.run(scenario())


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

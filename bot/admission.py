"""How many messages this gateway has with Rasa at once, and who goes first.

Rasa reads one message at a time on its CPU: sending it 500 at once only makes
everyone wait in its queue, a person in crisis too. Here at most `limit`
messages are in flight; the others wait in order of urgency:

    CRISIS      crisis wording (the gateway's own check, bot/crisis_floor.py)
    UNDER_WAY   a conversation the assistant has already answered
    NEW         someone's first message

and, within one urgency, in order of arrival. A wait has a limit, given by the
caller: a new visitor who can't be served quickly is better told at once that
it's busy (with the numbers) than left looking at a typing indicator.
"""
import asyncio
import contextlib
import heapq
import itertools
from typing import AsyncIterator, List, Tuple

CRISIS, UNDER_WAY, NEW = 0, 1, 2


class NoRoom(Exception):
    """No place with Rasa came free in time."""


class Admission:
    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.in_flight = 0
        self._waiting: List[Tuple[int, int, asyncio.Future]] = []
        self._arrivals = itertools.count()

    def has_room(self) -> bool:
        # Nobody waits while there is room: places pass straight to waiters (_hand_on).
        return self.in_flight < self.limit and not self.waiting()

    def waiting(self) -> int:
        return sum(1 for *_, future in self._waiting if not future.done())

    @contextlib.asynccontextmanager
    async def place(self, urgency: int, wait_at_most: float) -> AsyncIterator[None]:
        """Held while the message is with Rasa; NoRoom if none came free in time."""
        await self._take(urgency, wait_at_most)
        try:
            yield
        finally:
            self._hand_on()

    async def _take(self, urgency: int, wait_at_most: float) -> None:
        if self.has_room():
            self.in_flight += 1
            return
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (urgency, next(self._arrivals), future))
        try:
            # The place is counted for us by _hand_on before the future is set.
            await asyncio.wait_for(asyncio.shield(future), wait_at_most)
        except asyncio.TimeoutError:
            if future.done() and not future.cancelled():
                return  # handed a place just as the wait ran out: take it
            future.cancel()
            raise NoRoom() from None
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._hand_on()  # given a place, but the caller went away: pass it on
            else:
                future.cancel()
            raise

    def _hand_on(self) -> None:
        """A place came free: to the most urgent waiter still waiting, else back."""
        while self._waiting:
            *_, future = heapq.heappop(self._waiting)
            if not future.done():
                future.set_result(None)  # in_flight unchanged: the place passes on
                return
        self.in_flight -= 1

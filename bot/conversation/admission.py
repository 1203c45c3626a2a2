"""How many messages this gateway has with Rasa at once, and who goes first.

Rasa reads one message at a time on its CPU: sending it 500 at once only makes
everyone wait in its queue, a person in crisis too. Here at most `limit`
messages are in flight; the others wait, in this order:

    CRISIS      crisis wording (the gateway's own check, bot/conversation/crisis_floor.py): first
    UNDER_WAY   a conversation the assistant has already answered
    NEW         someone's first message

Conversations under way and new ones share one queue in order of arrival. In a
flood (more new visitors waiting than there are places), a new one also lets
under-way messages that come up to NEW_GIVES_WAY seconds after it go first: the
people already talking are not held up by newcomers, and no message is
overtaken by a later one for longer than that.

A wait has a limit, given by the caller. And a new visitor who can't be served
quickly is better told at once that it's busy (with the numbers) than left
looking at a typing indicator: `place` can refuse at once when the wait it
expects, from the queue ahead and how long places are held lately, is too long.
"""
import asyncio
import contextlib
import heapq
import itertools
import time
from typing import AsyncIterator, Dict, List, Optional, Tuple

CRISIS, UNDER_WAY, NEW = 0, 1, 2
# A new conversation's first message gives way to messages of conversations under
# way that arrive up to this long after it.
NEW_GIVES_WAY = 1.0
# How long a place is held, at first (then learnt as places are given back).
FIRST_GUESS_HOLD = 0.2
# A place held longer than this tells that Rasa is stuck, not how fast it goes: it
# counts as this long in the average (and a stuck Rasa shows in expected_wait).
LONGEST_HOLD_COUNTED = 2.0


class NoRoom(Exception):
    """No place with Rasa came free in time (or none would)."""


class Admission:
    def __init__(self, limit: int, clock=time.monotonic) -> None:
        self.limit = max(1, limit)
        self.in_flight = 0
        self._clock = clock
        # (crisis first, when it may be served, arrival order, urgency, future)
        self._waiting: List[Tuple[int, float, int, int, asyncio.Future]] = []
        self._arrivals = itertools.count()
        self._hold = FIRST_GUESS_HOLD  # seconds a place is held, a moving average
        self._taken: Dict[int, float] = {}  # places held now: when each was taken
        self._places = itertools.count()

    def has_room(self) -> bool:
        # Nobody waits while there is room: places pass straight to waiters (_hand_on).
        return self.in_flight < self.limit and not self.waiting()

    def waiting(self) -> int:
        return sum(1 for *_, future in self._waiting if not future.done())

    def _flood(self) -> bool:
        """More new visitors are waiting than there are places."""
        return sum(1 for *_, urgency, future in self._waiting
                   if urgency == NEW and not future.done()) >= self.limit

    def _gives_way(self, urgency: int) -> float:
        return NEW_GIVES_WAY if urgency == NEW and self._flood() else 0.0

    def _key(self, urgency: int, now: float, gives_way: float) -> Tuple[int, float]:
        return (0 if urgency == CRISIS else 1, now + gives_way)

    def expected_wait(self, urgency: int) -> float:
        """Seconds a message arriving now would wait for a place: those queued ahead
        of it, one place coming free every hold / limit seconds."""
        if self.has_room():
            return 0.0
        now, gives_way = self._clock(), self._gives_way(urgency)
        key = self._key(urgency, now, gives_way)
        ahead = sum(1 for *entry, future in self._waiting
                    if not future.done() and tuple(entry[:2]) <= key)
        # If even the place taken last has been held longer than usual, Rasa is slow now.
        hold = max(self._hold, now - max(self._taken.values(), default=now))
        # In a flood, a new one may also be overtaken by what comes in the next seconds.
        return (ahead + 1) * hold / self.limit + gives_way

    @contextlib.asynccontextmanager
    async def place(self, urgency: int, wait_at_most: float,
                    expect_at_most: Optional[float] = None) -> AsyncIterator[None]:
        """Held while the message is with Rasa. NoRoom if none came free within
        `wait_at_most` seconds, or at once if the wait expected is over `expect_at_most`."""
        if expect_at_most is not None and self.expected_wait(urgency) > expect_at_most:
            raise NoRoom()
        await self._take(urgency, wait_at_most)
        place, taken = next(self._places), self._clock()
        self._taken[place] = taken
        try:
            yield
        finally:
            # What a place costs now: the measure of how fast the queue moves.
            del self._taken[place]
            held = min(self._clock() - taken, LONGEST_HOLD_COUNTED)
            self._hold += 0.1 * (held - self._hold)
            self._hand_on()

    async def _take(self, urgency: int, wait_at_most: float) -> None:
        if self.has_room():
            self.in_flight += 1
            return
        future = asyncio.get_running_loop().create_future()
        key = self._key(urgency, self._clock(), self._gives_way(urgency))
        heapq.heappush(self._waiting, (*key, next(self._arrivals), urgency, future))
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
        """A place came free: to the first waiter still waiting, else back."""
        while self._waiting:
            *_, future = heapq.heappop(self._waiting)
            if not future.done():
                future.set_result(None)  # in_flight unchanged: the place passes on
                return
        self.in_flight -= 1

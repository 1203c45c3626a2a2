"""Per-conversation message limit: a sliding one-minute window, in memory.

A burst (more than the limit in a minute) is refused with the seconds to wait.
Keyed by session id only: the gateway never sees who is behind a session.
"""
import math
import time
from collections import deque
from typing import Callable, Deque, Dict


class RateLimiter:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._recent: Dict[str, Deque[float]] = {}

    def retry_after(self, key: str) -> int:
        """0 if a message may go now (and counts it); otherwise whole seconds to wait."""
        now = self._clock()
        recent = self._recent.setdefault(key, deque())
        while recent and recent[0] <= now - 60:
            recent.popleft()
        if len(recent) >= self.per_minute:
            return max(1, math.ceil(recent[0] + 60 - now))
        recent.append(now)
        return 0

    def forget(self, key: str) -> None:
        self._recent.pop(key, None)

    def sweep(self) -> None:
        """Drops keys with nothing in the last minute, so memory stays small."""
        cutoff = self._clock() - 60
        for key in [k for k, times in self._recent.items() if not times or times[-1] <= cutoff]:
            del self._recent[key]

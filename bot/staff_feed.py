"""What the staff consoles watch live: the queue and the handed-off conversations.

Each console's WebSocket is one listener. A connected console also counts as a
staff member on shift (seen within the last STAFF_AWAY_SECONDS, so a page reload
or a gateway restart doesn't make the team look absent).
"""
import asyncio
import time
from typing import Any, Dict, Set

BACKLOG = 512  # events held for a console that isn't reading; beyond that they are dropped


class StaffFeed:
    def __init__(self, away_seconds: float = 300) -> None:
        self.away_seconds = away_seconds
        self._listeners: Set[asyncio.Queue] = set()
        self._last_seen: Dict[str, float] = {}  # staff username -> when a console was last open
        self._connected: Dict[str, int] = {}
        self._signed_out: Set[str] = set()
        self._started = time.monotonic()

    def listen(self, username: str) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=BACKLOG)
        self._listeners.add(queue)
        self._connected[username] = self._connected.get(username, 0) + 1
        self._last_seen[username] = time.monotonic()
        self._signed_out.discard(username)
        return queue

    def stop_listening(self, username: str, queue: asyncio.Queue) -> None:
        self._listeners.discard(queue)
        self._connected[username] = max(0, self._connected.get(username, 1) - 1)
        if username not in self._signed_out:
            self._last_seen[username] = time.monotonic()

    def signed_out(self, username: str) -> None:
        """Logged out (or disabled): off shift at once, not after the grace period."""
        self._signed_out.add(username)
        self._last_seen.pop(username, None)

    def just_started(self) -> bool:
        """Consoles reconnect within seconds of a restart: until then, don't take
        the team for absent."""
        return time.monotonic() - self._started < self.away_seconds

    def _present(self, username: str, now: float) -> bool:
        """A console open now, or moments ago, and not logged out since."""
        if username in self._signed_out:
            return False
        seen = self._last_seen.get(username)
        return bool(self._connected.get(username)) or (
            seen is not None and now - seen < self.away_seconds)

    def is_on_shift(self, username: str) -> bool:
        return username not in self._signed_out and (
            self.just_started() or self._present(username, time.monotonic()))

    @property
    def watched(self) -> bool:
        return bool(self._listeners)

    def on_shift(self) -> int:
        """How many staff members have a console open (or had, moments ago)."""
        now = time.monotonic()
        return sum(1 for name in self._last_seen if self._present(name, now))

    def publish(self, event: Dict[str, Any]) -> None:
        for queue in list(self._listeners):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                pass  # a stuck console reloads the queue and transcript when it catches up

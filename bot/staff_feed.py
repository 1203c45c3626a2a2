"""What the staff consoles watch live: the queue and the handed-off conversations.

Each console's WebSocket is one listener. A connected console also counts as a
staff member on shift (seen within the last few minutes, so a page reload or a
gateway restart doesn't make the team look absent).
"""
import asyncio
import time
from typing import Any, Dict, Set

ON_SHIFT_GRACE_SECONDS = 300


class StaffFeed:
    def __init__(self) -> None:
        self._listeners: Set[asyncio.Queue] = set()
        self._last_seen: Dict[str, float] = {}  # staff username -> when a console was last open
        self._connected: Dict[str, int] = {}

    def listen(self, username: str) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=512)
        self._listeners.add(queue)
        self._connected[username] = self._connected.get(username, 0) + 1
        self._last_seen[username] = time.monotonic()
        return queue

    def stop_listening(self, username: str, queue: asyncio.Queue) -> None:
        self._listeners.discard(queue)
        self._connected[username] = max(0, self._connected.get(username, 1) - 1)
        self._last_seen[username] = time.monotonic()

    def signed_out(self, username: str) -> None:
        if not self._connected.get(username):
            self._last_seen.pop(username, None)

    @property
    def watched(self) -> bool:
        return bool(self._listeners)

    def on_shift(self) -> int:
        """How many staff members have a console open (or had, moments ago)."""
        now = time.monotonic()
        return sum(1 for name, seen in self._last_seen.items()
                   if self._connected.get(name) or now - seen < ON_SHIFT_GRACE_SECONDS)

    def publish(self, event: Dict[str, Any]) -> None:
        for queue in list(self._listeners):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                pass  # a stuck console reloads the queue and transcript when it catches up

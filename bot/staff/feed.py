"""What the staff consoles watch live: the queue and the handed-off conversations.

Each console's WebSocket is one listener. A connected console also counts as a
staff member on shift (seen within the last STAFF_AWAY_SECONDS, so a page reload
or a gateway restart doesn't make the team look absent).

With several gateways, the events and who is on shift travel on the bus
(bot/bus.py): a console open on gateway A counts on gateway B too. Each
gateway says every few seconds which consoles it has open; one that is killed
stops saying so, and its consoles count as away STAFF_AWAY_SECONDS later
(they reconnect to another gateway long before).
"""
import asyncio
import contextlib
import time
from typing import Any, Dict, List, Optional, Set

from bot.bus import LocalBus, offer

BACKLOG = 512  # events held for a console that isn't reading; beyond that they are dropped
NEVER = float("-inf")
# Told to every console here when a staff member logs out here or on another
# gateway: each checks its own session at once (staff_api.live) and, if that was
# the one ended, closes with 4401. Not passed on to the console.
SIGNED_OUT = "signed_out"
# Published when an account's role changes: every console checks its session (and so
# its role) at once, and the page asks again what it may show (GET me).
SESSION_CHANGED = "session_changed"


def audience(handoff: Dict[str, Any]) -> Optional[List[str]]:
    """Who may see a conversation's news live (least privilege): anyone while it
    waits in the queue; once held, its holder and whoever it is offered to.
    Supervisors see everything (visible_to)."""
    if handoff.get("status") != "claimed":
        return None
    return [name for name in (handoff.get("claimed_by"), handoff.get("transfer_to")) if name]


def visible_to(event: Dict[str, Any], username: str, supervisor: bool) -> bool:
    """An event with an `audience` goes only to those in it, and to supervisors."""
    wanted = event.get("audience")
    return supervisor or wanted is None or username in wanted


class StaffFeed:
    def __init__(self, away_seconds: float = 300, bus: Optional[LocalBus] = None) -> None:
        self.away_seconds = away_seconds
        self.bus = bus or LocalBus()
        self.bus.subscribe(self._on_bus)
        self._listeners: Set[asyncio.Queue] = set()
        # Wall-clock times, so that gateways can compare them.
        self._last_seen: Dict[str, float] = {}  # staff username -> a console was open then
        self._signed_out_at: Dict[str, float] = {}
        self._connected: Dict[str, int] = {}  # consoles open on this gateway
        self._started = time.monotonic()

    # --- consoles on this gateway ----------------------------------------------
    def listen(self, username: str) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=BACKLOG)
        self._listeners.add(queue)
        self._connected[username] = self._connected.get(username, 0) + 1
        self._seen_now(username)
        return queue

    def stop_listening(self, username: str, queue: asyncio.Queue) -> None:
        self._listeners.discard(queue)
        self._connected[username] = max(0, self._connected.get(username, 1) - 1)
        if not self._signed_out(username):
            self._seen_now(username)  # the grace period starts now

    def signed_out(self, username: str) -> None:
        """Logged out (or disabled): off shift at once, not after the grace period."""
        at = time.time()
        self._signed_out_at[username] = at
        self.bus.publish("presence", {"type": "signed_out", "username": username, "at": at})

    def _seen_now(self, username: str) -> None:
        at = time.time()
        self._last_seen[username] = at
        self.bus.publish("presence", {"type": "seen", "username": username, "at": at})

    # --- who is on shift ---------------------------------------------------------
    def just_started(self) -> bool:
        """Consoles reconnect within seconds of a restart: until then, don't take
        the team for absent."""
        return time.monotonic() - self._started < self.away_seconds

    def _signed_out(self, username: str) -> bool:
        """Logged out since a console was last opened."""
        out = self._signed_out_at.get(username)
        return out is not None and self._last_seen.get(username, NEVER) <= out

    def _present(self, username: str, now: float) -> bool:
        """A console open now, or moments ago, and not logged out since."""
        if username not in self._last_seen or self._signed_out(username):
            return False
        return bool(self._connected.get(username)) or now - self._last_seen[username] < self.away_seconds

    def is_on_shift(self, username: str) -> bool:
        return not self._signed_out(username) and (
            self.just_started() or self._present(username, time.time()))

    def names_on_shift(self) -> List[str]:
        """Who has a console open (or had, moments ago)."""
        now = time.time()
        return sorted(name for name in list(self._last_seen) if self._present(name, now))

    def on_shift(self) -> int:
        """How many staff members have a console open (or had, moments ago)."""
        now = time.time()
        return sum(1 for name in list(self._last_seen) if self._present(name, now))

    @property
    def refresh_seconds(self) -> float:
        return max(0.05, min(10.0, self.away_seconds / 3))

    async def keep_saying_who_is_here(self) -> None:
        """Tells the other gateways, now and then, which consoles are open here."""
        while True:
            await asyncio.sleep(self.refresh_seconds)
            self._say_who_is_here()

    def _say_who_is_here(self) -> None:
        for username, count in list(self._connected.items()):
            if count and not self._signed_out(username):
                self._seen_now(username)

    # --- events ------------------------------------------------------------------
    @property
    def watched(self) -> bool:
        """A console is open, here or on another gateway: worth telling."""
        return bool(self._listeners) or self.on_shift() > 0

    def publish(self, event: Dict[str, Any]) -> None:
        self.bus.publish("staff", event)

    def _on_bus(self, topic: str, event: Dict[str, Any]) -> None:
        if topic == "staff":
            offer(self._listeners, event)
        elif topic == "presence":
            self._on_presence(event)
        elif topic == "bus" and event.get("type") == "reconnected":
            # Events may have been missed: consoles reload what they show, and a
            # gateway that just joined learns who is here.
            offer(self._listeners, {"type": "reload"})
            self.bus.publish("presence", {"type": "hello"})

    def _on_presence(self, event: Dict[str, Any]) -> None:
        username, at = event.get("username"), event.get("at")
        if event.get("type") == "hello":
            self._say_who_is_here()
            return
        if not isinstance(username, str) or not isinstance(at, (int, float)):
            return
        if event.get("type") == "seen":
            self._last_seen[username] = max(at, self._last_seen.get(username, NEVER))
        elif event.get("type") == "signed_out":
            self._signed_out_at[username] = max(at, self._signed_out_at.get(username, NEVER))
            offer(self._listeners, {"type": SIGNED_OUT})


@contextlib.asynccontextmanager
async def presence_running(feed: StaffFeed):
    task = asyncio.create_task(feed.keep_saying_who_is_here())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

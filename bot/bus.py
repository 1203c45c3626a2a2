"""What one gateway tells the others: a conversation's live messages (for the
web page's WebSocket, wherever it is connected), the staff consoles' events,
and who has a console open.

Embedded (no REDIS_URL): it all stays in this process. With REDIS_URL, each
event is also published on one Redis pub/sub channel that every gateway
listens to. The database stays the record: pub/sub keeps nothing, so an event
missed while Redis was away is read again from the store. When the connection
comes back, every listener here is told `{"type": "reconnected"}` on topic
"bus" and catches up.

Nothing is written to Redis's disk; what goes over the channel is what the
store holds already (redacted text, random ids).
"""
import asyncio
import json
import logging
import secrets
from typing import Any, Callable, Dict, Iterable, List, Optional

from bot.errors import log_failure

logger = logging.getLogger(__name__)

Handler = Callable[[str, Dict[str, Any]], None]  # (topic, event)
CHANNEL = "support-chat:gateway-events"
OUTBOX = 10_000  # events waiting for Redis; beyond that they are dropped (the store has them)
RETRY_SECONDS = (0.2, 0.5, 1, 2, 5)


class LocalBus:
    """One gateway: events go straight to this process's handlers."""

    def __init__(self) -> None:
        self._handlers: List[Handler] = []

    def subscribe(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def publish(self, topic: str, event: Dict[str, Any]) -> None:
        self._deliver(topic, event)

    def _deliver(self, topic: str, event: Dict[str, Any]) -> None:
        for handler in self._handlers:
            try:
                handler(topic, event)
            except Exception as error:  # noqa: BLE001 - one handler's bug must not stop the others
                log_failure(logger, f"A bus handler failed on a {topic} event", error)

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass


class RedisBus(LocalBus):
    """Several gateways: handled here at once, and passed on through Redis."""

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        super().__init__()
        self._channel = channel  # pub/sub ignores Redis's database number: one per deployment
        import redis.asyncio as redis

        self._redis = redis.from_url(url, socket_connect_timeout=3, health_check_interval=10)
        self._origin = secrets.token_hex(8)  # our own events come back: skip them
        self._outbox: "asyncio.Queue[str]" = asyncio.Queue(maxsize=OUTBOX)
        self._tasks: List[asyncio.Task] = []
        self.connected = False

    def publish(self, topic: str, event: Dict[str, Any]) -> None:
        self._deliver(topic, event)
        try:
            self._outbox.put_nowait(json.dumps({"from": self._origin, "topic": topic, "event": event}))
        except asyncio.QueueFull:
            pass  # Redis has been away a while: the others catch up from the store

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._send()), asyncio.create_task(self._receive())]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._redis.close()

    async def _send(self) -> None:
        # One sender keeps the events of this gateway in order.
        while True:
            item = await self._outbox.get()
            try:
                await self._redis.publish(self._channel, item)
            except Exception as error:  # noqa: BLE001 - Redis down: drop it, the store has it
                logger.debug("Could not publish to Redis (%s).", type(error).__name__)

    async def _receive(self) -> None:
        failures = 0
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                if failures:
                    logger.warning("Redis is back: gateways share live events again.")
                failures, self.connected = 0, True
                self._deliver("bus", {"type": "reconnected"})
                async for message in pubsub.listen():
                    self._on_message(message.get("data"))
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - Redis restarted or unreachable: try again
                if self.connected or not failures:
                    logger.warning("Lost Redis (%s): live events stay on this gateway until it "
                                   "is back.", type(error).__name__)
                self.connected = False
                await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
                failures += 1
            finally:
                await asyncio.shield(_quietly_close(pubsub))

    def _on_message(self, data: Optional[bytes]) -> None:
        try:
            item = json.loads(data)
        except (TypeError, ValueError):
            return
        if isinstance(item, dict) and item.get("from") != self._origin \
                and isinstance(item.get("event"), dict):
            self._deliver(str(item.get("topic")), item["event"])


async def _quietly_close(pubsub) -> None:
    try:
        await pubsub.reset()
    except Exception:  # noqa: BLE001 - the connection is gone anyway
        pass


def offer(queues: Iterable[asyncio.Queue], event: Dict[str, Any]) -> None:
    """Puts the event on each listener's queue; a full one (a listener that isn't
    reading) misses it and catches up from the store."""
    for queue in list(queues):
        try:
            queue.put_nowait(event)
        except asyncio.QueueFull:
            pass


def make_bus(redis_url: str) -> LocalBus:
    return RedisBus(redis_url) if redis_url else LocalBus()

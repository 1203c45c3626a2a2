"""One thing at a time per conversation: a turn, a claim, a hand-back, an erasure.

In this process an asyncio lock does it. With REDIS_URL (several gateways), a
Redis lock is taken as well, so that a message on gateway A and a claim on
gateway B don't interleave. If Redis can't be reached, the gateway goes on
with its own lock only: a reply for the person matters more than strict order
while Redis restarts.
"""
import asyncio
import contextlib
import hashlib
import logging
from typing import AsyncIterator, Dict, Optional

logger = logging.getLogger(__name__)

# The Redis lock lapses this long after its gateway stops renewing it (killed mid-turn),
# and is renewed every RENEW_SECONDS while a turn lasts (a slow Rasa answer).
LAPSES_AFTER_SECONDS = 10
RENEW_SECONDS = 3
WAIT_AT_MOST_SECONDS = 30  # then go ahead anyway: never leave a person without an answer
KEY_PREFIX = "support-chat:turn:"


class TurnLocks:
    def __init__(self, redis_url: str = "") -> None:
        self._local: Dict[str, asyncio.Lock] = {}
        self._users: Dict[str, int] = {}  # holders and waiters, so idle locks are dropped
        self._redis = None
        if redis_url:
            import redis.asyncio as redis

            self._redis = redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)

    @contextlib.asynccontextmanager
    async def hold(self, session_id: str) -> AsyncIterator[None]:
        lock = self._local.setdefault(session_id, asyncio.Lock())
        self._users[session_id] = self._users.get(session_id, 0) + 1
        try:
            async with lock:
                shared = await self._take_shared(session_id)
                renewing = asyncio.create_task(_keep_renewing(shared)) if shared else None
                try:
                    yield
                finally:
                    if renewing:
                        renewing.cancel()
                        await asyncio.gather(renewing, return_exceptions=True)
                    await _release(shared)
        finally:
            self._users[session_id] -= 1
            if not self._users[session_id]:
                del self._users[session_id], self._local[session_id]

    def busy(self, session_id: str) -> bool:
        return session_id in self._users

    async def _take_shared(self, session_id: str):
        if self._redis is None:
            return None
        # The session id is a secret: Redis sees a hash of it.
        key = KEY_PREFIX + hashlib.sha256(session_id.encode()).hexdigest()[:32]
        lock = self._redis.lock(key, timeout=LAPSES_AFTER_SECONDS, sleep=0.01,
                                blocking_timeout=WAIT_AT_MOST_SECONDS)
        try:
            if await lock.acquire():
                return lock
            logger.warning("Another gateway held a conversation too long: going ahead.")
        except Exception as error:  # noqa: BLE001 - Redis down: this gateway's lock only
            logger.warning("No Redis for the conversation lock (%s): this gateway's lock only.",
                           type(error).__name__)
        return None

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.close()


async def _keep_renewing(lock) -> None:
    while True:
        await asyncio.sleep(RENEW_SECONDS)
        try:
            await lock.extend(LAPSES_AFTER_SECONDS, replace_ttl=True)
        except Exception:  # noqa: BLE001 - Redis away or the lock lapsed: the turn goes on
            return


async def _release(lock: Optional[object]) -> None:
    if lock is None:
        return
    try:
        await lock.release()
    except Exception:  # noqa: BLE001 - expired, or Redis went away: nothing left to free
        pass

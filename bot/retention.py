"""Deletes conversations with no message for RETENTION_HOURS (default 48), from
the gateway's store and from Rasa's tracker store, every RETENTION_SWEEP_SECONDS;
and the records of cases passed on (reference and delivery status only, by
then) after CASE_RETENTION_DAYS; the insights' hourly counts after
INSIGHTS_RETENTION_DAYS; the staff login throttle's counts once their window ends,
and the messaging apps' deliveries remembered (bot/messaging/shared.py) once they expire."""
import asyncio
import contextlib
import logging
import time

from aiohttp import web

from bot.errors import log_failure
from bot.insights.counts import hour_of
from bot.keys import CONVERSATIONS, SETTINGS
from bot.staff.auth import FAILURE_WINDOW_SECONDS

logger = logging.getLogger(__name__)


async def sweep(app: web.Application) -> int:
    """One pass; returns how many conversations were deleted."""
    chats = app[CONVERSATIONS]
    cutoff = time.time() - app[SETTINGS].retention_hours * 3600
    expired = await chats.store.sessions_idle_since(cutoff)
    for session_id in expired:
        await chats.forget(session_id)
    await chats.retry_erasures()
    chats.limiter.sweep()
    cases = await chats.store.delete_cases_older_than(
        time.time() - app[SETTINGS].case_retention_days * 86400)
    await chats.store.delete_insights_before(
        hour_of(time.time() - app[SETTINGS].insights_retention_days * 86400))
    await chats.store.delete_login_attempts_before(time.time() - FAILURE_WINDOW_SECONDS)
    await chats.store.delete_expired_deliveries(time.time())
    if expired or cases:
        logger.info("Retention: deleted %d conversation(s) and %d case record(s).",
                    len(expired), cases)
    return len(expired)


async def run_periodically(app: web.Application):
    async def loop() -> None:
        while True:
            try:
                await sweep(app)
            except Exception as error:  # noqa: BLE001 - a failed pass must not stop the next one
                log_failure(logger, "Retention pass failed", error)
            await asyncio.sleep(app[SETTINGS].retention_sweep_seconds)

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

"""The loop behind work that falls due later and must survive restarts (the case
outbox, bot/reporting/outbox.py; the check-ins, bot/messaging/check_ins.py): the
work is in the store, and each gateway runs a pass over what is due now, then
sleeps until the next is due, or until woken (something new), but never longer
than `poll_seconds`, so that what another gateway added is not missed for long."""
import asyncio
import contextlib
import logging
import time
from typing import Awaitable, Callable, Optional

from bot.errors import log_failure

logger = logging.getLogger(__name__)


async def run_when_due(one_pass: Callable[[], Awaitable[Optional[float]]], wake: asyncio.Event,
                       poll_seconds: float, what: str) -> None:
    """Until cancelled. `one_pass` does what is due and returns when the next is due
    (None: nothing is waiting)."""
    while True:
        wake.clear()  # before the pass: something added during it still wakes the next
        try:
            due = await one_pass()
        except Exception as error:  # noqa: BLE001 - a failed pass must not stop the next one
            log_failure(logger, f"{what} failed", error)
            due = None
        wait = poll_seconds if due is None else min(max(due - time.time(), 0.05), poll_seconds)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(wake.wait(), wait)

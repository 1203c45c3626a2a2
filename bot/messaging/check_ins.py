"""The check-ins' schedule: sends each one the person asked for
(bot/conversation/check_in.py) when it is due, once, from whichever gateway.

    scheduled, due -> leased to this gateway (bot/store/check_ins.py: one conditional
    UPDATE, so of several gateways on one store only one gets it) -> in the
    conversation's turn: still scheduled? a crisis since, or a person from the team
    holding the chat? (then cancelled) -> sent through the channel's deliverer,
    outside the turn -> in the turn again: `sent`, the address wiped, and the
    message stored in the transcript

It is all in the store, so it survives restarts: a gateway that starts again sends
what fell due meanwhile, but not at night (CHECK_IN_NIGHT,
bot/conversation/check_in_time.py): what falls due then waits for the morning. A
failed send (refused, or one that raised) is tried again with back-off while the next
try falls before the row's give_up_at (inside WhatsApp's 24-hour window), else it is
`failed`; a row still waiting at give_up_at (every gateway was down) is `failed` too,
never sent late. An address sealed under a CHANNEL_ID_KEY this gateway doesn't have
can't be opened: `failed` at once. Logs say what happened, never to whom.

At least once, like the case outbox: a gateway killed after the provider took the
message and before the `sent` UPDATE leaves the row leased, and it is sent again
when the lease ends. Telegram and WhatsApp take no idempotency key for a message,
so that window (milliseconds) can't be closed without risking sending nothing.
"""
import asyncio
import contextlib
import logging
import random
import time
from typing import Any, Awaitable, Callable, Dict, Optional

from bot.conversation import check_in
from bot.conversation.check_in_time import CheckInTime
from bot.conversation.feedback import CRISIS_MARKS
from bot.conversation.turn import Conversations, held_for_staff
from bot.errors import log_failure
from bot.when_due import run_when_due

logger = logging.getLogger(__name__)

# Longer than one send with the provider's own retries (4 tries of 10 s, and waits).
LEASE_SECONDS = 120
# A send takes at most this long (the provider's tries and waits, about 43 s): it is
# started only with at least this much of its lease left.
SEND_AT_MOST_SECONDS = 60
# Check-ins sent in one pass at most; the rest at the next, straight after.
MOST_EACH_PASS = 50
# Each gateway looks this often; sooner when one is scheduled (the bus tells them all).
POLL_SECONDS = 30
RETRY_FIRST_SECONDS = 30.0
RETRY_MAX_SECONDS = 1800.0


class CheckInSchedule:
    def __init__(self, chats: Conversations, times: CheckInTime) -> None:
        self.chats = chats
        self.times = times  # its night: nothing is sent then
        self.store = chats.store
        self._wake = asyncio.Event()
        chats.bus.subscribe(self._on_bus)

    def _on_bus(self, topic: str, event: Dict[str, Any]) -> None:
        if topic == check_in.TOPIC or (topic == "bus" and event.get("type") == "reconnected"):
            self._wake.set()

    async def send_due(self) -> Optional[float]:
        """Sends the check-ins due now; when the next one is due (None: none is scheduled).
        One past its give_up_at is given up, never sent late; none is sent at night."""
        if await self.store.give_up_late_check_ins(time.time()):
            logger.warning("A check-in was still waiting when the messaging app's window closed. "
                           "Gave up.")
        morning = self.times.night_end(time.time())
        if morning is not None:
            return morning  # what falls due now waits (given up, if its window closes first)
        # One at a time, each leased just before it is sent: leasing a batch, the last
        # ones' leases could run out while the first were sent, and another gateway
        # would send them too.
        for _ in range(MOST_EACH_PASS):
            leased = await self.store.lease_due_check_ins(time.time(), LEASE_SECONDS, limit=1)
            if not leased:
                break
            await self._send(leased[0])
        return await self.store.next_check_in_due()

    async def _send(self, row: Dict[str, Any]) -> bool:
        session_id = row["session_id"]
        address = self.chats.addresses.opened(session_id, row["sealed_address"] or "")
        if address is None:
            logger.warning("A check-in could not be sent: its address was sealed under another "
                           "CHANNEL_ID_KEY. Gave up.")
            await self.store.check_in_attempt_failed(session_id, time.time(), give_up=True)
            return False
        # Only the checks in the conversation's turn: the send itself (up to about 43 s
        # with the provider's retries) must not hold up the person's own message.
        async with self.chats.turn(session_id):
            if not await self.store.still_leased(session_id, row["leased_until"],
                                                 time.time() + SEND_AT_MOST_SECONDS):
                return False  # they wrote meanwhile, or said no, or the lease is nearly over
            marks = set(await self.store.marks_of(session_id))
            if marks & CRISIS_MARKS or held_for_staff(await self.store.handoff_for_session(session_id)):
                await self.store.cancel_check_in(session_id)
                logger.info("A check-in was cancelled: a crisis, or a person from the team has the chat.")
                return False
        message = check_in.message(marks)
        deliver = self.chats.deliverers.get(row["channel"])
        if deliver is None or not await self._delivered(deliver, address, message):
            await self._failed(row)
            return False
        # It is on their phone, so it counts as sent even if they wrote meanwhile (which,
        # after the grace, cancelled it), said no or tapped yes again: marked sent by this
        # lease, never sent again, and stored after what they wrote. After "delete my
        # chat" there is nothing left to mark or store it in.
        async with self.chats.turn(session_id):
            if await self.store.check_in_sent(session_id, time.time(), row["leased_until"]):
                await self.chats.push(session_id, [{"from": "bot", **message}], locked=True, sent=True)
        logger.info("A check-in was sent.")
        return True

    @staticmethod
    async def _delivered(deliver: Callable[..., Awaitable[bool]], address: str,
                         message: Dict[str, Any]) -> bool:
        """Sent? A send that raised is a failed attempt like a refused one: retried with
        back-off, not every lease period for ever."""
        try:
            return await deliver(address, message)
        except Exception as error:  # noqa: BLE001 - counted and retried, as below
            log_failure(logger, "A check-in's send failed", error)
            return False

    async def _failed(self, row: Dict[str, Any]) -> None:
        """Tried again after a back-off, unless that try would be at or past give_up_at."""
        delay = min(RETRY_FIRST_SECONDS * 2 ** row["attempts"], RETRY_MAX_SECONDS) * random.uniform(0.8, 1.2)
        next_try = time.time() + delay
        give_up = next_try >= row["give_up_at"]
        await self.store.check_in_attempt_failed(row["session_id"], next_try, give_up)
        if give_up:
            logger.warning("A check-in could not be sent before the messaging app's window "
                           "closed. Gave up.")
        else:
            logger.warning("A check-in could not be sent yet; will retry.")

    async def run(self) -> None:
        """Sends due check-ins until cancelled; wakes at once when one is scheduled."""
        await run_when_due(self.send_due, self._wake, POLL_SECONDS, "A check-in pass")

    async def running(self):
        """Sends in the background while the app runs (create_app: cleanup_ctx)."""
        task = asyncio.create_task(self.run())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

"""Typing indicators, both ways (docs/handoff.md, "Typing"). Passed on live, never
stored and never logged: that someone is typing says nothing worth keeping, and
one row every few seconds would swamp the audit log.

    the person types on the web page -> every console: {"type": "typing", "conversation": id},
                                        only while the conversation is in an open handoff
    the worker types in the reply box -> the person's web page: {"type": "typing", "from": "staff"};
                                        on Telegram, the "typing" chat action.
                                        WhatsApp has no typing indicator for business messages.

Both are limited here, whatever the pages do: a page that sends too often can't
flood the consoles, and a console can't flood Telegram.
"""
import time
from typing import Callable, Dict

from bot.staff.feed import StaffFeed, audience
from bot.staff.handoffs import Handoffs
from bot.store import OPEN

# The chat page says so at most every 3 s while the person types.
PERSON_EVERY_SECONDS = 2.0
# Telegram shows "typing…" for about 5 s, and the page for a few: once per 4 s is enough.
WORKER_EVERY_SECONDS = 4.0
# Past this many remembered conversations, the ones quiet for a while are forgotten.
PRUNE_ABOVE = 1000


def _due(last: Dict[str, float], key: str, every: float) -> bool:
    """True (and remembered) if `key` last went through `every` seconds ago or more."""
    now = time.monotonic()
    if now - last.get(key, float("-inf")) < every:
        return False
    if len(last) > PRUNE_ABOVE:
        for old in [k for k, at in last.items() if now - at >= every]:
            del last[old]
    last[key] = now
    return True


class Typing:
    def __init__(self, handoffs: Handoffs) -> None:
        self.handoffs = handoffs
        self.chats = handoffs.chats
        # Channel -> shows "typing…" in that app, given the person's address (app.py
        # sets Telegram's). Fire and forget: a late indicator is worth nothing.
        self.chat_actions: Dict[str, Callable[[str], None]] = {}
        self._person_last: Dict[str, float] = {}  # session id -> when last passed on
        self._worker_last: Dict[str, float] = {}  # handoff id -> when last passed on

    @property
    def feed(self) -> StaffFeed:
        return self.handoffs.feed

    async def person(self, session_id: str) -> bool:
        """The person is typing on the web page: the consoles hear it if their
        conversation is in the queue or held. True if it was passed on."""
        if not self.feed.watched or not _due(self._person_last, session_id, PERSON_EVERY_SECONDS):
            return False
        handoff = await self.chats.store.handoff_for_session(session_id)
        if handoff is None or handoff["status"] not in OPEN:
            return False
        # Like the conversation's messages: once held, only its holder (and supervisors).
        self.feed.publish({"type": "typing", "conversation": handoff["id"], "audience": audience(handoff)})
        return True

    async def worker(self, handoff_id: str, staff: str) -> bool:
        """The worker holding the conversation is typing (403, 404 or 409 otherwise).
        True if it was passed on, False if one went moments ago."""
        handoff = await self.handoffs.held_by(handoff_id, staff)
        if not _due(self._worker_last, handoff_id, WORKER_EVERY_SECONDS):
            return False
        session_id = handoff["session_id"]
        self.chats.tell_page(session_id, {"type": "typing", "from": "staff"})
        show = self.chat_actions.get(await self.chats.store.session_channel(session_id) or "")
        if show is not None:
            address = await self.chats.addresses.get(session_id)
            if address is not None:
                show(address)
        return True

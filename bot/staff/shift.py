"""Running a shift: handing a held conversation to a colleague, putting it back in
the queue, and the supervisor's view (docs/handoff.md).

    offer (holder, to a colleague on shift, with a note) -> accept: the colleague holds it
                                                         -> decline: it stays with the holder
    requeue (holder, with a note)                        -> waiting again, unclaimed, bot paused
    watch (supervisor)                                   -> the transcript, silently (audited)
    take over (supervisor)                               -> the supervisor holds it

The person is told, in one line, when someone else picks their chat up (accept,
take over) and when it goes back to the queue; never about a watch. Every step is
in the audit log; the consoles hear of it live (bot/staff/feed.py: an `audience`
keeps each to those it concerns, and supervisors).
"""
import time
from typing import Any, Dict, List, Optional

from bot.conversation.replies import reply
from bot.errors import Problem
from bot.staff.feed import StaffFeed
from bot.staff.handoffs import NOT_FOUND, Handoffs, at_the_limit, public
from bot.store import iso_time

NO_OFFER = "There is no handover waiting for you on this conversation."
NOT_HELD = "Nobody holds this conversation now. Claim it from the queue instead."


class Shift:
    def __init__(self, handoffs: Handoffs) -> None:
        self.handoffs = handoffs
        self.store = handoffs.store
        self.chats = handoffs.chats

    @property
    def feed(self) -> StaffFeed:
        return self.handoffs.feed

    def _publish(self, event: Dict[str, Any]) -> None:
        self.feed.publish(event)
        self.feed.publish({"type": "queue_changed"})

    # --- colleagues ---------------------------------------------------------------
    async def colleagues(self, staff: str) -> List[Dict[str, Any]]:
        """Who is on shift, but this staff member: whom a conversation can go to."""
        on_shift = set(self.feed.names_on_shift())
        members = [m for m in await self.store.list_staff()
                   if m["username"] in on_shift and not m["disabled"] and m["username"] != staff]
        return [{"username": m["username"], "role": m["role"],
                 "holding": await self.store.held_count(m["username"])} for m in members]

    # --- transfers ----------------------------------------------------------------
    async def offer(self, handoff_id: str, staff: str, to: str, note: str) -> Dict[str, Any]:
        await self.handoffs.held_by(handoff_id, staff)
        if to == staff:
            raise Problem(400, "You already hold this conversation. Choose a colleague.")
        member = await self.store.staff_member(to)
        if member is None or member["disabled"] or to not in self.feed.names_on_shift():
            raise Problem(409, "That colleague isn't on shift now. Choose someone who is.")
        if await self.store.held_count(to) >= self.handoffs.max_chats:
            raise Problem(409, at_the_limit(self.handoffs.max_chats, you=False))
        if not await self.store.set_handoff(
                handoff_id, {"claimed_by": staff, "status": "claimed"},
                transfer_to=to, transfer_from=staff, transfer_at=time.time()):
            raise Problem(409, "This conversation changed meanwhile. Look again.")
        await self.handoffs.note(handoff_id, staff, note, prefix=f"Handing over to {to}")
        await self.store.audit(staff, "transfer_offered", handoff_id)
        self._publish({"type": "transfer_offered", "conversation": handoff_id, "from": staff,
                       "to": to, "audience": [staff, to]})
        return public(await self.handoffs.open_one(handoff_id))

    async def accept(self, handoff_id: str, staff: str) -> Dict[str, Any]:
        handoff = await self.handoffs.open_one(handoff_id)
        sender = handoff["transfer_from"]
        if handoff["transfer_to"] != staff or handoff["status"] != "claimed" \
                or handoff["claimed_by"] != sender:
            raise Problem(409, NO_OFFER)
        async with self.chats.turn(handoff["session_id"]):
            given = await self.store.give_handoff(
                handoff_id, staff, {"status": "claimed", "claimed_by": sender, "transfer_to": staff},
                self.handoffs.max_chats, claimed_at=time.time(), last_staff_at=None,
                transfer_to=None, transfer_from=None, transfer_at=None)
            if given == "full":
                raise Problem(409, at_the_limit(self.handoffs.max_chats))
            if given != "given":
                raise Problem(409, NO_OFFER)
            await self.chats.push(handoff["session_id"],
                                  [{"from": "bot", **reply("gateway_staff_changed")}], locked=True)
        await self.store.audit(staff, "transfer_accepted", handoff_id)
        self._publish({"type": "transfer_accepted", "conversation": handoff_id, "from": sender,
                       "to": staff, "audience": [sender, staff]})
        return public(await self.handoffs.open_one(handoff_id))

    async def decline(self, handoff_id: str, staff: str) -> Dict[str, Any]:
        handoff = await self.handoffs.open_one(handoff_id)
        sender = handoff["transfer_from"]
        if handoff["transfer_to"] != staff or not await self.store.set_handoff(
                handoff_id, {"transfer_to": staff, "status": "claimed", "claimed_by": sender},
                transfer_to=None, transfer_from=None, transfer_at=None):
            raise Problem(409, NO_OFFER)
        await self.store.audit(staff, "transfer_declined", handoff_id)
        self._publish({"type": "transfer_declined", "conversation": handoff_id, "from": sender,
                       "to": staff, "audience": [sender, staff]})
        return public(await self.handoffs.open_one(handoff_id))

    async def requeue(self, handoff_id: str, staff: str, note: str) -> Dict[str, Any]:
        """Back to the queue, unclaimed, in its old place; the bot stays paused, as
        for anyone waiting (the turn's reminders and "team away" still apply)."""
        handoff = await self.handoffs.held_by(handoff_id, staff)
        async with self.chats.turn(handoff["session_id"]):
            if not await self.store.set_handoff(
                    handoff_id, {"claimed_by": staff, "status": "claimed"}, status="waiting",
                    claimed_by=None, claimed_at=None, last_staff_at=None,
                    transfer_to=None, transfer_from=None, transfer_at=None):
                raise Problem(404, NOT_FOUND)
            await self.chats.push(handoff["session_id"],
                                  [{"from": "bot", **reply("gateway_requeued")}], locked=True)
        await self.handoffs.note(handoff_id, staff, note, prefix="Put back in the queue")
        await self.store.audit(staff, "requeued", handoff_id)
        self._publish({"type": "requeued", "conversation": handoff_id, "by": staff})
        return public(await self.handoffs.open_one(handoff_id))

    # --- the supervisor's -----------------------------------------------------------
    async def overview(self) -> Dict[str, Any]:
        """Who is on shift and what each holds (since when, and when they last
        wrote), and the queue with its waiting times, crisis first."""
        queue = await self.store.queue()
        on_shift = set(self.feed.names_on_shift())
        holders = {h["claimed_by"] for h in queue if h["status"] == "claimed"}
        staff = []
        for member in await self.store.list_staff():
            name = member["username"]
            # Someone holding a conversation shows even if their console has closed.
            if member["disabled"] or (name not in on_shift and name not in holders):
                continue
            holding = [{**public(h), "last_staff_at": iso_time(h.get("last_staff_at"))}
                       for h in queue if h["status"] == "claimed" and h["claimed_by"] == name]
            staff.append({"username": name, "role": member["role"], "on_shift": name in on_shift,
                          "holding": holding})
        return {"max_chats": self.handoffs.max_chats, "staff": staff,
                "queue": [public(h) for h in queue if h["status"] == "waiting"]}

    async def watch(self, handoff_id: str, supervisor: str) -> Dict[str, Any]:
        """The conversation, read silently: audited, never said to the person."""
        return await self.handoffs.conversation(handoff_id, supervisor, True, action="watch")

    async def take_over(self, handoff_id: str, supervisor: str) -> Dict[str, Any]:
        """From a worker who has gone quiet: the limit doesn't stop a supervisor."""
        handoff = await self.handoffs.open_one(handoff_id)
        previous: Optional[str] = handoff["claimed_by"]
        if handoff["status"] != "claimed" or previous is None:
            raise Problem(409, NOT_HELD)
        if previous == supervisor:
            raise Problem(409, "You already hold this conversation.")
        async with self.chats.turn(handoff["session_id"]):
            given = await self.store.give_handoff(
                handoff_id, supervisor, {"status": "claimed", "claimed_by": previous}, None,
                claimed_at=time.time(), last_staff_at=None,
                transfer_to=None, transfer_from=None, transfer_at=None)
            if given != "given":
                raise Problem(409, "This conversation changed meanwhile. Look again.")
            await self.chats.push(handoff["session_id"],
                                  [{"from": "bot", **reply("gateway_staff_changed")}], locked=True)
        await self.store.audit(supervisor, "takeover", handoff_id)
        self._publish({"type": "taken_over", "conversation": handoff_id, "from": previous,
                       "by": supervisor, "audience": [previous, supervisor]})
        return public(await self.handoffs.open_one(handoff_id))

"""The handoff queue: a conversation handed from the bot to a person and back.

    request (action_handoff, via the internal API) -> waiting
    claim (one staff member)                        -> claimed: the bot is paused
    release (back to the bot) or close              -> ended: the bot resumes

Crisis conversations go to the top of the queue; the rest by waiting time.
Staff see a handoff's own random id, never the session id, chat id or number.
Every staff action is written to the audit log (who, what, when, which handoff).
"""
import math
import secrets
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bot.conversation import feedback
from bot.conversation.assistant import AssistantUnavailable
from bot.conversation.replies import reply
from bot.conversation.turn import Conversations, normalise
from bot.errors import Problem
from bot.staff.feed import StaffFeed, audience
from bot.staff.hours import SupportHours
from bot.store import OPEN, iso_time

NOT_FOUND = "No such conversation in the queue."
WITH_SOMEONE_ELSE = "This conversation is with another staff member."


def at_the_limit(count: int, you: bool = True) -> str:
    chats = "1 conversation" if count == 1 else f"{count} conversations"
    if you:
        return (f"You're already holding {chats}, the most at once. "
                "Close or hand one back first.")
    return f"They're already holding {chats}, the most at once. Choose someone else."


def public(handoff: Dict[str, Any]) -> Dict[str, Any]:
    """A handoff as staff see it: no session id, no chat id."""
    held = handoff["status"] == "claimed"
    return {
        "id": handoff["id"],
        "priority": handoff["priority"],
        "status": handoff["status"],
        "waiting_since": iso_time(handoff["requested_at"]),
        "claimed_by": handoff["claimed_by"],
        "claimed_at": iso_time(handoff.get("claimed_at")),
        # A transfer offered and not yet answered (bot/staff/shift.py).
        "transfer_to": handoff.get("transfer_to") if held else None,
        "transfer_from": handoff.get("transfer_from") if held else None,
        "channel": handoff.get("channel"),
        # What the assistant knows (bot/store/handoffs.py KNOWN_FACTS): "under 18", "someone helping".
        "under_18": bool(handoff.get("under_18")),
        "helping_someone": bool(handoff.get("helping_someone")),
    }


class Handoffs:
    def __init__(self, chats: Conversations, hours: SupportHours, minutes_each: float,
                 max_chats: int = 3) -> None:
        self.chats = chats
        self.max_chats = max_chats  # STAFF_MAX_CHATS: how many one worker holds at once
        self.store = chats.store
        self.hours = hours
        self.minutes_each = minutes_each

    @property
    def feed(self) -> StaffFeed:
        return self.chats.staff_feed

    # --- asked for by the bot ----------------------------------------------------
    async def request(self, session_id: str, crisis: bool, queue_when_closed: bool,
                      under_18: bool = False, helping: bool = False, paid: bool = False,
                      images_shared: bool = False) -> Optional[Dict[str, Any]]:
        """Queues the conversation if someone can take it (or the person agreed to
        wait for the team); None if there is no such session. `under_18` and
        `helping` (a parent, carer, friend or professional) show in the queue;
        with `paid` and `images_shared` they tick the wrap-up (bot/staff/wrapup.py)."""
        staffed = self.hours.is_open() and self.feed.on_shift() > 0
        existing = await self.store.handoff_for_session(session_id)
        already_queued = bool(existing) and existing["status"] in OPEN
        # Already in the queue (left for the team): a crisis still moves it up.
        if not staffed and not queue_when_closed and not already_queued:
            if not await self.store.session_exists(session_id):
                return None
            await self.chats.insights.handoff_requested(session_id, answered=False)
            return {"status": "unavailable",
                    "reason": "nobody_on_shift" if self.hours.is_open() else "out_of_hours",
                    "opens": None if self.hours.is_open() else self.hours.describe_next_opening()}
        # In a crisis, or waiting for the team to come back, the bot keeps talking.
        handoff = await self.store.open_handoff(
            session_id, secrets.token_urlsafe(12), crisis, bot_active=crisis or not staffed)
        if handoff is None:
            return None
        await self.chats.insights.handoff_requested(session_id, answered=staffed)
        await self.chats.insights.facts_known(session_id, under_18, helping, paid, images_shared)
        if await self.store.session_channel(session_id) != "web":
            await self.chats.addresses.keep(session_id)
        self.feed.publish({"type": "queue_changed"})
        position = await self.position(handoff["id"])
        return {
            "status": "queued",
            "position": position,
            "wait_minutes": self.rough_wait(position),
            "paused": not handoff["bot_active"],
            "already": handoff["already"],
        }

    async def position(self, handoff_id: str) -> int:
        waiting = [h["id"] for h in await self.store.queue() if h["status"] == "waiting"]
        return waiting.index(handoff_id) + 1 if handoff_id in waiting else 1

    def rough_wait(self, position: int) -> int:
        """Minutes: the people ahead, shared between the staff on shift."""
        return int(math.ceil(position / max(1, self.feed.on_shift())) * self.minutes_each)

    # --- staff ----------------------------------------------------------------
    async def queue(self) -> List[Dict[str, Any]]:
        return [public(h) for h in await self.store.queue()]

    async def open_one(self, handoff_id: str) -> Dict[str, Any]:
        handoff = await self.store.handoff(handoff_id)
        if handoff is None or handoff["status"] not in OPEN:
            raise Problem(404, NOT_FOUND)
        return handoff

    async def held_by(self, handoff_id: str, staff: str) -> Dict[str, Any]:
        """The open handoff, if this staff member holds it (else 409 or 403)."""
        handoff = await self.open_one(handoff_id)
        if handoff["claimed_by"] is None:
            raise Problem(409, "Claim the conversation first.")
        if handoff["claimed_by"] != staff:
            raise Problem(403, "Another staff member holds this conversation.")
        return handoff

    async def conversation(self, handoff_id: str, staff: str, supervisor: bool = False,
                           action: str = "view") -> Dict[str, Any]:
        """The transcript and notes. A worker sees a conversation that waits, one
        they hold or one offered to them; a supervisor any (least privilege)."""
        handoff = await self.open_one(handoff_id)
        if not supervisor and staff not in (handoff["claimed_by"], handoff["transfer_to"]) \
                and handoff["status"] == "claimed":
            raise Problem(403, WITH_SOMEONE_ELSE)
        messages = await self.store.messages_after(handoff["session_id"], 0, with_times=True)
        if handoff["status"] == "claimed" and staff not in (handoff["claimed_by"], handoff["transfer_to"]):
            action = "watch"  # a supervisor reading a colleague's chat, however it was opened
        await self.store.audit(staff, action, handoff_id)
        channel = await self.store.session_channel(handoff["session_id"])
        # What the web page has been sent: later staff replies show "Not seen yet" (bot/staff/seen.py).
        seen = await self.store.seen_seq(handoff["session_id"]) if channel == "web" else None
        return {**public({**handoff, "channel": channel}), "messages": messages or [],
                "notes": await self.store.notes(handoff_id), "seen_seq": seen}

    async def claim(self, handoff_id: str, staff: str) -> Dict[str, Any]:
        handoff = await self.open_one(handoff_id)
        if handoff["claimed_by"] == staff:
            return public(handoff)
        session_id = handoff["session_id"]
        # In the conversation's turn: a message on its way to the bot finishes first,
        # and the next one goes to the staff member.
        async with self.chats.turn(session_id):
            now = time.time()
            given = await self.store.give_handoff(
                handoff_id, staff, {"status": "waiting"}, self.max_chats, status="claimed",
                claimed_at=now, bot_active=False, last_staff_at=None)
            if given == "full":
                raise Problem(409, at_the_limit(self.max_chats))
            if given != "given":
                raise Problem(409, "Another staff member has already claimed this conversation.")
            await self.chats.insights.reached_person(session_id, now - handoff["requested_at"], now)
            if handoff["bot_active"]:  # the bot was still talking (crisis, or left for later)
                try:
                    await self.chats.assistant.handoff(session_id, "paused")
                    await self.store.set_handoff(handoff_id, {}, bot_paused=True)
                except AssistantUnavailable:
                    pass  # the gateway keeps the bot out of it all the same
            await self.chats.push(
                session_id, [{"from": "bot", **reply("gateway_staff_joined")}], locked=True)
        await self.store.audit(staff, "claim", handoff_id)
        self.feed.publish({"type": "queue_changed"})
        return public(await self.open_one(handoff_id))

    async def reply(self, handoff_id: str, staff: str, text: str) -> Dict[str, Any]:
        handoff = await self.held_by(handoff_id, staff)
        stored = await self.chats.add_staff_message(handoff["session_id"], text)
        if not stored:
            raise Problem(404, NOT_FOUND)  # deleted meanwhile (forget me, retention)
        # For the supervisor's view: a worker who has gone quiet shows.
        await self.store.set_handoff(handoff_id, {"claimed_by": staff}, last_staff_at=time.time())
        await self.store.audit(staff, "reply", handoff_id)
        return stored[0]

    async def note(self, handoff_id: str, staff: str, text: str, prefix: str = "") -> Dict[str, Any]:
        """An internal note, redacted; anyone on the team can add one. `prefix`: the
        gateway's own words before it ("Handing over to sam"), not redacted."""
        handoff = await self.open_one(handoff_id)
        words = await self.chats.redact(normalise(text)) if text else ""
        note = await self.store.add_note(
            handoff_id, staff, f"{prefix}: {words}" if prefix and words else prefix or words)
        await self.store.audit(staff, "note", handoff_id)
        self.feed.publish({"type": "note", "conversation": handoff_id, "note": note,
                           "audience": audience(handoff)})
        return note

    async def wrapup_form(self, handoff_id: str, staff: str) -> Dict[str, Any]:
        """The wrap-up's lists, with what the assistant knows ticked already."""
        handoff = await self.held_by(handoff_id, staff)
        return self.chats.insights.wrapup.form(await self._facts(handoff))

    async def _facts(self, handoff: Dict[str, Any]) -> List[str]:
        """What is known of the conversation: its insight marks, and a crisis handoff."""
        marks = await self.store.marks_of(handoff["session_id"])
        return [*marks, "crisis"] if handoff["priority"] == "crisis" else marks

    async def end(self, handoff_id: str, staff: str, how: str,
                  wrapup: Optional[Tuple[Sequence[str], str]] = None) -> Dict[str, Any]:
        """Back to the bot ("released") or closed: either way the bot resumes, and the
        person is asked "did this help?" unless it was a crisis. `wrapup`: on close,
        (categories, outcome) already checked (bot/staff/wrapup.py), counted in insights."""
        handoff = await self.held_by(handoff_id, staff)
        session_id = handoff["session_id"]
        # In the conversation's turn, so that a message arriving meanwhile can't
        # resume the bot a second time.
        async with self.chats.turn(session_id):
            if not await self.store.set_handoff(
                    handoff_id, {"claimed_by": staff, "status": "claimed"}, status="ended",
                    transfer_to=None, transfer_from=None, transfer_at=None):
                raise Problem(404, NOT_FOUND)
            said = await self.chats.resume_bot(session_id, handoff, how)
            if feedback.may_ask(await self.store.marks_of(session_id),
                                crisis_handoff=handoff["priority"] == "crisis"):
                said = feedback.with_question(said, {**reply(feedback.ASK),
                                                     "buttons": feedback.buttons("handoff")})
            await self.chats.push(session_id, [{"from": "bot", **m} for m in said], locked=True)
        await self.chats.addresses.drop(session_id)
        await self.store.audit(staff, "release" if how == "released" else "close", handoff_id)
        if wrapup:
            await self.chats.insights.wrapped_up(*wrapup)
            await self.store.audit(staff, "wrapup", handoff_id)
        self.feed.publish({"type": "queue_changed"})
        return {**public(handoff), "status": "ended"}

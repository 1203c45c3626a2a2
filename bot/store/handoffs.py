"""Tables `handoffs` and `notes`: the queue of conversations handed to a
person, and what staff noted on them."""
import time
from typing import Any, Dict, List, Optional

from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.store.engine import Database, iso_time

OPEN = ("waiting", "claimed")
# What staff see in the queue of what the assistant knows: the conversation's
# insight marks (insights.py), set when the help was given or the handoff asked for.
KNOWN_FACTS = ", ".join(
    f"EXISTS (SELECT 1 FROM insight_marks m WHERE m.session_id = h.session_id"
    f" AND m.name = '{name}') AS {name}" for name in ("under_18", "helping_someone"))
# Queue order: crisis first, then by how long they have waited.
QUEUE_ORDER = "CASE WHEN priority = 'crisis' THEN 0 ELSE 1 END, requested_at"


class HandoffTables(Database):
    async def open_handoff(self, session_id: str, new_id: str, crisis: bool,
                           bot_active: bool) -> Optional[Dict[str, Any]]:
        """Queues the session (or keeps its place if already queued; a crisis moves it
        up). Returns the handoff and `already`; None if the session is gone."""
        def work(db):
            if db.execute(text("SELECT 1 FROM sessions WHERE id = :s"), {"s": session_id}).first() is None:
                return None
            row = one_handoff(db, "session_id = :s", {"s": session_id})
            priority = "crisis" if crisis else "normal"
            if row is None:
                # Another gateway may queue the same conversation at the same moment.
                inserted = db.execute(text(
                    "INSERT INTO handoffs (id, session_id, priority, status, bot_active, bot_paused,"
                    " requested_at) VALUES (:id, :s, :p, 'waiting', :active, :paused, :now)"
                    " ON CONFLICT (session_id) DO NOTHING"),
                    {"id": new_id, "s": session_id, "p": priority, "active": bot_active,
                     "paused": not bot_active, "now": time.time()}).rowcount
                return {**one_handoff(db, "session_id = :s", {"s": session_id}), "already": not inserted}
            if row["status"] in OPEN:
                if crisis and row["priority"] != "crisis":
                    db.execute(text("UPDATE handoffs SET priority = 'crisis' WHERE id = :id"),
                               {"id": row["id"]})
                elif not bot_active and row["status"] == "waiting" and row["bot_active"]:
                    # Left for later, now asked for while staff are on: the bot pauses.
                    db.execute(text("UPDATE handoffs SET bot_active = :f, bot_paused = :t"
                                    " WHERE id = :id"), {"f": False, "t": True, "id": row["id"]})
                return {**one_handoff(db, "id = :id", {"id": row["id"]}), "already": True}
            # Handed back earlier and asked for again: same id, so notes carry over.
            db.execute(text(
                "UPDATE handoffs SET priority = :p, status = 'waiting', bot_active = :active,"
                " bot_paused = :paused, requested_at = :now, claimed_by = NULL, claimed_at = NULL,"
                " transfer_to = NULL, transfer_from = NULL, transfer_at = NULL, last_staff_at = NULL"
                " WHERE id = :id"),
                {"p": priority, "active": bot_active, "paused": not bot_active,
                 "now": time.time(), "id": row["id"]})
            return {**one_handoff(db, "id = :id", {"id": row["id"]}), "already": False}
        return await self._run(work)

    async def handoff(self, handoff_id: str) -> Optional[Dict[str, Any]]:
        return await self._run(lambda db: one_handoff(db, "id = :id", {"id": handoff_id}))

    async def handoff_for_session(self, session_id: str) -> Optional[Dict[str, Any]]:
        return await self._run(lambda db: one_handoff(db, "session_id = :s", {"s": session_id}))

    async def queue(self) -> List[Dict[str, Any]]:
        """Open handoffs in queue order."""
        def work(db):
            rows = db.execute(text(
                f"SELECT h.*, s.channel, {KNOWN_FACTS} FROM handoffs h"
                f" JOIN sessions s ON s.id = h.session_id"
                f" WHERE h.status IN ('waiting', 'claimed') ORDER BY {QUEUE_ORDER}"))
            return [_handoff(row) for row in rows.mappings()]
        return await self._run(work)

    async def set_handoff(self, handoff_id: str, expect: Dict[str, Any], **changes: Any) -> bool:
        """Changes a handoff only if it is still as expected (e.g. claimed by this
        staff member); True if it was. Two staff claiming at once: one wins."""
        return await self._run(lambda db: _update_if(db, handoff_id, expect, changes))

    async def give_handoff(self, handoff_id: str, staff: str, expect: Dict[str, Any],
                           limit: Optional[int], **changes: Any) -> str:
        """Makes `staff` the holder (claim, an accepted transfer, a takeover) if the
        handoff is still as expected and they hold fewer than `limit` (None: no limit).
        "given", "full" (at their limit) or "changed" (not as expected any more).

        Race-free across gateways: the staff member's own row is locked first (an
        UPDATE that changes nothing, on SQLite and PostgreSQL alike), so two claims by
        the same person at once are counted one after the other, never both under
        the limit; claims by different people don't wait for each other."""
        def work(db):
            db.execute(text("UPDATE staff SET username = username WHERE username = :u"), {"u": staff})
            if limit is not None and _held(db, staff) >= limit:
                return "full"
            changes.update(claimed_by=staff)
            return "given" if _update_if(db, handoff_id, expect, changes) else "changed"
        return await self._run(work)

    async def held_count(self, staff: str) -> int:
        """How many conversations this staff member holds now."""
        return await self._run(lambda db: _held(db, staff))

    async def add_note(self, handoff_id: str, staff: str, note: str) -> Dict[str, Any]:
        now = time.time()
        await self._run(lambda db: db.execute(text(
            "INSERT INTO notes (handoff_id, staff, text, created_at) VALUES (:h, :staff, :text, :now)"),
            {"h": handoff_id, "staff": staff, "text": note, "now": now}))
        return {"staff": staff, "text": note, "at": iso_time(now)}

    async def notes(self, handoff_id: str) -> List[Dict[str, Any]]:
        def work(db):
            rows = db.execute(text("SELECT staff, text, created_at FROM notes WHERE handoff_id = :h"
                                   " ORDER BY created_at"), {"h": handoff_id})
            return [{"staff": staff, "text": note, "at": iso_time(at)} for staff, note, at in rows]
        return await self._run(work)


def _held(db: Connection, staff: str) -> int:
    return db.execute(text("SELECT COUNT(*) FROM handoffs WHERE claimed_by = :u AND status = 'claimed'"),
                      {"u": staff}).scalar_one()


def _update_if(db: Connection, handoff_id: str, expect: Dict[str, Any], changes: Dict[str, Any]) -> bool:
    """One UPDATE of the handoff, only where its columns are still as `expect` says."""
    sets = ", ".join(f"{column} = :set_{column}" for column in changes)
    where = " AND ".join(
        f"{column} IS NULL" if value is None else f"{column} = :is_{column}"
        for column, value in expect.items())
    params = {**{f"set_{k}": v for k, v in changes.items()},
              **{f"is_{k}": v for k, v in expect.items() if v is not None},
              "id": handoff_id}
    result = db.execute(text(f"UPDATE handoffs SET {sets} WHERE id = :id"
                             + (f" AND {where}" if where else "")), params)
    return result.rowcount == 1


def one_handoff(db: Connection, where: str, params: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    row = db.execute(text(f"SELECT * FROM handoffs WHERE {where}"), params).mappings().first()
    return None if row is None else _handoff(row)


def _handoff(row) -> Dict[str, Any]:
    handoff = dict(row)
    handoff["bot_active"] = bool(handoff["bot_active"])
    handoff["bot_paused"] = bool(handoff["bot_paused"])
    return handoff

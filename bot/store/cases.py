"""Tables `cases` and `held_answers`: the reporting channel's outbox
(bot/reporting/outbox.py), and the answers kept out of the conversation, sealed,
until they go into a case."""
import time
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import text

from bot.store.engine import Database

# What staff (and the submitter) may see of a case: never its sealed content.
CASE_COLUMNS = ("reference, status, consent, created_at, attempts, last_error, delivered_at,"
                " give_up_at")


class CaseTables(Database):
    async def hold_answer(self, session_id: str, field: str, sealed: str) -> None:
        """Keeps (or replaces) an answer kept out of the conversation."""
        def work(db):
            db.execute(text("DELETE FROM held_answers WHERE session_id = :s AND field = :f"),
                       {"s": session_id, "f": field})
            db.execute(text("INSERT INTO held_answers (session_id, field, sealed)"
                            " SELECT id, :f, :v FROM sessions WHERE id = :s"),
                       {"s": session_id, "f": field, "v": sealed})
        await self._run(work)

    async def held_answers(self, session_id: str) -> Dict[str, str]:
        def work(db):
            rows = db.execute(text("SELECT field, sealed FROM held_answers WHERE session_id = :s"),
                              {"s": session_id})
            return {field: sealed for field, sealed in rows}  # noqa: C416 - rows has keys(): dict() would read it as a mapping
        return await self._run(work)

    async def add_case(self, case: Dict[str, Any]) -> Tuple[Dict[str, Any], bool]:
        """Writes a case to the outbox (and drops the held answers it now holds).
        One case per conversation: (the case, False) if it already had one."""
        def work(db):
            inserted = db.execute(text(
                "INSERT INTO cases (reference, session_id, idempotency_key, status, consent, sealed,"
                " created_at, next_attempt_at, give_up_at)"
                " VALUES (:reference, :session_id, :idempotency_key, 'pending', :consent, :sealed,"
                " :created_at, :created_at, :give_up_at) ON CONFLICT DO NOTHING"), case).rowcount
            if inserted and case["session_id"]:
                db.execute(text("DELETE FROM held_answers WHERE session_id = :s"),
                           {"s": case["session_id"]})
            row = db.execute(text(f"SELECT {CASE_COLUMNS} FROM cases WHERE session_id = :s"
                                  f" OR reference = :r"),
                             {"s": case["session_id"], "r": case["reference"]}).mappings().first()
            return dict(row), bool(inserted)
        return await self._run(work)

    async def lease_due_cases(self, now: float, lease_seconds: float,
                              limit: int = 20) -> List[Dict[str, Any]]:
        """Pending cases due for a delivery attempt, each leased to this gateway for
        `lease_seconds` (another gateway on the same store skips them meanwhile)."""
        def work(db):
            due = [row[0] for row in db.execute(text(
                "SELECT reference FROM cases WHERE status = 'pending' AND next_attempt_at <= :now"
                " AND leased_until <= :now ORDER BY next_attempt_at LIMIT :n"),
                {"now": now, "n": limit})]
            leased = []
            for reference in due:
                if db.execute(text("UPDATE cases SET leased_until = :until WHERE reference = :r"
                                   " AND status = 'pending' AND leased_until <= :now"),
                              {"until": now + lease_seconds, "r": reference, "now": now}).rowcount:
                    leased.append(dict(db.execute(text(
                        "SELECT reference, idempotency_key, sealed, attempts, give_up_at"
                        " FROM cases WHERE reference = :r"), {"r": reference}).mappings().first()))
            return leased
        return await self._run(work)

    async def case_delivered(self, reference: str) -> None:
        """Delivered: the answers go; the reference and the status stay."""
        await self._run(lambda db: db.execute(text(
            "UPDATE cases SET status = 'delivered', sealed = NULL, delivered_at = :now,"
            " attempts = attempts + 1, last_error = NULL, leased_until = 0 WHERE reference = :r"),
            {"now": time.time(), "r": reference}))

    async def case_attempt_failed(self, reference: str, error: str, next_attempt_at: float,
                                  give_up: bool) -> None:
        await self._run(lambda db: db.execute(text(
            "UPDATE cases SET attempts = attempts + 1, last_error = :e, next_attempt_at = :next,"
            " leased_until = 0, status = :status WHERE reference = :r AND status = 'pending'"),
            {"e": error, "next": next_attempt_at, "r": reference,
             "status": "failed" if give_up else "pending"}))

    async def retry_case(self, reference: str, give_up_at: float) -> bool:
        """A failed case back in the outbox, due now. False unless it had failed."""
        return await self._run(lambda db: db.execute(text(
            "UPDATE cases SET status = 'pending', next_attempt_at = :now, give_up_at = :g"
            " WHERE reference = :r AND status = 'failed' AND sealed IS NOT NULL"),
            {"now": time.time(), "g": give_up_at, "r": reference}).rowcount == 1)

    async def next_case_due(self) -> Optional[float]:
        return await self._run(lambda db: db.execute(text(
            "SELECT MIN(CASE WHEN leased_until > next_attempt_at THEN leased_until"
            " ELSE next_attempt_at END) FROM cases WHERE status = 'pending'")).scalar())

    async def cases(self, limit: int = 200) -> List[Dict[str, Any]]:
        """Newest first, as staff see them: no session, no answers."""
        def work(db):
            rows = db.execute(text(f"SELECT {CASE_COLUMNS} FROM cases"
                                   f" ORDER BY created_at DESC LIMIT :n"), {"n": limit})
            return [dict(row) for row in rows.mappings()]
        return await self._run(work)

    async def case_counts(self) -> Dict[str, int]:
        def work(db):
            counts = {"pending": 0, "delivered": 0, "failed": 0}
            for status, count in db.execute(text("SELECT status, COUNT(*) FROM cases GROUP BY status")):
                counts[status] = count
            return counts
        return await self._run(work)

    async def delete_cases_older_than(self, cutoff: float) -> int:
        """Retention for case records: only delivered or failed ones, never pending."""
        return await self._run(lambda db: db.execute(text(
            "DELETE FROM cases WHERE created_at < :cutoff AND status <> 'pending'"),
            {"cutoff": cutoff}).rowcount)

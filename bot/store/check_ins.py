"""Table `check_ins`: a check-in the person asked for on Telegram or WhatsApp
(bot/conversation/check_in.py offers it and takes the answer; the schedule,
bot/messaging/check_ins.py, sends it). One row per conversation, so it is offered
once and sent once at most; it goes with the conversation (ON DELETE CASCADE).

    offered -> scheduled -> sent, or cancelled (the person wrote, a crisis), or failed
    offered or scheduled -> declined (the person said no)

The chat id or number is kept, sealed, only while the row is `scheduled`: every
other change of status wipes it.
"""
from typing import Any, Dict, List, Optional

from sqlalchemy import text

from bot.store.engine import Database

# What a yes may schedule: an offer, or a no changed to yes (the buttons stay on screen).
# A yes again re-times it. Once sent, cancelled or failed, there is no second one.
MAY_AGREE = "('offered', 'declined', 'scheduled')"


class CheckInTables(Database):
    async def offer_check_in(self, session_id: str, now: float) -> bool:
        """Writes the conversation's one row, `offered`. False if it ever had one
        (or is gone)."""
        return await self._run(lambda db: db.execute(text(
            "INSERT INTO check_ins (session_id, status, created_at)"
            " SELECT id, 'offered', :now FROM sessions WHERE id = :s ON CONFLICT DO NOTHING"),
            {"s": session_id, "now": now}).rowcount == 1)

    async def schedule_check_in(self, session_id: str, agreed_at: float, due_at: float,
                                give_up_at: float, sealed_address: str) -> bool:
        """The person said yes. False if there is nothing a yes may schedule."""
        return await self._run(lambda db: db.execute(text(
            "UPDATE check_ins SET status = 'scheduled', agreed_at = :agreed, due_at = :due,"
            " give_up_at = :give_up, sealed_address = :sealed, attempts = 0,"
            # One being sent keeps its lease, whatever happened meanwhile (a no, then this
            # yes), so that it is marked sent (check_in_sent) and never sent a second time.
            " leased_until = CASE WHEN leased_until > :agreed THEN leased_until ELSE 0 END"
            f" WHERE session_id = :s AND status IN {MAY_AGREE}"),
            {"s": session_id, "agreed": agreed_at, "due": due_at, "give_up": give_up_at,
             "sealed": sealed_address}).rowcount == 1)

    async def decline_check_in(self, session_id: str) -> None:
        """The person said no (also to one already scheduled)."""
        await self._run(lambda db: db.execute(text(
            "UPDATE check_ins SET status = 'declined', sealed_address = NULL, due_at = NULL"
            " WHERE session_id = :s AND status IN ('offered', 'scheduled')"), {"s": session_id}))

    async def cancel_check_in(self, session_id: str, quiet_since: Optional[float] = None) -> bool:
        """Not to be sent after all. `quiet_since`: only if the person came back, that is
        said yes before then and the conversation had no message since then either (a
        person still chatting a while after their yes hasn't gone away). The lease stays:
        one already on its way is still marked sent (check_in_sent)."""
        return await self._run(lambda db: db.execute(text(
            "UPDATE check_ins SET status = 'cancelled', sealed_address = NULL"
            " WHERE session_id = :s AND status = 'scheduled'"
            + (" AND agreed_at < :before AND EXISTS (SELECT 1 FROM sessions"
               " WHERE id = :s AND last_active < :before)" if quiet_since is not None else "")),
            {"s": session_id, "before": quiet_since}).rowcount == 1)

    async def check_in(self, session_id: str) -> Optional[Dict[str, Any]]:
        def work(db):
            row = db.execute(text("SELECT * FROM check_ins WHERE session_id = :s"),
                             {"s": session_id}).mappings().first()
            return dict(row) if row else None
        return await self._run(work)

    async def lease_due_check_ins(self, now: float, lease_seconds: float,
                                  limit: int = 20) -> List[Dict[str, Any]]:
        """Scheduled check-ins due now and not past their give_up_at, each leased to this
        gateway for `lease_seconds` (one conditional UPDATE each: of two gateways on one
        store, one gets a row)."""
        def work(db):
            due = [row[0] for row in db.execute(text(
                "SELECT session_id FROM check_ins WHERE status = 'scheduled' AND due_at <= :now"
                " AND give_up_at > :now AND leased_until <= :now ORDER BY due_at LIMIT :n"),
                {"now": now, "n": limit})]
            leased = []
            for session_id in due:
                if db.execute(text(
                        "UPDATE check_ins SET leased_until = :until WHERE session_id = :s"
                        " AND status = 'scheduled' AND leased_until <= :now"),
                        {"until": now + lease_seconds, "s": session_id, "now": now}).rowcount:
                    leased.append(dict(db.execute(text(
                        "SELECT c.session_id, c.sealed_address, c.attempts, c.give_up_at,"
                        " c.leased_until, s.channel FROM check_ins c JOIN sessions s"
                        " ON s.id = c.session_id WHERE c.session_id = :s"),
                        {"s": session_id}).mappings().first()))
            return leased
        return await self._run(work)

    async def give_up_late_check_ins(self, now: float) -> int:
        """Scheduled check-ins past their give_up_at (a gateway was down, or the provider
        was, until the window closed): `failed`, the address wiped. How many."""
        return await self._run(lambda db: db.execute(text(
            "UPDATE check_ins SET status = 'failed', sealed_address = NULL, leased_until = 0"
            " WHERE status = 'scheduled' AND give_up_at <= :now"), {"now": now}).rowcount)

    async def still_leased(self, session_id: str, leased_until: float, lasts_until: float = 0) -> bool:
        """Still scheduled, and still this gateway's to send (nobody cancelled it meanwhile),
        with the lease lasting until at least `lasts_until`: a lease that ends during the
        send would let another gateway send it too."""
        return await self._run(lambda db: db.execute(text(
            "SELECT 1 FROM check_ins WHERE session_id = :s AND status = 'scheduled'"
            " AND leased_until = :until AND leased_until > :lasts"),
            {"s": session_id, "until": leased_until, "lasts": lasts_until}).first() is not None)

    async def check_in_sent(self, session_id: str, now: float, leased_until: float) -> bool:
        """Sent under this lease: `sent`, even if it was cancelled or declined while it
        was on its way (it reached the person all the same). False if the lease was not
        this gateway's any more, or the conversation is gone."""
        return await self._run(lambda db: db.execute(text(
            "UPDATE check_ins SET status = 'sent', sealed_address = NULL, sent_at = :now,"
            " attempts = attempts + 1, leased_until = 0 WHERE session_id = :s"
            " AND leased_until = :until AND status IN ('scheduled', 'cancelled', 'declined')"),
            {"s": session_id, "now": now, "until": leased_until}).rowcount == 1)

    async def check_in_attempt_failed(self, session_id: str, next_attempt_at: float,
                                      give_up: bool) -> None:
        """Tried again at `next_attempt_at`, or, giving up, `failed` and the address wiped."""
        await self._run(lambda db: db.execute(text(
            "UPDATE check_ins SET attempts = attempts + 1, due_at = :next, leased_until = 0,"
            " status = CASE WHEN :give_up THEN 'failed' ELSE status END,"
            " sealed_address = CASE WHEN :give_up THEN NULL ELSE sealed_address END"
            " WHERE session_id = :s AND status = 'scheduled'"),
            {"s": session_id, "next": next_attempt_at, "give_up": give_up}))

    async def next_check_in_due(self) -> Optional[float]:
        return await self._run(lambda db: db.execute(text(
            "SELECT MIN(CASE WHEN leased_until > due_at THEN leased_until ELSE due_at END)"
            " FROM check_ins WHERE status = 'scheduled'")).scalar())

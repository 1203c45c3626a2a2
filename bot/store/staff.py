"""Tables `staff`, `staff_sessions`, `login_attempts` and `audit`: staff
accounts, their console sessions, the login throttle every gateway shares, and
which staff member did what, when (never who the victim is)."""
import time
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import text

from bot.store.engine import Database, iso_time


class StaffTables(Database):
    async def add_staff(self, username: str, password_hash: str, role: str = "worker") -> bool:
        """False if the username is taken. `admin` mirrors the role (migration 0002)."""
        def work(db):
            result = db.execute(text(
                "INSERT INTO staff (username, password_hash, disabled, admin, role, created_at)"
                " VALUES (:u, :h, :f, :admin, :role, :now) ON CONFLICT (username) DO NOTHING"),
                {"u": username, "h": password_hash, "f": False, "admin": role == "admin",
                 "role": role, "now": time.time()})
            return result.rowcount == 1
        return await self._run(work)

    async def staff_member(self, username: str) -> Optional[Dict[str, Any]]:
        def work(db):
            row = db.execute(text("SELECT username, password_hash, disabled, role FROM staff"
                                  " WHERE username = :u"), {"u": username}).mappings().first()
            return None if row is None else {**row, "disabled": bool(row["disabled"]),
                                             "admin": row["role"] == "admin"}
        return await self._run(work)

    async def list_staff(self) -> List[Dict[str, Any]]:
        def work(db):
            rows = db.execute(text("SELECT username, disabled, role, created_at FROM staff"
                                   " ORDER BY username")).mappings()
            return [{"username": r["username"], "disabled": bool(r["disabled"]), "role": r["role"],
                     "admin": r["role"] == "admin", "created": iso_time(r["created_at"])} for r in rows]
        return await self._run(work)

    async def disable_staff(self, username: str) -> bool:
        """Disables the account and ends its console sessions at once."""
        def work(db):
            result = db.execute(text("UPDATE staff SET disabled = :t WHERE username = :u"),
                                {"t": True, "u": username})
            db.execute(text("DELETE FROM staff_sessions WHERE username = :u"), {"u": username})
            return result.rowcount == 1
        return await self._run(work)

    async def add_staff_session(self, token_hash: str, username: str, csrf_token: str,
                                expires_at: float) -> None:
        await self._run(lambda db: db.execute(text(
            "INSERT INTO staff_sessions (token_hash, username, csrf_token, expires_at)"
            " VALUES (:t, :u, :c, :e)"), {"t": token_hash, "u": username, "c": csrf_token, "e": expires_at}))

    async def staff_session(self, token_hash: str) -> Optional[Dict[str, Any]]:
        """The live session with this token hash (not expired, account not disabled)."""
        def work(db):
            row = db.execute(text(
                "SELECT s.username, s.csrf_token, st.role FROM staff_sessions s"
                " JOIN staff st ON st.username = s.username"
                " WHERE s.token_hash = :t AND s.expires_at > :now AND st.disabled = :f"),
                {"t": token_hash, "now": time.time(), "f": False}).mappings().first()
            return None if row is None else {**row, "admin": row["role"] == "admin"}
        return await self._run(work)

    async def set_staff_role(self, username: str, role: str) -> bool:
        """False if there is no such account."""
        return await self._run(lambda db: db.execute(text(
            "UPDATE staff SET role = :r, admin = :admin WHERE username = :u"),
            {"r": role, "admin": role == "admin", "u": username}).rowcount == 1)

    async def end_staff_session(self, token_hash: str) -> None:
        await self._run(lambda db: db.execute(
            text("DELETE FROM staff_sessions WHERE token_hash = :t OR expires_at < :now"),
            {"t": token_hash, "now": time.time()}))

    async def count_login_attempt(self, address_hash: str, now: float,
                                  window: float) -> Tuple[int, float]:
        """Counts one login attempt from this address: (attempts in the current
        window, including this one; when the window started). One statement, so
        that attempts made at once on several gateways are each counted."""
        def work(db):
            row = db.execute(text(
                "INSERT INTO login_attempts (address_hash, attempts, window_start)"
                " VALUES (:a, 1, :now) ON CONFLICT (address_hash) DO UPDATE SET"
                " attempts = CASE WHEN login_attempts.window_start <= :cutoff THEN 1"
                " ELSE login_attempts.attempts + 1 END,"
                " window_start = CASE WHEN login_attempts.window_start <= :cutoff THEN :now"
                " ELSE login_attempts.window_start END"
                " RETURNING attempts, window_start"),
                {"a": address_hash, "now": now, "cutoff": now - window}).first()
            return int(row[0]), float(row[1])
        return await self._run(work)

    async def uncount_login_attempt(self, address_hash: str) -> None:
        """The attempt was a right password: it was not a failure."""
        await self._run(lambda db: db.execute(text(
            "UPDATE login_attempts SET attempts = attempts - 1"
            " WHERE address_hash = :a AND attempts > 0"), {"a": address_hash}))

    async def delete_login_attempts_before(self, cutoff: float) -> int:
        """Windows that started before `cutoff` and so have ended."""
        return await self._run(lambda db: db.execute(text(
            "DELETE FROM login_attempts WHERE window_start <= :c"), {"c": cutoff}).rowcount)

    async def audit(self, staff: str, action: str, conversation: Optional[str] = None) -> None:
        await self._run(lambda db: db.execute(text(
            "INSERT INTO audit (at, staff, action, conversation) VALUES (:at, :staff, :action, :c)"),
            {"at": time.time(), "staff": staff, "action": action, "c": conversation}))

    async def audit_log(self, limit: int = 200) -> List[Dict[str, Any]]:
        def work(db):
            rows = db.execute(text("SELECT at, staff, action, conversation FROM audit"
                                   " ORDER BY at DESC LIMIT :n"), {"n": limit})
            return [{"at": iso_time(at), "staff": staff, "action": action, "conversation": conversation}
                    for at, staff, action, conversation in rows]
        return await self._run(work)

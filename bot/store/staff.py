"""Tables `staff`, `staff_sessions`, `staff_recovery_codes`, `login_attempts` and
`audit`: staff accounts (with their two-factor secret, sealed, and recovery codes,
hashed), their console sessions, the login throttle every gateway shares, and
which staff member did what, when (never who the victim is)."""
import time
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import text

from bot.store.engine import Database, iso_time


class StaffTables(Database):
    async def add_staff(self, username: str, password_hash: str, role: str = "worker",
                        must_change_password: bool = False) -> bool:
        """False if the username is taken. `admin` mirrors the role (migration 0002)."""
        def work(db):
            result = db.execute(text(
                "INSERT INTO staff (username, password_hash, disabled, admin, role, created_at,"
                " must_change_password) VALUES (:u, :h, :f, :admin, :role, :now, :change)"
                " ON CONFLICT (username) DO NOTHING"),
                {"u": username, "h": password_hash, "f": False, "admin": role == "admin",
                 "role": role, "now": time.time(), "change": must_change_password})
            return result.rowcount == 1
        return await self._run(work)

    async def staff_member(self, username: str) -> Optional[Dict[str, Any]]:
        def work(db):
            row = db.execute(text(
                "SELECT username, password_hash, disabled, role, must_change_password,"
                " totp_secret, totp_pending FROM staff WHERE username = :u"),
                {"u": username}).mappings().first()
            return None if row is None else {
                **row, "disabled": bool(row["disabled"]), "admin": row["role"] == "admin",
                "must_change_password": bool(row["must_change_password"]),
                "two_factor": row["totp_secret"] is not None}
        return await self._run(work)

    async def list_staff(self) -> List[Dict[str, Any]]:
        def work(db):
            rows = db.execute(text(
                "SELECT username, disabled, role, created_at, must_change_password,"
                " totp_secret IS NOT NULL AS two_factor FROM staff ORDER BY username")).mappings()
            return [{"username": r["username"], "disabled": bool(r["disabled"]), "role": r["role"],
                     "admin": r["role"] == "admin", "created": iso_time(r["created_at"]),
                     "two_factor": bool(r["two_factor"]),
                     "must_change_password": bool(r["must_change_password"])} for r in rows]
        return await self._run(work)

    async def enable_staff(self, username: str) -> bool:
        return await self._run(lambda db: db.execute(text(
            "UPDATE staff SET disabled = :f WHERE username = :u"),
            {"f": False, "u": username}).rowcount == 1)

    async def disable_staff_keeping_an_admin(self, username: str) -> str:
        """'done', 'missing', or 'last_admin' (it would leave no enabled admin)."""
        def work(db):
            member = db.execute(text("SELECT role FROM staff WHERE username = :u"),
                                {"u": username}).first()
            if member is None:
                return "missing"
            if member[0] == "admin" and not self._other_admin(db, username):
                return "last_admin"
            db.execute(text("UPDATE staff SET disabled = :t WHERE username = :u"),
                       {"t": True, "u": username})
            db.execute(text("DELETE FROM staff_sessions WHERE username = :u"), {"u": username})
            return "done"
        return await self._run(work)

    async def set_staff_role_keeping_an_admin(self, username: str, role: str) -> str:
        """'done', 'missing', or 'last_admin' (it would leave no enabled admin)."""
        def work(db):
            member = db.execute(text("SELECT role FROM staff WHERE username = :u"),
                                {"u": username}).first()
            if member is None:
                return "missing"
            if member[0] == "admin" and role != "admin" and not self._other_admin(db, username):
                return "last_admin"
            db.execute(text("UPDATE staff SET role = :r, admin = :admin WHERE username = :u"),
                       {"r": role, "admin": role == "admin", "u": username})
            return "done"
        return await self._run(work)

    @staticmethod
    def _other_admin(db, username: str) -> bool:
        # FOR UPDATE on PostgreSQL: two admins demoting each other at once wait
        # for one another, and the second sees the first's change.
        lock = " FOR UPDATE" if db.dialect.name == "postgresql" else ""
        rows = db.execute(text(
            "SELECT username FROM staff WHERE role = 'admin' AND disabled = :f" + lock),
            {"f": False}).fetchall()
        return any(row[0] != username for row in rows)

    async def set_staff_password(self, username: str, password_hash: str, must_change: bool,
                                 keep_session: Optional[str] = None) -> bool:
        """New password; every console session of the account ends but `keep_session`
        (a token hash: the one that changed its own password)."""
        def work(db):
            result = db.execute(text(
                "UPDATE staff SET password_hash = :h, must_change_password = :c WHERE username = :u"),
                {"h": password_hash, "c": must_change, "u": username})
            db.execute(text("DELETE FROM staff_sessions WHERE username = :u AND token_hash <> :keep"),
                       {"u": username, "keep": keep_session or ""})
            return result.rowcount == 1
        return await self._run(work)

    async def end_staff_sessions(self, username: str) -> None:
        await self._run(lambda db: db.execute(text(
            "DELETE FROM staff_sessions WHERE username = :u"), {"u": username}))

    # --- two-factor (bot/staff/totp.py) ----------------------------------------------
    async def set_totp_pending(self, username: str, sealed_secret: str) -> None:
        await self._run(lambda db: db.execute(text(
            "UPDATE staff SET totp_pending = :s WHERE username = :u"), {"s": sealed_secret, "u": username}))

    async def confirm_totp(self, username: str, sealed_secret: str, step: int,
                           recovery_hashes: List[str]) -> bool:
        """The pending secret becomes the account's, with new recovery codes; False if
        another setup replaced the pending one meanwhile."""
        def work(db):
            result = db.execute(text(
                "UPDATE staff SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = :step"
                " WHERE username = :u AND totp_pending = :s"), {"u": username, "s": sealed_secret, "step": step})
            if result.rowcount != 1:
                return False
            db.execute(text("DELETE FROM staff_recovery_codes WHERE username = :u"), {"u": username})
            for code_hash in recovery_hashes:
                db.execute(text("INSERT INTO staff_recovery_codes (code_hash, username) VALUES (:h, :u)"),
                           {"h": code_hash, "u": username})
            return True
        return await self._run(work)

    async def take_totp_step(self, username: str, step: int) -> bool:
        """Records a code's step as used: False if this step or a newer one already was
        (a replay), in one statement, so that two gateways can't both take it."""
        return await self._run(lambda db: db.execute(text(
            "UPDATE staff SET totp_last_step = :s WHERE username = :u AND totp_last_step < :s"),
            {"s": step, "u": username}).rowcount == 1)

    async def use_recovery_code(self, username: str, code_hash: str) -> bool:
        """Deletes the code if it is one of this account's: each works once."""
        return await self._run(lambda db: db.execute(text(
            "DELETE FROM staff_recovery_codes WHERE code_hash = :h AND username = :u"),
            {"h": code_hash, "u": username}).rowcount == 1)

    async def recovery_codes_left(self, username: str) -> int:
        return await self._run(lambda db: db.execute(text(
            "SELECT COUNT(*) FROM staff_recovery_codes WHERE username = :u"), {"u": username}).scalar())

    async def reset_totp(self, username: str) -> bool:
        """Two-factor off (a lost phone): secret and recovery codes go, sessions end."""
        def work(db):
            result = db.execute(text(
                "UPDATE staff SET totp_secret = NULL, totp_pending = NULL WHERE username = :u"),
                {"u": username})
            db.execute(text("DELETE FROM staff_recovery_codes WHERE username = :u"), {"u": username})
            db.execute(text("DELETE FROM staff_sessions WHERE username = :u"), {"u": username})
            return result.rowcount == 1
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
                                expires_at: float, stage: Optional[str] = None) -> None:
        """`stage` 'code': half signed in, only the two-factor code step is open."""
        await self._run(lambda db: db.execute(text(
            "INSERT INTO staff_sessions (token_hash, username, csrf_token, expires_at, stage)"
            " VALUES (:t, :u, :c, :e, :s)"),
            {"t": token_hash, "u": username, "c": csrf_token, "e": expires_at, "s": stage}))

    async def staff_session(self, token_hash: str) -> Optional[Dict[str, Any]]:
        """The live session with this token hash (not expired, account not disabled),
        with what the account still has to do (bot/staff/auth.py pending)."""
        def work(db):
            row = db.execute(text(
                "SELECT s.username, s.csrf_token, s.stage, st.role, st.must_change_password,"
                " st.totp_secret IS NOT NULL AS two_factor FROM staff_sessions s"
                " JOIN staff st ON st.username = s.username"
                " WHERE s.token_hash = :t AND s.expires_at > :now AND st.disabled = :f"),
                {"t": token_hash, "now": time.time(), "f": False}).mappings().first()
            return None if row is None else {
                **row, "admin": row["role"] == "admin", "two_factor": bool(row["two_factor"]),
                "must_change_password": bool(row["must_change_password"])}
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

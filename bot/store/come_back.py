"""Table `come_back_codes` (migration 0005): a web conversation's come-back code,
only as its SHA-256 (bot/web/come_back.py), one per conversation. It goes with
the conversation (ON DELETE CASCADE): at retention and at "delete my chat"."""
import time
from typing import Optional

from sqlalchemy import text

from bot.store.engine import Database


class ComeBackTables(Database):
    async def save_come_back_code(self, session_id: str, code_hash: str, replace: bool) -> bool:
        """The web conversation's code is now this one, if it had none (`replace`: in
        place of the one it has, which stops working). False if nothing was written: no
        such web conversation (deleted meanwhile, or another channel), or it has a code
        and `replace` is False."""
        on_conflict = ("DO UPDATE SET code_hash = excluded.code_hash, created_at = excluded.created_at"
                       if replace else "DO NOTHING")
        return await self._run(lambda db: db.execute(text(
            "INSERT INTO come_back_codes (code_hash, session_id, created_at)"
            " SELECT :h, id, :now FROM sessions WHERE id = :s AND channel = 'web'"
            f" ON CONFLICT (session_id) {on_conflict}"),
            {"h": code_hash, "s": session_id, "now": time.time()}).rowcount == 1)

    async def come_back_session(self, code_hash: str, active_since: float) -> Optional[str]:
        """The conversation this code opens, if it still lasts: a message since
        `active_since` (one older is the retention job's, whether it has run yet or not)."""
        return await self._run(lambda db: db.execute(text(
            "SELECT s.id FROM come_back_codes c JOIN sessions s ON s.id = c.session_id"
            " WHERE c.code_hash = :h AND s.last_active >= :since"),
            {"h": code_hash, "since": active_since}).scalar())

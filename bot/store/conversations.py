"""Tables `sessions`, `messages`, `channel_links` and `reply_addresses`: a
conversation, its messages in order, which messaging-app user it belongs to,
and where a staff reply goes on a messaging app.

Only redacted text is ever written here (bot/conversation redacts first).
A session is an opaque random id; for Telegram and WhatsApp it is linked to a
keyed hash of the chat id, never to the chat id itself. While a handoff is open
the chat id is also kept sealed (encrypted, see bot/messaging/addresses.py), so
that a staff reply still reaches the person after a restart; it goes when the
handoff ends. On SQLite, the write-ahead log is emptied after each erasure, so
erasure is real.
"""
import json
import time
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.store.engine import Database, iso_time
from bot.store.handoffs import one_handoff


class ConversationTables(Database):
    @staticmethod
    def _insert_session(db: Connection, session_id: str, channel: str) -> None:
        now = time.time()
        db.execute(text("INSERT INTO sessions (id, channel, created_at, last_active)"
                        " VALUES (:id, :channel, :now, :now)"),
                   {"id": session_id, "channel": channel, "now": now})

    async def create_session(self, session_id: str, channel: str) -> None:
        await self._run(self._insert_session, session_id, channel)

    async def session_exists(self, session_id: str) -> bool:
        return await self.session_channel(session_id) is not None

    async def session_channel(self, session_id: str) -> Optional[str]:
        def work(db):
            return db.execute(text("SELECT channel FROM sessions WHERE id = :id"),
                              {"id": session_id}).scalar()
        return await self._run(work)

    async def session_for_user(self, user_hash: str, channel: str, new_id: str) -> str:
        """The session linked to this user, or `new_id`, created and linked now
        (two quick first messages must not make two sessions)."""
        def work(db):
            found = db.execute(text("SELECT session_id FROM channel_links WHERE user_hash = :u"),
                               {"u": user_hash}).scalar()
            if found:
                return found
            self._insert_session(db, new_id, channel)
            db.execute(text("INSERT INTO channel_links (user_hash, session_id) VALUES (:u, :s)"
                            " ON CONFLICT (user_hash) DO NOTHING"), {"u": user_hash, "s": new_id})
            linked = db.execute(text("SELECT session_id FROM channel_links WHERE user_hash = :u"),
                                {"u": user_hash}).scalar()
            if linked != new_id:  # another replica linked one first
                db.execute(text("DELETE FROM sessions WHERE id = :id"), {"id": new_id})
            return linked
        return await self._run(work)

    async def add_messages(self, session_id: str, messages: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Appends messages ({"from", "text", "response"?, "buttons"?}); returns them with seq.

        Returns [] if the session no longer exists (erased meanwhile).
        """
        def work(db):
            now = time.time()
            # Taking the numbers first locks the session's row until the end.
            last = db.execute(text(
                "UPDATE sessions SET last_seq = last_seq + :n, last_active = :now"
                " WHERE id = :id RETURNING last_seq"),
                {"n": len(messages), "now": now, "id": session_id}).scalar()
            if last is None:
                return []
            stored = []
            for seq, message in enumerate(messages, start=last - len(messages) + 1):
                buttons = message.get("buttons")
                db.execute(text(
                    "INSERT INTO messages (session_id, seq, sender, text, response, buttons, created_at)"
                    " VALUES (:s, :seq, :sender, :text, :response, :buttons, :now)"),
                    {"s": session_id, "seq": seq, "sender": message["from"], "text": message["text"],
                     "response": message.get("response"),
                     "buttons": json.dumps(buttons) if buttons else None, "now": now})
                stored.append({"seq": seq, **message})
            return stored
        return await self._run(work)

    async def messages_after(self, session_id: str, after: int,
                             with_times: bool = False) -> Optional[List[Dict[str, Any]]]:
        """Messages with seq > after, oldest first; None if there is no such session."""
        def work(db):
            if db.execute(text("SELECT 1 FROM sessions WHERE id = :id"),
                          {"id": session_id}).first() is None:
                return None
            rows = db.execute(text(
                "SELECT seq, sender, text, response, buttons, created_at FROM messages"
                " WHERE session_id = :id AND seq > :after ORDER BY seq"),
                {"id": session_id, "after": after})
            return [_message(*row, with_time=with_times) for row in rows]
        return await self._run(work)

    async def raise_seen(self, session_id: str, seq: int) -> bool:
        """The person's web page has been sent every message up to `seq` ("not seen
        yet" in the console, bot/staff/seen.py). It only ever rises: True if it did."""
        return await self._run(lambda db: db.execute(text(
            "UPDATE sessions SET seen_seq = :seq WHERE id = :id AND seen_seq < :seq"),
            {"seq": seq, "id": session_id}).rowcount == 1)

    async def seen_seq(self, session_id: str) -> Optional[int]:
        """The newest message the person's web page has been sent (0: none yet)."""
        return await self._run(lambda db: db.execute(
            text("SELECT seen_seq FROM sessions WHERE id = :id"), {"id": session_id}).scalar())

    async def turn_context(self, session_id: str) -> Tuple[List[Dict[str, str]], Optional[str],
                                                            Optional[Dict[str, Any]]]:
        """What a turn reads first, in one go: the buttons of the latest bot messages
        with buttons, newest first (on Telegram and WhatsApp an older button stays on
        screen and can still be tapped), the response name of the bot's latest message
        (what the person was last asked), and the conversation's handoff, if any."""
        def work(db):
            return (*self._last_bot_turn(db, session_id),
                    one_handoff(db, "session_id = :s", {"s": session_id}))
        return await self._run(work)

    @staticmethod
    def _last_bot_turn(db: Connection, session_id: str, messages: int = 10):
        """(buttons, last response): see turn_context()."""
        rows = db.execute(text(
            "SELECT buttons FROM messages WHERE session_id = :id AND sender = 'bot'"
            " AND buttons IS NOT NULL ORDER BY seq DESC LIMIT :n"),
            {"id": session_id, "n": messages})
        buttons = [button for row in rows for button in json.loads(row[0])]
        asked = db.execute(text(
            "SELECT response FROM messages WHERE session_id = :id AND sender = 'bot'"
            " ORDER BY seq DESC LIMIT 1"), {"id": session_id}).scalar()
        return buttons, asked

    async def delete_session(self, session_id: str) -> None:
        def work(db):
            # A case passed on is delivered all the same: it just forgets the conversation.
            db.execute(text("UPDATE cases SET session_id = NULL WHERE session_id = :id"),
                       {"id": session_id})
            db.execute(text("DELETE FROM sessions WHERE id = :id"), {"id": session_id})
        await self._run(work)
        if self.is_sqlite:
            # secure_delete overwrites the pages, but the write-ahead log still holds
            # their old versions until a checkpoint: write them back and empty it.
            # (Its result row is read here: left unread, it keeps the statement open and
            # a later transaction on this connection can't commit.)
            await self._run(lambda db: db.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).fetchall())

    async def sessions_idle_since(self, cutoff: float) -> List[str]:
        """Ids of sessions with no message since `cutoff` (a Unix time)."""
        def work(db):
            return [row[0] for row in db.execute(
                text("SELECT id FROM sessions WHERE last_active < :cutoff"), {"cutoff": cutoff})]
        return await self._run(work)

    # --- where to send a staff reply on a messaging app -----------------------------
    async def set_reply_address(self, session_id: str, sealed: Optional[str]) -> None:
        def work(db):
            db.execute(text("DELETE FROM reply_addresses WHERE session_id = :s"), {"s": session_id})
            if sealed:
                db.execute(text("INSERT INTO reply_addresses (session_id, sealed) VALUES (:s, :v)"),
                           {"s": session_id, "v": sealed})
        await self._run(work)

    async def reply_address(self, session_id: str) -> Optional[str]:
        return await self._run(lambda db: db.execute(
            text("SELECT sealed FROM reply_addresses WHERE session_id = :s"), {"s": session_id}).scalar())


def _message(seq: int, sender: str, text_: str, response: Optional[str], buttons: Optional[str],
             created_at: float, with_time: bool = False) -> Dict[str, Any]:
    message: Dict[str, Any] = {"seq": seq, "from": sender, "text": text_}
    if response:
        message["response"] = response
    if buttons:
        message["buttons"] = json.loads(buttons)
    if with_time:
        message["at"] = iso_time(created_at)
    return message

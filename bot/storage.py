"""The gateway's store of conversations: SQLite on disk by default.

Only redacted text is ever written here (conversation.py redacts first).
Deleted rows are overwritten on disk (secure_delete), so erasure is real.
A session is an opaque random id; for Telegram and WhatsApp it is linked to a
keyed hash of the chat id, never to the chat id itself.
"""
import asyncio
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from bot.config import ROOT

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_active REAL NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    sender TEXT NOT NULL CHECK (sender IN ('user', 'bot', 'staff')),
    text TEXT NOT NULL,
    response TEXT,
    buttons TEXT,
    created_at REAL NOT NULL,
    PRIMARY KEY (session_id, seq)
);
CREATE TABLE IF NOT EXISTS channel_links (
    user_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS sessions_by_last_active ON sessions(last_active);
"""


def sqlite_path(database_url: str) -> str:
    """The file named by sqlite:///path (relative paths from the project folder)."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix):
        raise ValueError("DATABASE_URL must look like sqlite:///path/to/file.sqlite3")
    path = database_url[len(prefix):]
    return path if path == ":memory:" else str(ROOT / path)


class Store:
    """Sessions and their messages. Each call runs in a worker thread."""

    def __init__(self, database_url: str) -> None:
        path = sqlite_path(database_url)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        for pragma in ("journal_mode = WAL", "foreign_keys = ON", "secure_delete = ON"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.executescript(SCHEMA)

    async def _run(self, work, *args):
        def locked():
            with self._lock:
                return work(*args)
        return await asyncio.to_thread(locked)

    async def close(self) -> None:
        await self._run(self._db.close)

    def _insert_session(self, session_id: str, channel: str) -> None:
        now = time.time()
        self._db.execute(
            "INSERT INTO sessions (id, channel, created_at, last_active) VALUES (?, ?, ?, ?)",
            (session_id, channel, now, now))

    async def create_session(self, session_id: str, channel: str) -> None:
        await self._run(self._insert_session, session_id, channel)

    async def session_exists(self, session_id: str) -> bool:
        def work():
            return self._db.execute(
                "SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is not None
        return await self._run(work)

    async def session_for_user(self, user_hash: str, channel: str, new_id: str) -> str:
        """The session linked to this user, or `new_id`, created and linked now."""
        def work():
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                row = self._db.execute(
                    "SELECT session_id FROM channel_links WHERE user_hash = ?", (user_hash,)).fetchone()
                if row:
                    return row[0]
                self._insert_session(new_id, channel)
                self._db.execute("INSERT INTO channel_links (user_hash, session_id) VALUES (?, ?)",
                                 (user_hash, new_id))
                return new_id
        return await self._run(work)

    async def add_messages(self, session_id: str, messages: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Appends messages ({"from", "text", "response"?, "buttons"?}); returns them with seq.

        Returns [] if the session no longer exists (erased meanwhile).
        """
        def work():
            now = time.time()
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                row = self._db.execute(
                    "SELECT last_seq FROM sessions WHERE id = ?", (session_id,)).fetchone()
                if row is None:
                    return []
                seq, stored = row[0], []
                for message in messages:
                    seq += 1
                    buttons = message.get("buttons")
                    self._db.execute(
                        "INSERT INTO messages (session_id, seq, sender, text, response, buttons, created_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (session_id, seq, message["from"], message["text"], message.get("response"),
                         json.dumps(buttons) if buttons else None, now))
                    stored.append({"seq": seq, **message})
                self._db.execute("UPDATE sessions SET last_seq = ?, last_active = ? WHERE id = ?",
                                 (seq, now, session_id))
                return stored
        return await self._run(work)

    async def messages_after(self, session_id: str, after: int) -> Optional[List[Dict[str, Any]]]:
        """Messages with seq > after, oldest first; None if there is no such session."""
        def work():
            if self._db.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is None:
                return None
            rows = self._db.execute(
                "SELECT seq, sender, text, response, buttons FROM messages"
                " WHERE session_id = ? AND seq > ? ORDER BY seq", (session_id, after)).fetchall()
            return [_message(*row) for row in rows]
        return await self._run(work)

    async def recent_bot_buttons(self, session_id: str, messages: int = 10) -> List[Dict[str, str]]:
        """The buttons of the latest bot messages, newest first (on Telegram and
        WhatsApp an older button stays on screen and can still be tapped)."""
        def work():
            rows = self._db.execute(
                "SELECT buttons FROM messages WHERE session_id = ? AND sender = 'bot'"
                " AND buttons IS NOT NULL ORDER BY seq DESC LIMIT ?", (session_id, messages))
            return [button for row in rows for button in json.loads(row[0])]
        return await self._run(work)

    async def delete_session(self, session_id: str) -> None:
        def work():
            with self._db:
                self._db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
            # secure_delete overwrites the pages, but the write-ahead log still holds
            # their old versions until a checkpoint: write them back and empty it.
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        await self._run(work)

    async def sessions_idle_since(self, cutoff: float) -> List[str]:
        """Ids of sessions with no message since `cutoff` (a Unix time)."""
        def work():
            return [row[0] for row in self._db.execute(
                "SELECT id FROM sessions WHERE last_active < ?", (cutoff,))]
        return await self._run(work)


def _message(seq: int, sender: str, text: str, response: Optional[str],
             buttons: Optional[str]) -> Dict[str, Any]:
    message: Dict[str, Any] = {"seq": seq, "from": sender, "text": text}
    if response:
        message["response"] = response
    if buttons:
        message["buttons"] = json.loads(buttons)
    return message

"""The gateway's store: conversations, the handoff queue, staff accounts and the
audit log. SQLite on disk by default; PostgreSQL when DATABASE_URL says
postgresql://... The same SQL (SQLAlchemy Core, portable statements) runs on both.

Only redacted text is ever written here (conversation.py redacts first).
A session is an opaque random id; for Telegram and WhatsApp it is linked to a
keyed hash of the chat id, never to the chat id itself. While a handoff is open
the chat id is also kept sealed (encrypted, see messaging.py), so that a staff
reply still reaches the person after a restart; it goes when the handoff ends.
On SQLite, deleted rows are overwritten on disk (secure_delete) and the
write-ahead log is emptied after each erasure, so erasure is real.
"""
import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from bot.settings import ROOT

# Statements are split on ";": keep semicolons out of the comments.
SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    last_active DOUBLE PRECISION NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    sender TEXT NOT NULL CHECK (sender IN ('user', 'bot', 'staff')),
    text TEXT NOT NULL,
    response TEXT,
    buttons TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (session_id, seq)
);
CREATE TABLE IF NOT EXISTS channel_links (
    user_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS sessions_by_last_active ON sessions(last_active);
CREATE TABLE IF NOT EXISTS reply_addresses (
    session_id TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
    sealed TEXT NOT NULL
);
-- One row per conversation ever handed to a person. Staff see `id` only.
-- bot_active: the bot still answers while it waits (crisis, or left for later).
-- bot_paused: Rasa's tracker was paused and has not been resumed yet.
CREATE TABLE IF NOT EXISTS handoffs (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL UNIQUE REFERENCES sessions(id) ON DELETE CASCADE,
    priority TEXT NOT NULL CHECK (priority IN ('crisis', 'normal')),
    status TEXT NOT NULL CHECK (status IN ('waiting', 'claimed', 'ended')),
    bot_active BOOLEAN NOT NULL,
    bot_paused BOOLEAN NOT NULL,
    requested_at DOUBLE PRECISION NOT NULL,
    claimed_by TEXT,
    claimed_at DOUBLE PRECISION
);
CREATE INDEX IF NOT EXISTS handoffs_by_status ON handoffs(status);
CREATE TABLE IF NOT EXISTS notes (
    handoff_id TEXT NOT NULL REFERENCES handoffs(id) ON DELETE CASCADE,
    staff TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS staff (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    admin BOOLEAN NOT NULL DEFAULT FALSE,
    created_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS staff_sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES staff(username) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
-- Telegram updates and WhatsApp messages already taken (bot/messaging/shared.py), so
-- that a provider's second delivery is not answered twice, whichever gateway it
-- reaches and whenever: a keyed hash of the provider's id, never the id, until
-- expires_at. Expired rows go with retention.
CREATE TABLE IF NOT EXISTS deliveries (
    id_hash TEXT PRIMARY KEY,
    expires_at DOUBLE PRECISION NOT NULL
);
-- Staff logins per client address (bot/staff/auth.py), for the throttle every
-- gateway shares: a keyed hash of the address, never the address, and a count
-- in the window that started at window_start. Old windows go with retention.
CREATE TABLE IF NOT EXISTS login_attempts (
    address_hash TEXT PRIMARY KEY,
    attempts INTEGER NOT NULL,
    window_start DOUBLE PRECISION NOT NULL
);
-- Which staff member did what, when: never who the victim is.
CREATE TABLE IF NOT EXISTS audit (
    at DOUBLE PRECISION NOT NULL,
    staff TEXT NOT NULL,
    action TEXT NOT NULL,
    conversation TEXT
);
-- The reporting channel's outbox (bot/reporting/cases.py). `sealed` is the case as it
-- will be sent (answers, the blackmailer's username, contact details, the
-- redacted transcript), encrypted. It is emptied once the case is delivered:
-- then only the reference and the delivery status stay, for CASE_RETENTION_DAYS.
-- A case outlives its conversation (session_id is cleared when that is deleted).
CREATE TABLE IF NOT EXISTS cases (
    reference TEXT PRIMARY KEY,
    session_id TEXT UNIQUE,
    idempotency_key TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    consent TEXT NOT NULL,
    sealed TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DOUBLE PRECISION NOT NULL,
    give_up_at DOUBLE PRECISION NOT NULL,
    leased_until DOUBLE PRECISION NOT NULL DEFAULT 0,
    last_error TEXT,
    delivered_at DOUBLE PRECISION
);
CREATE INDEX IF NOT EXISTS cases_due ON cases(status, next_attempt_at);
-- Answers kept out of the conversation (the blackmailer's username, contact
-- details), sealed, until the case is submitted or the conversation deleted.
CREATE TABLE IF NOT EXISTS held_answers (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    field TEXT NOT NULL,
    sealed TEXT NOT NULL,
    PRIMARY KEY (session_id, field)
);
-- Insights (bot/insights/counts.py): anonymous counts per hour, never who. They stay
-- when the conversations they counted are deleted. `hour`: its start, in
-- seconds since 1970 (UTC).
CREATE TABLE IF NOT EXISTS insight_counts (
    hour BIGINT NOT NULL,
    name TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (hour, name)
);
-- What a conversation has been counted for already (reached step 1, ...), so
-- that it counts once. Goes with the conversation.
CREATE TABLE IF NOT EXISTS insight_marks (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    PRIMARY KEY (session_id, name)
);
-- Messages the assistant did not understand, redacted, for admins to turn into
-- training examples. Deleted with their conversation, unless an admin keeps one
-- for training (then session_id is cleared). `day`: its start, UTC.
CREATE TABLE IF NOT EXISTS unclear_messages (
    id TEXT PRIMARY KEY,
    session_id TEXT REFERENCES sessions(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    day DOUBLE PRECISION NOT NULL,
    intent TEXT
);
"""

OPEN = ("waiting", "claimed")
# What staff (and the submitter) may see of a case: never its sealed content.
CASE_COLUMNS = ("reference, status, consent, created_at, attempts, last_error, delivered_at,"
                " give_up_at")
# What staff see in the queue of what the assistant knows: the conversation's
# insight marks (insights.py), set when the help was given or the handoff asked for.
KNOWN_FACTS = ", ".join(
    f"EXISTS (SELECT 1 FROM insight_marks m WHERE m.session_id = h.session_id"
    f" AND m.name = '{name}') AS {name}" for name in ("under_18", "helping_someone"))
# Queue order: crisis first, then by how long they have waited.
QUEUE_ORDER = "CASE WHEN priority = 'crisis' THEN 0 ELSE 1 END, requested_at"


def engine_url(database_url: str) -> str:
    """SQLAlchemy's URL: relative SQLite paths are taken from the project folder."""
    prefix = "sqlite:///"
    if database_url.startswith(prefix):
        path = database_url[len(prefix):]
        if path != ":memory:":
            path = str(ROOT / path)  # an absolute path stays as it is
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return prefix + path
    if database_url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg2://" + database_url.split("://", 1)[1]
    raise ValueError("DATABASE_URL must be sqlite:///path/to/file.sqlite3 or postgresql://...")


def _sqlite_pragmas(connection, _record) -> None:
    for pragma in ("journal_mode = WAL", "foreign_keys = ON", "secure_delete = ON",
                   "busy_timeout = 5000"):
        connection.execute(f"PRAGMA {pragma}")


class Store:
    """Every call runs in a worker thread, in one transaction."""

    def __init__(self, database_url: str) -> None:
        url = engine_url(database_url)
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            # One connection, kept open (our lock serialises its use): opening one
            # per call would cost a millisecond or more each time, and for :memory:
            # each new one would be a new, empty database.
            self._engine: Engine = create_engine(
                url, future=True, connect_args={"check_same_thread": False}, poolclass=StaticPool)
            event.listen(self._engine, "connect", _sqlite_pragmas)
            # One writer at a time is SQLite's rule anyway: one thread of its own does
            # every call, in the order they came (a lock shared by several threads
            # lets a later call overtake, and a turn waits behind whole queues).
            workers = 1
        else:
            self._engine = create_engine(url, future=True, pool_pre_ping=True, pool_size=5)
            workers = 5  # one per pooled connection
        # Its own threads, not asyncio's shared default ones, which redaction,
        # DNS lookups and file reads use too.
        self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="store")
        with self._engine.begin() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(text(statement))

    async def _run(self, work: Callable[..., Any], *args: Any) -> Any:
        def in_transaction():
            with self._engine.begin() as db:
                return work(db, *args)
        return await asyncio.get_running_loop().run_in_executor(self._threads, in_transaction)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._threads, self._engine.dispose)
        self._threads.shutdown(wait=False)

    # --- sessions and messages ----------------------------------------------------
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

    async def turn_context(self, session_id: str) -> Tuple[List[Dict[str, str]], Optional[str],
                                                            Optional[Dict[str, Any]]]:
        """What a turn reads first, in one go: the buttons of the latest bot messages
        with buttons, newest first (on Telegram and WhatsApp an older button stays on
        screen and can still be tapped), the response name of the bot's latest message
        (what the person was last asked), and the conversation's handoff, if any."""
        def work(db):
            return (*self._last_bot_turn(db, session_id),
                    _one(db, "session_id = :s", {"s": session_id}))
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

    # --- messaging apps' deliveries already taken -----------------------------------
    async def first_delivery(self, id_hash: str, now: float, keep_seconds: float) -> bool:
        """True the first time this delivery is seen (or once its record expired),
        and remembers it; False for a copy. One statement: of two copies at once on
        two gateways, one gets True."""
        return await self._run(lambda db: db.execute(text(
            "INSERT INTO deliveries (id_hash, expires_at) VALUES (:h, :e)"
            " ON CONFLICT (id_hash) DO UPDATE SET expires_at = :e"
            " WHERE deliveries.expires_at <= :now"),
            {"h": id_hash, "e": now + keep_seconds, "now": now}).rowcount == 1)

    async def delete_expired_deliveries(self, now: float) -> int:
        return await self._run(lambda db: db.execute(text(
            "DELETE FROM deliveries WHERE expires_at <= :now"), {"now": now}).rowcount)

    # --- the handoff queue -----------------------------------------------------------
    async def open_handoff(self, session_id: str, new_id: str, crisis: bool,
                           bot_active: bool) -> Optional[Dict[str, Any]]:
        """Queues the session (or keeps its place if already queued; a crisis moves it
        up). Returns the handoff and `already`; None if the session is gone."""
        def work(db):
            if db.execute(text("SELECT 1 FROM sessions WHERE id = :s"), {"s": session_id}).first() is None:
                return None
            row = _one(db, "session_id = :s", {"s": session_id})
            priority = "crisis" if crisis else "normal"
            if row is None:
                # Another gateway may queue the same conversation at the same moment.
                inserted = db.execute(text(
                    "INSERT INTO handoffs (id, session_id, priority, status, bot_active, bot_paused,"
                    " requested_at) VALUES (:id, :s, :p, 'waiting', :active, :paused, :now)"
                    " ON CONFLICT (session_id) DO NOTHING"),
                    {"id": new_id, "s": session_id, "p": priority, "active": bot_active,
                     "paused": not bot_active, "now": time.time()}).rowcount
                return {**_one(db, "session_id = :s", {"s": session_id}), "already": not inserted}
            if row["status"] in OPEN:
                if crisis and row["priority"] != "crisis":
                    db.execute(text("UPDATE handoffs SET priority = 'crisis' WHERE id = :id"),
                               {"id": row["id"]})
                elif not bot_active and row["status"] == "waiting" and row["bot_active"]:
                    # Left for later, now asked for while staff are on: the bot pauses.
                    db.execute(text("UPDATE handoffs SET bot_active = :f, bot_paused = :t"
                                    " WHERE id = :id"), {"f": False, "t": True, "id": row["id"]})
                return {**_one(db, "id = :id", {"id": row["id"]}), "already": True}
            # Handed back earlier and asked for again: same id, so notes carry over.
            db.execute(text(
                "UPDATE handoffs SET priority = :p, status = 'waiting', bot_active = :active,"
                " bot_paused = :paused, requested_at = :now, claimed_by = NULL, claimed_at = NULL"
                " WHERE id = :id"),
                {"p": priority, "active": bot_active, "paused": not bot_active,
                 "now": time.time(), "id": row["id"]})
            return {**_one(db, "id = :id", {"id": row["id"]}), "already": False}
        return await self._run(work)

    async def handoff(self, handoff_id: str) -> Optional[Dict[str, Any]]:
        return await self._run(lambda db: _one(db, "id = :id", {"id": handoff_id}))

    async def handoff_for_session(self, session_id: str) -> Optional[Dict[str, Any]]:
        return await self._run(lambda db: _one(db, "session_id = :s", {"s": session_id}))

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
        def work(db):
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
        return await self._run(work)

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

    # --- the reporting channel: held answers and the case outbox ------------------
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
            return {field: sealed for field, sealed in rows}
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

    # --- insights: anonymous counts, and messages not understood -----------------
    async def count(self, session_id: Optional[str], hour: int, each: Sequence[str] = (),
                    marks: Optional[Dict[str, Sequence[str]]] = None,
                    unclear: Optional[Tuple[str, str]] = None) -> List[str]:
        """Adds one to each counter in `each`; and for each mark this conversation
        gets for the first time, one to that mark's counters. Returns the new marks.
        `unclear`: (id, redacted text) of a message the assistant did not understand.
        A conversation erased meanwhile gets no marks and leaves no text."""
        def work(db):
            names, new = list(each), []
            for mark, counters in (marks or {}).items():
                if db.execute(text(
                        "INSERT INTO insight_marks (session_id, name) SELECT id, :m FROM sessions"
                        " WHERE id = :s ON CONFLICT DO NOTHING"),
                        {"s": session_id, "m": mark}).rowcount:
                    new.append(mark)
                    names.extend(counters)
            for name in names:
                db.execute(text(
                    "INSERT INTO insight_counts (hour, name, count) VALUES (:h, :n, 1)"
                    " ON CONFLICT (hour, name) DO UPDATE SET count = insight_counts.count + 1"),
                    {"h": hour, "n": name})
            if unclear:
                db.execute(text(
                    "INSERT INTO unclear_messages (id, session_id, text, day)"
                    " SELECT :id, id, :t, :day FROM sessions WHERE id = :s"),
                    {"id": unclear[0], "s": session_id, "t": unclear[1],
                     "day": hour - hour % 86400})
            return new
        return await self._run(work)

    async def insight_sums(self, days: Sequence[Tuple[int, int]]) -> Tuple[
            List[Tuple[int, str, int]], List[Tuple[int, int]]]:
        """For days given as (first hour, end hour): (day's index, counter, sum) for every
        counter each day, and (hour, conversations) for every hour of them. Summed here,
        not in Python: a year is ~150,000 rows."""
        def work(db):
            values = ", ".join(f"(:i{n}, :a{n}, :b{n})" for n in range(len(days)))
            params = {key: value for n, (first, end) in enumerate(days)
                      for key, value in ((f"i{n}", n), (f"a{n}", first), (f"b{n}", end))}
            per_day = db.execute(text(
                f"WITH days (i, first_hour, end_hour) AS (VALUES {values})"
                f" SELECT days.i, c.name, SUM(c.count) FROM insight_counts c JOIN days"
                f" ON c.hour >= days.first_hour AND c.hour < days.end_hour"
                f" GROUP BY days.i, c.name"), params)
            hourly = db.execute(text(
                "SELECT hour, count FROM insight_counts WHERE name = 'conversations'"
                " AND hour >= :a AND hour < :b"), {"a": days[0][0], "b": days[-1][1]})
            return ([(int(i), name, int(total)) for i, name, total in per_day],
                    [(int(hour), int(count)) for hour, count in hourly])
        return await self._run(work)

    async def delete_insights_before(self, hour: int) -> None:
        """Counts from before `hour`, and messages kept as training examples since then."""
        def work(db):
            db.execute(text("DELETE FROM insight_counts WHERE hour < :h"), {"h": hour})
            db.execute(text("DELETE FROM unclear_messages WHERE day < :h"), {"h": hour})
        await self._run(work)

    async def unclear_messages(self, limit: int = 100) -> List[Dict[str, Any]]:
        """The ones still to look at, newest first, then the ones kept (with their intent)."""
        def work(db):
            rows = db.execute(text("SELECT id, text, day, intent FROM unclear_messages"
                                   " ORDER BY intent IS NULL DESC, day DESC, id LIMIT :n"),
                              {"n": limit})
            return [{"id": id_, "text": text_, "day": iso_time(day)[:10], "intent": intent}
                    for id_, text_, day, intent in rows]
        return await self._run(work)

    async def kept_examples(self) -> Dict[str, List[str]]:
        """intent -> the texts kept as its training examples."""
        def work(db):
            kept: Dict[str, List[str]] = {}
            for intent, text_ in db.execute(text(
                    "SELECT intent, text FROM unclear_messages WHERE intent IS NOT NULL"
                    " ORDER BY intent, day, id")):
                kept.setdefault(intent, []).append(text_)
            return kept
        return await self._run(work)

    async def keep_unclear(self, message_id: str, intent: str) -> bool:
        """Kept for training: labelled, and no longer linked to its conversation."""
        return await self._run(lambda db: db.execute(text(
            "UPDATE unclear_messages SET intent = :i, session_id = NULL WHERE id = :id"),
            {"i": intent, "id": message_id}).rowcount == 1)

    async def drop_unclear(self, message_id: str) -> bool:
        return await self._run(lambda db: db.execute(text(
            "DELETE FROM unclear_messages WHERE id = :id"), {"id": message_id}).rowcount == 1)

    # --- staff accounts, their console sessions, the audit log --------------------
    async def add_staff(self, username: str, password_hash: str, admin: bool = False) -> bool:
        """False if the username is taken."""
        def work(db):
            result = db.execute(text(
                "INSERT INTO staff (username, password_hash, disabled, admin, created_at)"
                " VALUES (:u, :h, :f, :admin, :now) ON CONFLICT (username) DO NOTHING"),
                {"u": username, "h": password_hash, "f": False, "admin": admin, "now": time.time()})
            return result.rowcount == 1
        return await self._run(work)

    async def staff_member(self, username: str) -> Optional[Dict[str, Any]]:
        def work(db):
            row = db.execute(text("SELECT username, password_hash, disabled, admin FROM staff"
                                  " WHERE username = :u"), {"u": username}).mappings().first()
            return None if row is None else {**row, "disabled": bool(row["disabled"]),
                                             "admin": bool(row["admin"])}
        return await self._run(work)

    async def list_staff(self) -> List[Dict[str, Any]]:
        def work(db):
            rows = db.execute(text("SELECT username, disabled, admin, created_at FROM staff"
                                   " ORDER BY username")).mappings()
            return [{"username": r["username"], "disabled": bool(r["disabled"]),
                     "admin": bool(r["admin"]), "created": iso_time(r["created_at"])} for r in rows]
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
                "SELECT s.username, s.csrf_token, st.admin FROM staff_sessions s"
                " JOIN staff st ON st.username = s.username"
                " WHERE s.token_hash = :t AND s.expires_at > :now AND st.disabled = :f"),
                {"t": token_hash, "now": time.time(), "f": False}).mappings().first()
            return None if row is None else {**row, "admin": bool(row["admin"])}
        return await self._run(work)

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


def iso_time(at: Optional[float]) -> Optional[str]:
    if at is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


def _one(db: Connection, where: str, params: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    row = db.execute(text(f"SELECT * FROM handoffs WHERE {where}"), params).mappings().first()
    return None if row is None else _handoff(row)


def _handoff(row) -> Dict[str, Any]:
    handoff = dict(row)
    handoff["bot_active"] = bool(handoff["bot_active"])
    handoff["bot_paused"] = bool(handoff["bot_paused"])
    return handoff


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

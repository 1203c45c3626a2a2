"""The one database every part of the store uses: which one (DATABASE_URL),
SQLite's settings, the threads the calls run on, and one transaction per call.

SQLite on disk is the embedded default; PostgreSQL when DATABASE_URL says
postgresql://... (then several gateways can share it). On SQLite, deleted rows
are overwritten on disk (secure_delete): see conversations.py for the
write-ahead log emptied after each erasure.
"""
import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Optional

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

from bot.settings import ROOT


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


class Database:
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

    async def _run(self, work: Callable[..., Any], *args: Any) -> Any:
        def in_transaction():
            with self._engine.begin() as db:
                return work(db, *args)
        return await asyncio.get_running_loop().run_in_executor(self._threads, in_transaction)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._threads, self._engine.dispose)
        self._threads.shutdown(wait=False)


def iso_time(at: Optional[float]) -> Optional[str]:
    """A stored time (seconds since 1970) as every table's rows show it."""
    if at is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))

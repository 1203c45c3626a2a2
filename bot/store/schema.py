"""The tables' versions: when the store opens, its database is brought to the
newest revision in migrations/versions/ (Alembic), on SQLite and PostgreSQL
alike, before any call; nobody runs an `alembic` command.

A store made before there were versions has the tables but no
`alembic_version`: revision 0001 is exactly those tables (created only if
missing), so it is run on it like on an empty database, changes nothing there,
and is recorded; the revisions after it then run as on any other store.

The whole upgrade is one transaction: a revision that fails leaves the store as
it was (PostgreSQL's DDL is transactional; on SQLite the transaction is begun
by hand, as Python's sqlite3 would run each CREATE or ALTER on its own).
"""
import logging
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# PostgreSQL advisory lock held while a gateway migrates: any number that no
# other program on the same database uses for one.
MIGRATION_LOCK = 7_305_911_208
# Alembic's `op` and `context` are module-wide: one upgrade at a time per process.
_one_at_a_time = threading.Lock()


def upgrade(engine: Engine) -> None:
    """Brings the database to the newest revision; nothing when it is there."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    sqlite = engine.dialect.name == "sqlite"
    with _one_at_a_time, engine.connect() as db:
        if sqlite:
            # SQLite changes a table by copying it and dropping the old one: with
            # foreign keys on, that drop would delete every row that refers to it
            # (ON DELETE CASCADE). They are checked instead before the commit.
            # (Off and on outside the transaction: SQLite ignores it inside one.)
            _pragma(db, "foreign_keys = OFF")
        try:
            with db.begin():
                _upgrade(db, config)
        finally:
            if sqlite:
                _pragma(db, "foreign_keys = ON")


def _upgrade(db: Connection, config: Config) -> None:
    """In the transaction upgrade() began: the lock, then every revision not yet run."""
    if db.dialect.name == "postgresql":
        # Two gateways starting at once: the second waits here until the first
        # has committed, then finds nothing left to do.
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    else:
        # IMMEDIATE: takes the write lock now, so another process opening the
        # same file waits (busy_timeout) rather than migrating too.
        db.exec_driver_sql("BEGIN IMMEDIATE")
    tables = inspect(db)
    if tables.has_table("sessions") and not tables.has_table("alembic_version"):
        logger.info("The store was made before schema versions: its tables are "
                    "taken as revision 0001 and upgraded from there.")
    config.attributes["connection"] = db
    # Rows already without their parent (say, a row deleted by hand with foreign keys
    # off) are not the revisions' doing: only new ones stop the upgrade, never a start.
    orphans = _orphan_count(db)
    command.upgrade(config, "head")
    if _orphan_count(db) > orphans:
        raise RuntimeError("A revision left rows whose conversation (or other row they "
                           "refer to) is gone: nothing was changed.")


def _orphan_count(db: Connection) -> int:
    """Rows whose foreign key points at nothing (SQLite only: PostgreSQL never allows one)."""
    if db.dialect.name != "sqlite":
        return 0
    return len(db.exec_driver_sql("PRAGMA foreign_key_check").fetchall())


def _pragma(db: Connection, pragma: str) -> None:
    db.exec_driver_sql(f"PRAGMA {pragma}")
    db.commit()  # ends the transaction SQLAlchemy began for it (none on SQLite's side)

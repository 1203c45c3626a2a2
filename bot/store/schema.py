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
from sqlalchemy.engine import Engine

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
    with _one_at_a_time, engine.begin() as db:
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
        command.upgrade(config, "head")

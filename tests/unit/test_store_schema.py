"""The store's schema versions (bot/store/schema.py, bot/store/migrations) on a
real SQLite file and on the real PostgreSQL: a store made before there were
versions keeps every row and ends at the newest revision; a new one gets the
same tables as before; gateways starting at once migrate once; a second start
changes nothing; a revision that fails changes nothing either."""
import logging
import shutil
import subprocess
import sys
import time
import types
from contextlib import contextmanager

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from bot.store import Store, engine_url, schema
from tests.conftest import ROOT

# main's last commit before schema versions: its store made the tables itself.
BEFORE_VERSIONS = "39e5f79"
UPGRADES = "alembic.runtime.migration"
SESSION, OTHER = "s" * 24, "o" * 24


def store_before_versions() -> types.ModuleType:
    """bot/store as it was at BEFORE_VERSIONS (one module then), from git: the real code
    that made every store deployed before, rather than a copy kept by hand."""
    shown = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{BEFORE_VERSIONS}:bot/store/__init__.py"],
        capture_output=True, text=True)
    if shown.returncode != 0:  # a shallow clone: the history is not here to read
        pytest.skip(f"needs git history back to {BEFORE_VERSIONS}: {shown.stderr.strip()}")
    source = shown.stdout
    module = types.ModuleType("store_before_versions")
    exec(compile(source, f"{BEFORE_VERSIONS}:bot/store/__init__.py", "exec"), module.__dict__)
    return module


def revisions() -> list:
    """The revisions in migrations/versions/, newest first."""
    config = Config()
    config.set_main_option("script_location", str(schema.MIGRATIONS))
    return list(ScriptDirectory.from_config(config).walk_revisions())


def head() -> str:
    return revisions()[0].revision


@contextmanager
def connection(url: str):
    engine = create_engine(engine_url(url), future=True)
    try:
        with engine.connect() as db:
            yield db
    finally:
        engine.dispose()


def query(url: str, sql: str):
    with connection(url) as db:
        return db.execute(text(sql)).all()


def tables(url: str):
    with connection(url) as db:
        return sorted(inspect(db).get_table_names())


def rows(url: str, like=None):
    """Every row of every table but alembic_version, each as {column: value}; with
    `like` (an earlier rows()), only the tables and columns it has: a later
    revision's new columns aside, the same rows."""
    def table_rows(table):
        with connection(url) as db:
            found = [dict(row) for row in db.execute(text(f"SELECT * FROM {table}")).mappings()]
        if like is not None and like[table]:
            found = [{column: row[column] for column in like[table][0]} for row in found]
        return sorted(found, key=lambda row: repr(sorted(row.items())))
    return {table: table_rows(table) for table in (like or tables(url)) if table != "alembic_version"}


def version(url: str):
    return query(url, "SELECT version_num FROM alembic_version")


def described(url: str):
    """The tables as the database has them: `.schema` on SQLite; on PostgreSQL its
    columns (types, defaults), indexes and constraints (keys, checks, references)."""
    if url.startswith("sqlite"):
        return query(url, "SELECT type, name, tbl_name, sql FROM sqlite_master"
                          " WHERE tbl_name <> 'alembic_version' ORDER BY name")
    others = "<> 'alembic_version'"
    return {
        "columns": query(url, "SELECT table_name, column_name, ordinal_position, data_type,"
                              " is_nullable, column_default FROM information_schema.columns"
                              f" WHERE table_schema = current_schema() AND table_name {others}"
                              " ORDER BY 1, 3"),
        "indexes": query(url, "SELECT tablename, indexname,"
                              " replace(indexdef, current_schema() || '.', '') FROM pg_indexes"
                              f" WHERE schemaname = current_schema() AND tablename {others}"
                              " ORDER BY 2"),
        "constraints": query(url, "SELECT c.conrelid::regclass::text, c.conname, c.contype,"
                                  " pg_get_constraintdef(c.oid) FROM pg_constraint c"
                                  " JOIN pg_namespace n ON n.oid = c.connamespace"
                                  " WHERE n.nspname = current_schema()"
                                  f" AND c.conrelid::regclass::text {others} ORDER BY 2"),
    }


@pytest.fixture
def another_url(database_url, request, tmp_path):
    """A second, empty database of the same kind as database_url."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'another.sqlite3'}"
    return request.getfixturevalue("postgres_schema")()


def upgrades(caplog):
    return [r.getMessage() for r in caplog.records
            if r.name == UPGRADES and r.getMessage().startswith("Running upgrade")]


async def fill_before_versions(url: str) -> None:
    """A store made by the code before versions, with rows in every table, each
    written by that code's own calls."""
    old = store_before_versions().Store(url)
    now = time.time()
    await old.create_session(SESSION, "web")
    await old.add_messages(SESSION, [{"from": "user", "text": "hello"},
                                     {"from": "bot", "text": "hi", "response": "utter_greet",
                                      "buttons": [{"title": "Next", "payload": "/ask_next"}]}])
    assert await old.session_for_user("hash-of-a-chat", "telegram", OTHER) == OTHER
    await old.set_reply_address(OTHER, "sealed-address")
    await old.open_handoff(SESSION, "h1", crisis=True, bot_active=True)
    await old.add_note("h1", "sam", "a note")
    await old.hold_answer(OTHER, "blackmailer", "sealed-answer")
    await old.add_case({"reference": "SX-AAAA-0001", "session_id": SESSION,
                        "idempotency_key": "key-1", "consent": "victim", "sealed": "sealed-case",
                        "created_at": now, "give_up_at": now + 3600})
    await old.count(SESSION, 3600 * int(now // 3600), each=["conversations"],
                    marks={"under_18": ["under_18"]}, unclear=("u1", "what is a [name]"))
    assert await old.add_staff("sam", "hash", admin=True)
    await old.add_staff_session("token-hash", "sam", "csrf", now + 60)
    await old.count_login_attempt("address-hash", now, 600)
    await old.audit("sam", "claim", "h1")
    assert await old.first_delivery("delivery-hash", now, 3600)
    await old.close()


async def test_a_store_made_before_versions_keeps_every_row_and_ends_at_head(database_url, caplog):
    await fill_before_versions(database_url)
    before = rows(database_url)
    assert len(before) == 16 and all(before.values()), "a table was left empty"
    assert "alembic_version" not in tables(database_url)
    caplog.set_level(logging.INFO)

    store = Store(database_url)
    assert rows(database_url, like=before) == before
    assert version(database_url) == [(head(),)]
    assert any("made before schema versions" in r.getMessage() for r in caplog.records)
    # and the new code reads what the old code wrote
    assert [m["text"] for m in await store.messages_after(SESSION, 0)] == ["hello", "hi"]
    assert [h["id"] for h in await store.queue()] == ["h1"]
    assert (await store.staff_session("token-hash"))["username"] == "sam"
    # 0002: an admin keeps the role
    assert (await store.staff_member("sam"))["role"] == "admin"
    # 0003: existing accounts keep their password, with no two-factor yet, and their
    # sessions are whole ones (no code step pending)
    sam = await store.staff_member("sam")
    assert sam["password_hash"] == "hash" and not sam["must_change_password"] and not sam["two_factor"]
    assert (await store.staff_session("token-hash"))["stage"] is None
    # 0004: a handoff made before has no handover offered, and its holder hasn't written
    handoff = await store.handoff("h1")
    assert [handoff[c] for c in ("transfer_to", "transfer_from", "transfer_at", "last_staff_at")] == [None] * 4
    await store.close()


async def test_a_new_store_gets_the_tables_a_store_made_before_versions_gets(
        database_url, another_url):
    await store_before_versions().Store(another_url).close()
    await Store(another_url).close()  # brought to the newest revision
    store = Store(database_url)
    assert version(database_url) == [(head(),)]
    assert described(database_url) == described(another_url)
    await store.close()


# A gateway's start, as far as the store goes: ready, then open it when told.
OPEN_WHEN_TOLD = """
import logging, sys
logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
from bot.store import Store
print("ready", flush=True)
sys.stdin.readline()
Store(sys.argv[1])
"""


def test_gateways_starting_at_once_migrate_once(database_url):
    """Four gateways (processes) opening one new database at the same moment: all
    come up, and one of them runs the revisions."""
    gateways = [subprocess.Popen([sys.executable, "-c", OPEN_WHEN_TOLD, database_url], cwd=ROOT,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(4)]
    try:
        assert [gateway.stdout.readline() for gateway in gateways] == ["ready\n"] * 4
        for gateway in gateways:
            gateway.stdin.write("go\n")
            gateway.stdin.flush()
        logs = [gateway.communicate(timeout=60)[1] for gateway in gateways]
    finally:
        for gateway in gateways:
            gateway.kill()
    assert [gateway.returncode for gateway in gateways] == [0] * 4, logs
    ran = [line for log in logs for line in log.splitlines()
           if line.startswith(f"{UPGRADES}: Running upgrade")]
    assert len(ran) == len(revisions()), ran  # each revision once, by one of them
    assert version(database_url) == [(head(),)]


async def test_a_second_start_changes_nothing(database_url, caplog):
    store = Store(database_url)
    await store.create_session(SESSION, "web")
    await store.close()
    before = (described(database_url), rows(database_url), version(database_url))
    caplog.set_level(logging.INFO, logger=UPGRADES)

    store = Store(database_url)
    assert upgrades(caplog) == []
    assert (described(database_url), rows(database_url), version(database_url)) == before
    await store.close()


BROKEN = """
from alembic import op

revision = "9999"
down_revision = "{head}"


def upgrade():
    op.execute("CREATE TABLE half_done (id INTEGER PRIMARY KEY)")
    op.execute("INSERT INTO sessions (id) VALUES ('no channel, no times')")  # NOT NULL: fails
"""


async def test_a_revision_that_fails_leaves_the_store_as_it_was(database_url, tmp_path,
                                                                 monkeypatch):
    store = Store(database_url)
    await store.create_session(SESSION, "web")
    await store.close()
    before = (described(database_url), rows(database_url), version(database_url))
    broken = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS, broken, ignore=shutil.ignore_patterns("__pycache__"))
    (broken / "versions" / "9999_broken.py").write_text(BROKEN.format(head=head()))
    monkeypatch.setattr(schema, "MIGRATIONS", broken)

    with pytest.raises(Exception, match="sessions"):
        Store(database_url)
    assert (described(database_url), rows(database_url), version(database_url)) == before


REBUILDS_SESSIONS = """
from alembic import op
import sqlalchemy as sa

revision = "9999"
down_revision = "{head}"


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"  # PostgreSQL alters it in place
    with op.batch_alter_table("sessions", recreate="always" if sqlite else "auto") as batch:
        batch.add_column(sa.Column("rebuilt", sa.Integer, nullable=True))
"""


async def test_a_revision_that_rebuilds_a_table_keeps_the_rows_that_refer_to_it(
        database_url, tmp_path, monkeypatch):
    """SQLite changes most columns by copying the table into a new one and dropping
    the old: with its foreign keys on, that drop would take every message,
    handoff and case answer of every conversation with it."""
    await fill_before_versions(database_url)
    await Store(database_url).close()
    before = rows(database_url)
    rebuilds = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS, rebuilds, ignore=shutil.ignore_patterns("__pycache__"))
    (rebuilds / "versions" / "9999_rebuilds.py").write_text(REBUILDS_SESSIONS.format(head=head()))
    monkeypatch.setattr(schema, "MIGRATIONS", rebuilds)

    store = Store(database_url)
    assert version(database_url) == [("9999",)]
    after = rows(database_url)
    assert {table: len(found) for table, found in after.items()} == {
        table: len(found) for table, found in before.items()}
    # and the foreign keys still hold: erasing a conversation takes its messages
    await store.delete_session(SESSION)
    assert await store.messages_after(SESSION, 0) is None
    assert query(database_url, "SELECT COUNT(*) FROM messages") == [(0,)]
    await store.close()


async def test_a_store_with_a_row_left_without_its_conversation_still_opens(tmp_path):
    """A message whose conversation was deleted by hand (sqlite3 keeps foreign keys off)
    is not a revision's doing: the gateway must still start over it."""
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    store = Store(url)
    await store.create_session(SESSION, "web")
    await store.add_messages(SESSION, [{"from": "user", "text": "hi"}])
    await store.close()
    engine = create_engine(engine_url(url))
    with engine.begin() as db:
        db.exec_driver_sql("PRAGMA foreign_keys = OFF")
        db.execute(text("DELETE FROM sessions WHERE id = :s"), {"s": SESSION})
    engine.dispose()

    reopened = Store(url)
    assert await reopened.session_exists(SESSION) is False
    await reopened.close()

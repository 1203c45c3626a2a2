"""The gateway's store: conversations, the handoff queue, cases, insights, staff
accounts and the audit log, in one database (engine.py: SQLite on disk by
default, PostgreSQL when DATABASE_URL says postgresql://...). The same SQL
(SQLAlchemy Core, portable statements) runs on both.

One module per group of tables, each named for what its tables hold:

    conversations.py  sessions, messages, channel_links, reply_addresses
    handoffs.py       handoffs, notes
    cases.py          cases, held_answers
    check_ins.py      check_ins
    insights.py       insight_counts, insight_marks, unclear_messages
    staff.py          staff, staff_sessions, login_attempts, audit
    deliveries.py     deliveries
    come_back.py      come_back_codes
    schema.py         the tables brought to their newest version when the store opens
    migrations/       the versions (Alembic revisions), oldest first
    sealing.py        AES-GCM for what is kept that identifies someone

`Store` is all of them over one engine: one object the app passes around. The
groups are mixins over engine.Database rather than parts it forwards to, so each
method stays next to its tables and nothing has to be kept in step with them.
"""
from bot.store.cases import CaseTables
from bot.store.check_ins import CheckInTables
from bot.store.come_back import ComeBackTables
from bot.store.conversations import ConversationTables
from bot.store.deliveries import DeliveryTables
from bot.store.engine import engine_url, iso_time
from bot.store.handoffs import OPEN, HandoffTables
from bot.store.insights import InsightTables
from bot.store.schema import upgrade
from bot.store.staff import StaffTables

__all__ = ["OPEN", "Store", "engine_url", "iso_time"]


class Store(ConversationTables, HandoffTables, CaseTables, InsightTables, StaffTables,
            DeliveryTables, ComeBackTables, CheckInTables):
    """Every call runs in a worker thread, in one transaction (engine.py)."""

    def __init__(self, database_url: str) -> None:
        super().__init__(database_url)
        upgrade(self._engine)  # the tables at the newest revision (schema.py)

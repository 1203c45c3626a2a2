"""Rasa's SQL tracker store on SQLite, made fast enough for one Rasa process
(`make run`'s embedded default: endpoints.yml).

Rasa's own SQLTrackerStore did a third of Rasa's work under load (py-spy,
docs/benchmarks.md): on every message it opened a new SQLite connection, read
the conversation's rows back and parsed them, counted them again before saving,
and saved row by row through the ORM. With one Rasa process nothing else writes
this file, so here:

- one connection stays open (SQLAlchemy 1.4 opens one per session for a file);
- each recent conversation's latest session is also kept in memory, as the very
  rows written (JSON text), so a retrieval is that text parsed, not a query;
- a save writes only the new events, in one statement.

The table, its rows and what `retrieve` returns are Rasa's own: the file can be
read by SQLTrackerStore and by the erasure and retention code in
channels/gateway_input.py, which calls `forget` so the memory never outlives the file.
Several Rasa servers (endpoints.replicas.yml) use Rasa's store on PostgreSQL.
"""
import collections
import json
from typing import Any, Dict, List, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

# Conversations kept in memory (about 20-50 KB each); older ones are read from the file.
KEPT_IN_MEMORY = 1000


class EmbeddedTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name != "sqlite":
            raise ValueError("EmbeddedTrackerStore is for SQLite; use type: SQL otherwise")
        # One connection per thread, kept open: Rasa calls the store from its event
        # loop's thread only (SingletonThreadPool would close some with 5 or more).
        # A failed statement's error must not carry the rows (the person's words).
        opened_per_session, self.engine = self.engine, sa.create_engine(
            self.engine.url, poolclass=sa.pool.SingletonThreadPool, hide_parameters=True)
        opened_per_session.dispose()
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        # sender id -> the latest session's rows, as stored (oldest first)
        self._latest: "collections.OrderedDict[Text, List[str]]" = collections.OrderedDict()

    def forget(self, sender_id: Optional[Text] = None) -> None:
        """The conversation (or, with no id, every one) was deleted from the file."""
        if sender_id is None:
            self._latest.clear()
        else:
            self._latest.pop(sender_id, None)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        rows = self._latest.get(sender_id)
        if rows is None:
            return await self._retrieve_and_keep(sender_id)
        self._latest.move_to_end(sender_id)
        return _tracker(sender_id, rows, self.domain)

    async def _retrieve_and_keep(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        with self.session_scope() as session:
            rows = [row.data for row in self._event_query(
                session, sender_id, fetch_events_from_all_sessions=False).all()]
        self._keep(sender_id, rows)
        return _tracker(sender_id, rows, self.domain)

    def _keep(self, sender_id: Text, rows: List[str]) -> None:
        self._latest[sender_id] = rows
        self._latest.move_to_end(sender_id)
        while len(self._latest) > KEPT_IN_MEMORY:
            self._latest.popitem(last=False)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        stored = self._latest.get(tracker.sender_id)
        if stored is None:  # not read through here (or forgotten): Rasa's own way
            await super().save(tracker)
            self._latest.pop(tracker.sender_id, None)
            return
        # As Rasa's: the events past those stored since the session began.
        new = [event.as_dict() for event in list(tracker.events)[len(stored):]]
        if not new:
            return
        rows = [_row(tracker.sender_id, data) for data in new]
        with self.session_scope() as session:
            session.execute(self.SQLEvent.__table__.insert(), rows)
            session.commit()
        if any(data.get("event") == SessionStarted.type_name for data in new):
            self._keep(tracker.sender_id, _latest_session(stored + [row["data"] for row in rows]))
        else:
            self._keep(tracker.sender_id, stored + [row["data"] for row in rows])


def _tracker(sender_id: Text, rows: List[str], domain) -> Optional[DialogueStateTracker]:
    """As SQLTrackerStore's retrieve makes it (None: no such conversation)."""
    if not rows or not domain:
        return None
    return DialogueStateTracker.from_dict(sender_id, [json.loads(row) for row in rows],
                                          domain.slots)


def _row(sender_id: Text, data: Dict[Text, Any]) -> Dict[Text, Any]:
    """One event as SQLTrackerStore.save writes it."""
    return {"sender_id": sender_id, "type_name": data.get("event"),
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
            "action_name": data.get("name"), "data": json.dumps(data)}


def _latest_session(rows: List[str]) -> List[str]:
    """What SQLTrackerStore's query returns: the rows from the latest session start's
    time on (by timestamp, as its query compares them), or all of them if none."""
    events = [json.loads(row) for row in rows]
    starts = [e.get("timestamp") for e in events if e.get("event") == SessionStarted.type_name]
    if not starts:
        return rows
    began = max(starts)
    return [row for row, event in zip(rows, events) if event.get("timestamp", 0) >= began]

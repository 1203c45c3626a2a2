"""Rasa's own retention sweep (channels/gateway_input.py): conversations idle longer than
the gateway's RETENTION_HOURS (plus grace) are deleted from Rasa's SQL tracker
store, so that an erasure Rasa missed while it was down can't stay on disk for
good. On a real SQLite file, as `make run` keeps them."""
import asyncio
import time

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from channels.gateway_input import erase_idle_trackers, retention_settings


def test_idle_conversations_go_and_recent_ones_stay(tmp_path, monkeypatch):
    store = SQLTrackerStore(Domain.empty(), host=f"sqlite:///{tmp_path / 'rasa.sqlite3'}")
    now = time.time()

    def conversation(sender: str, last_seen: float) -> DialogueStateTracker:
        return DialogueStateTracker.from_events(sender, [
            ActionExecuted("action_listen", timestamp=last_seen - 60),
            UserUttered("someone has my pics", timestamp=last_seen)])

    async def scenario():
        await store.save(conversation("idle", now - 3 * 24 * 3600))
        # Old events, but it went on today: a conversation still going is kept whole.
        still_going = conversation("going", now - 3 * 24 * 3600)
        still_going.update(UserUttered("what next", timestamp=now - 60))
        await store.save(still_going)
        await store.save(conversation("fresh", now - 60))
        deleted = erase_idle_trackers(store, now - 50 * 3600)
        return deleted, [bool(await store.retrieve(s)) for s in ("idle", "going", "fresh")]

    deleted, kept = asyncio.run(scenario())
    assert deleted == 2 and kept == [False, True, True]

    monkeypatch.setenv("RETENTION_HOURS", "48")
    monkeypatch.setenv("RETENTION_SWEEP_SECONDS", "600")
    assert retention_settings() == (50 * 3600, 600)  # two hours after the gateway's own

"""The tracker store of `make run` (channels/tracker_store.py): Rasa's SQL tracker
store on SQLite, with recent conversations kept in memory too. It must write the
very rows Rasa's own store writes, give back the same conversations, pick them up
again after a restart, and forget a conversation erased or swept away."""
import asyncio
import sqlite3
import time

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from channels import tracker_store
from channels.gateway_input import erase_idle_trackers, erase_tracker
from channels.tracker_store import EmbeddedTrackerStore

DOMAIN = Domain.from_dict({"slots": {"under_18": {"type": "bool", "mappings": [{"type": "custom"}]}},
                           "intents": ["greet", "pay"]})


def turns(start: float):
    """A conversation as Rasa builds it: a session, two turns, then a new session."""
    at = iter(start + n for n in range(100))
    return [
        [ActionExecuted("action_session_start", timestamp=next(at)),
         SessionStarted(timestamp=next(at)), ActionExecuted("action_listen", timestamp=next(at)),
         UserUttered("hi", {"name": "greet", "confidence": 0.9}, timestamp=next(at)),
         BotUttered("Hi.", {"utter_action": "utter_greet"}, timestamp=next(at)),
         ActionExecuted("action_listen", timestamp=next(at))],
        [UserUttered("im 15 should i pay", {"name": "pay", "confidence": 0.8}, timestamp=next(at)),
         SlotSet("under_18", True, timestamp=next(at)),
         BotUttered("Don't pay.", {"utter_action": "utter_step_dont_pay"}, timestamp=next(at)),
         ActionExecuted("action_listen", timestamp=next(at))],
        [ActionExecuted("action_session_start", timestamp=next(at)),
         SessionStarted(timestamp=next(at)), SlotSet("under_18", True, timestamp=next(at)),
         ActionExecuted("action_listen", timestamp=next(at)),
         UserUttered("hi again", {"name": "greet", "confidence": 0.9}, timestamp=next(at))],
    ]


async def talk(store, sender: str, start: float):
    """Each turn as Rasa's processor does it: retrieve (or new), add events, save.
    Returns what a retrieval gives after each turn."""
    seen = []
    for events in turns(start):
        tracker = await store.retrieve(sender) or DialogueStateTracker(sender, DOMAIN.slots)
        for event in events:
            tracker.update(event)
        await store.save(tracker)
        seen.append([e.as_dict() for e in (await store.retrieve(sender)).events])
    return seen


def rows(path):
    with sqlite3.connect(path) as db:
        return db.execute("SELECT sender_id, type_name, timestamp, intent_name, action_name, data"
                          " FROM events ORDER BY id").fetchall()


def test_the_same_rows_and_conversations_as_rasas_own_store(tmp_path):
    start = time.time()
    rasa = SQLTrackerStore(DOMAIN, host=f"sqlite:///{tmp_path / 'rasa.sqlite3'}")
    ours = EmbeddedTrackerStore(DOMAIN, host=f"sqlite:///{tmp_path / 'ours.sqlite3'}")
    assert asyncio.run(talk(ours, "a", start)) == asyncio.run(talk(rasa, "a", start))
    assert rows(tmp_path / "ours.sqlite3") == rows(tmp_path / "rasa.sqlite3")
    assert len(rows(tmp_path / "ours.sqlite3")) == 15  # every event once
    # The second session only (from its start's time on), as Rasa's own retrieval gives it.
    assert [e["event"] for e in asyncio.run(talk(ours, "b", start))[-1]][:2] == \
        ["session_started", "slot"]


def test_a_restarted_rasa_reads_the_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'ours.sqlite3'}"
    before = asyncio.run(talk(EmbeddedTrackerStore(DOMAIN, host=url), "a", time.time()))[-1]
    again = asyncio.run(EmbeddedTrackerStore(DOMAIN, host=url).retrieve("a"))
    assert [e.as_dict() for e in again.events] == before
    assert again.get_slot("under_18") is True


def test_erased_and_swept_conversations_are_gone_from_memory_too(tmp_path):
    ours = EmbeddedTrackerStore(DOMAIN, host=f"sqlite:///{tmp_path / 'ours.sqlite3'}")
    old = time.time() - 3 * 24 * 3600

    async def scenario():
        await talk(ours, "erased", time.time())
        await talk(ours, "idle", old)
        await erase_tracker(ours, "erased")
        swept = erase_idle_trackers(ours, time.time() - 50 * 3600)
        return swept, await ours.retrieve("erased"), await ours.retrieve("idle")

    swept, erased, idle = asyncio.run(scenario())
    assert swept == 15 and erased is None and idle is None
    assert rows(tmp_path / "ours.sqlite3") == []


def test_memory_is_bounded_and_older_conversations_come_from_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(tracker_store, "KEPT_IN_MEMORY", 2)
    ours = EmbeddedTrackerStore(DOMAIN, host=f"sqlite:///{tmp_path / 'ours.sqlite3'}")

    async def scenario():
        seen = {sender: (await talk(ours, sender, time.time()))[-1] for sender in "abc"}
        assert len(ours._latest) == 2 and "a" not in ours._latest
        return seen, {sender: [e.as_dict() for e in (await ours.retrieve(sender)).events]
                      for sender in "abc"}

    seen, again = asyncio.run(scenario())
    assert again == seen


def test_only_for_sqlite():
    with pytest.raises(ValueError):
        EmbeddedTrackerStore(DOMAIN, host="postgresql://127.0.0.1:5432/test")


def test_an_erasure_that_fails_halfway_still_forgets_the_conversation(tmp_path, monkeypatch):
    """The rows are deleted but emptying the log fails: memory must not serve it again."""
    import channels.gateway_input

    ours = EmbeddedTrackerStore(DOMAIN, host=f"sqlite:///{tmp_path / 'ours.sqlite3'}")

    def fails(*_):
        raise OSError("disk")

    async def scenario():
        await talk(ours, "erased", time.time())
        monkeypatch.setattr(channels.gateway_input, "_empty_write_ahead_log", fails)
        with pytest.raises(OSError):
            await erase_tracker(ours, "erased")
        return await ours.retrieve("erased")

    assert asyncio.run(scenario()) is None
    assert rows(tmp_path / "ours.sqlite3") == []

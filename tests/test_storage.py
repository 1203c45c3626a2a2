"""The gateway's store on a real SQLite file: one session per messaging-app user
even under a race, and erasure that leaves nothing behind on disk."""
import asyncio

from bot.storage import Store


async def test_two_first_messages_at_once_make_one_session(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    found = await asyncio.gather(*(
        store.session_for_user("hash-of-one-user", "telegram", f"session-{i:02d}-" + "x" * 20)
        for i in range(10)))
    assert len(set(found)) == 1 and await store.session_exists(found[0])
    assert await store.session_for_user("hash-of-another", "telegram", "y" * 24) == "y" * 24
    await store.close()


async def test_a_deleted_conversation_leaves_no_trace_in_any_file(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    await store.create_session("s" * 24, "web")
    await store.add_messages("s" * 24, [{"from": "user", "text": "zanzibarquokka was here"},
                                        {"from": "bot", "text": "ok", "buttons": [
                                            {"title": "Next", "payload": "/ask_next"}]}])
    assert await store.recent_bot_buttons("s" * 24) == [{"title": "Next", "payload": "/ask_next"}]
    await store.delete_session("s" * 24)
    assert await store.messages_after("s" * 24, 0) is None
    files = list(tmp_path.iterdir())
    assert files
    for path in files:
        assert b"zanzibarquokka" not in path.read_bytes(), path.name
    await store.close()

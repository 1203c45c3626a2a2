"""The gateway's store on a real SQLite file and on the real PostgreSQL (the
same tests on both): one session per messaging-app user even under a race, the
handoff queue's order and claims, staff sessions, and erasure that leaves
nothing behind."""
import asyncio
import time

from bot.storage import Store

SESSION, OTHER, THIRD = "s" * 24, "o" * 24, "t" * 24


async def test_two_first_messages_at_once_make_one_session(database_url):
    store = Store(database_url)
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


async def test_messages_keep_their_order_under_concurrent_writers(database_url):
    store = Store(database_url)
    await store.create_session(SESSION, "web")
    await asyncio.gather(*(store.add_messages(SESSION, [{"from": "user", "text": f"m{i}"},
                                                         {"from": "bot", "text": f"r{i}"}])
                           for i in range(10)))
    messages = await store.messages_after(SESSION, 0)
    assert [m["seq"] for m in messages] == list(range(1, 21))
    # each pair stays together: one turn's messages are numbered in one go
    for user, bot in zip(messages[::2], messages[1::2]):
        assert user["text"][1:] == bot["text"][1:]
    await store.close()


async def test_the_queue_puts_crisis_first_then_the_longest_waiting(database_url):
    store = Store(database_url)
    for session in (SESSION, OTHER, THIRD):
        await store.create_session(session, "web")
    await store.open_handoff(SESSION, "first", crisis=False, bot_active=False)
    await store.open_handoff(OTHER, "second", crisis=False, bot_active=False)
    await store.open_handoff(THIRD, "crisis", crisis=True, bot_active=True)
    assert [h["id"] for h in await store.queue()] == ["crisis", "first", "second"]
    # a crisis later in a waiting conversation moves it up, keeping its id
    again = await store.open_handoff(OTHER, "ignored", crisis=True, bot_active=True)
    assert again["id"] == "second" and again["already"] and again["priority"] == "crisis"
    # both crises now: the one waiting longer goes first
    assert [h["id"] for h in await store.queue()] == ["second", "crisis", "first"]
    await store.close()


async def test_only_one_of_many_simultaneous_claims_wins(database_url):
    store = Store(database_url)
    await store.create_session(SESSION, "web")
    await store.open_handoff(SESSION, "h1", crisis=False, bot_active=False)
    won = await asyncio.gather(*(
        store.set_handoff("h1", {"status": "waiting"}, status="claimed", claimed_by=f"staff{i}")
        for i in range(8)))
    assert won.count(True) == 1
    holder = (await store.handoff("h1"))["claimed_by"]
    assert holder == f"staff{won.index(True)}"
    await store.close()


async def test_a_handoff_asked_for_again_reopens_with_its_notes(database_url):
    store = Store(database_url)
    await store.create_session(SESSION, "web")
    await store.open_handoff(SESSION, "h1", crisis=False, bot_active=False)
    await store.add_note("h1", "sam", "prefers to be called back after school")
    assert await store.set_handoff("h1", {}, status="ended")
    assert await store.queue() == []
    again = await store.open_handoff(SESSION, "h2", crisis=False, bot_active=False)
    assert again["id"] == "h1" and again["status"] == "waiting" and not again["already"]
    assert [n["text"] for n in await store.notes("h1")] == ["prefers to be called back after school"]
    await store.close()


async def test_erasing_a_conversation_takes_its_handoff_notes_and_address(database_url):
    store = Store(database_url)
    await store.create_session(SESSION, "telegram")
    await store.open_handoff(SESSION, "h1", crisis=False, bot_active=False)
    await store.add_note("h1", "sam", "a note")
    await store.set_reply_address(SESSION, "sealed-address")
    await store.audit("sam", "claim", "h1")
    await store.delete_session(SESSION)
    assert await store.handoff("h1") is None
    assert await store.notes("h1") == []
    assert await store.reply_address(SESSION) is None
    # the audit log keeps what staff did, and only the handoff's own random id
    assert [(e["staff"], e["action"], e["conversation"]) for e in await store.audit_log()] == [
        ("sam", "claim", "h1")]
    await store.close()


async def test_staff_sessions_end_on_expiry_logout_and_disabling(database_url):
    store = Store(database_url)
    assert await store.add_staff("sam", "hash")
    assert not await store.add_staff("sam", "another hash")  # taken
    await store.add_staff_session("live", "sam", "csrf", time.time() + 60)
    await store.add_staff_session("old", "sam", "csrf", time.time() - 1)
    assert (await store.staff_session("live"))["username"] == "sam"
    assert await store.staff_session("old") is None
    await store.end_staff_session("live")
    assert await store.staff_session("live") is None
    await store.add_staff_session("again", "sam", "csrf", time.time() + 60)
    assert await store.disable_staff("sam")
    assert await store.staff_session("again") is None
    assert (await store.list_staff())[0]["disabled"] is True
    await store.close()


async def test_a_reply_address_is_kept_only_sealed(database_url):
    from bot.addresses import AddressBook

    store = Store(database_url)
    await store.create_session(SESSION, "telegram")
    book = AddressBook(store, b"the channel id key")
    book.remember(SESSION, "447700900123")
    await book.keep(SESSION)
    sealed = await store.reply_address(SESSION)
    assert sealed and "447700900123" not in sealed
    # after a restart (a new book, the same key) it opens; under another key it doesn't
    assert await AddressBook(store, b"the channel id key").get(SESSION) == "447700900123"
    assert await AddressBook(store, b"another key").get(SESSION) is None
    await book.drop(SESSION)
    assert await AddressBook(store, b"the channel id key").get(SESSION) is None
    await store.close()

"""The gateway's store on a real SQLite file and on the real PostgreSQL (the
same tests on both): one session per messaging-app user even under a race, the
handoff queue's order and claims, staff sessions, and erasure that leaves
nothing behind."""
import asyncio
import time

from bot.store import Store

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
    assert await store.turn_context("s" * 24) == ([{"title": "Next", "payload": "/ask_next"}], None, None)
    await store.delete_session("s" * 24)
    assert await store.messages_after("s" * 24, 0) is None
    files = list(tmp_path.iterdir())
    assert files
    for path in files:
        assert b"zanzibarquokka" not in path.read_bytes(), path.name
    await store.close()


async def test_a_retention_pass_can_delete_many_conversations_in_a_row(database_url):
    """On SQLite each erasure empties the write-ahead log: that must not leave the
    connection unable to commit the next one."""
    store = Store(database_url)
    sessions = [f"retention-{n}-" + "r" * 20 for n in range(4)]
    for session in sessions:
        await store.create_session(session, "web")
        await store.add_messages(session, [{"from": "user", "text": "hello"}])
    for session in sessions:
        await store.delete_session(session)
        await store.create_session(session + "-again", "web")
    assert [await store.session_exists(s) for s in sessions] == [False] * 4
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
    from bot.messaging.addresses import AddressBook

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


def a_case(reference, session_id, now=None):
    now = now or time.time()
    return {"reference": reference, "session_id": session_id, "idempotency_key": f"key-{reference}",
            "consent": "victim", "sealed": f"sealed-{reference}", "created_at": now,
            "give_up_at": now + 3600}


async def test_one_case_per_conversation_and_held_answers_go_into_it(database_url):
    store = Store(database_url)
    await store.create_session(SESSION, "web")
    await store.hold_answer(SESSION, "blackmailer", "sealed-1")
    await store.hold_answer(SESSION, "blackmailer", "sealed-2")  # a corrected answer replaces it
    assert await store.held_answers(SESSION) == {"blackmailer": "sealed-2"}
    results = await asyncio.gather(*(store.add_case(a_case(f"SX-000{i}-0000", SESSION))
                                     for i in range(5)))
    assert sum(added for _, added in results) == 1
    assert len({case["reference"] for case, _ in results}) == 1
    assert await store.held_answers(SESSION) == {}  # now only in the case
    assert (await store.case_counts())["pending"] == 1
    await store.close()


async def test_a_due_case_is_leased_to_one_gateway_at_a_time(database_url):
    store, other = Store(database_url), Store(database_url)
    await store.create_session(SESSION, "web")
    await store.add_case(a_case("SX-AAAA-0001", SESSION))
    now = time.time()
    leases = await asyncio.gather(store.lease_due_cases(now, 60), other.lease_due_cases(now, 60))
    assert sorted(len(leased) for leased in leases) == [0, 1]
    assert await store.lease_due_cases(now + 30, 60) == []  # still leased
    await store.case_attempt_failed("SX-AAAA-0001", "HTTP 503", now + 5, give_up=False)
    assert await store.lease_due_cases(now + 1, 60) == []  # not due yet
    leased = await store.lease_due_cases(now + 6, 60)
    assert leased[0]["attempts"] == 1 and leased[0]["sealed"] == "sealed-SX-AAAA-0001"
    await store.close()
    await other.close()


async def test_delivered_keeps_only_the_reference_and_status(database_url):
    store = Store(database_url)
    await store.create_session(SESSION, "web")
    await store.add_case(a_case("SX-BBBB-0001", SESSION))
    await store.case_delivered("SX-BBBB-0001")
    assert await store.lease_due_cases(time.time() + 10, 60) == []
    [case] = await store.cases()
    assert case["status"] == "delivered" and case["delivered_at"] and case["last_error"] is None

    def sealed(db):
        from sqlalchemy import text
        return db.execute(text("SELECT sealed FROM cases")).scalar()
    assert await store._run(sealed) is None
    await store.close()


async def test_a_case_outlives_its_conversation_until_case_retention(database_url):
    store = Store(database_url)
    await store.create_session(SESSION, "web")
    await store.create_session(OTHER, "web")
    old = time.time() - 40 * 86400
    await store.add_case(a_case("SX-CCCC-0001", SESSION, now=old))  # still pending
    await store.add_case(a_case("SX-CCCC-0002", OTHER, now=old))
    await store.case_delivered("SX-CCCC-0002")
    await store.delete_session(SESSION)  # forget me, or retention
    assert {c["reference"] for c in await store.cases()} == {"SX-CCCC-0001", "SX-CCCC-0002"}
    assert await store.delete_cases_older_than(time.time() - 30 * 86400) == 1
    assert [c["reference"] for c in await store.cases()] == ["SX-CCCC-0001"]  # pending stays
    await store.close()


async def test_only_a_failed_case_can_be_retried(database_url):
    store = Store(database_url)
    await store.create_session(SESSION, "web")
    await store.add_case(a_case("SX-DDDD-0001", SESSION))
    assert not await store.retry_case("SX-DDDD-0001", time.time() + 60)
    await store.case_attempt_failed("SX-DDDD-0001", "no answer", time.time(), give_up=True)
    assert (await store.case_counts())["failed"] == 1
    assert await store.retry_case("SX-DDDD-0001", time.time() + 60)
    assert (await store.case_counts()) == {"pending": 1, "delivered": 0, "failed": 0}
    await store.close()

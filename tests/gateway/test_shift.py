"""Running a shift (bot/staff/shift.py, bot/staff/shift_api.py): several chats per
worker up to STAFF_MAX_CHATS, handing a conversation to a colleague on shift (accepted
or declined), putting it back in the queue, and the supervisor's view: the overview,
a silent read, a takeover. Who may do each, what the person is told (one line, or
nothing), the audit log, and the live news each step sends, kept to those it concerns.
Through the staff API of a gateway in this process, against the fake Rasa."""
import asyncio

import pytest

from bot.conversation.replies import reply
from bot.staff.handoffs import at_the_limit
from tests.support import processes
from tests.support.gateways import claimed, queued, running, user_message
from tests.support.handoff_clients import frames, responses

SUPERVISOR_ROUTES = [("GET", "/staff/api/shift"), ("GET", "/staff/api/conversations/abc/watch"),
                     ("POST", "/staff/api/conversations/abc/takeover")]
ROUTES = [*SUPERVISOR_ROUTES,
    ("GET", "/staff/api/colleagues"), ("POST", "/staff/api/conversations/abc/transfer"),
    ("POST", "/staff/api/conversations/abc/transfer/accept"),
    ("POST", "/staff/api/conversations/abc/transfer/decline"),
    ("POST", "/staff/api/conversations/abc/requeue")]


async def audit(gw, staff) -> set:
    return {(e["action"], e["conversation"]) for e in await gw.store.audit_log()
            if e["staff"] == staff.username}


async def notes(gw, conversation: str) -> list:
    return [n["text"] for n in await gw.store.notes(conversation)]


def event(kind: str, conversation: str):
    return lambda e: e["type"] == kind and e.get("conversation") == conversation




async def no_event(staff, predicate, seconds: float = 0.5) -> None:
    """Nothing of the kind reaches this console (what else comes is read and dropped)."""
    with pytest.raises((AssertionError, asyncio.TimeoutError)):
        await staff.next_event(predicate, timeout=seconds)


@pytest.mark.parametrize("method, path", ROUTES)
async def test_every_shift_route_refuses_a_caller_without_a_session(gw, method, path):
    status, _, body = await asyncio.to_thread(processes.call, method, gw.base + path, {})
    assert status == 401 and body["error"]


@pytest.mark.parametrize("method, path", SUPERVISOR_ROUTES)
async def test_a_worker_cant_supervise(gw, method, path):
    worker = await gw.staff_member()
    status, body = await worker.call(method, path)
    assert status == 403 and body["error"] == "Only supervisors and admins can do this."


async def test_a_worker_holds_at_most_the_limit_even_claiming_two_at_once(rasa, database_url):
    async with running(rasa, database_url=database_url, staff_max_chats=2) as gw:
        worker = await gw.staff_member()
        first, *others = [(await queued(gw, rasa))[1] for _ in range(3)]
        assert (await worker.act(first, "claim"))[0] == 200
        claims = await asyncio.gather(*(worker.act(c, "claim") for c in others))
        assert sorted(status for status, _ in claims) == [200, 409]
        refused = next(body for status, body in claims if status == 409)
        assert refused["error"] == ("You're already holding 2 conversations, the most at once. "
                                    "Close or hand one back first.")
        assert await gw.store.held_count(worker.username) == 2
        left = next(c for c, (status, _) in zip(others, claims) if status == 409)
        # Handing one back makes room.
        assert (await worker.act(first, "release"))[0] == 200
        assert (await worker.act(left, "claim"))[0] == 200


async def test_the_limit_holds_for_many_claims_at_once_in_the_store(rasa, database_url):
    """Straight at the store, with no turn or redaction between: on PostgreSQL these
    run in parallel transactions (one per pooled connection), as on several gateways."""
    async with running(rasa, database_url=database_url) as gw:
        worker = await gw.staff_member()
        waiting = [(await queued(gw, rasa))[1] for _ in range(5)]
        given = await asyncio.gather(*(gw.store.give_handoff(
            c, worker.username, {"status": "waiting"}, 2, status="claimed") for c in waiting))
        assert sorted(given) == ["full", "full", "full", "given", "given"]
        assert await gw.store.held_count(worker.username) == 2


async def test_a_transfer_accepted_moves_the_conversation_and_the_person_hears_one_line(rasa, gw):
    one, two, bystander = await gw.staff_member(), await gw.staff_member(), await gw.staff_member()
    session, conversation = await claimed(gw, rasa, one)
    status, colleagues = await one.call("GET", "/staff/api/colleagues")
    assert status == 200 and {c["username"] for c in colleagues["colleagues"]} == {
        two.username, bystander.username}
    status, body = await one.call("POST", f"/staff/api/conversations/{conversation}/transfer",
                                  {"to": two.username, "note": "They paid once, and are scared."})
    assert status == 200 and (body["transfer_to"], body["transfer_from"]) == (two.username, one.username)
    offered = await two.next_event(event("transfer_offered", conversation))
    assert (offered["from"], offered["to"]) == (one.username, two.username) and "audience" not in offered
    await no_event(bystander, event("transfer_offered", conversation))
    # The colleague it is offered to may read it before deciding.
    assert (await two.call("GET", f"/staff/api/conversations/{conversation}"))[0] == 200
    assert (await two.act(conversation, "transfer/accept"))[0] == 200
    await one.next_event(event("transfer_accepted", conversation))
    [entry] = await two.queue()
    assert (entry["claimed_by"], entry["transfer_to"]) == (two.username, None)
    said = responses(await gw.transcript(session))
    assert said.count("gateway_staff_changed") == 1 and said.count("gateway_staff_joined") == 1
    assert f"Handing over to {two.username}: They paid once, and are scared." in await notes(gw, conversation)
    assert (await one.act(conversation, "messages", "still there?"))[0] == 403
    assert (await two.act(conversation, "messages", "hello, I'm here now"))[0] == 200
    assert ("transfer_offered", conversation) in await audit(gw, one)
    assert ("transfer_accepted", conversation) in await audit(gw, two)
    # Accepted once: there is nothing left to accept or decline.
    assert (await two.act(conversation, "transfer/accept"))[0] == 409


async def test_a_transfer_declined_stays_with_the_holder_who_is_told(rasa, gw):
    one, two = await gw.staff_member(), await gw.staff_member()
    session, conversation = await claimed(gw, rasa, one)
    assert (await one.call("POST", f"/staff/api/conversations/{conversation}/transfer",
                           {"to": two.username}))[0] == 200
    assert (await one.act(conversation, "transfer/decline"))[0] == 409  # only its receiver can
    assert (await two.act(conversation, "transfer/decline"))[0] == 200
    declined = await one.next_event(event("transfer_declined", conversation))
    assert declined["to"] == two.username
    [entry] = await one.queue()
    assert (entry["claimed_by"], entry["transfer_to"]) == (one.username, None)
    assert "gateway_staff_changed" not in responses(await gw.transcript(session))
    assert (await two.act(conversation, "transfer/accept"))[0] == 409
    assert ("transfer_declined", conversation) in await audit(gw, two)
    assert (await one.act(conversation, "messages", "I'm still here"))[0] == 200


async def test_a_transfer_goes_only_to_a_colleague_on_shift_with_room(rasa, sqlite_url):
    async with running(rasa, database_url=sqlite_url, staff_max_chats=1) as gw:
        one, two = await gw.staff_member(), await gw.staff_member()
        away = await gw.staff_member(live=False)
        _, conversation = await claimed(gw, rasa, one)
        offer = lambda to: one.call(  # noqa: E731
            "POST", f"/staff/api/conversations/{conversation}/transfer", {"to": to})
        status, body = await offer(one.username)
        assert status == 400 and body["error"] == "You already hold this conversation. Choose a colleague."
        for nobody in (away.username, "nosuchperson"):
            status, body = await offer(nobody)
            assert status == 409 and body["error"] == "That colleague isn't on shift now. Choose someone who is."
        assert (await one.call("POST", f"/staff/api/conversations/{conversation}/transfer", {}))[0] == 400
        assert (await two.call("POST", f"/staff/api/conversations/{conversation}/transfer",
                               {"to": one.username}))[0] == 403  # not theirs to hand on
        # Offered while they had room; they claimed another meanwhile: the limit holds.
        assert (await offer(two.username))[0] == 200
        _, other = await queued(gw, rasa)
        assert (await two.act(other, "claim"))[0] == 200
        status, body = await two.act(conversation, "transfer/accept")
        assert status == 409 and body["error"] == at_the_limit(1)
        status, body = await offer(two.username)
        assert status == 409 and body["error"] == ("They're already holding 1 conversation, "
                                                   "the most at once. Choose someone else.")


async def test_put_back_in_the_queue_it_waits_unclaimed_with_the_bot_still_quiet(rasa, gw):
    one, two = await gw.staff_member(), await gw.staff_member()
    session, conversation = await claimed(gw, rasa, one)
    status, body = await one.call("POST", f"/staff/api/conversations/{conversation}/requeue",
                                  {"note": "Needs someone who knows about Report Remove."})
    assert status == 200 and (body["status"], body["claimed_by"]) == ("waiting", None)
    await two.next_event(event("requeued", conversation))
    assert (await gw.transcript(session))[-1]["text"] == reply("gateway_requeued")["text"]
    handoff = await gw.store.handoff(conversation)
    assert (handoff["bot_active"], handoff["bot_paused"]) == (False, True)
    sent = len(rasa.sent(session))
    assert await gw.say(session, "ok thanks") == [reply("gateway_still_waiting")]
    assert len(rasa.sent(session)) == sent  # the bot stays out of it
    assert "Put back in the queue: Needs someone who knows about Report Remove." in await notes(gw, conversation)
    assert ("requeued", conversation) in await audit(gw, one)
    assert (await one.act(conversation, "requeue"))[0] == 409  # not held any more
    assert (await two.act(conversation, "claim"))[0] == 200


async def test_a_supervisor_sees_the_shift_reads_silently_and_takes_over(rasa, sqlite_url):
    async with running(rasa, database_url=sqlite_url, staff_max_chats=1) as gw:
        worker, other = await gw.staff_member(), await gw.staff_member()
        boss = await gw.staff_member(role="supervisor")
        session, held = await claimed(gw, rasa, worker)
        assert (await worker.act(held, "messages", "I'm here for you"))[0] == 200
        _, waiting = await queued(gw, rasa)
        _, crisis = await queued(gw, rasa, crisis=True)
        status, shift = await boss.call("GET", "/staff/api/shift")
        assert status == 200 and shift["max_chats"] == 1
        assert [c["id"] for c in shift["queue"]] == [crisis, waiting]  # crisis first
        mine = next(s for s in shift["staff"] if s["username"] == worker.username)
        assert mine["on_shift"] and [h["id"] for h in mine["holding"]] == [held]
        assert mine["holding"][0]["claimed_at"] and mine["holding"][0]["last_staff_at"]
        assert {s["username"] for s in shift["staff"]} == {worker.username, other.username, boss.username}

        # A silent read: audited, never shown to the person; a worker may not read it.
        before = await gw.transcript(session)
        status, seen = await boss.call("GET", f"/staff/api/conversations/{held}/watch")
        assert status == 200 and [m["text"] for m in seen["messages"]][-1] == "I'm here for you"
        assert await gw.transcript(session) == before
        assert ("watch", held) in await audit(gw, boss)
        # Opened again as any conversation is (a reload, a tab): still a silent read.
        assert (await boss.call("GET", f"/staff/api/conversations/{held}"))[0] == 200
        read = [e["action"] for e in await gw.store.audit_log()
                if e["staff"] == boss.username and e["conversation"] == held]
        assert read == ["watch", "watch"]
        status, body = await other.call("GET", f"/staff/api/conversations/{held}")
        assert status == 403 and body["error"] == "This conversation is with another staff member."

        # Taking over: the limit doesn't stop a supervisor, the worker's console is told.
        assert (await boss.act(waiting, "claim"))[0] == 200
        assert (await boss.act(waiting, "takeover"))[0] == 409  # theirs already
        status, body = await boss.act(held, "takeover")
        assert status == 200 and body["claimed_by"] == boss.username
        told = await worker.next_event(event("taken_over", held))
        assert told["by"] == boss.username and told["from"] == worker.username
        assert responses(await gw.transcript(session)).count("gateway_staff_changed") == 1
        assert ("takeover", held) in await audit(gw, boss)
        assert (await worker.act(held, "messages", "hello?"))[0] == 403
        assert (await boss.act(crisis, "takeover"))[0] == 409  # nobody holds it: claim it


async def test_a_workers_console_hears_only_of_the_queue_and_its_own_chats(rasa, gw):
    holder, other = await gw.staff_member(), await gw.staff_member()
    boss = await gw.staff_member(role="supervisor")
    held_session, held = await claimed(gw, rasa, holder)
    waiting_session, waiting = await queued(gw, rasa)
    await frames(other.socket, 0.5)  # what came while both were in the queue: everyone's news
    await gw.say(held_session, "is anyone there")
    await gw.say(waiting_session, "hello??")
    await holder.next_event(user_message(held, "is anyone there"))
    await boss.next_event(user_message(held, "is anyone there"))
    await boss.next_event(user_message(waiting, "hello??"))
    # Everything the colleague's console got meanwhile, nothing read and dropped first.
    seen = await frames(other.socket, 1.0)
    assert any(user_message(waiting, "hello??")(e) for e in seen)  # the queue: everyone
    assert [e for e in seen if e.get("conversation") == held] == []
    # A note on a held conversation: the same.
    assert (await holder.act(held, "notes", "seems calmer"))[0] == 200
    await boss.next_event(event("note", held))
    assert [e for e in await frames(other.socket, 0.5) if e.get("conversation") == held] == []

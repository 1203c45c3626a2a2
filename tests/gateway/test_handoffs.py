"""Handing a conversation to a person and back (Handoffs, bot/staff/handoffs.py), and a
turn while it is held for staff (Conversations.say): through the staff API, the
internal API (as the action server calls it), the web API and WebSocket of a gateway
in this process, against a fake Rasa whose "talk to a person" asks the internal API
for a person as action_handoff does.

Timings the gateway keeps as module constants of bot/conversation/turn.py
(HELD_READ_SECONDS, WAITING_REMINDER_SECONDS) are shortened with monkeypatch."""
import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.conversation import turn
from bot.conversation.replies import reply
from bot.staff.hours import DAY_NAMES, DAYS
from tests.support.fake_rasa import DEFAULT_REPLY
from tests.support.gateways import ASK, claimed, queued, running, user_message
from tests.support.handoff_clients import responses

CRISIS_WORDS = "i cant go on i want to end it all"


async def test_asking_for_a_person_queues_it_and_while_waiting_the_bot_is_quiet(rasa, gw, monkeypatch):
    monkeypatch.setattr(turn, "WAITING_REMINDER_SECONDS", 0.3)
    staff = await gw.staff_member()
    session, conversation = await queued(gw, rasa)
    assert rasa.handoff_answers == [(200, {"status": "queued", "position": 1, "wait_minutes": 10,
                                           "paused": True, "already": False})]
    [entry] = await staff.queue()
    assert {k: v for k, v in entry.items() if k != "waiting_since"} == {
        "id": conversation, "priority": "normal", "status": "waiting", "claimed_by": None,
        "claimed_at": None, "transfer_to": None, "transfer_from": None,
        "channel": "web", "under_18": False, "helping_someone": False}
    assert session not in str(entry)
    # Waiting: the person's words go to the team; Rasa only reads them (for a crisis).
    assert await gw.say(session, "are you there") == [reply("gateway_still_waiting")]
    assert await gw.say(session, "hello??") == []
    await staff.next_event(user_message(conversation, "hello??"))
    await asyncio.sleep(0.3)
    assert await gw.say(session, "😭") == [reply("gateway_still_waiting")]  # now and then
    assert rasa.sent(session) == ["hi", ASK]
    assert rasa.parsed() == ["are you there", "hello??"]  # emoji need no reading


async def test_who_can_take_it_decides_what_asking_for_a_person_gets(rasa, sqlite_url, tmp_path):
    # A day with support hours, three days from now: closed today.
    day = (datetime.now(ZoneInfo("Europe/London")).weekday() + 3) % 7
    async with running(rasa, database_url=sqlite_url, handoff_minutes_each=7,
                       support_hours=f"{DAYS[day]} 09:00-17:00") as closed:
        await closed.staff_member()  # on shift, but out of hours
        session = await closed.start("hi")
        assert await closed.internal_call("/internal/handoffs", {"session": session}) == (200, {
            "status": "unavailable", "reason": "out_of_hours", "opens": f"on {DAY_NAMES[day]} at 9am"})
        assert await closed.handoffs.queue() == []
        # "Yes, leave it for the team": queued, and the bot keeps talking meanwhile.
        assert await closed.internal_call("/internal/handoffs", {
            "session": session, "queue_when_closed": True}) == (200, {
                "status": "queued", "position": 1, "wait_minutes": 7, "paused": False, "already": False})
    async with running(rasa, database_url=f"sqlite:///{tmp_path / 'open.sqlite3'}") as open_:
        session = await open_.start("hi")
        assert await open_.internal_call("/internal/handoffs", {"session": session}) == (200, {
            "status": "unavailable", "reason": "nobody_on_shift", "opens": None})
        assert (await open_.internal_call("/internal/handoffs", {"session": "A" * 32}))[0] == 404
        await open_.staff_member()
        status, answer = await open_.internal_call("/internal/handoffs", {"session": session})
        assert (status, answer["status"], answer["paused"]) == (200, "queued", True)
        assert (await open_.internal_call("/internal/handoffs", {"session": "A" * 32}))[0] == 404


async def test_the_queue_puts_crisis_first_then_whoever_has_waited_longest(rasa, database_url):
    async with running(rasa, database_url=database_url, handoff_minutes_each=5) as gw:
        staff = await gw.staff_member()
        first, second, third = [await gw.start("hi") for _ in range(3)]
        ask = lambda session, **more: gw.internal_call("/internal/handoffs", {"session": session, **more})  # noqa: E731
        assert (await ask(first, under_18=True))[1]["wait_minutes"] == 5
        behind = (await ask(second, helping=True))[1]
        assert (behind["position"], behind["wait_minutes"]) == (2, 10)
        await gw.staff_member()  # two on shift share the queue
        crisis = (await ask(third, crisis=True))[1]
        assert (crisis["position"], crisis["paused"]) == (1, False)  # first; the bot keeps talking
        assert (await ask(second))[1]["wait_minutes"] == 10  # third in the queue: 15 for one alone
        ids = {(await gw.store.handoff_for_session(s))["id"]: s for s in (first, second, third)}
        order = lambda queue: [ids[c["id"]] for c in queue]  # noqa: E731
        queue = await staff.queue()
        assert order(queue) == [third, first, second]
        assert [(c["priority"], c["under_18"], c["helping_someone"]) for c in queue] == [
            ("crisis", False, False), ("normal", True, False), ("normal", False, True)]
        # Already queued and now in crisis: it moves up, and keeps its place among crises.
        status, again = await ask(second, crisis=True)
        assert (status, again["already"]) == (200, True)
        assert order(await staff.queue()) == [second, third, first]


async def test_a_person_from_the_team_claims_replies_notes_and_hands_back(rasa, gw):
    staff = await gw.staff_member()
    session, conversation = await queued(gw, rasa)
    async with gw.page(session, after=4) as page:
        status, claim = await staff.act(conversation, "claim")
        assert (status, claim["status"], claim["claimed_by"]) == (200, "claimed", staff.username)
        assert (await page.receive_json(timeout=5))["response"] == "gateway_staff_joined"
        assert ("handoff", "paused") not in rasa.routes(session)  # Rasa paused itself when it asked
        # Held: the person's words reach the worker; the bot says nothing, Rasa only reads them.
        assert await gw.say(session, "thank you, i was so scared") == []
        await staff.next_event(user_message(conversation, "thank you, i was so scared"))
        status, sent = await staff.act(conversation, "messages", "I'm here. Text me on 07700 900123.")
        assert (status, sent["from"], sent["text"]) == (200, "staff", "I'm here. Text me on [PHONE].")
        live = [await page.receive_json(timeout=5) for _ in range(2)]
        assert [(m["from"], m["text"]) for m in live] == [
            ("user", "thank you, i was so scared"), ("staff", "I'm here. Text me on [PHONE].")]
        status, note = await staff.act(conversation, "notes", "Much calmer now. Her name is Chloe.")
        assert (status, note["text"]) == (200, "Much calmer now. Her name is [NAME].")
        status, seen = await staff.call("GET", f"/staff/api/conversations/{conversation}")
        assert [n["text"] for n in seen["notes"]] == [note["text"]]
        assert [m["from"] for m in seen["messages"]] == ["user", "bot", "user", "bot", "bot", "user", "staff"]
        assert note["text"] not in str(await gw.transcript(session))
        # Back to the bot: Rasa resumes and says so.
        status, ended = await staff.act(conversation, "release")
        assert (status, ended["status"]) == (200, "ended")
        assert (await page.receive_json(timeout=5))["response"] == "utter_handback"
    assert await staff.queue() == []
    assert await gw.say(session, "what do i do now") == [DEFAULT_REPLY]
    assert rasa.routes(session)[-2:] == [("handoff", "released"), ("webhook", None)]
    assert rasa.sent(session) == ["hi", ASK, "what do i do now"]
    assert (await staff.act(conversation, "messages", "still there?"))[0] == 404
    audit = [(e["action"], e["conversation"]) for e in await gw.store.audit_log()
             if e["staff"] == staff.username]
    assert {("claim", conversation), ("reply", conversation), ("note", conversation),
            ("view", conversation), ("release", conversation)} <= set(audit)


async def test_closing_ends_it_and_the_bot_says_so(rasa, gw):
    staff = await gw.staff_member()
    session, conversation = await claimed(gw, rasa, staff)
    assert (await staff.act(conversation, "close"))[0] == 200
    # Then "did this help?" (tests/gateway/test_wrapup.py).
    assert responses(await gw.transcript(session))[-2:] == ["utter_handoff_ended", "gateway_did_this_help"]
    assert ("handoff", "closed") in rasa.routes(session) and await staff.queue() == []


async def test_two_claims_at_once_one_wins_and_the_person_hears_of_it_once(rasa, database_url):
    async with running(rasa, database_url=database_url) as gw:
        one, two = await gw.staff_member(), await gw.staff_member()
        session, conversation = await queued(gw, rasa)
        # Nothing but a claim before a claim.
        assert (await one.act(conversation, "messages", "hi"))[0] == 409
        claims = await asyncio.gather(one.act(conversation, "claim"), two.act(conversation, "claim"))
        assert sorted(status for status, _ in claims) == [200, 409]
        holder, other = (one, two) if claims[0][0] == 200 else (two, one)
        for action in ("messages", "notes", "release", "close"):
            status, _ = await other.act(conversation, action, "hello" if action in ("messages", "notes") else None)
            assert status == (200 if action == "notes" else 403), action  # notes are for the team
        assert (await holder.act(conversation, "claim"))[0] == 200  # again: harmless
        assert (await holder.act("no-such-conversation", "claim"))[0] == 404
        assert responses(await gw.transcript(session)).count("gateway_staff_joined") == 1
        [entry] = await other.queue()
        assert (entry["status"], entry["claimed_by"]) == ("claimed", holder.username)


async def test_claiming_a_conversation_the_bot_still_talks_in_pauses_rasa(rasa, gw):
    """A crisis: the bot keeps talking (are you safe? 999) until someone claims it."""
    staff = await gw.staff_member()
    first, conversation = await queued(gw, rasa, crisis=True)
    assert responses(await gw.say(first, "yes im safe")) == ["utter_default"]  # the bot still talks
    assert (await staff.act(conversation, "claim"))[0] == 200
    assert rasa.routes(first)[-1] == ("handoff", "paused")
    assert await gw.say(first, "ok") == [] and rasa.sent(first)[-1] == "yes im safe"
    # Rasa can't be told: the gateway keeps the bot out of it all the same.
    rasa.fail("handoff")
    second, other = await queued(gw, rasa, crisis=True)
    assert (await staff.act(other, "claim"))[0] == 200
    assert await gw.say(second, "ok") == [] and rasa.sent(second) == ["hi", ASK]


async def test_a_hand_back_rasa_missed_is_made_with_the_next_message(rasa, gw):
    staff = await gw.staff_member()
    session, conversation = await claimed(gw, rasa, staff)
    rasa.fail("handoff")
    assert (await staff.act(conversation, "release"))[0] == 200
    assert responses(await gw.transcript(session))[-2:] == ["gateway_unavailable", "gateway_did_this_help"]
    del rasa.failing["handoff"]
    assert responses(await gw.say(session, "hello?")) == ["utter_handback", "utter_default"]
    assert rasa.routes(session)[-3:] == [("handoff", "released"), ("handoff", "released"), ("webhook", None)]
    assert responses(await gw.say(session, "ok")) == ["utter_default"]  # once is enough
    # Rasa resumed but said nothing (its action server is down): the numbers, not silence.
    rasa.on_handoff["closed"] = []
    session, conversation = await claimed(gw, rasa, staff)
    assert (await staff.act(conversation, "close"))[0] == 200
    assert responses(await gw.transcript(session))[-2:] == ["gateway_unavailable", "gateway_did_this_help"]


async def test_while_held_a_crisis_and_delete_my_chat_still_get_the_bots_answer(rasa, gw):
    staff = await gw.staff_member()
    session, _conversation = await claimed(gw, rasa, staff)
    rasa.reads(CRISIS_WORDS, "crisis")
    rasa.reads("delete my chat", "forget_me")
    crisis = await gw.say(session, CRISIS_WORDS)
    assert responses(crisis) == ["utter_crisis"] and "999" in crisis[0]["text"]
    [entry] = await staff.queue()
    assert (entry["priority"], entry["status"]) == ("crisis", "claimed")  # to the top, still theirs
    forgotten = await gw.say(session, "delete my chat")
    assert responses(forgotten) == ["utter_forget_me"] and "browser history" in forgotten[0]["text"]
    assert await gw.transcript(session) is None and await staff.queue() == []
    assert rasa.routes(session)[-1] == ("erase", None)
    assert rasa.sent(session) == ["hi", ASK]


async def test_while_held_and_rasa_cannot_read_the_gateways_own_crisis_check_decides(
        rasa, gw, monkeypatch):
    monkeypatch.setattr(turn, "HELD_READ_SECONDS", 0.1)
    staff = await gw.staff_member()
    session, _conversation = await claimed(gw, rasa, staff)
    rasa.hang("parse")
    assert responses(await gw.say(session, CRISIS_WORDS)) == ["utter_crisis"]
    assert (await staff.queue())[0]["priority"] == "crisis"
    # Anything else: the worker will reply (now and then, so nobody writes into silence).
    assert await gw.say(session, "thanks for listening") == [reply("gateway_staff_reading")]
    assert await gw.say(session, "are you still there") == []
    assert await gw.say(session, "🙏🙏") == []  # "thank you": Rasa can't read it either
    asked = len(rasa.parsed())
    assert await gw.say(session, "😭") == []  # nothing to read: not even asked
    assert len(rasa.parsed()) == asked
    rasa.release()


async def test_when_the_worker_logs_out_the_bot_takes_over_and_it_waits_in_the_queue(rasa, gw):
    staff, colleague = await gw.staff_member(), await gw.staff_member()
    session, conversation = await claimed(gw, rasa, staff)
    assert (await staff.call("POST", "/staff/api/logout"))[0] == 200
    back = await gw.say(session, "hello? anyone?")
    assert responses(back) == ["gateway_team_away", "utter_default"] and "999" in back[0]["text"]
    assert rasa.routes(session)[-2:] == [("handoff", "resumed"), ("webhook", None)]
    [entry] = await colleague.queue()
    assert (entry["id"], entry["status"], entry["claimed_by"]) == (conversation, "waiting", None)
    assert responses(await gw.say(session, "should i pay")) == ["utter_default"]
    assert [r for r, _ in rasa.routes(session)].count("handoff") == 1
    assert (await colleague.act(conversation, "claim"))[0] == 200  # someone can pick it up


async def test_waiting_when_the_whole_team_has_gone_the_bot_takes_over(rasa, sqlite_url):
    async with running(rasa, database_url=sqlite_url, staff_away_seconds=0.2) as gw:
        await asyncio.sleep(0.2)  # past the start-up grace, when consoles reconnect
        staff = await gw.staff_member()
        session, conversation = await queued(gw, rasa)
        assert await gw.say(session, "hi?") == [reply("gateway_still_waiting")]
        await staff.socket.close()  # the laptop lid closes
        await asyncio.sleep(0.25)
        assert responses(await gw.say(session, "anyone?")) == ["gateway_team_away", "utter_default"]
        [entry] = await gw.handoffs.queue()
        assert (entry["id"], entry["status"]) == (conversation, "waiting")

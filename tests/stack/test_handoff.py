"""Handoff to a person, end to end through the real processes (make run: Rasa,
the action server, the gateway), on SQLite and on PostgreSQL: a victim on the
web API and one on Telegram (its server faked on loopback) ask for a person;
staff log in, see both (crisis first), claim, reply; the replies arrive; the
bot stays out of it; hand back, and the bot picks up the steps; close."""
import itertools
import secrets

import pytest

from tests.conftest import INTERNAL_TOKEN, ROOT, TELEGRAM_SECRET
from tests.support.handoff_clients import Staff, Victim, responses, signed_in_staff, staff_command
from tests.support.processes import call

CHAT_IDS = itertools.count(880_000_000 + secrets.randbelow(10_000_000))


def telegram_says(stack, chat_id, text):
    update = {"update_id": secrets.randbelow(2 ** 31), "message": {
        "message_id": 1, "date": 1764000000, "text": text,
        "chat": {"id": chat_id, "type": "private"}, "from": {"id": chat_id, "is_bot": False}}}
    status, _, _ = call("POST", f"{stack['base']}/webhooks/telegram", update,
                        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
    assert status == 200


def to_chat(chat_id, needle=""):
    return lambda r: (r["path"].endswith("/sendMessage") and r["json"].get("chat_id") == str(chat_id)
                      and needle in r["json"].get("text", ""))


async def test_nobody_on_shift_offers_to_leave_it_for_the_team(stack):
    """No console open (this runs before any test opens one): told honestly; a yes
    leaves it in the queue and the bot carries on."""
    web = Victim(stack["base"])
    await web.say("hi")
    lonely = await signed_in_staff(stack, "lee")
    before = {c["id"] for c in await lonely.queue()}
    asked = await web.say("i need to speak to a human")
    assert responses(asked) == ["utter_handoff_nobody_on_shift"]
    assert {c["id"] for c in await lonely.queue()} == before
    left = await web.say("yes please")
    assert responses(left)[0] == "utter_handoff_queued_later"
    waiting = [c for c in await lonely.queue() if c["id"] not in before]
    assert len(waiting) == 1 and waiting[0]["status"] == "waiting"
    # the bot carries on while it waits
    assert responses(await web.say("should i pay them"))[-1].startswith("utter_step")
    await lonely.close()
    await web.close()


async def on_shift(stack) -> Staff:
    """A support worker with the console open, so that the team is on shift."""
    alex = await signed_in_staff(stack, "alex")
    await alex.go_live()
    await alex.next_event(lambda e: e["type"] == "queue")
    return alex


@pytest.fixture
async def staff_on_shift(any_stack):
    alex = await on_shift(any_stack)
    yield alex
    await alex.close()


@pytest.fixture
async def staff_on_shift_sqlite(stack):
    alex = await on_shift(stack)
    yield alex
    await alex.close()


async def claimed(stack, staff: Staff):
    """A web victim's conversation, queued for a person and claimed by `staff`."""
    web = Victim(stack["base"])
    await web.say("hi")
    before = {c["id"] for c in await staff.queue()}
    assert "utter_handoff_queued" in responses(await web.say("i want to talk to a person"))
    conversation, = {c["id"] for c in await staff.queue()} - before
    assert (await staff.act(conversation, "claim"))[0] == 200
    return web, conversation


async def test_two_victims_are_helped_by_a_person_and_handed_back(any_stack, provider, staff_on_shift):
    stack, alex = any_stack, staff_on_shift
    earlier = {c["id"] for c in await alex.queue()}  # other tests' conversations
    web = Victim(stack["base"])
    await web.say("hi")
    asked = await web.say("can i talk to a real person please")
    assert "utter_handoff_queued" in responses(asked)
    queued = next(m for m in asked if m.get("response") == "utter_handoff_queued")
    assert "999" in queued["text"] and "116 123" in queued["text"] and "in the queue" in queued["text"]

    # Telegram, in crisis: crisis response, a person asked for, "are you safe?"
    chat_id = next(CHAT_IDS)
    since = len(provider.requests)
    telegram_says(stack, chat_id, "i cant take it anymore i want to kill myself")
    provider.wait_for(to_chat(chat_id, "Are you safe"), since=since)
    said = [r["json"]["text"] for r in provider.requests[since:] if to_chat(chat_id)(r)]
    assert any("999" in text and "116 123" in text for text in said)
    assert any("trained person" in text for text in said)

    # Another support worker logs in and sees both: crisis first.
    sam = await signed_in_staff(stack, "sam")
    await sam.go_live()
    queue = [c for c in await sam.queue() if c["id"] not in earlier]
    assert [(c["priority"], c["channel"], c["status"]) for c in queue] == [
        ("crisis", "telegram", "waiting"), ("normal", "web", "waiting")]
    crisis, normal = queue
    assert set(crisis) >= {"id", "priority", "status", "waiting_since"}
    assert web.session not in str(await sam.queue())

    # The transcript is there, redacted, without the session id.
    status, transcript = await sam.call("GET", f"/staff/api/conversations/{normal['id']}")
    assert status == 200 and [m["text"] for m in transcript["messages"]][:1] == ["hi"]
    assert web.session not in str(transcript)

    # Claim: one staff member per conversation.
    assert (await sam.act(normal["id"], "claim"))[0] == 200
    status, body = await alex.act(normal["id"], "claim")
    assert status == 409 and body["error"]
    await web.wait_for(lambda m: m.get("response") == "gateway_staff_joined")

    # A reply reaches the web page within a second, redacted like everything else
    # but the services on the fact sheet.
    status, sent = await sam.act(normal["id"], "messages",
                                 "Hi, I'm Sam from the support team. Text me on 07700 900123 if you like, "
                                 "or call Victim Support on 08 08 16 89 111.")
    assert status == 200 and sent["from"] == "staff"
    got = await web.wait_for(lambda m: m["from"] == "staff", timeout=1.0)
    assert "[PHONE]" in got["text"] and "07700" not in got["text"]
    assert "call Victim Support on 08 08 16 89 111." in got["text"]

    # The person's messages now go to the staff member, not to the bot.
    assert await web.say("thank you, i was so scared") == []
    event = await sam.next_event(lambda e: e["type"] == "message" and e["conversation"] == normal["id"]
                                 and e["message"]["from"] == "user")
    assert event["message"]["text"] == "thank you, i was so scared"

    # ...but a crisis message still gets the crisis response at once, and moves it up.
    crisis_now = await web.say("honestly i just want to end it all")
    assert responses(crisis_now) == ["utter_crisis"]
    assert next(c for c in await sam.queue() if c["id"] == normal["id"])["priority"] == "crisis"

    # The Telegram person: claimed, and the reply reaches their chat.
    assert (await sam.act(crisis["id"], "claim"))[0] == 200
    since = len(provider.requests)
    assert (await sam.act(crisis["id"], "messages", "I'm here with you. Are you somewhere safe?"))[0] == 200
    provider.wait_for(to_chat(chat_id, "somewhere safe"), timeout=1, since=since)
    since = len(provider.requests)
    telegram_says(stack, chat_id, "yes im at home")
    await sam.next_event(lambda e: e["type"] == "message" and e["conversation"] == crisis["id"]
                         and e["message"]["text"] == "yes im at home")
    assert not [r for r in provider.requests[since:] if to_chat(chat_id)(r)], "the bot must stay quiet"

    # Notes are for staff only.
    status, note = await sam.act(normal["id"], "notes", "Scared, calmer now. Worth a follow-up chat.")
    assert status == 200 and note["staff"] == sam.username
    assert "follow-up" not in str(await web.messages())

    # Hand back: the bot says so and picks up with the first step not yet given.
    assert (await sam.act(normal["id"], "release"))[0] == 200
    back = await web.wait_for(lambda m: m.get("response") == "utter_step_dont_pay")
    assert "utter_handback" in responses(await web.messages())
    assert back["from"] == "bot"
    carry_on = await web.say("ok done what next")
    assert responses(carry_on)[-1] == "utter_step_stop_replying"

    # Close the other: the bot tells them, on Telegram.
    since = len(provider.requests)
    assert (await sam.act(crisis["id"], "close"))[0] == 200
    provider.wait_for(to_chat(chat_id, "ended this chat"), since=since)
    assert crisis["id"] not in [c["id"] for c in await sam.queue()]

    status, _ = await sam.act(normal["id"], "messages", "still there?")
    assert status == 404  # handed back: no longer in the queue

    # The audit log says who did what, never who the victim is.
    audit = staff_command(stack["env"], "audit").stdout
    mine = [line.split()[2:] for line in audit.splitlines() if line.split()[1] == sam.username]
    for done in (["claim", normal["id"]], ["reply", normal["id"]], ["note", normal["id"]],
                 ["release", normal["id"]], ["claim", crisis["id"]], ["close", crisis["id"]]):
        assert done in mine
    assert web.session not in audit and str(chat_id) not in audit
    for person in (web, sam):
        await person.close()




async def test_a_whatsapp_person_gets_the_staff_reply_on_whatsapp(stack, provider, staff_on_shift_sqlite):
    from tests.support.messaging_apps import sent_to_number, whatsapp, whatsapp_text

    number = f"4477009{secrets.randbelow(10 ** 5):05d}"
    since = len(provider.requests)
    assert whatsapp(stack, whatsapp_text(number, "please can i talk to a real person"))[0] == 200
    provider.wait_for(lambda r: sent_to_number(number)(r) and "in the queue" in str(r["json"]), since=since)
    staff = staff_on_shift_sqlite
    conversation = next(c for c in await staff.queue()
                        if c["channel"] == "whatsapp" and c["status"] == "waiting")
    assert (await staff.act(conversation["id"], "claim"))[0] == 200
    since = len(provider.requests)
    assert (await staff.act(conversation["id"], "messages", "Hello, I'm from the support team."))[0] == 200
    provider.wait_for(lambda r: sent_to_number(number)(r) and "support team" in str(r["json"]),
                      timeout=1, since=since)
    assert number not in str(await staff.queue())
    assert (await staff.act(conversation["id"], "close"))[0] == 200


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_a_gateway_restart_mid_handoff_loses_nothing(stack, start_gateway, postgres_schema,
                                                           tmp_path, database):
    """SIGKILL in the middle of a handoff: the queue, the claim, the transcript and
    the staff session survive, and the victim's page reconnects to the same conversation."""
    from tests.support.processes import Process

    url = f"sqlite:///{tmp_path / 'gw.sqlite3'}" if database == "sqlite" else postgres_schema()
    gateway = start_gateway(DATABASE_URL=url)
    web = Victim(gateway["base"])
    await web.say("hello")
    status, _, _ = call("POST", f"{gateway['internal']}/internal/handoffs",
                        {"session": web.session, "queue_when_closed": True},
                        headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"})
    assert status == 200
    rob = await signed_in_staff(gateway, "rob")
    conversation = (await rob.queue())[0]["id"]
    assert (await rob.act(conversation, "claim"))[0] == 200
    assert (await rob.act(conversation, "messages", "I'm here. Take your time."))[0] == 200

    gateway["process"].kill()
    again = Process.ready([str(ROOT / ".venv" / "bin" / "python"), "-m", "bot"], gateway["env"],
                          f"{gateway['base']}/api/openapi.json", timeout=120)
    try:
        # the staff member is still logged in, still holds it, and the transcript is whole
        queue = await rob.queue()
        assert [(c["id"], c["status"], c["claimed_by"]) for c in queue] == [(conversation, "claimed", rob.username)]
        status, transcript = await rob.call("GET", f"/staff/api/conversations/{conversation}")
        assert [m["from"] for m in transcript["messages"]] == ["user", "bot", "bot", "staff"]

        # the page reconnects (its WebSocket) and carries on in the same conversation
        async with web.http.ws_connect(gateway["base"].replace("http", "ws") + "/ws") as page:
            await page.send_json({"type": "join", "session": web.session, "after": 0})
            assert (await page.receive_json(timeout=5)) == {"type": "joined", "session": web.session}
            backlog = [await page.receive_json(timeout=5) for _ in transcript["messages"]]
            assert backlog[-1]["from"] == "staff"
            assert (await rob.act(conversation, "messages", "Still here after the restart."))[0] == 200
            live = await page.receive_json(timeout=1)
            assert live["from"] == "staff" and "after the restart" in live["text"]
            await page.send_json({"type": "say", "text": "thank you"})
            await rob.go_live()
            await rob.next_event(lambda e: e["type"] == "message" and e["message"]["text"] == "thank you")
    finally:
        again.stop()
        await rob.close()
        await web.close()


async def test_a_lone_surrogate_from_staff_is_dropped_from_replies_and_notes(stack, staff_on_shift_sqlite):
    """JSON's "\\ud800" (half of a pair, no character) in a worker's reply or note:
    dropped, and the rest goes through as typed."""
    staff = staff_on_shift_sqlite
    web, conversation = await claimed(stack, staff)
    status, sent = await staff.act(conversation, "messages", "I'm here \ud800to help")
    assert (status, sent["text"]) == (200, "I'm here to help")
    status, note = await staff.act(conversation, "notes", "\udfffcalmer now")
    assert (status, note["text"]) == (200, "calmer now")
    assert (await web.wait_for(lambda m: m["from"] == "staff"))["text"] == "I'm here to help"
    await web.close()


async def test_while_waiting_the_person_hears_they_are_in_the_queue_and_can_still_delete(
        stack, staff_on_shift_sqlite):
    web = Victim(stack["base"])
    await web.say("hey")
    before = {c["id"] for c in await staff_on_shift_sqlite.queue()}
    assert "utter_handoff_queued" in responses(await web.say("i want to talk to a person"))
    conversation, = {c["id"] for c in await staff_on_shift_sqlite.queue()} - before
    # the bot is paused: a reminder that they're in the queue (with 999), once
    waiting = await web.say("are you there")
    assert responses(waiting) == ["gateway_still_waiting"] and "999" in waiting[0]["text"]
    assert await web.say("hello??") == []
    # "delete my chat" still deletes it, from the queue too
    assert responses(await web.say("please delete my chat and everything")) == ["utter_forget_me"]
    assert conversation not in [c["id"] for c in await staff_on_shift_sqlite.queue()]
    async with web.http.get(f"{stack['base']}/api/chat/{web.session}/messages") as response:
        assert response.status == 404
    await web.close()


async def test_when_the_staff_member_goes_away_the_bot_takes_over_again(start_gateway):
    """Their console closed for STAFF_AWAY_SECONDS: the person is not left writing
    into silence. The bot answers again and the conversation waits in the queue."""
    import asyncio

    gateway = start_gateway(STAFF_AWAY_SECONDS="2")
    await asyncio.sleep(2.5)  # past the start-up grace
    max_ = await signed_in_staff(gateway, "max")
    await max_.go_live()
    web = Victim(gateway["base"])
    await web.say("hello")
    status, _, queued = call("POST", f"{gateway['internal']}/internal/handoffs", {"session": web.session},
                             headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"})
    assert status == 200 and queued["paused"]  # someone on shift: the bot pauses
    conversation = (await max_.queue())[0]["id"]
    assert (await max_.act(conversation, "claim"))[0] == 200
    assert await web.say("are you still there?") == []  # held: to the staff member

    await max_.socket.close()  # the laptop lid closes
    await asyncio.sleep(2.5)
    back = await web.say("hello? anyone?")
    assert responses(back)[0] == "gateway_team_away" and "999" in back[0]["text"]
    assert len(back) > 1  # and the bot answers the message itself
    [entry] = await max_.queue()
    assert (entry["id"], entry["status"], entry["claimed_by"]) == (conversation, "waiting", None)
    assert responses(await web.say("should i pay him"))[-1] == "utter_step_dont_pay"
    # staff can pick it up again when they are back
    await max_.go_live()
    assert (await max_.act(conversation, "claim"))[0] == 200
    await max_.close()
    await web.close()


async def test_staff_see_under_18_and_someone_helping_in_the_queue(stack, staff_on_shift_sqlite):
    """What changes the route reaches the queue: a 15-year-old, and a parent."""
    staff = staff_on_shift_sqlite
    before = {c["id"] for c in await staff.queue()}
    young, parent = Victim(stack["base"]), Victim(stack["base"])
    assert "utter_under_18" in responses(await young.say("im 15 and a man on snap has my pics"))
    assert "utter_handoff_queued" in responses(await young.say("can i talk to a real person"))
    assert "utter_helping_someone" in responses(
        await parent.say("my son is 14 and someone is blackmailing him"))
    assert "utter_handoff_queued" in responses(await parent.say("i want to speak to a person please"))
    new = [c for c in await staff.queue() if c["id"] not in before]
    assert sorted((c["under_18"], c["helping_someone"]) for c in new) == [(True, False), (True, True)]
    for victim in (young, parent):
        await victim.close()


# Direction controls: embeddings, overrides and isolates, and the Arabic letter mark.
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c"


async def test_direction_controls_never_reach_the_staff_transcript(stack, staff_on_shift_sqlite):
    """Unseen controls that change the order text is shown in ("\\u202e" turns what
    follows round) would make the transcript read differently from what was typed:
    gone from the person's words, the worker's replies and the notes."""
    staff = staff_on_shift_sqlite
    web, conversation = await claimed(stack, staff)
    await web.say("he wants \u2067£300\u2069 by \u202etonight\u202c ok\u061c")
    assert (await staff.act(conversation, "messages", "\u2068Stay\u2069 with me \u202dhere\u202c"))[0] == 200
    assert (await staff.act(conversation, "notes", "\u2066asked\u2069 for \u202bmoney\u202c"))[0] == 200
    status, seen = await staff.call("GET", f"/staff/api/conversations/{conversation}")
    assert status == 200
    said = [m["text"] for m in seen["messages"]] + [n["text"] for n in seen["notes"]]
    assert {"he wants £300 by tonight ok", "Stay with me here", "asked for money"} <= set(said)
    assert not [text for text in said if set(text) & set(BIDI)]
    await web.close()

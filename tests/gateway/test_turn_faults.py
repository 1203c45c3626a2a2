"""A turn when Rasa or the action server can't answer, is too slow or too busy, and
"delete my chat" racing the next message: through the web API of a gateway in this
process, against a fake Rasa. Whatever fails, the person gets an answer with the
emergency numbers, and crisis wording still gets the crisis reply (the safety floor,
bot/conversation/crisis_floor.py).

Admission's waits are module constants of bot/conversation/turn.py (WAIT_AT_MOST,
NEW_EXPECT_AT_MOST): the tests shorten them with monkeypatch rather than wait seconds."""
import asyncio
import time

import pytest

from bot.conversation import turn
from bot.conversation.admission import CRISIS, UNDER_WAY
from bot.conversation.replies import reply
from bot.retention import sweep
from tests.support.fake_rasa import DEFAULT_REPLY, utter
from tests.support.gateways import NOBODY, running
from tests.support.handoff_clients import responses

CRISIS_WORDS = "i want to end it all"


@pytest.mark.parametrize("trouble", ["500", "nothing to say", "refused", "too slow"])
async def test_when_rasa_cannot_answer_the_gateway_does_and_crisis_wording_gets_the_crisis_reply(
        rasa, sqlite_url, trouble):
    settings = {"database_url": sqlite_url}
    if trouble == "500":
        rasa.fail("webhook")
    elif trouble == "nothing to say":  # as Rasa does with its action server down
        for text in ("should i pay him", CRISIS_WORDS):
            rasa.says(text)
    elif trouble == "refused":
        settings["rasa_url"] = NOBODY
    else:
        rasa.slow("webhook", 0.5)
        settings["rasa_timeout"] = 0.1
    async with running(rasa, **settings) as gw:
        status, body, _ = await gw.chat("should i pay him")
        assert status == 200 and body["messages"] == [reply("gateway_unavailable")]
        session = body["session"]
        assert responses(await gw.say(session, CRISIS_WORDS)) == ["utter_crisis"]
        assert [m.get("response") for m in await gw.transcript(session)] == [
            None, "gateway_unavailable", None, "utter_crisis"]
        if trouble == "refused":
            async with gw.http.get(gw.base + "/api/health") as health:
                assert (health.status, await health.json()) == (
                    503, {"status": "unavailable", "rasa": "down", "actions": "up"})


async def test_a_crisis_rasa_cannot_read_is_queued_for_the_team_on_shift_once(rasa, gw):
    staff = await gw.staff_member()
    rasa.fail("webhook")
    session = await gw.start("hi")
    assert responses(await gw.say(session, CRISIS_WORDS)) == ["utter_crisis", "utter_handoff_crisis"]
    [queued] = await staff.queue()
    assert (queued["priority"], queued["status"]) == ("crisis", "waiting")
    # The bot keeps talking to them until someone claims it; "a person will join" is said once.
    assert responses(await gw.say(session, "i want to die")) == ["utter_crisis"]
    assert rasa.sent() == []


async def test_yes_to_are_you_thinking_of_hurting_yourself_is_a_crisis_when_rasa_is_down(rasa, gw):
    rasa.says("it's all too much", utter("utter_check_risk"))
    rasa.says("hi", {"text": "Shall I go on to the next step?", "response": "utter_offer_next_step",
                     "buttons": [{"title": "Yes", "payload": "/affirm"}]})
    at_risk, other = await gw.start("it's all too much"), await gw.start("hi")
    rasa.fail("webhook")
    assert responses(await gw.say(at_risk, "/affirm")) == ["utter_crisis"]
    assert responses(await gw.say(other, "/affirm")) == ["gateway_unavailable"]
    assert (await gw.transcript(at_risk))[2]["text"] == "Yes"


async def test_without_the_action_server_the_gateway_adds_what_its_actions_would_have(rasa, gw):
    rasa.actions_up = False
    rasa.says("should i pay him", utter("utter_not_your_fault"))
    rasa.says(CRISIS_WORDS, DEFAULT_REPLY)  # without its actions Rasa may miss a crisis
    rasa.says("i want to kill myself", utter("utter_crisis"))
    rasa.says("can i talk to a real person", DEFAULT_REPLY)
    rasa.reads("can i talk to a real person", "request_human")
    session = await gw.start("should i pay him")
    assert responses(await gw.transcript(session))[1:] == ["utter_not_your_fault", "gateway_unavailable"]
    assert responses(await gw.say(session, CRISIS_WORDS)) == ["utter_crisis"]
    assert responses(await gw.say(session, "i want to kill myself")) == ["utter_crisis"]
    # Nobody on shift: the helplines, as action_handoff would say.
    assert responses(await gw.say(session, "can i talk to a real person")) == [
        "utter_default", "utter_request_human"]
    async with gw.http.get(gw.base + "/api/health") as health:
        assert (health.status, await health.json()) == (
            503, {"status": "unavailable", "rasa": "up", "actions": "down"})


async def test_without_the_action_server_talk_to_a_person_still_reaches_the_team(rasa, gw):
    staff = await gw.staff_member()
    rasa.actions_up = False
    rasa.reads("can i talk to a real person", "request_human")
    rasa.says("i need help", {"text": "What would help most?", "response": "utter_ask_what_helps",
                              "buttons": [{"title": "Talk to a person", "payload": "/request_human"}]})
    first, second = await gw.start("hi"), await gw.start("i need help")
    asked = await gw.say(first, "can i talk to a real person")
    assert responses(asked) == ["utter_default", "utter_handoff_queued"]
    assert "You're next in the queue" in asked[1]["text"] and "about 10 minutes" in asked[1]["text"]
    # A tap on the button needs no reading.
    tapped = await gw.say(second, "/request_human")
    assert "You're number 2 in the queue" in tapped[-1]["text"] and "{" not in tapped[-1]["text"]
    assert [(c["priority"], c["status"]) for c in await staff.queue()] == [("normal", "waiting")] * 2
    # Each typed message is read for "talk to a person"; the tap is not.
    assert rasa.parsed() == ["hi", "i need help", "can i talk to a real person"]
    # Crisis: the team is told too.
    third = await gw.start("hi")
    assert responses(await gw.say(third, CRISIS_WORDS)) == ["utter_crisis", "utter_handoff_crisis"]
    assert (await staff.queue())[0]["priority"] == "crisis"


async def until(condition, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        await asyncio.sleep(0.01)


async def test_when_rasa_is_busy_crisis_goes_first_and_a_new_visitor_hears_so_at_once(
        rasa, sqlite_url, monkeypatch):
    monkeypatch.setattr(turn, "NEW_EXPECT_AT_MOST", 0.05)
    monkeypatch.setitem(turn.WAIT_AT_MOST, CRISIS, 10.0)  # not what this test is about
    async with running(rasa, database_url=sqlite_url, rasa_in_flight=1) as gw:
        busy, waiting, in_crisis = [await gw.start("hi") for _ in range(3)]
        rasa.says("are you there", DEFAULT_REPLY, hang=True)
        held = asyncio.ensure_future(gw.say(busy, "are you there"))
        await rasa.wait_for("webhook", 4)
        later = asyncio.ensure_future(gw.say(waiting, "should i pay him"))
        await until(lambda: gw.chats.admission.waiting() == 1)
        crisis = asyncio.ensure_future(gw.say(in_crisis, CRISIS_WORDS))
        await until(lambda: gw.chats.admission.waiting() == 2)
        new_crisis = asyncio.ensure_future(gw.chat("i want to kill myself"))
        await until(lambda: gw.chats.admission.waiting() == 3)
        sessions = await gw.store.sessions_idle_since(time.time() + 60)
        # A new visitor who would wait is told now, and nothing of theirs is kept.
        started = time.monotonic()
        status, body, headers = await gw.chat("hello is anyone there")
        assert (status, body["error"], headers["Retry-After"]) == (503, reply("gateway_busy")["text"], "20")
        assert time.monotonic() - started < 1
        assert await gw.store.sessions_idle_since(time.time() + 60) == sessions
        rasa.release()
        await asyncio.gather(held, later, crisis, new_crisis)
        assert rasa.sent()[3:] == ["are you there", CRISIS_WORDS, "i want to kill myself", "should i pay him"]


async def test_when_no_place_with_rasa_comes_free_in_time_the_gateway_answers(rasa, sqlite_url, monkeypatch):
    for urgency in (CRISIS, UNDER_WAY):
        monkeypatch.setitem(turn.WAIT_AT_MOST, urgency, 0.1)
    async with running(rasa, database_url=sqlite_url, rasa_in_flight=1) as gw:
        busy, other = await gw.start("hi"), await gw.start("hi")
        rasa.says("are you there", DEFAULT_REPLY, hang=True)
        held = asyncio.ensure_future(gw.say(busy, "are you there"))
        await rasa.wait_for("webhook", 3)
        assert responses(await gw.say(other, "should i pay him")) == ["gateway_unavailable"]
        assert responses(await gw.say(other, CRISIS_WORDS)) == ["utter_crisis"]
        status, body, _ = await gw.chat(CRISIS_WORDS)  # a new visitor in crisis is never "busy"
        assert status == 200 and responses(body["messages"]) == ["utter_crisis"]
        assert rasa.sent() == ["hi", "hi", "are you there"]
        rasa.release()
        await held


# --- "delete my chat" -------------------------------------------------------------
FORGET = "please delete this chat"


async def test_a_message_racing_forget_me_never_reaches_rasa_after_the_erasure(rasa, database_url):
    rasa.says(FORGET, utter("utter_forget_me"), delay=0.3)
    async with running(rasa, database_url=database_url) as gw:
        session = await gw.start("he has my pics")
        async with gw.page(session, after=2) as socket:
            forgetting = asyncio.ensure_future(gw.chat(FORGET, session))
            await rasa.wait_for("webhook", 2)  # the erasure's turn is with Rasa
            racing = await gw.chat("are you there??", session)
            status, body, _ = await forgetting
            assert (status, responses(body["messages"]), racing[0]) == (200, ["utter_forget_me"], 404)
            assert rasa.routes(session) == [("webhook", None), ("webhook", None), ("erase", None)]
            assert await gw.transcript(session) is None
            live = [await socket.receive_json() for _ in range(3)]
            assert [f.get("from") or f["type"] for f in live] == ["user", "bot", "forgotten"]
            await socket.send_json({"type": "say", "text": "hello?"})
            assert (await socket.receive_json())["status"] == 404
        assert rasa.sent(session) == ["he has my pics", FORGET]


async def test_an_erasure_rasa_did_not_confirm_is_retried_until_it_is(rasa, gw):
    rasa.says(FORGET, utter("utter_forget_me"))
    session = await gw.start("hi")
    rasa.fail("erase")
    assert responses(await gw.say(session, FORGET)) == ["utter_forget_me"]
    assert await gw.transcript(session) is None  # gone here at once
    await sweep(gw.app)  # the retention job retries
    del rasa.failing["erase"]
    await sweep(gw.app)
    await sweep(gw.app)
    assert [c.status for c in rasa.calls if c.route == "erase"] == [500, 500, 204]

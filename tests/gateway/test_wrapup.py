"""Wrap-up on close (bot/staff/wrapup.py) and "did this help?" (bot/conversation/feedback.py),
through a gateway in this process: the staff API, the internal API as the action server
calls it, the web API as the person's page does, and the insights an admin reads."""
import csv
import io

from bot.conversation.replies import reply
from bot.insights.counts import HIDDEN
from tests.support.fake_rasa import utter
from tests.support.handoff_clients import Staff, responses

ASK = "i want to talk to a person"
FULL_WRAPUP = {"categories": ["under_18", "childline"], "outcome": "got_what_they_needed"}


async def held(gw, staff, **facts):
    """A web conversation queued by the action server with these facts, claimed by `staff`."""
    session = await gw.start("hi")
    status, answer = await gw.internal_call("/internal/handoffs", {"session": session, **facts})
    assert status == 200 and answer["status"] == "queued", answer
    conversation = (await gw.store.handoff_for_session(session))["id"]
    assert (await staff.act(conversation, "claim"))[0] == 200
    return session, conversation


async def admin(gw) -> Staff:
    """An admin, signed in with two-factor set up (admins can do nothing before)."""
    return await gw.staff_member(live=False, role="admin")


async def raw_counts(gw):
    """Today's counters as stored, before any hiding."""
    _, bounds = gw.chats.insights.days(1)
    per_day, _ = await gw.store.insight_sums(bounds)
    return {name: total for _, name, total in per_day}


async def test_the_form_comes_with_the_known_facts_ticked_and_only_for_the_holder(rasa, gw):
    worker, colleague = await gw.staff_member(), await gw.staff_member()
    _, conversation = await held(gw, worker, under_18=True, paid=True, images_shared=True)
    status, form = await worker.call("GET", f"/staff/api/conversations/{conversation}/wrapup")
    assert status == 200 and form["ticked"] == ["under_18", "paid", "images_shared"]
    assert {"id": "childline", "label": "Childline"} in form["categories"]
    assert {"id": "left_before_the_end", "label": "Left before the end"} in form["outcomes"]
    # A crisis handoff ticks "Crisis", and someone helping ticks theirs.
    _, crisis = await held(gw, worker, crisis=True, helping=True)
    status, form = await worker.call("GET", f"/staff/api/conversations/{crisis}/wrapup")
    assert form["ticked"] == ["crisis", "parent_or_carer"]
    # Someone who doesn't hold it can neither see the form nor wrap it up.
    assert (await colleague.call("GET", f"/staff/api/conversations/{conversation}/wrapup"))[0] == 403
    status, _ = await colleague.call("POST", f"/staff/api/conversations/{conversation}/close", FULL_WRAPUP)
    assert status == 403
    assert (await gw.chats.insights.store.handoff(conversation))["status"] == "claimed"
    assert (await worker.call("GET", "/staff/api/conversations/nothing-here/wrapup"))[0] == 404


async def test_a_wrapup_with_unknown_ids_is_refused_and_closes_nothing(rasa, gw):
    worker = await gw.staff_member()
    _, conversation = await held(gw, worker)
    close = f"/staff/api/conversations/{conversation}/close"
    status, body = await worker.call("POST", close, {"categories": ["made_up"], "outcome": "got_what_they_needed"})
    assert (status, body["error"]) == (400, "Unknown category: made_up. Reload the console to get the current list.")
    status, body = await worker.call("POST", close, {"categories": ["under_18"]})
    assert (status, body["error"]) == (400, "Choose one outcome.")
    status, body = await worker.call("POST", close, {"outcome": "lost"})
    assert status == 400 and "Unknown outcome" in body["error"]
    assert (await gw.store.handoff(conversation))["status"] == "claimed"
    assert "wrapups" not in await raw_counts(gw)


async def test_wrapups_are_counted_and_shown_with_small_counts_hidden(rasa, gw):
    worker = await gw.staff_member()
    manager = await admin(gw)
    closed = []
    for n in range(5):
        _, conversation = await held(gw, worker)
        wrapup = FULL_WRAPUP if n < 2 else {"categories": ["under_18"], "outcome": "got_what_they_needed"}
        status, body = await worker.call("POST", f"/staff/api/conversations/{conversation}/close", wrapup)
        assert (status, body["status"]) == (200, "ended")
        closed.append(conversation)
        if n == 0:  # one so far: hidden everywhere
            status, summary = await manager.call("GET", "/staff/api/insights?days=1")
            assert summary["wrapup"]["count"] == HIDDEN
    # An old console's close, with no body: closed, not wrapped up.
    _, unwrapped = await held(gw, worker)
    assert (await worker.act(unwrapped, "close"))[0] == 200
    assert (await raw_counts(gw))["wrapups"] == 5
    status, summary = await manager.call("GET", "/staff/api/insights?days=1")
    counts = {c["id"]: c["count"] for c in summary["wrapup"]["categories"]}
    assert summary["wrapup"]["count"] == 5 and counts["under_18"] == 5
    assert counts["childline"] == HIDDEN and counts["ceop"] == 0
    outcomes = {o["id"]: o["count"] for o in summary["wrapup"]["outcomes"]}
    assert outcomes["got_what_they_needed"] == 5 and outcomes["passed_to_police"] == 0
    status, text = await manager.call("GET", "/staff/api/insights.csv?days=1")
    header, *_, total = list(csv.reader(io.StringIO(text)))
    column = dict(zip(header, total))
    assert (column["wrapups"], column["wrapup_category_under_18"]) == ("5", "5")
    assert column["wrapup_category_childline"] == HIDDEN
    # Counts only: the audit log says who wrapped up which, and nothing else is kept.
    audit = {(e["action"], e["conversation"]) for e in await gw.store.audit_log()}
    assert {("wrapup", c) for c in closed} <= audit and ("wrapup", unwrapped) not in audit
    # A worker (not an admin) can't read the counts.
    assert (await worker.call("GET", "/staff/api/insights?days=1"))[0] == 403


def asked(message) -> bool:
    return message.get("response") == "gateway_did_this_help"


async def test_did_this_help_after_a_close_counts_once_and_never_reaches_rasa(rasa, gw):
    worker = await gw.staff_member()
    session, conversation = await held(gw, worker)
    assert (await worker.act(conversation, "close"))[0] == 200
    *_, ended, question = await gw.transcript(session)
    assert ended["response"] == "utter_handoff_ended" and asked(question)
    assert [b["title"] for b in question["buttons"]] == ["Yes", "A bit", "No"]
    assert (await raw_counts(gw))["helped_handoff_asked"] == 1
    sent = rasa.sent(session)
    assert await gw.say(session, "/did_this_help_handoff_yes") == [reply("gateway_thanks_for_answer")]
    assert (await gw.transcript(session))[-2]["text"] == "Yes"  # what they tapped, in words
    # A second tap (the buttons stay on a messaging app): thanked, not counted again.
    assert responses(await gw.say(session, "/did_this_help_handoff_no")) == ["gateway_thanks_for_answer"]
    assert rasa.sent(session) == sent  # none of it went to Rasa
    counts = await raw_counts(gw)
    assert counts["helped_handoff_yes"] == 1 and "helped_handoff_no" not in counts
    # Asked for a person again and handed back: answered already, so not asked again.
    assert (await gw.internal_call("/internal/handoffs", {"session": session}))[0] == 200
    assert (await worker.act(conversation, "claim"))[0] == 200
    assert (await worker.act(conversation, "release"))[0] == 200
    assert not asked((await gw.transcript(session))[-1])
    # Typed, not tapped, the same words are only words: nothing counted.
    other, _ = await held(gw, worker)
    await gw.say(other, "/did_this_help_handoff_no")
    assert "helped_handoff_no" not in await raw_counts(gw)


async def test_a_hand_back_asks_last_and_keeps_the_steps_buttons(rasa, gw):
    worker = await gw.staff_member()
    rasa.on_handoff["released"] = [utter("utter_handback"), utter("utter_step_dont_pay")]
    session, conversation = await held(gw, worker)
    assert (await worker.act(conversation, "release"))[0] == 200
    *_, step, question = await gw.transcript(session)
    assert step["response"] == "utter_step_dont_pay" and asked(question)
    payloads = [b["payload"] for b in question["buttons"]]
    assert payloads == ["/did_this_help_handoff_yes", "/did_this_help_handoff_a_bit",
                        "/did_this_help_handoff_no", *(b["payload"] for b in step["buttons"])]
    # "OK, what's next?" from the question's buttons still goes to Rasa as the step's would.
    assert await gw.say(session, step["buttons"][0]["payload"])
    assert rasa.sent(session)[-1] == step["buttons"][0]["payload"]


async def test_did_this_help_after_the_four_steps_counts_by_its_own_route(rasa, gw):
    rasa.says("no thanks", utter("utter_no_human"), utter("utter_did_this_help"))
    session = await gw.start("hi")
    *_, question = await gw.say(session, "no thanks")
    assert [b["payload"] for b in question["buttons"]] == [
        "/did_this_help_four_steps_yes", "/did_this_help_four_steps_a_bit", "/did_this_help_four_steps_no"]
    assert responses(await gw.say(session, "/did_this_help_four_steps_a_bit")) == ["gateway_thanks_for_answer"]
    assert rasa.sent(session) == ["hi", "no thanks"]
    counts = await raw_counts(gw)
    assert (counts["helped_four_steps_asked"], counts["helped_four_steps_a_bit"]) == (1, 1)
    assert "helped_handoff_a_bit" not in counts


async def test_did_this_help_is_never_asked_after_a_crisis(rasa, gw):
    worker = await gw.staff_member()
    # A crisis handoff.
    session, conversation = await held(gw, worker, crisis=True)
    assert (await worker.act(conversation, "close"))[0] == 200
    assert not any(asked(m) for m in await gw.transcript(session))
    # A handoff that was not a crisis, in a conversation that had the crisis response,
    # or was asked gently about suicide or self-harm.
    for response in ("utter_crisis", "utter_check_risk"):
        rasa.says("it's too much", utter(response))
        session = await gw.start("hi")
        await gw.say(session, "it's too much")
        assert (await gw.internal_call("/internal/handoffs", {"session": session}))[0] == 200
        conversation = (await gw.store.handoff_for_session(session))["id"]
        assert (await worker.act(conversation, "claim"))[0] == 200
        assert (await worker.act(conversation, "release"))[0] == 200
        assert not any(asked(m) for m in await gw.transcript(session)), response
    # Nor during one: a crisis while held moves it to the top, and then no question.
    session, conversation = await held(gw, worker)
    rasa.reads("i cant go on i want to end it all", "crisis")
    await gw.say(session, "i cant go on i want to end it all")
    assert (await worker.act(conversation, "close"))[0] == 200
    assert not any(asked(m) for m in await gw.transcript(session))
    assert "helped_handoff_asked" not in await raw_counts(gw)


async def test_the_four_steps_question_is_dropped_after_a_crisis_only_the_gateway_saw(rasa, gw):
    """A crisis while a person held the chat is answered by the gateway, not Rasa: the
    assistant's tracker never saw it, so its end of the four steps would still ask.
    The gateway knows (the conversation's crisis mark) and leaves the question out."""
    worker = await gw.staff_member()
    session, conversation = await held(gw, worker)
    rasa.reads("i cant go on i want to end it all", "crisis")
    await gw.say(session, "i cant go on i want to end it all")
    assert (await worker.act(conversation, "release"))[0] == 200
    rasa.says("no thanks", utter("utter_no_human"), utter("utter_did_this_help"))
    assert responses(await gw.say(session, "no thanks")) == ["utter_no_human"]
    # Without a crisis the same answer keeps its question (test above): only the mark differs.
    other = await gw.start("hi")
    assert responses(await gw.say(other, "no thanks")) == ["utter_no_human", "utter_did_this_help"]

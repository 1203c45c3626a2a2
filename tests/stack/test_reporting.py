"""Reporting, end to end through the real processes (make run: Rasa, the action
server, the gateway) with the reporting channel's receiver faked on loopback:
getting ready (every question skippable, corrections, a crisis mid-way), passing
the case on with consent, and where the blackmailer's username may and may not be."""
import json
import re
import secrets

import pytest

from tests.conftest import REPORT_RECEIVER, STACK_TOKEN
from tests.support.handoff_clients import Victim, responses, signed_in_staff
from tests.support.processes import call

REFERENCE = re.compile(r"\bSX-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
QUESTIONS = ["utter_ask_report_platform", "utter_ask_report_started", "utter_ask_report_demand",
             "utter_ask_report_paid", "utter_ask_report_shared", "utter_ask_report_screenshots",
             "utter_ask_report_handle"]


def last(messages):
    return responses(messages)[-1]


async def at_step_four(stack) -> Victim:
    victim = Victim(stack["base"])
    await victim.say("hi")
    # No app named: the first question is the app (test_what_was_said_is_not_asked_again).
    await victim.say("some guy says hell send my nudes to my family unless i pay him")
    step = await victim.say("how do i report this to the police")
    assert "utter_step_report" in responses(step)
    buttons = [b["payload"] for m in step if m.get("response") == "utter_step_report"
               for b in m["buttons"]]
    assert buttons[:3] == ["/report_police", "/report_get_ready", "/report_pass_on"]
    return victim


async def answer_all(victim: Victim, handle: str):
    """The questions, answered as a person would: typed, tapped, with slang."""
    assert last(await victim.say("it was on insta")) == "utter_ask_report_started"
    assert last(await victim.say("last nite about 11")) == "utter_ask_report_demand"
    assert last(await victim.say('/inform{"choice":"money"}')) == "utter_ask_report_paid"
    assert last(await victim.say("/affirm")) == "utter_ask_report_payment"
    assert last(await victim.say("50 quid amazon gift card")) == "utter_ask_report_shared"
    assert last(await victim.say('/inform{"choice":"not sure"}')) == "utter_ask_report_screenshots"
    assert last(await victim.say("yeah got them")) == "utter_ask_report_handle"
    return await victim.say(handle)


async def test_a_new_user_passes_their_case_on_and_gets_a_reference(stack, receiver):
    handle = f"dark_lord_{secrets.token_hex(3)}"
    victim = await at_step_four(stack)
    started = await victim.say("/report_pass_on")
    assert responses(started) == ["utter_report_intro_pass_on", "utter_ask_report_platform"]
    summary = await answer_all(victim, f"its @{handle} on insta instagram.com/{handle}")
    assert last(summary) == "utter_report_summary"
    text = summary[-1]["text"]
    for answer in ("Instagram", "Last nite about 11", "Money", "50 quid amazon gift card",
                   "Not sure", "given (kept only for your case"):
        assert answer in text
    assert handle not in text

    confirmed = await victim.say("/affirm")
    assert responses(confirmed) == ["utter_report_notes", "utter_ask_report_consent"]
    assert REPORT_RECEIVER in confirmed[-1]["text"]
    assert last(await victim.say("/affirm")) == "utter_ask_report_contact_wanted"
    sent = await victim.say("/deny")  # no contact: stays anonymous
    assert last(sent) == "utter_report_sent"
    reference = REFERENCE.search(sent[-1]["text"]).group()

    case = receiver.wait_for(reference)
    assert len(receiver.by_reference(reference)) == 1
    assert all(p["signed"] for p in receiver.posts if p["key"] == case["idempotency_key"])
    assert case["answers"]["platform"] == "Instagram" and case["answers"]["demand"] == "money"
    assert case["answers"]["paid"] == "yes" and "amazon" in case["answers"]["payment"]
    assert handle in case["blackmailer"] and case["contact"] is None
    assert case["consent"]["by"] == "victim"
    said = [m["text"] for m in case["transcript"] if m["from"] == "user"]
    assert "[Their username or link: kept only for your case]" in said
    assert handle not in json.dumps(case["transcript"])

    # The username went into the case, and nowhere else: not the transcript, not
    # Rasa's tracker, not a log; and once delivered, not our store either.
    assert all(handle not in m["text"] for m in await victim.messages())
    status, _, tracker = call("GET", f"{stack['rasa']}/conversations/{victim.session}/tracker"
                                     f"?token={STACK_TOKEN}")
    assert status == 200 and handle not in json.dumps(tracker)
    assert "dark_lord" not in json.dumps(tracker.get("slots"))
    await wait_until_delivered(stack, reference)
    for path in stack["data"].glob("gateway.sqlite3*"):
        assert handle.encode() not in path.read_bytes()
    assert handle not in stack["process"].output()

    # Asked again (typed: the step 4 buttons are long gone): the same case, not a second one.
    again = await victim.say("actually can you pass my case on")
    assert responses(again) == ["utter_report_already_sent"] and reference in again[0]["text"]
    await victim.close()


async def wait_until_delivered(stack, reference):
    import asyncio

    staff = await signed_in_staff(stack, "casey")
    for _ in range(100):
        status, body = await staff.call("GET", "/staff/api/cases")
        assert status == 200
        found = [c for c in body["cases"] if c["reference"] == reference]
        if found and found[0]["status"] == "delivered":
            assert body["counts"]["delivered"] >= 1
            await staff.close()
            return found[0]
        await asyncio.sleep(0.1)
    raise AssertionError("the case was never marked delivered")


async def test_every_question_can_be_skipped_and_the_summary_downloads_as_notes(stack):
    victim = await at_step_four(stack)
    asked = await victim.say("/report_get_ready")
    assert responses(asked) == ["utter_report_intro", "utter_ask_report_platform"]
    for question in QUESTIONS[1:]:
        assert last(await victim.say("/skip")) == question
    summary = await victim.say("/skip")
    assert last(summary) == "utter_report_summary"
    assert summary[-1]["text"].count("skipped") == 7  # no payment question after a skip
    done = await victim.say("/affirm")
    assert responses(done) == ["utter_report_notes", "utter_report_next"]
    notes = done[0]["text"]
    assert "Evidence to keep" in notes and "Screenshots" in notes and "999" in notes
    await victim.close()


async def test_what_was_said_is_not_asked_again(stack):
    """The app, having paid and the pictures being out, said in the story, answer
    their questions already (../shared/CONVERSATION.md: a fact said once)."""
    victim = Victim(stack["base"])
    await victim.say("someone on snap has my nudes and hes already sent them to my mates")
    await victim.say("i already paid him £50 and he wants more")
    asked = await victim.say("/report_get_ready")
    assert responses(asked) == ["utter_report_intro", "utter_ask_report_started"]
    assert last(await victim.say("/skip")) == "utter_ask_report_demand"
    assert last(await victim.say("/skip")) == "utter_ask_report_payment"  # paid: how much?
    assert last(await victim.say("/skip")) == "utter_ask_report_screenshots"  # shared: known
    await victim.say("/skip")
    summary = await victim.say("/skip")
    text = summary[-1]["text"]
    for answer in ("App or website: Snapchat", "Paid or sent anything: Yes", "Pictures shared: Yes"):
        assert answer in text
    await victim.close()


@pytest.mark.parametrize("skip_word", ["skip", "idk", "dont know tbh", "rather not say"])
async def test_typed_skips_move_on(stack, skip_word):
    victim = await at_step_four(stack)
    await victim.say("/report_get_ready")
    assert last(await victim.say(skip_word)) == "utter_ask_report_started"
    await victim.close()


async def test_an_answer_can_be_corrected_from_the_summary(stack):
    victim = await at_step_four(stack)
    await victim.say("/report_get_ready")
    assert last(await victim.say("on snap")) == "utter_ask_report_started"
    for _ in QUESTIONS[1:]:
        await victim.say("/skip")
    wrong = await victim.say("thats wrong")
    assert last(wrong) == "utter_report_which_answer"
    asked = await victim.say('/correct_report{"report_field":"report_platform"}')
    assert last(asked) == "utter_ask_report_platform"
    fixed = await victim.say("it was discord actually")
    assert last(fixed) == "utter_report_summary"
    assert "Discord" in fixed[-1]["text"] and "Snapchat" not in fixed[-1]["text"]
    # And paying: a yes brings the payment question back.
    await victim.say("/correct_report")
    assert last(await victim.say('/correct_report{"report_field":"report_paid"}')) == \
        "utter_ask_report_paid"
    assert last(await victim.say("yes")) == "utter_ask_report_payment"
    fixed = await victim.say("£200 bank transfer")
    assert last(fixed) == "utter_report_summary" and "£200 bank transfer" in fixed[-1]["text"]
    await victim.close()


async def test_a_crisis_mid_way_ends_the_questions_asks_if_they_are_safe_and_keeps_the_answers(stack):
    victim = await at_step_four(stack)
    await victim.say("/report_get_ready")
    assert last(await victim.say("instagram")) == "utter_ask_report_started"
    crisis = await victim.say("i cant do this anymore i want to kill myself")
    # Never the next question straight after "I want to die".
    assert responses(crisis)[0] == "utter_crisis" and last(crisis) == "utter_ask_safe"
    assert "utter_crisis_safe" in responses(await victim.say("/affirm"))
    # Later, the questions carry on where they were: the app is not asked again.
    assert last(await victim.say("/report_get_ready")) == "utter_ask_report_started"
    assert last(await victim.say("yesterday")) == "utter_ask_report_demand"
    await victim.close()


async def test_a_crisis_at_the_username_question_is_not_kept_as_evidence(stack, receiver):
    victim = await at_step_four(stack)
    await victim.say("/report_pass_on")
    for _ in QUESTIONS[:-1]:
        await victim.say("/skip")
    crisis = await victim.say("i just want to die")
    assert "utter_crisis" in responses(crisis) and last(crisis) == "utter_ask_safe"
    mine = [m["text"] for m in await victim.messages() if m["from"] == "user"]
    assert "i just want to die" in mine  # stored like any message, not held
    await victim.say("/affirm")
    assert last(await victim.say("/report_pass_on")) == "utter_ask_report_handle"
    summary = await victim.say("/skip")
    assert "Their username or link: skipped" in summary[-1]["text"]
    await victim.close()


async def test_saying_no_to_consent_sends_nothing(stack, receiver):
    victim = await at_step_four(stack)
    await victim.say("/report_pass_on")
    for _ in QUESTIONS:
        await victim.say("/skip")
    before = len(receiver.cases)
    assert last(await victim.say("/affirm")) == "utter_ask_report_consent"
    refused = await victim.say("/deny")
    assert responses(refused) == ["utter_report_not_sent"]
    assert len(receiver.cases) == before
    # They can still change their mind: the answers are kept, consent is asked again.
    assert last(await victim.say("ok can u send it to the police for me after all")) == \
        "utter_ask_report_consent"
    await victim.close()


async def test_contact_details_go_only_into_the_case(stack, receiver):
    victim = await at_step_four(stack)
    await victim.say("/report_pass_on")
    for _ in QUESTIONS:
        await victim.say("/skip")
    await victim.say("/affirm")
    await victim.say("/affirm")
    assert last(await victim.say("/affirm")) == "utter_ask_report_contact"
    email = f"sam.{secrets.token_hex(3)}@example.org"
    sent = await victim.say(f"email me at {email} after 6pm")
    assert last(sent) == "utter_report_sent"
    case = receiver.wait_for(REFERENCE.search(sent[-1]["text"]).group())
    assert email in case["contact"] and case["blackmailer"] is None
    assert all(email not in m["text"] for m in await victim.messages())
    await victim.close()


async def test_duplicate_submissions_make_one_case(stack, receiver):
    from tests.conftest import INTERNAL_TOKEN

    victim = Victim(stack["base"])
    await victim.say("hi")
    body = {"session": victim.session, "answers": {"platform": "tiktok", "demand": "money"}}
    auth = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
    answers = [call("POST", f"{stack['internal']}/internal/cases", body, headers=auth)
               for _ in range(3)]
    assert [status for status, _, _ in answers] == [200, 200, 200]
    references = {answer["reference"] for _, _, answer in answers}
    assert len(references) == 1
    assert [answer["already"] for _, _, answer in answers] == [False, True, True]
    reference = references.pop()
    receiver.wait_for(reference)
    assert len(receiver.by_reference(reference)) == 1
    # Unsigned callers and bad input get a clear error.
    assert call("POST", f"{stack['internal']}/internal/cases", body)[0] == 401
    assert call("POST", f"{stack['internal']}/internal/cases", {"session": "nope"}, headers=auth)[0] == 400
    assert call("POST", f"{stack['internal']}/internal/cases", {"session": "x" * 32},
                headers=auth)[0] == 404
    await victim.close()


async def test_staff_pass_a_case_on_for_the_person_with_their_consent(stack, receiver):
    staff = await signed_in_staff(stack, "robin")
    await staff.go_live()  # on shift
    victim = Victim(stack["base"])
    await victim.say("hi")
    before = {c["id"] for c in await staff.queue()}
    assert "utter_handoff_queued" in responses(await victim.say("can i talk to a real person"))
    conversation = next(c["id"] for c in await staff.queue() if c["id"] not in before)
    assert (await staff.act(conversation, "claim"))[0] == 200
    path = f"/staff/api/conversations/{conversation}/report"
    details = {"answers": {"platform": "snapchat", "demand": "more pictures"},
               "blackmailer": "snap: ghost_man_77"}
    status, body = await staff.call("POST", path, details)
    assert status == 400 and "consent" in body["error"]
    status, case = await staff.call("POST", path, {**details, "consent": True})
    assert status == 200 and REFERENCE.fullmatch(case["reference"]) and not case["already"]
    told = await victim.wait_for(lambda m: m.get("response") == "gateway_case_passed_on")
    assert case["reference"] in told["text"]
    delivered = receiver.wait_for(case["reference"])
    assert delivered["consent"]["by"] == "staff" and delivered["blackmailer"] == "snap: ghost_man_77"
    assert delivered["answers"]["platform"] == "snapchat"
    # Another staff member can't do it for a conversation they don't hold.
    other = await signed_in_staff(stack, "kit")
    assert (await other.call("POST", path, {**details, "consent": True}))[0] == 403
    # Anonymous callers can see no cases.
    assert call("GET", f"{stack['base']}/staff/api/cases")[0] == 401
    for client in (staff, other):
        await client.close()
    await victim.close()


async def test_report_it_yourself_gives_the_configured_force_and_999(stack):
    from tests.conftest import POLICE

    victim = await at_step_four(stack)
    told = await victim.say("/report_police")
    assert responses(told) == ["utter_report_police"]
    for fact in (POLICE["POLICE_FORCE_NAME"], "101", POLICE["POLICE_REPORT_URL"], "999"):
        assert fact in told[0]["text"]
    typed = await victim.say("whats the link to report it online myself")
    assert responses(typed) == ["utter_report_police"]
    await victim.close()

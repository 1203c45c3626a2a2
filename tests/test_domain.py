"""The domain keeps the conversation contract and states the facts exactly."""
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

CONTRACT = ROOT.parent / "shared" / "CONVERSATION.md"
# The names fixed by ../shared/CONVERSATION.md (also read from the file when present).
CONTRACT_INTENTS = {
    "greet", "goodbye", "affirm", "deny", "thank", "explain_situation", "ask_pay",
    "already_paid", "ask_reply", "ask_delete", "ask_report", "images_shared",
    "feel_ashamed", "crisis", "under_18", "request_human", "ask_privacy", "forget_me",
    "bot_challenge", "out_of_scope", "helping_someone",
}
CONTRACT_RESPONSES = {
    "utter_step_dont_pay", "utter_step_stop_replying", "utter_step_keep_evidence",
    "utter_step_report", "utter_not_your_fault", "utter_crisis", "utter_under_18",
    "utter_images_shared", "utter_privacy", "utter_check_risk", "utter_helping_someone",
}


def texts(domain, response):
    return [variation["text"] for variation in domain["responses"][response]]


def test_contract_file_lists_the_names_we_keep():
    if not CONTRACT.exists():
        pytest.skip("../shared/CONVERSATION.md is not beside this checkout")
    contract = CONTRACT.read_text()
    intents_table, responses_table = contract.split("## Responses")
    assert set(re.findall(r"^\| `(\w+)` \|", intents_table, re.M)) == CONTRACT_INTENTS
    assert set(re.findall(r"^\| `(utter_\w+)` \|", responses_table, re.M)) == CONTRACT_RESPONSES


def test_domain_has_every_contract_intent_and_response(domain):
    assert CONTRACT_INTENTS <= set(domain["intents"])
    assert CONTRACT_RESPONSES <= set(domain["responses"])


def test_crisis_gives_every_number_exactly(domain):
    (text,) = texts(domain, "utter_crisis")
    for fact in ("999", "Samaritans: call 116 123", "text SHOUT to 85258",
                 "Childline (under 19): call 0800 1111"):
        assert fact in text


def test_under_18_names_childline_report_remove_and_ceop(domain):
    (text,) = texts(domain, "utter_under_18")
    for fact in ("not in trouble", "0800 1111", "Report Remove", "IWF", "ceop.police.uk"):
        assert fact in text


FOR_SOMEONE = {"type": "slot", "name": "for_someone", "value": True}


def variation(domain, response, *conditions):
    """The variation of `response` whose condition is exactly these (none: the default)."""
    found = [v for v in domain["responses"][response] if v.get("condition", []) == list(conditions)]
    assert len(found) == 1, (response, conditions)
    return found[0]


def test_images_shared_routes_by_age_and_writer_and_warns_about_recovery_scams(domain):
    under_18 = variation(domain, "utter_images_shared", {"type": "slot", "name": "under_18", "value": True},
                         {"type": "slot", "name": "for_someone", "value": False})
    helper = variation(domain, "utter_images_shared", FOR_SOMEONE)
    unknown_age = variation(domain, "utter_images_shared")
    assert "Report Remove" in under_18["text"] and "Take It Down" in under_18["text"]
    assert "StopNCII" not in under_18["text"]
    # Report Remove uploads to the IWF; only Take It Down and StopNCII stay on the device.
    assert "upload the picture safely" in under_18["text"] and "upload the picture safely" in helper["text"]
    for fact in ("Report Remove", "takeitdown.ncmec.org", "StopNCII.org", "0345 6000 459"):
        assert fact in unknown_age["text"]
    for fact in ("Report Remove", "takeitdown.ncmec.org", "StopNCII.org", "their own device"):
        assert fact in helper["text"]
    for each in (under_18, helper, unknown_age):
        assert "scam" in each["text"] and "Report the post" in each["text"]


def test_conditional_variations_never_overlap(domain):
    """Rasa picks at random among matching variations: one must match, at most."""
    slots = domain["slots"]
    for name, variations in domain["responses"].items():
        conditions = [v["condition"] for v in variations if v.get("condition")]
        for i, first in enumerate(conditions):
            for second in conditions[i + 1:]:
                shared = {c["name"] for c in first} & {c["name"] for c in second}
                differ = any(a["value"] != b["value"] for a in first for b in second
                             if a["name"] == b["name"])
                assert shared and differ, (name, first, second)
                for slot in shared:  # "false" matches only a slot that starts false, not unset
                    if any(c["value"] is False for c in first + second if c["name"] == slot):
                        assert slots[slot].get("initial_value") is False, (name, slot)


def test_helpers_route_gives_what_a_parent_needs(domain):
    (text,) = texts(domain, "utter_helping_someone")
    for fact in ("not in trouble", "don't blame", "Don't contact the blackmailer", "four steps",
                 "Report Remove", "ceop.police.uk", "NSPCC Helpline 0808 800 5000",
                 "help@nspcc.org.uk", "999"):
        assert fact in text


def test_steps_speak_about_them_to_someone_helping(domain):
    for step in ("utter_step_dont_pay", "utter_step_stop_replying", "utter_step_keep_evidence",
                 "utter_step_report", "utter_not_your_fault", "utter_summary"):
        text = variation(domain, step, FOR_SOMEONE)["text"]
        assert re.search(r"\bthe(y|ir|m)\b", text, re.I) and "your account" not in text, step


def test_the_gentle_question_asks_directly_with_yes_and_no(domain):
    (check,) = domain["responses"]["utter_check_risk"]
    assert "ending their life" in check["text"] and "in danger right now" in check["text"]
    assert [b["payload"] for b in check["buttons"]] == ["/affirm", "/deny"]
    (under_18_step,) = texts(domain, "utter_step_report_under_18")
    assert "ceop.police.uk" in under_18_step and "not in trouble" in under_18_step


def test_step_four_uses_the_configured_police_route_and_999(domain):
    for text in texts(domain, "utter_step_report"):
        for placeholder in ("{police_phone}", "{police_force}", "{police_report_url}", "999"):
            assert placeholder in text
    slots = domain["slots"]
    assert slots["police_force"]["initial_value"] == "Northamptonshire Police"
    assert slots["police_phone"]["initial_value"] == "101"
    assert slots["police_report_url"]["initial_value"].startswith("https://www.northants.police.uk/")


def test_words_are_short_enough_for_a_phone(domain):
    for name, variations in domain["responses"].items():
        for variation in variations:
            assert len(variation["text"]) <= 520, name


def test_nothing_asks_why_or_blames(domain):
    everything = " ".join(v["text"].lower() for vs in domain["responses"].values() for v in vs)
    for phrase in ("why did you", "you shouldn't have", "you should not have"):
        assert phrase not in everything
    assert "not your fault" in everything
    assert not re.search(r"(?<!not )(?<!never )your fault", everything)


def test_the_privacy_answer_states_the_default_retention(domain):
    """utter_privacy promises a deletion time: it must be the gateway's default."""
    from bot.config import Settings

    days = Settings().retention_hours / 24
    for text in texts(domain, "utter_privacy"):
        assert f"deleted {days:g} days after your last message" in text
        assert "delete my chat" in text


def test_step_four_offers_the_three_ways_to_report(domain):
    with_channel = variation(domain, "utter_step_report", {"type": "slot", "name": "can_pass_on", "value": True},
                             {"type": "slot", "name": "for_someone", "value": False})
    without = variation(domain, "utter_step_report")
    payloads = [b["payload"] for b in with_channel["buttons"]]
    assert payloads[:3] == ["/report_police", "/report_get_ready", "/report_pass_on"]
    assert "/report_pass_on" not in [b["payload"] for b in without["buttons"]]


def test_every_report_question_can_be_skipped(domain):
    questions = [name for name in domain["responses"] if name.startswith("utter_ask_report_")]
    form_slots = {slot for form in domain["forms"].values() for slot in form["required_slots"]}
    assert {q.replace("utter_ask_", "") for q in questions} == form_slots
    for name in questions:
        if name in ("utter_ask_report_consent", "utter_ask_report_contact_wanted"):
            continue  # yes or no: "no" is the way out
        payloads = [b["payload"] for v in domain["responses"][name] for b in v["buttons"]]
        assert "/skip" in payloads, name


def test_reporting_button_titles_fit_whatsapp(domain):
    """WhatsApp reply buttons show 20 characters (with the police number filled in)."""
    for name, variations in domain["responses"].items():
        if "report" not in name:
            continue
        for variation in variations:
            for button in variation.get("buttons", []):
                assert len(button["title"].replace("{police_phone}", "101")) <= 20, (name, button)


def test_consent_says_what_is_sent_to_whom_and_that_no_is_fine(domain):
    (text,) = texts(domain, "utter_ask_report_consent")
    for words in ("{report_receiver}", "your answers", "names and numbers taken out",
                  "username or link", "reference number", "won't get your name",
                  "If you say no, nothing is sent", "still help you"):
        assert words in text


def test_reporting_words_keep_the_emergency_number_in_view(domain):
    for name in ("utter_report_police", "utter_report_notes", "utter_report_sent",
                 "utter_report_send_failed", "utter_report_already_sent"):
        for text in texts(domain, name):
            assert "999" in text, name

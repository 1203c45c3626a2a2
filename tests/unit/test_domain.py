"""The domain keeps the conversation contract and states the facts exactly."""
import re

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
    assert set(domain["intents"]) >= CONTRACT_INTENTS
    assert set(domain["responses"]) >= CONTRACT_RESPONSES


def test_crisis_gives_every_number_exactly_and_999_first(domain):
    (text,) = texts(domain, "utter_crisis")
    for fact in ("999", "Samaritans: call 116 123", "text SHOUT to 85258",
                 "Childline (under 19): call 0800 1111", "Papyrus HOPELINE247 (under 35): call 0800 068 4141"):
        assert fact in text
    # On a phone the first lines are what is seen: 999 is in them.
    assert "999" in "\n".join(text.split("\n")[:2])
    # A parent may be the one writing: the same words tell them to call for someone with them,
    # and once they are known to be helping, the question is about the young person.
    assert "anyone else" in text
    assert variation(domain, "utter_ask_safe", FOR_SOMEONE)["text"] == "Are they safe right now?"
    # Only what the fact sheet says: Childline and Papyrus are not called "day or night".
    for line in text.split("\n"):
        if "day or night" in line:
            assert "Childline" not in line and "Papyrus" not in line
    # No promises: nobody can know it will be sorted out or get easier.
    for promise in ("sorted out", "get easier", "be fine", "be OK", "will be alright"):
        assert promise not in text


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
    assert "upload the picture safely" in under_18["text"] and "upload the picture to the IWF" in helper["text"]
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
                 "Report Remove", "ceop.police.uk", "NSPCC Helpline on 0808 800 5000",
                 "help@nspcc.org.uk", "999", "Childline on 0800 1111"):
        assert fact in text  # a friend who helps may be a child: Childline for them


def test_steps_speak_about_them_to_someone_helping(domain):
    for step in ("utter_step_dont_pay", "utter_step_stop_replying", "utter_step_keep_evidence",
                 "utter_step_report", "utter_not_your_fault", "utter_summary"):
        text = variation(domain, step, FOR_SOMEONE)["text"]
        assert re.search(r"\bthe(y|ir|m)\b", text, re.I) and "your account" not in text, step


def test_the_gentle_question_asks_directly_with_yes_and_no(domain):
    check = variation(domain, "utter_check_risk")
    assert "ending their life" in check["text"] and "in danger right now" in check["text"]
    assert [b["payload"] for b in check["buttons"]] == ["/affirm", "/deny"]
    (under_18_step,) = texts(domain, "utter_step_report_under_18")
    assert "ceop.police.uk" in under_18_step and "not in trouble" in under_18_step


def test_step_four_uses_the_configured_police_route_and_999(domain):
    for text in texts(domain, "utter_step_report"):
        for placeholder in ("{police_phone}", "{police_report_url}", "999", "never too late"):
            assert placeholder in text
    # With no force in .env the route is national: one county's form is never
    # shown to the whole country.
    slots = domain["slots"]
    assert slots["police_force"]["initial_value"] == "the police"
    assert slots["police_phone"]["initial_value"] == "101"
    assert slots["police_report_url"]["initial_value"] == "https://www.police.uk"
    for route in texts(domain, "utter_report_police"):
        assert "{police_force}" in route and "local police" in route


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
    from bot.settings import Settings

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
    for words in ("{report_receiver}", "This isn't a police report", "your answers",
                  "names and numbers we found taken out", "username or link", "reference number",
                  "don't send your phone number", "If you say no, nothing is sent", "still help you"):
        assert words in text


def test_reporting_words_keep_the_emergency_number_in_view(domain):
    for name in ("utter_report_police", "utter_report_notes", "utter_report_sent",
                 "utter_report_send_failed", "utter_report_already_sent"):
        for text in texts(domain, name):
            assert "999" in text, name


# --- every fact as on the fact sheet (services.yml), every word a 12-year-old can read ---

STEPS = ("utter_step_dont_pay", "utter_step_stop_replying", "utter_step_keep_evidence",
         "utter_step_report", "utter_step_report_under_18")
# A phone number, a text number or 999/101: three digits or more, maybe in spaced groups.
NUMBER = re.compile(r"(?<![£\w])\d{2,}(?: \d{2,})*(?!\w)")
LINK = re.compile(r"(?i)\b(?:https?://)?[\w-]+(?:\.[\w-]+)*\.(?:uk|org|com|net)\b(?:/[^\s)]*)?")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


@pytest.fixture(scope="module")
def sheet():
    from bot.fact_sheet import fact_sheet

    return fact_sheet()


def every_text(domain):
    """Every response's words, its buttons' titles, and the slots' default values."""
    for name, variations in domain["responses"].items():
        for variation in variations:
            yield name, variation["text"]
            for button in variation.get("buttons", []):
                yield name, button["title"]
    for name, slot in domain["slots"].items():
        if isinstance(slot.get("initial_value"), str):
            yield f"slot {name}", slot["initial_value"]


def numbers_in(text):
    return [m for m in NUMBER.finditer(text) if len(re.sub(r"\D", "", m.group())) >= 3]


def test_every_number_link_and_email_is_on_the_fact_sheet(domain, sheet):
    from bot.fact_sheet import on_sheet

    for name, text in every_text(domain):
        for found in numbers_in(text):
            assert re.sub(r"\D", "", found.group()) in sheet.numbers(), (name, found.group())
        without_emails = EMAIL.sub("", text)
        for link in LINK.findall(without_emails):
            assert on_sheet(link, sheet), (name, link)
        for email in EMAIL.findall(text):
            assert email.lower() in sheet.emails(), (name, email)


def test_each_number_is_given_with_its_own_service(domain, sheet):
    """"Samaritans: call 116 123", never "Samaritans: call 0800 1111": the service
    named last before a number, on the same line, is the one it belongs to."""
    owner = {re.sub(r"\D", "", n): s for s in sheet.services.values() for n in (s.phone, s.number) if n}
    for name, text in every_text(domain):
        for line in text.split("\n"):
            for found in numbers_in(line):
                service = owner[re.sub(r"\D", "", found.group())]
                if service.key in ("emergency", "police"):
                    continue  # 999 and 101 need no name
                before = line[:found.start()]
                named = [(before.rfind(s.name), s.key) for s in sheet.services.values()
                         if s.name in before]
                assert named and max(named)[1] == service.key, (name, line)


def test_a_line_that_is_not_open_day_and_night_says_when_it_is(domain, sheet):
    """The Revenge Porn Helpline works weekdays only: never among the day-or-night lines."""
    for service in sheet.services.values():
        if not service.phone or service.hours in (None, "day or night"):
            continue
        when = service.hours.split()[0].rstrip(",")  # "weekdays"
        for name, text in every_text(domain):
            for line in text.split("\n"):
                if service.phone in line:
                    assert when in line, (name, line)


def test_report_remove_uploads_and_take_it_down_is_for_pictures_taken_under_18(domain):
    for name, text in every_text(domain):
        for line in text.split("\n"):
            # Only Take It Down and StopNCII work on the device; Report Remove uploads.
            if "Report Remove" in line and "Take It Down" not in line and "StopNCII" not in line:
                for wrong in ("on your phone", "own device", "never upload", "isn't uploaded",
                              "fingerprint", "checks the picture"):
                    assert wrong not in line, (name, line)
            # Take It Down is for pictures *taken* under 18: adults can use it for those.
            if "Take It Down" in line:
                assert "taken" in line or "Taken" in line, (name, line)


def readable(text):
    """The words as a person reads them: a placeholder or a link is a short word, each
    line is a sentence (bullets have no full stops)."""
    text = re.sub(r"\{\w+\}", "it", text)
    text = LINK.sub("the site", EMAIL.sub("the email", text))
    text = NUMBER.sub("the number", text)
    lines = [line.strip(" •") for line in text.split("\n") if line.strip(" •")]
    return " ".join(line if line[-1] in ".?!:" else line + "." for line in lines)


def test_every_response_reads_at_grade_6_or_under(domain):
    """Flesch-Kincaid grade (textstat): plain enough for a 12-year-old."""
    import textstat

    for name, variations in domain["responses"].items():
        for variation in variations:
            grade = textstat.flesch_kincaid_grade(readable(variation["text"]))
            assert grade <= 6, (name, grade)


def test_each_step_fits_a_phone_screen_with_the_keyboard_up(domain):
    """About 40 words, and buttons for what comes next."""
    for step in STEPS:
        for variation in domain["responses"][step]:
            assert len(variation["text"].split()) <= 40, (step, len(variation["text"].split()))


def test_no_promise_the_system_cannot_keep_and_no_word_that_shames(domain):
    everything = dict(every_text(domain))
    for name, text in everything.items():
        lower = text.lower()
        for phrase in (
                "never keep your phone number",   # WhatsApp keeps a keyed hash, and a sealed copy
                "names and addresses are taken out", "names, numbers and addresses you type are taken out",
                "are hidden from them",            # redaction is automatic and misses some
                "gone from our records",           # a case already passed on is not
                "this can be sorted out", "it will get easier",
                "okay",                            # "OK" throughout
                "against a child",                 # 16- and 17-year-olds push back
        ):
            assert phrase not in lower, (name, phrase)
        assert not re.search(r"\bbeg\b", lower), name  # shames someone who already has


def channel_variant(domain, response, channel):
    (found,) = [v for v in domain["responses"][response] if v.get("channel") == channel]
    return found["text"]


def test_words_about_the_browser_or_coming_back_fit_the_channel(domain):
    """Only the web page has a browser history. On the web page a chat left for the team
    can be closed and opened again with a come-back code (bot/web/come_back.py), for as
    long as the chat is kept; Telegram and WhatsApp keep the chat, and have no code."""
    for response, variations in domain["responses"].items():
        for variation in variations:
            if "browser" in variation["text"]:
                assert variation.get("channel") == "web", response
    assert "browser history" in channel_variant(domain, "utter_forget_me", "web")
    for response in ("utter_handoff_queued_later", "utter_handoff_closed_hours",
                     "utter_handoff_nobody_on_shift"):
        web = channel_variant(domain, response, "web")
        assert "save a code" in web and "come back with it to read their reply" in web, response
        assert "Keep the page open" not in web and "Keep it open" not in web, response
        assert "deleted after 2 days with no messages" in web, response
        others = [text for text in texts(domain, response) if text != web]
        assert others and not any("code" in text for text in others), response
    # A case passed on is not deleted with the chat, and the words say so.
    for text in texts(domain, "utter_forget_me"):
        assert "passed your case on" in text


def test_the_advice_police_and_ceop_give_is_all_there(domain):
    """NCA / CEOP advice (../shared/SERVICES.md, "Facts worth saying")."""
    default_fault = variation(domain, "utter_not_your_fault")["text"]
    paid_fault = variation(domain, "utter_not_your_fault", {"type": "slot", "name": "paid", "value": True},
                           {"type": "slot", "name": "for_someone", "value": False})["text"]
    for text in (default_fault, paid_fault):
        assert "someone you trust" in text  # for everyone, not only under-18s
    assert "AI" in default_fault and "fake" in default_fault
    for text in texts(domain, "utter_step_stop_replying"):
        assert "delete" in text and "deactivate" not in text  # not before the screenshots
    for text in texts(domain, "utter_step_keep_evidence"):
        assert "Screenshot the messages" in text and "Don't screenshot, save or send the nude pictures" in text
        # Switch off (deactivate) once the evidence is saved, rather than delete.
        assert text.index("Screenshot") < text.index("deactivate") and "delete" in text
    assert "up to 14 years" in default_fault
    paid_step = variation(domain, "utter_step_dont_pay", {"type": "slot", "name": "paid", "value": True},
                          {"type": "slot", "name": "for_someone", "value": False})["text"]
    assert "bank" in paid_step and "quickly" in paid_step
    (scam,) = texts(domain, "utter_recovery_scam")
    assert "before anything is shared" in scam
    # The takedown tools reach everyone on the main path, before anything is shared.
    for text in texts(domain, "utter_summary"):
        assert "Take It Down" in text and "StopNCII" in text and "nothing is shared yet" in text
    assert "someone you trust" in variation(domain, "utter_summary")["text"]
    for text in texts(domain, "utter_step_report"):
        assert "never too late" in text
    assert "ceop.police.uk" in variation(domain, "utter_step_report", FOR_SOMEONE)["text"]


def test_passing_a_case_on_says_it_is_not_a_police_report(domain):
    pass_on = variation(domain, "utter_step_report", {"type": "slot", "name": "can_pass_on", "value": True},
                        {"type": "slot", "name": "for_someone", "value": False})["text"]
    assert "not a police report" in pass_on
    for response in ("utter_report_intro_pass_on", "utter_ask_report_consent", "utter_report_sent"):
        (text,) = texts(domain, response)
        assert "isn't a police report" in text, response


def test_privacy_says_where_confidentiality_ends_and_that_redaction_can_miss(domain):
    for text in texts(domain, "utter_privacy"):
        assert "999" in text and "life is in danger" in text
        assert "can miss some" in text


def test_the_out_of_scope_reply_gives_somewhere_to_go_and_lets_parents_in(domain):
    (scope,) = domain["responses"]["utter_out_of_scope"]
    assert "116 123" in scope["text"] and "parents" in scope["text"]
    assert "/helping_someone" in [b["payload"] for b in scope["buttons"]]


def test_the_gateways_own_replies_keep_the_numbers_from_the_fact_sheet(sheet):
    """bot/conversation/replies.py: every reply keeps 999 and Samaritans, as the sheet has them,
    and reads as plainly as the domain's words."""
    import textstat

    from bot.conversation.replies import REPLIES, WITH_OTHERS

    for name, text in REPLIES.items():
        if name not in WITH_OTHERS:
            assert sheet["emergency"].phone in text and sheet["samaritans"].phone in text, name
        for found in numbers_in(text):
            assert re.sub(r"\D", "", found.group()) in sheet.numbers(), (name, found.group())
        assert textstat.flesch_kincaid_grade(readable(text)) <= 6, name

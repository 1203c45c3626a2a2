"""Reporting: "help me get ready to report" and "pass my case on".

    report_get_ready / report_pass_on -> action_report_start -> report_form
      (one short question at a time, each skippable: validate_report_form)
    -> action_report_summary ("is that right?")
       -> correct_report: action_report_correct (which answer?) -> report_form -> summary
       -> affirm: action_report_confirmed: the notes to keep (downloadable), then
          - getting ready: what next (pass it on, call 101, a person)
          - passing it on: pass_on_form (consent; contact details only if wanted)
            -> action_submit_case: the gateway's outbox (bot/reporting/outbox.py) -> a reference

The blackmailer's username and the contact details never reach these slots:
the gateway keeps the person's answer for the case and sends Rasa only
`/inform{"held_answer": "given"}`. The slots say "given" or "skipped", no more.
Once the case is in the gateway's outbox the answers are cleared from the slots.
"""
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.gateway_client import post_to_gateway

logger = logging.getLogger(__name__)

# The report form's answers, in the order asked, with how the summary names them.
ANSWERS = {
    "report_platform": "App or website",
    "report_started": "When it started",
    "report_demand": "What they asked for",
    "report_paid": "Paid or sent anything",
    "report_payment": "How much and how",
    "report_shared": "Pictures shared",
    "report_screenshots": "Screenshots saved",
    "report_handle": "Their username or link",
}
CONSENT_SLOTS = ("report_consent", "report_contact_wanted", "report_contact")
SKIPPED = "skipped"
HELD = "given"  # the gateway holds the answer itself
MAX_ANSWER_CHARS = 300
# Answers after which there is nothing more to ask about paying.
NOT_PAID = ("no", SKIPPED)


def shown(slot: Text, value: Any) -> Text:
    """An answer as the person reads it in the summary."""
    if value is None or value == SKIPPED:
        return "skipped"
    if slot in ("report_handle", "report_contact") and value == HELD:
        return "given (kept only for your case, not shown here)"
    value = str(value)
    return value[:1].upper() + value[1:]


def summary_lines(tracker: Tracker) -> Text:
    lines = []
    for slot, label in ANSWERS.items():
        if slot == "report_payment" and tracker.get_slot("report_paid") in NOT_PAID:
            continue
        lines.append(f"• {label}: {shown(slot, tracker.get_slot(slot))}")
    return "\n".join(lines)


class ValidateReportForm(FormValidationAction):
    """Keeps answers short and plain; asks about the payment only after a yes."""

    def name(self) -> Text:
        return "validate_report_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        if tracker.get_slot("report_paid") in NOT_PAID:
            return [slot for slot in domain_slots if slot != "report_payment"]
        return domain_slots

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        events = await super().run(dispatcher, tracker, domain)
        # Only answers just given are trimmed; "given"/"skipped" pass through.
        for index, event in enumerate(events):
            if event.get("event") == "slot" and event.get("name") in ANSWERS:
                events[index] = SlotSet(event["name"], clean_answer(event["name"], event.get("value")))
        return events


def clean_answer(slot: Text, value: Any) -> Optional[Text]:
    if value is None:
        return None
    if slot == "report_handle":
        # Only "given" (kept by the gateway) or "skipped": never the username itself.
        return SKIPPED if value == SKIPPED else HELD
    text = " ".join(str(value).split())[:MAX_ANSWER_CHARS]
    return text or None


class ValidatePassOnForm(FormValidationAction):
    """No consent: nothing more to ask. Contact details only if they want contact."""

    def name(self) -> Text:
        return "validate_pass_on_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        if tracker.get_slot("report_consent") == "no":
            return ["report_consent"]
        if tracker.get_slot("report_contact_wanted") == "no":
            return [slot for slot in domain_slots if slot != "report_contact"]
        return domain_slots

    def validate_report_contact(self, value: Any, dispatcher: CollectingDispatcher,
                                tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        return {"report_contact": SKIPPED if value == SKIPPED else HELD}


class ActionReportStart(Action):
    """Starts the questions (or goes straight to consent if they were answered)."""

    def name(self) -> Text:
        return "action_report_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        pass_on = tracker.get_intent_of_latest_message() == "report_pass_on"
        if pass_on and tracker.get_slot("report_reference"):
            dispatcher.utter_message(response="utter_report_already_sent")
            return []
        if pass_on and not tracker.get_slot("can_pass_on"):
            dispatcher.utter_message(response="utter_report_pass_on_unavailable")
            return []
        goal = SlotSet("report_goal", "pass_on" if pass_on else "ready")
        if pass_on and tracker.get_slot("report_confirmed"):
            return [goal, FollowupAction("pass_on_form")]
        if tracker.get_slot("report_confirmed") is None:
            dispatcher.utter_message(response="utter_report_intro_pass_on" if pass_on
                                     else "utter_report_intro")
        return [goal, *answers_from_facts(tracker), FollowupAction("report_form")]


def answers_from_facts(tracker: Tracker) -> List[EventType]:
    """What the conversation already said is not asked again: the app, having
    paid, the pictures being out (../shared/CONVERSATION.md, the facts kept)."""
    known = {
        "report_platform": tracker.get_slot("platform"),
        "report_paid": "yes" if tracker.get_slot("paid") else None,
        "report_shared": "yes" if tracker.get_slot("images_shared") else None,
    }
    return [SlotSet(slot, value) for slot, value in known.items()
            if value and tracker.get_slot(slot) is None]


class ActionReportSummary(Action):
    def name(self) -> Text:
        return "action_report_summary"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_report_summary", summary=summary_lines(tracker))
        return [SlotSet("report_confirmed", False)]


class ActionReportCorrect(Action):
    """"Change something": which answer? Then that one question again, and the summary."""

    def name(self) -> Text:
        return "action_report_correct"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        field = next(tracker.get_latest_entity_values("report_field"), None)
        if field not in ANSWERS or field == "report_payment":
            dispatcher.utter_message(response="utter_report_which_answer")
            return []
        cleared = [SlotSet(field, None)]
        if field == "report_paid":
            cleared.append(SlotSet("report_payment", None))
        return [*cleared, SlotSet("report_confirmed", False), FollowupAction("report_form")]


class ActionReportConfirmed(Action):
    """The summary is right: the notes to keep, then consent or what next."""

    def name(self) -> Text:
        return "action_report_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_report_notes", summary=summary_lines(tracker))
        events: List[EventType] = [SlotSet("report_confirmed", True)]
        if tracker.get_slot("report_goal") == "pass_on" and tracker.get_slot("can_pass_on"):
            return [*events, FollowupAction("pass_on_form")]
        dispatcher.utter_message(response="utter_report_next")
        return events


class ActionSubmitCase(Action):
    """With consent, puts the case in the gateway's outbox and gives the reference.

    The gateway writes the case before it answers, so "passed on" is only said
    once the case is safe in its store; it delivers it (and retries) from there.
    """

    def name(self) -> Text:
        return "action_submit_case"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> List[EventType]:
        reset_consent = [SlotSet(slot, None) for slot in CONSENT_SLOTS]
        if tracker.get_slot("report_consent") != "yes":
            dispatcher.utter_message(response="utter_report_not_sent")
            return reset_consent
        answers = {slot.replace("report_", "", 1): tracker.get_slot(slot) for slot in ANSWERS}
        # Who it is about matters to whoever receives the case (CEOP for under-18s).
        answers["under_18"] = "yes" if tracker.get_slot("under_18") else "not said"
        answers["writer"] = tracker.get_slot("writer") or ("someone helping" if tracker.get_slot("for_someone")
                                                           else "the person themselves")
        answered = await post_to_gateway("/internal/cases", {
            "session": tracker.sender_id,
            "answers": answers,
            "contact_given": tracker.get_slot("report_contact") == HELD,
        })
        reference = (answered or (0, {}))[1].get("reference") if answered else None
        if not answered or answered[0] != 200 or not reference:
            if answered:
                logger.warning("The gateway did not take a case (HTTP %d).", answered[0])
            dispatcher.utter_message(response="utter_report_send_failed")
            return reset_consent
        dispatcher.utter_message(response="utter_report_sent", report_reference=reference)
        # The case is the gateway's now: the answers go from this conversation's slots.
        cleared = [SlotSet(slot, None) for slot in ANSWERS]
        return [*cleared, *reset_consent, SlotSet("report_confirmed", None),
                SlotSet("report_reference", reference)]

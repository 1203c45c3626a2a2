"""What the gateway says itself, when the assistant can't or shouldn't answer.

Each reply has a name like the domain's responses, so channels and analytics can
tell them apart. Every one keeps the emergency numbers in view: whatever else is
wrong, a person in danger still learns where to turn.
"""
from functools import lru_cache
from typing import Any, Dict, List, Optional

import yaml

from bot.fact_sheet import fact_sheet
from bot.settings import ROOT

# The numbers come from the fact sheet (services.yml), never typed here.
_SHEET = fact_sheet()
EMERGENCY = (f"If you're in danger now, call {_SHEET['emergency'].phone}. "
             f"To talk to someone any time, call {_SHEET['samaritans'].name} free "
             f"on {_SHEET['samaritans'].phone}.")

# Replies never said on their own (each comes right after another message, or while a
# support worker is with the person): every other reply carries 999 and Samaritans.
WITH_OTHERS = frozenset({"gateway_staff_changed", "gateway_did_this_help", "gateway_thanks_for_answer",
                         "gateway_check_in_offer"})

REPLIES: Dict[str, str] = {
    "gateway_unavailable": (
        "Sorry, I can't answer properly right now. Please try again in a few minutes.\n"
        f"{EMERGENCY}"
    ),
    "gateway_no_words": (
        "I can only read words, not emoji or pictures. "
        "Can you tell me in a few words what's happening?\n"
        f"{EMERGENCY}"
    ),
    "gateway_other_language": (
        "Sorry, I can only understand English at the moment. "
        "A few simple words in English are fine, and spelling doesn't matter.\n"
        f"{EMERGENCY}"
    ),
    "gateway_not_text": (
        "I can only read text messages. Please don't send photos, videos or files here: "
        "I don't open or keep them. Keep your screenshots of the messages on your own phone, "
        "and don't send the nude pictures to anyone.\n"
        f"{EMERGENCY}"
    ),
    "gateway_too_long": (
        "That message is too long for me. Could you send it in a few shorter parts?\n"
        f"{EMERGENCY}"
    ),
    # While the person waits for a person from the support team.
    "gateway_still_waiting": (
        "Thanks, the support team will see this. You're still in the queue, "
        "and someone will reply here as soon as they can.\n"
        f"{EMERGENCY}"
    ),
    "gateway_staff_joined": (
        "A trained person from our support team has joined the chat. You're talking to a real person now. "
        "They can see what you wrote here. We try to hide names and numbers, but we can miss some.\n"
        f"{EMERGENCY}"
    ),
    # Another person from the team takes the chat over (a handover accepted, or a supervisor).
    # One plain line: a person is with them (their own words carry the numbers when needed).
    "gateway_staff_changed": (
        "Someone else from the team is picking up your chat now. "
        "They can see what you've written so far."
    ),
    # The support worker put the chat back in the team's queue.
    "gateway_requeued": (
        "Someone else from the team will pick up your chat. "
        "Please stay here. They'll reply as soon as they can.\n"
        f"{EMERGENCY}"
    ),
    # The staff member (or the whole team) went away: the bot takes over again.
    "gateway_team_away": (
        "Sorry, nobody from the support team can reply just now. Your chat stays in their "
        "queue, and someone will reply here when they can. Until then, I'm back to help.\n"
        f"{EMERGENCY}"
    ),
    # With a person holding the chat, when Rasa can't read a message for a crisis.
    "gateway_staff_reading": (
        "The support worker can see your messages and will reply here.\n"
        f"{EMERGENCY}"
    ),
    # Staff passed the case on for the person, with their consent ({reference}).
    "gateway_case_passed_on": (
        "The support worker has passed your case on, as you agreed. This isn't a police report. "
        "Your reference number is {reference}. Screenshot it or write it down.\n"
        f"{EMERGENCY}"
    ),
    # Too many people at once: a new conversation can't start this minute (bot/conversation/admission.py).
    "gateway_busy": (
        "Lots of people are writing to us right now, so I can't answer yet. "
        "Please send your message again in a moment. While you wait: don't pay, "
        "and stop replying to the person threatening you.\n"
        f"{EMERGENCY}"
    ),
    # "Did this help?" after a support worker closes the chat or hands it back
    # (bot/conversation/feedback.py): one tap, never needed to go on.
    # Said straight after the support worker's part ends (that message has the numbers,
    # or the bot's next step follows), never in a crisis: the numbers again would bury it.
    "gateway_did_this_help": (
        "Did talking to the support worker help? One tap is enough, "
        "and you can skip it."
    ),
    "gateway_thanks_for_answer": (
        "Thank you for telling us. It helps us do better. I'm still here if you need me."
    ),
    # A check-in on Telegram and WhatsApp (bot/conversation/check_in.py): offered right
    # after that thank-you, never in a crisis. {day}, {at}: "later today", "in about 4
    # hours", or, kept out of the night, "tomorrow morning", "at about 8am"
    # (bot/conversation/check_in_time.py). Writing within the grace doesn't cancel it:
    # "come back" is what does. It shows on the lock screen like any message.
    "gateway_check_in_offer": (
        "Would you like me to check on you {day}? "
        "I'd send you one message {at}, and nothing else."
    ),
    "gateway_check_in_agreed": (
        "OK. I'll send you one message {day}, {at}. "
        "If you come back and write to me before then, I won't send it. "
        "It will show on your phone like any message, so others may see it.\n"
        f"{EMERGENCY}"
    ),
    "gateway_check_in_declined": (
        "That's fine. I won't send you anything. I'm here if you need me, just write.\n"
        f"{EMERGENCY}"
    ),
    # A yes that can't be kept: the check-in was sent or cancelled already, or there was a crisis.
    "gateway_check_in_not_now": (
        "Sorry, I can't set that up now. I'm here if you need me, just write.\n"
        f"{EMERGENCY}"
    ),
    # The check-in itself, a few hours later ({steps}: the steps they haven't had yet).
    "gateway_check_in": (
        "Hi, it's the support chat. You asked me to check on you. How are you doing?\n"
        "{steps}\n"
        f"{EMERGENCY} Under 19? {_SHEET['childline'].name} is free on {_SHEET['childline'].phone}."
    ),
    # A come-back code typed into the message box (bot/conversation/come_back_code.py): not
    # kept, not read by the assistant. "I have a code" is on the web page's start only.
    "gateway_come_back_code": (
        "That looks like a come-back code, so I haven't kept it here. "
        "To open the chat it belongs to, open our web chat in a new tab and choose \"I have a code\".\n"
        f"{EMERGENCY}"
    ),
    "gateway_slow_down": (
        "I couldn't read that message: they came too fast. I'm still here. "
        "Please wait a minute, then send it again.\n"
        f"{EMERGENCY}"
    ),
}


def reply(name: str) -> Dict[str, Any]:
    return {"text": REPLIES[name], "response": name}


@lru_cache(maxsize=None)
def _domain() -> Dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def domain_intents() -> List[str]:
    """The assistant's intents, as domain.yml lists them."""
    return [next(iter(i)) if isinstance(i, dict) else i for i in _domain()["intents"]]


def domain_reply(name: str, channel: Optional[str] = None) -> Dict[str, Any]:
    """One of the assistant's own responses (domain.yml), for when the gateway must
    say it without Rasa: a crisis while a person holds the conversation. The
    channel's own words where the domain has them, as Rasa picks them."""
    plain = [v for v in _domain()["responses"][name] if not v.get("condition")]
    variant = next((v for v in plain if channel and v.get("channel") == channel),
                   next(v for v in plain if not v.get("channel")))
    return {"text": variant["text"], "response": name}

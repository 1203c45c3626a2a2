"""A check-in, only when asked for: on Telegram and WhatsApp, one message a few
hours later (docs/handoff.md, "A check-in").

    "did this help?" answered (bot/conversation/feedback.py: after the four steps
    or a handoff) -> thanks, then "Would you like me to check on you later today?"
      Yes, please -> scheduled: sent CHECK_IN_AFTER_MINUTES later, or when the night
                     ends (bot/conversation/check_in_time.py), by the schedule
                     (bot/messaging/check_ins.py), unless cancelled first
      No thanks   -> declined

Offered only on Telegram and WhatsApp (the web page has no way to reach anyone
later), never in a conversation with a crisis mark, never while a person from the
team holds the chat, and never twice: offering writes the conversation's one row
in `check_ins` (bot/store/check_ins.py). As with "did this help?", the buttons'
payloads never reach Rasa; a typed "yes" or "no" right after the offer counts too
(Rasa only reads it, /model/parse).

Cancelled when the person comes back: writes after CHECK_IN_GRACE_MINUTES with no
message from either side, their yes before that (a "thanks" straight after it, or
chatting on, doesn't), by "delete my chat" and retention (the
row goes with the conversation), and by a crisis (checked again when it is due). The
offer's own buttons tapped again are the same answer again, not writing.

WhatsApp lets a business write only within 24 hours of the person's last message:
it is due at most MAX_AFTER_MINUTES after the yes (check_in_time.py) and never tried
after GIVE_UP_AFTER_SECONDS. The chat id or number is sealed into the row
(bot/messaging/addresses.py), and wiped as soon as the row is no longer scheduled.
"""
import re
import time
from typing import Any, Dict, Iterable, Optional

from bot.bus import LocalBus
from bot.conversation.check_in_time import CheckInTime, check_settings
from bot.conversation.feedback import CRISIS_MARKS
from bot.conversation.replies import REPLIES, reply
from bot.fact_sheet import fact_sheet
from bot.messaging.addresses import AddressBook
from bot.store import Store

CHANNELS = ("telegram", "whatsapp")
# Answer -> the button's title (WhatsApp: 20 characters at most).
ANSWERS = {"yes": "Yes, please", "no": "No thanks"}
PAYLOAD = re.compile(r"^/check_in_(yes|no)$")
# A typed answer right after the offer, as Rasa reads it.
TYPED = {"affirm": "yes", "deny": "no"}
OFFER = "gateway_check_in_offer"
AGREED = "gateway_check_in_agreed"
DECLINED = "gateway_check_in_declined"
NOT_NOW = "gateway_check_in_not_now"
MESSAGE = "gateway_check_in"
# Inside WhatsApp's 24-hour window, with time left to retry after the latest it is due
# (check_in_time.MAX_AFTER_MINUTES) while the provider is down.
GIVE_UP_AFTER_SECONDS = 23 * 3600
# Told on the bus when one is scheduled: every gateway's schedule looks again.
TOPIC = "check_ins"

_SHEET = fact_sheet()
# The steps they haven't had yet (insight marks step_1..step_4, bot/insights/counts.py).
STEPS_LEFT = {
    "step_1": "Don't pay, and don't send anything more.",
    "step_2": "Stop replying, but don't delete the chat yet.",
    "step_3": "Screenshot the messages, profile and username, not the nude pictures. "
              "Then block and report the account.",
    "step_4": f"Report it: call the police on {_SHEET['police'].phone}.",
}
STEPS_HEADING = "Steps we haven't talked about yet:"
ALL_STEPS_DONE = "We've been through all four steps. If something new has happened, tell me."
BUTTONS = [{"title": "What do I do next?", "payload": "/ask_next"},
           {"title": "Talk to a person", "payload": "/request_human"}]


def payload(answer: str) -> str:
    return f"/check_in_{answer}"


def answer_in(text: str) -> Optional[str]:
    """"yes" or "no" if this is the offer's button's payload."""
    found = PAYLOAD.match(text)
    return found.group(1) if found else None


def may_offer(channel: Optional[str], marks: Iterable[str]) -> bool:
    return channel in CHANNELS and not set(marks) & CRISIS_MARKS


def offer(words: Dict[str, str]) -> Dict[str, Any]:
    """`words`: when it would be sent, as CheckInTime.words says it."""
    return {"text": REPLIES[OFFER].format(**words), "response": OFFER,
            "buttons": [{"title": title, "payload": payload(answer)} for answer, title in ANSWERS.items()]}


def agreed(words: Dict[str, str]) -> Dict[str, Any]:
    return {"text": REPLIES[AGREED].format(**words), "response": AGREED}


def message(marks: Iterable[str]) -> Dict[str, Any]:
    """The check-in: how are you doing, the steps they haven't had yet, the numbers."""
    left = [words for step, words in STEPS_LEFT.items() if step not in set(marks)]
    steps = "\n".join([STEPS_HEADING, *(f"• {words}" for words in left)]) if left else ALL_STEPS_DONE
    return {"text": REPLIES[MESSAGE].format(steps=steps), "response": MESSAGE, "buttons": BUTTONS}


class CheckInOffers:
    """The turn's side of it (bot/conversation/turn.py): the offer, the answer, and
    the person writing again."""

    def __init__(self, store: Store, addresses: AddressBook, bus: LocalBus, times: CheckInTime,
                 grace_minutes: float, retention_hours: float) -> None:
        check_settings(times, grace_minutes, retention_hours)
        self.store = store
        self.addresses = addresses
        self.bus = bus
        self.times = times
        self.grace_minutes = grace_minutes

    async def offer(self, session_id: str, channel: Optional[str]) -> Optional[Dict[str, Any]]:
        """The offer, if it may be made here and now; writing it down makes it the only one."""
        now = time.time()
        if may_offer(channel, await self.store.marks_of(session_id)) and \
                await self.store.offer_check_in(session_id, now):
            return offer(self.times.words(now))
        return None

    async def answer(self, session_id: str, answer: str) -> Dict[str, Any]:
        """What the bot says to a yes or a no."""
        if answer == "no":
            await self.store.decline_check_in(session_id)
            return reply(DECLINED)
        sealed = self.addresses.sealed(session_id)  # the person who just tapped or typed
        now = time.time()
        if sealed is None or set(await self.store.marks_of(session_id)) & CRISIS_MARKS or \
                not await self.store.schedule_check_in(session_id, now, self.times.due(now),
                                                       now + GIVE_UP_AFTER_SECONDS, sealed):
            return reply(NOT_NOW)
        self.bus.publish(TOPIC, {"type": "scheduled"})
        return agreed(self.times.words(now))

    async def wrote(self, session_id: str) -> None:
        """The person wrote: if they came back (nothing from either side for the grace
        period, and their yes before that), the check-in is no longer needed. One
        UPDATE, nothing if there is none; called before their message is stored."""
        await self.store.cancel_check_in(session_id, time.time() - self.grace_minutes * 60)

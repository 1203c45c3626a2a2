"""One conversation turn, the same for every channel.

    text in -> checks -> redacted -> stored -> assistant (or a kind reply) -> stored -> out

Only redacted text is stored or passed to the assistant. The exception is a tap
on one of the last bot message's buttons: its payload goes to the assistant and
its title (our own words) is stored as what the person said. Typed text can't
start with "/", so nobody can type intents at the assistant.

Every message stored is also published to the session's live listeners (the
web page's WebSocket), and, while the conversation is handed to a person, to
the staff consoles. Nothing here logs text or session ids.

While a support worker holds the conversation (or it waits for one with the bot
paused), the person's messages go to the staff, not to the bot: Rasa only reads
them (/model/parse) so that a crisis still gets the crisis response at once and
"delete my chat" still deletes it.
"""
import asyncio
import contextlib
import logging
import re
import secrets
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Tuple

from bot.bus import offer
from bot.conversation import check_in, come_back_code, feedback
from bot.conversation.admission import CRISIS, NEW, UNDER_WAY, Admission, NoRoom
from bot.conversation.assistant import AssistantUnavailable, RasaClient
from bot.conversation.crisis_floor import CrisisChecks, CrisisFloor
from bot.conversation.language import emoji_meaning, kind_of_text
from bot.conversation.locks import TurnLocks
from bot.conversation.ratelimit import RateLimiter
from bot.conversation.redaction import Redactor
from bot.conversation.replies import domain_reply, reply
from bot.errors import Problem, log_failure
from bot.insights.counts import Insights
from bot.messaging.addresses import AddressBook
from bot.reporting.held_answers import HELD_PAYLOAD, HELD_QUESTIONS, PLACEHOLDERS, is_answer
from bot.staff.feed import StaffFeed, audience
from bot.store import OPEN, Store

logger = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
# The response that tells the person their conversation is being deleted.
FORGET_RESPONSE = "utter_forget_me"
# "yes" to this question is a crisis (as actions/handoff.py reads it).
CHECK_RISK = "utter_check_risk"
REQUEST_HUMAN = "request_human"
# While held for a person, these intents still get the bot's own answer at once.
HELD_ANSWERS = {"crisis": "utter_crisis", "forget_me": FORGET_RESPONSE}
# "Still in the queue" at most this often while the person waits.
WAITING_REMINDER_SECONDS = 180
# How long a message may wait for a place with Rasa (bot/conversation/admission.py) before the
# gateway answers itself: a crisis gets the crisis reply; a new visitor hears that
# it's busy; a conversation under way waits longest.
WAIT_AT_MOST = {CRISIS: 1.0, UNDER_WAY: 10.0, NEW: 3.5}
# A new visitor whose wait would be longer than this hears at once that it's busy:
# a real answer in a few seconds is worth the wait, a long one is not.
NEW_EXPECT_AT_MOST = 3.0
# How long Rasa may take to read a message held for staff before the gateway's own
# crisis check decides, or a typed answer to the check-in's offer before it goes to
# Rasa as usual (a read is ~0.1 s; a Rasa that hangs must not hold up a crisis).
HELD_READ_SECONDS = 3
# When a new visitor may try again.
BUSY_RETRY_SECONDS = 20
# Direction controls too (U+061C, U+200E-F, U+202A-E, U+2066-9): unseen, they make a
# transcript read differently from what was typed. And lone surrogates (JSON's
# "\ud800"): half of a pair, no character at all, and neither spaCy nor the store can
# encode one.
CONTROL_CHARACTERS = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")


# The turn's own problems: the messaging apps answer each in their own words.
class SessionNotFound(Problem):
    MESSAGE = "This conversation has ended or was deleted. Start a new one."

    def __init__(self) -> None:
        super().__init__(404, self.MESSAGE)


class Busy(Problem):
    """Too many people at once: a new conversation can't start just now. Nothing was
    kept: the page puts the words back to send again."""

    def __init__(self) -> None:
        super().__init__(503, reply("gateway_busy")["text"], retry_after=BUSY_RETRY_SECONDS)


class RateLimited(Problem):
    def __init__(self, retry_after: int) -> None:
        super().__init__(429, "You're sending messages very fast. Please wait a moment.",
                         retry_after=retry_after)


def new_session_id() -> str:
    return secrets.token_urlsafe(24)  # 192 random bits


async def _drop_answer(session_id: str, field: str, answer: str) -> None:
    """Without a reporting channel, a held answer is not kept at all."""


async def _nobody(session_id: str, crisis: bool) -> Optional[Dict[str, Any]]:
    return None


def held_for_staff(handoff: Optional[Dict[str, Any]]) -> bool:
    """A person holds the conversation, or it waits for one with the bot paused."""
    return bool(handoff) and (handoff["status"] == "claimed"
                              or (handoff["status"] == "waiting" and not handoff["bot_active"]))


def normalise(text: str) -> str:
    """Fancy-font letters to plain ones, control characters out, ends trimmed."""
    return CONTROL_CHARACTERS.sub("", unicodedata.normalize("NFKC", text)).strip()


class Conversations:
    def __init__(self, store: Store, assistant: RasaClient, redactor: Redactor,
                 limiter: RateLimiter, addresses: AddressBook, staff_feed: StaffFeed,
                 insights: Insights, turns: Optional[TurnLocks] = None,
                 floor: Optional[CrisisFloor] = None, admission: Optional[Admission] = None) -> None:
        self.store = store
        self.assistant = assistant
        self.redactor = redactor
        self.limiter = limiter
        self.addresses = addresses
        self.staff_feed = staff_feed
        self.insights = insights
        # channel -> sends one message to a messaging-app user (telegram.py, whatsapp.py)
        self.deliverers: Dict[str, Callable[[str, Dict[str, Any]], Awaitable[bool]]] = {}
        self._reminded: Dict[str, float] = {}
        # spaCy runs in one worker thread: the event loop stays free.
        self._redaction_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="redact")
        # The crisis check when Rasa can't read a message, or to put it first in a queue:
        # new visitors' on a thread of their own, so that a flood of them never
        # queues before the people already talking.
        self._crisis_checks = {new: CrisisChecks(floor) for new in (True, False)} if floor else {}
        self.admission = admission or Admission(limit=4)
        self._turns = turns or TurnLocks()
        self._listeners: Dict[str, Set[asyncio.Queue]] = {}
        # Live messages reach the person's WebSocket on whichever gateway it is.
        self.bus = staff_feed.bus
        self.bus.subscribe(self._on_bus)
        self._unerased: Set[str] = set()  # forgotten here, but Rasa did not confirm yet
        # Keeps an answer out of the conversation, for a case (create_app: the outbox's hold).
        self.keep_answer: Callable[[str, str, str], Awaitable[None]] = _drop_answer
        # Queues the conversation for a person when the action server can't (bot/staff/handoffs.py).
        # (session, crisis) -> Handoffs.request's answer.
        self.request_person: Callable[[str, bool], Awaitable[Optional[Dict[str, Any]]]] = _nobody
        # The check-in offered on Telegram and WhatsApp (create_app; None: never offered).
        self.check_ins: Optional[check_in.CheckInOffers] = None

    async def close(self) -> None:
        self._redaction_thread.shutdown(wait=False)
        for checks in self._crisis_checks.values():
            checks.close()
        await self._turns.close()

    async def redact(self, text: str) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._redaction_thread, self.redactor.redact, text)

    async def crisis_wording(self, text: str, new: bool = False) -> bool:
        """The safety floor's check (bot/conversation/crisis_floor.py); False if there is none.
        `new`: a new visitor's message, checked on a thread of its own."""
        if not self._crisis_checks:
            return False
        try:
            return await self._crisis_checks[new].check(text)
        except Exception as error:  # noqa: BLE001 - can't tell: a false alarm costs less than a miss
            log_failure(logger, "The crisis check failed", error)
            return True

    # --- sessions -------------------------------------------------------------
    async def start(self, channel: str) -> str:
        session_id = new_session_id()
        await self.store.create_session(session_id, channel)
        return session_id

    async def start_with(self, channel: str, text: str) -> Tuple[str, List[Dict[str, Any]]]:
        """A new conversation and the replies to its first message. Too busy: Busy,
        before anything is written (in a flood, the store's time is for the
        people already talking)."""
        async with contextlib.AsyncExitStack() as places:
            admitted = await self._wait_for_rasa(places, normalise(text), new=True)
            session_id = await self.start(channel)
            return session_id, await self.say(session_id, text, admitted, started=channel)

    async def session_for_user(self, channel: str, user_hash: str) -> str:
        """The messaging-app user's current session, or a new one (in one transaction:
        two quick first messages must not make two sessions)."""
        return await self.store.session_for_user(user_hash, channel, new_session_id())

    async def exists(self, session_id: str) -> bool:
        return await self.channel_of(session_id) is not None

    async def channel_of(self, session_id: str) -> Optional[str]:
        """The conversation's channel ("web", "telegram", "whatsapp"); None if there is none."""
        return await self.store.session_channel(session_id) if SESSION_ID.match(session_id) else None

    async def forget(self, session_id: str) -> None:
        """Erases the conversation everywhere: our store, Rasa's tracker, live listeners.

        Waits for a turn in progress, so that no message reaches Rasa after the erasure.
        """
        async with self._turns.hold(session_id):
            await self._erase(session_id)

    async def _erase(self, session_id: str) -> None:
        await self.store.delete_session(session_id)
        self.limiter.forget(session_id)
        self.addresses.forget(session_id)
        self._reminded.pop(session_id, None)
        self.insights.forget(session_id)
        self._publish(session_id, {"type": "forgotten"})
        self._listeners.pop(session_id, None)
        self.staff_feed.publish({"type": "queue_changed"})
        if not await self.assistant.erase(session_id):
            self._unerased.add(session_id)
            logger.warning("The assistant did not confirm an erasure; it will be retried.")

    async def retry_erasures(self) -> None:
        for session_id in list(self._unerased):
            if await self.assistant.erase(session_id):
                self._unerased.discard(session_id)

    # --- a turn ---------------------------------------------------------------
    async def say(self, session_id: str, text: str,
                  admitted: Optional[Tuple[bool, Optional[bool]]] = None,
                  started: Optional[str] = None) -> List[Dict[str, Any]]:
        """Handles what the person sent; returns the replies (with seq once stored).

        Raises SessionNotFound, RateLimited, or Busy (a new visitor, too many at once);
        never anything about the assistant. `admitted`: the caller already holds
        this message's place with Rasa (_wait_for_rasa's answer). `started`: the
        channel of a conversation start_with has just made (nothing to read yet).
        """
        # Some words differ by channel.
        channel = started or await self.channel_of(session_id)
        if channel is None:
            raise SessionNotFound()
        wait = self.limiter.retry_after(session_id)
        if wait:
            raise RateLimited(wait)
        async with self._turns.hold(session_id), contextlib.AsyncExitStack() as places:
            # A come-back code typed here is never kept or read (come_back_code.py).
            clean = come_back_code.hidden(normalise(text))
            # Typed words (button payloads start with "/") are redacted while the store
            # is read: a few milliseconds less on every message. Not while Rasa is busy:
            # a new visitor may be turned away first, before any work is spent on them.
            redacting = (asyncio.ensure_future(self.redact(clean)) if not text.startswith("/")
                         and (admitted or self.admission.has_room()) else None)
            places.callback(lambda: redacting and redacting.cancel())  # unused if Busy
            buttons, last_asked, handoff = (
                ([], None, None) if started else await self.store.turn_context(session_id))
            placed, crisis = admitted or (None, None)
            tapped = next((b for b in buttons if b.get("payload") == text), None)
            agreed = check_in.answer_in(tapped["payload"]) if tapped and self.check_ins else None
            # A check-in agreed to earlier isn't needed: they are back. (Not the offer's own
            # button tapped again: that is the same answer, handled below.)
            if self.check_ins and channel in check_in.CHANNELS and not started and not agreed:
                await self.check_ins.wrote(session_id)
            if not admitted and not held_for_staff(handoff):
                # Before anything is stored: a new visitor may be told it's too busy.
                placed, crisis = await self._wait_for_rasa(
                    places, clean, new=last_asked is None and handoff is None)
            helped = feedback.answer_in(tapped["payload"]) if tapped else None
            if helped:
                return await self._helped(session_id, tapped["title"], helped, handoff, channel)
            if agreed:
                return await self._check_in_answer(session_id, tapped["title"], agreed, handoff)
            if tapped:
                shown, for_assistant, kind = tapped["title"], tapped["payload"], None
                if last_asked == CHECK_RISK and for_assistant == "/affirm":
                    crisis = True  # "yes" to "are you thinking about hurting yourself?"
            elif clean == come_back_code.PLACEHOLDER:  # nothing but a code: not for Rasa
                return await self._code_kept_out(session_id, handoff)
            else:
                shown = await (redacting or self.redact(clean))
                for_assistant, kind = shown.lstrip("/ ") or shown, kind_of_text(clean)
                if kind == "no_words" and emoji_meaning(clean):
                    for_assistant, kind = emoji_meaning(clean), None
                held = HELD_QUESTIONS.get(last_asked)
                # The blackmailer's username, or how to reach them: for the case only.
                # Unreadable by the assistant (emoji, another script or language): contact
                # details are kept all the same (sealed, never in the transcript), but a
                # username only if it looks like one; anything else gets the kind reply.
                if held and not held_for_staff(handoff) and (
                        (kind is not None and (held == "contact" or is_answer(None, clean)))
                        or (kind is None and is_answer(await self.assistant.intent(for_assistant), clean))):
                    await self.keep_answer(session_id, held, clean)
                    shown, for_assistant, kind = PLACEHOLDERS[held], HELD_PAYLOAD, None
                # A typed "yes" or "no" to the check-in's offer: Rasa only reads it, briefly.
                # Never when Rasa is too busy or the gateway's own check saw a crisis: the
                # crisis reply must not wait for it, nor a "yes" stand in for it.
                if last_asked == check_in.OFFER and kind is None and self.check_ins \
                        and not held_for_staff(handoff) and placed is not False and not crisis:
                    agreed = check_in.TYPED.get(
                        await self.assistant.intent(for_assistant, HELD_READ_SECONDS))
                    if agreed:
                        return await self._check_in_answer(session_id, shown, agreed, handoff)
            # Nothing stored: erased while this message waited its turn. It must not reach Rasa.
            if not await self._add(session_id, [{"from": "user", "text": shown}], handoff):
                raise SessionNotFound()
            replies: List[Dict[str, Any]] = []
            if held_for_staff(handoff) and self._team_gone(handoff):
                replies, handoff = await self._back_to_the_bot(handoff)
            if held_for_staff(handoff):
                replies = await self._held_replies(session_id, handoff, for_assistant, kind,
                                                   channel, clean)
            else:
                if handoff and handoff["bot_paused"]:
                    # A hand-back that didn't reach Rasa, or the team has gone.
                    replies += await self.resume_bot(
                        session_id, handoff, "resumed" if replies else "released")
                replies += await self._replies(session_id, for_assistant, kind, channel,
                                               placed=placed, crisis=crisis, original=clean)
                replies = await self._no_question_after_a_crisis(session_id, replies)
            stored = await self._add(session_id, [{"from": "bot", **r} for r in replies],
                                     typed=None if tapped else shown)
            if any(r.get("response") == FORGET_RESPONSE for r in replies):
                await self._erase(session_id)
            return stored or [{"from": "bot", **r} for r in replies]

    async def _no_question_after_a_crisis(self, session_id: str,
                                          replies: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """The assistant asks "did this help?" only when its own tracker saw no crisis;
        a crisis answered by the gateway alone (while a person held the chat, or by the
        safety floor while Rasa was busy) is known only here, by its mark."""
        if not any(r.get("response") == feedback.FOUR_STEPS_QUESTION for r in replies):
            return replies
        if not set(await self.store.marks_of(session_id)) & feedback.CRISIS_MARKS:
            return replies
        return [r for r in replies if r.get("response") != feedback.FOUR_STEPS_QUESTION]

    async def _helped(self, session_id: str, title: str, answer: Tuple[str, str],
                      handoff: Optional[Dict[str, Any]], channel: str) -> List[Dict[str, Any]]:
        """A "did this help?" tap (bot/conversation/feedback.py): counted and thanked
        here, never sent to Rasa, so the conversation carries on where it was; on
        Telegram and WhatsApp the check-in may be offered next. While a person holds
        the chat, they see the tap and the bot says nothing."""
        if not await self._add(session_id, [{"from": "user", "text": title}], handoff):
            raise SessionNotFound()
        await self.insights.helped(session_id, *answer)
        if held_for_staff(handoff):
            return []
        offer = await self.check_ins.offer(session_id, channel) if self.check_ins else None
        thanks = [{"from": "bot", **m} for m in (reply(feedback.THANKS), offer) if m]
        return await self._add(session_id, thanks) or thanks

    async def _check_in_answer(self, session_id: str, shown: str, answer: str,
                               handoff: Optional[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Yes or no to the check-in (bot/conversation/check_in.py), never sent to Rasa.
        While a person holds the chat, they see it and nothing is scheduled."""
        if not await self._add(session_id, [{"from": "user", "text": shown}], handoff):
            raise SessionNotFound()
        if held_for_staff(handoff):
            return []
        said = [{"from": "bot", **await self.check_ins.answer(session_id, answer)}]
        return await self._add(session_id, said) or said

    async def _code_kept_out(self, session_id: str,
                             handoff: Optional[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """A message that was only a come-back code: kept as the placeholder, and the
        person told where the code works, even while a person holds the chat."""
        if not await self._add(session_id, [{"from": "user", "text": come_back_code.PLACEHOLDER}], handoff):
            raise SessionNotFound()
        said = [{"from": "bot", **reply("gateway_come_back_code")}]
        return await self._add(session_id, said, handoff) or said

    async def _wait_for_rasa(self, places: contextlib.AsyncExitStack, text: str,
                             new: bool) -> Tuple[bool, Optional[bool]]:
        """A place with Rasa for this message (bot/conversation/admission.py), held until `places`
        closes: (whether it got one, whether it reads as a crisis, None if unchecked).
        Raises Busy for a new visitor who can't be served in time."""
        if self.admission.has_room():  # the usual case: no check, no wait
            await places.enter_async_context(self.admission.place(UNDER_WAY, 0))
            return True, None
        crisis = await self.crisis_wording(text, new)
        urgency = CRISIS if crisis else NEW if new else UNDER_WAY
        try:
            await places.enter_async_context(self.admission.place(
                urgency, WAIT_AT_MOST[urgency], NEW_EXPECT_AT_MOST if urgency == NEW else None))
            return True, crisis
        except NoRoom:
            if urgency == NEW:
                raise Busy() from None
            logger.warning("Rasa was too busy for a message: the gateway answered it.")
            return False, crisis

    def _team_gone(self, handoff: Dict[str, Any]) -> bool:
        """The staff member holding it, or the whole team, closed their consoles."""
        if handoff["status"] == "claimed":
            return not self.staff_feed.is_on_shift(handoff["claimed_by"])
        return self.staff_feed.on_shift() == 0 and not self.staff_feed.just_started()

    async def _back_to_the_bot(self, handoff: Dict[str, Any]):
        """Nobody to answer: the person must not write into silence. The bot takes
        over again; the conversation stays in the queue for the team."""
        expect = {"status": handoff["status"], "claimed_by": handoff["claimed_by"]}
        if not await self.store.set_handoff(handoff["id"], expect, status="waiting", claimed_by=None,
                                            claimed_at=None, bot_active=True, transfer_to=None,
                                            transfer_from=None, transfer_at=None):
            return [], await self.store.handoff(handoff["id"])  # changed meanwhile: look again
        self.staff_feed.publish({"type": "queue_changed"})
        return [reply("gateway_team_away")], {**handoff, "status": "waiting", "claimed_by": None,
                                              "bot_active": True}

    async def _held_replies(self, session_id: str, handoff: Dict[str, Any], text: str,
                            kind: Optional[str], channel: Optional[str],
                            original: str) -> List[Dict[str, Any]]:
        """What the person hears while a person from the team holds the conversation."""
        intent = None if kind else await self.assistant.intent(text, HELD_READ_SECONDS)
        if intent is None and not kind and await self.crisis_wording(original):
            intent = "crisis"  # Rasa can't read it in time: the gateway's own crisis check did
        if intent in HELD_ANSWERS:
            if intent == "crisis":
                await self._to_the_top(handoff)
            return [domain_reply(HELD_ANSWERS[intent], channel)]
        # Waiting, or Rasa can't read it (so a crisis can't be caught): the numbers,
        # now and then, so that nobody writes into silence.
        if handoff["status"] == "waiting" or (intent is None and not kind):
            now = time.monotonic()
            if now - self._reminded.get(session_id, float("-inf")) > WAITING_REMINDER_SECONDS:
                self._reminded[session_id] = now
                return [reply("gateway_still_waiting" if handoff["status"] == "waiting"
                              else "gateway_staff_reading")]
        return []

    async def _to_the_top(self, handoff: Dict[str, Any]) -> None:
        """A crisis in a conversation in the queue: it goes first."""
        if handoff["priority"] != "crisis":
            await self.store.set_handoff(handoff["id"], {}, priority="crisis")
            self.staff_feed.publish({"type": "queue_changed"})

    async def resume_bot(self, session_id: str, handoff: Dict[str, Any],
                         how: str = "released") -> List[Dict[str, Any]]:
        """Unpauses Rasa after a handoff; returns what the bot says (or the fallback)."""
        try:
            said = await self.assistant.handoff(session_id, how)
        except AssistantUnavailable:
            return [reply("gateway_unavailable")]
        await self.store.set_handoff(handoff["id"], {}, bot_paused=False)
        if not said and how != "resumed":  # the action server is down: Rasa says nothing
            return [reply("gateway_unavailable")]
        return said

    def turn(self, session_id: str):
        """Held while one thing happens to a conversation: a turn, a claim, a hand-back.
        (Not while Rasa's action asks for a handoff: that happens inside a turn.)"""
        return self._turns.hold(session_id)

    async def push(self, session_id: str, messages: List[Dict[str, Any]],
                   locked: bool = False, sent: bool = False) -> List[Dict[str, Any]]:
        """Messages the person didn't ask for just now (a staff reply, "a person has
        joined"): stored, shown live on the web page, and sent to their messaging app.
        `locked`: the caller already holds the conversation's turn. `sent`: the
        caller has sent them to the messaging app already (a check-in)."""
        if locked:
            stored = await self._add(session_id, messages)
        else:
            async with self._turns.hold(session_id):
                stored = await self._add(session_id, messages)
        # Awaited, not in the background: "a person has joined" must arrive before their reply.
        if not sent:
            await self.deliver(session_id, stored)
        return stored

    async def deliver(self, session_id: str, stored: List[Dict[str, Any]]) -> None:
        """To the person's messaging app (the web page has them already, live)."""
        channel = await self.store.session_channel(session_id) if stored else None
        deliver = self.deliverers.get(channel or "")
        if deliver:
            address = await self.addresses.get(session_id)
            for message in stored:
                if address is None or not await deliver(address, message):
                    handoff = await self.store.handoff_for_session(session_id)
                    self.staff_feed.publish({"type": "undelivered",
                                             "conversation": handoff["id"] if handoff else None,
                                             "audience": audience(handoff) if handoff else None})
                    break

    async def _replies(self, session_id: str, text: str, kind: Optional[str],
                       channel: Optional[str] = None, placed: Optional[bool] = None,
                       crisis: Optional[bool] = None,
                       original: Optional[str] = None) -> List[Dict[str, Any]]:
        """The assistant's answer; the gateway's own when Rasa can't give one in time
        (`placed` False: no place with Rasa came free). `crisis`: the gateway's crisis
        check, if it was made; `original`: the text before redaction, for that check."""
        if kind == "other_language":
            return [reply("gateway_other_language")]
        if kind == "no_words":
            return [reply("gateway_no_words")]
        try:
            if placed is False:
                raise AssistantUnavailable("too busy")
            replies, actions_up = await asyncio.gather(
                self.assistant.send(session_id, text, channel), self.assistant.actions_up())
        except AssistantUnavailable as error:
            logger.warning("The assistant is unavailable (%s): the gateway answered.", error)
            if crisis is None:
                crisis = await self.crisis_wording(original or text)
            # The safety floor: a crisis still gets the crisis reply, at once.
            if crisis:
                return [domain_reply("utter_crisis", channel),
                        *await self._crisis_to_the_team(session_id, channel)]
            return [reply("gateway_unavailable")]
        if not actions_up:
            logger.warning("The action server is down: the gateway added what it could.")
            said_crisis = any(r.get("response") == "utter_crisis" for r in replies)
            if not said_crisis and (crisis if crisis is not None
                                    else await self.crisis_wording(original or text)):
                # Without its actions (the session's start among them) Rasa may never
                # get to the crisis reply: "utter_default" to "i want to end it all".
                replies, said_crisis = [domain_reply("utter_crisis", channel)], True
            if said_crisis:
                replies += await self._crisis_to_the_team(session_id, channel)
            else:
                replies += await self._without_actions(session_id, text, channel)
        return replies

    async def _crisis_to_the_team(self, session_id: str,
                                  channel: Optional[str]) -> List[Dict[str, Any]]:
        """What Rasa's handoff action does after a crisis, when it can't: the chat goes
        to the team as a crisis (or moves up, if it is queued already)."""
        answer = await self.request_person(session_id, True)
        if answer and answer.get("status") == "queued" and not answer.get("already"):
            return [domain_reply("utter_handoff_crisis", channel)]
        return []

    async def _without_actions(self, session_id: str, text: str,
                               channel: Optional[str]) -> List[Dict[str, Any]]:
        """What the action server would have added. "Talk to a person" still reaches
        the queue (the gateway queues it itself); anything else gets the numbers."""
        wants_person = text == "/" + REQUEST_HUMAN or (
            not text.startswith("/") and await self.assistant.intent(text) == REQUEST_HUMAN)
        answer = await self.request_person(session_id, False) if wants_person else None
        if answer and answer.get("status") == "queued":
            place = "next" if answer["position"] <= 1 else f"number {answer['position']}"
            queued = domain_reply("utter_handoff_queued", channel)
            return [{**queued, "text": queued["text"].replace("{place}", place).replace(
                "{wait}", str(answer["wait_minutes"]))}]
        if wants_person:
            return [domain_reply("utter_request_human", channel)]
        return [reply("gateway_unavailable")]

    async def add_staff_message(self, session_id: str, text: str) -> List[Dict[str, Any]]:
        """A support worker's message, redacted like any other, then pushed to the person."""
        return await self.push(session_id, [{"from": "staff", "text": await self.redact(normalise(text))}])

    async def _add(self, session_id: str, messages: List[Dict[str, Any]],
                   handoff: Optional[Dict[str, Any]] = None,
                   typed: Optional[str] = None) -> List[Dict[str, Any]]:
        """Stores, publishes and counts messages. `typed`: the person's redacted
        words these messages answer, when they typed them."""
        stored = await self.store.add_messages(session_id, messages)
        for message in stored:
            self._publish(session_id, {"type": "message", **message})
        if stored:
            await self.insights.stored(session_id, stored, typed)
        if stored and self.staff_feed.watched:
            handoff = handoff or await self.store.handoff_for_session(session_id)
            if handoff and handoff["status"] in OPEN:
                for message in stored:
                    self.staff_feed.publish({"type": "message", "conversation": handoff["id"],
                                             "audience": audience(handoff),
                                             "message": {**message, "at": time.strftime(
                                                 "%Y-%m-%dT%H:%M:%SZ", time.gmtime())}})
        return stored

    # --- live listeners -------------------------------------------------------
    def listen(self, session_id: str) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=256)
        self._listeners.setdefault(session_id, set()).add(queue)
        return queue

    def stop_listening(self, session_id: str, queue: asyncio.Queue) -> None:
        listeners = self._listeners.get(session_id)
        if listeners is not None:
            listeners.discard(queue)
            if not listeners:
                self._listeners.pop(session_id, None)

    def _publish(self, session_id: str, event: Dict[str, Any]) -> None:
        self.bus.publish("conversation", {"session": session_id, "event": event})

    def tell_page(self, session_id: str, event: Dict[str, Any]) -> None:
        """Live news for the person's web page that is not a message (a worker typing):
        sent to its WebSocket as it is, on whichever gateway it is open, never stored."""
        self._publish(session_id, event)

    def _on_bus(self, topic: str, event: Dict[str, Any]) -> None:
        if topic == "conversation" and isinstance(event.get("event"), dict):
            offer(self._listeners.get(event.get("session"), ()), event["event"])
        elif topic == "bus" and event.get("type") == "reconnected":
            # Messages may have gone by unseen: every listener reads the store again.
            for queues in list(self._listeners.values()):
                offer(queues, {"type": "catch_up"})

"""Insights for the people who run the line: anonymous counts, never who.

Counted as things happen, into one counter per name per hour (bot/store/insights.py
`insight_counts`), so they outlive the conversations that retention deletes:

    conversations        conversations with at least one message from the person
    out_of_hours         ...that started outside SUPPORT_HOURS
    nobody_on_shift      ...that started with no staff member on shift
    step_1 .. step_4     conversations that reached each of the four steps
    crisis, under_18     conversations that got the crisis / under-18 response
    handoff_requested    conversations that asked for (or were given) a person
    handoff_unstaffed    ...of which some asked when nobody could answer
    reached_person       conversations a staff member took
    wait_le_<m>, wait_over_240
                         each wait from asking to a person taking it, by minutes
    report_passed_on     cases passed on to the reporting channel
    forget_me            conversations deleted at the person's request
    come_back_made, come_back_used, come_back_failed
                         come-back codes made on the web page, chats opened again
                         with one, and tries that opened nothing (each one; summed in
                         memory and written at most every TALLY_SECONDS: tally)
    fallbacks            messages the assistant did not understand (each one)
    helped_<route>_asked, helped_<route>_<answer>
                         "did this help?" asked, and answered, by route (handoff,
                         four_steps): once per conversation and route
    check_in_offered, check_in_agreed, check_in_sent
                         a check-in (bot/conversation/check_in.py) offered, asked
                         for, and sent: once per conversation each
    wrapups, wrapup_category_<id>, wrapup_outcome_<id>
                         each conversation a worker closed with a wrap-up, and what
                         they ticked (ids from wrapup.yml, bot/staff/wrapup.py)

A conversation counts once for each (bot/store/insights.py `insight_marks`). What the
assistant said is read from the response names (../shared/CONVERSATION.md).

Shown only in aggregate, and any count from 1 to 4 as "<5" (SMALL), so that no
one can be singled out; a share or a waiting time needs 5 behind it too. The
messages not understood are kept, redacted, only as long as their conversation
(RETENTION_HOURS), unless an admin keeps one as a training example.
"""
import asyncio
import itertools
import logging
import secrets
import time
from datetime import date, datetime, timedelta
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple, Union

from bot.conversation.feedback import ANSWERS, ROUTES
from bot.errors import log_failure
from bot.staff.hours import SupportHours
from bot.staff.wrapup import WrapUpList
from bot.store import Store

logger = logging.getLogger(__name__)

# What a flood can make (failed come-back tries) is summed in memory and written at
# most this often, in one write (tally): never a write each. Counted in the hour written.
TALLY_SECONDS = 10.0
# Counts from 1 to 4 are shown as "<5".
SMALL = 5
HIDDEN = "<5"

# The counters, in the order the page and the CSV show them, with their words.
COUNTERS = {
    "conversations": "Conversations",
    "out_of_hours": "Started outside support hours",
    "nobody_on_shift": "Started with nobody on shift",
    "step_1": "Step 1: don't pay",
    "step_2": "Step 2: stop replying",
    "step_3": "Step 3: keep the evidence",
    "step_4": "Step 4: report it",
    "crisis": "Got the crisis response",
    "under_18": "Said they are under 18",
    "helping_someone": "A parent, carer, friend or professional",
    "check_risk": "Asked gently about suicide or self-harm",
    "handoff_requested": "Asked for a person",
    "handoff_unstaffed": "Asked when nobody could answer",
    "reached_person": "Reached a person",
    "report_passed_on": "Cases passed on",
    "forget_me": "Asked us to delete their chat",
    "come_back_made": "Come-back codes made",
    "come_back_used": "Came back with a code",
    "come_back_failed": "Come-back codes that opened nothing",
    "fallbacks": "Messages not understood",
    "helped_handoff_asked": "Asked \u201cdid this help?\u201d after a person",
    "helped_handoff_yes": "After a person: yes, it helped",
    "helped_handoff_a_bit": "After a person: it helped a bit",
    "helped_handoff_no": "After a person: it did not help",
    "helped_four_steps_asked": "Asked \u201cdid this help?\u201d after the four steps",
    "helped_four_steps_yes": "After the four steps: yes, it helped",
    "helped_four_steps_a_bit": "After the four steps: it helped a bit",
    "helped_four_steps_no": "After the four steps: it did not help",
    "wrapups": "Closed with a wrap-up",
    "check_in_offered": "Offered a check-in later",
    "check_in_agreed": "Asked for a check-in",
    "check_in_sent": "Check-ins sent",
}
WRAPUP_CATEGORY = "wrapup_category_"
WRAPUP_OUTCOME = "wrapup_outcome_"
FUNNEL = ("conversations", "step_1", "step_2", "step_3", "step_4")

# The assistant's responses that mark a conversation, once each.
MARKED_BY_RESPONSE = {
    "utter_step_dont_pay": "step_1",
    "utter_step_stop_replying": "step_2",
    "utter_step_keep_evidence": "step_3",
    "utter_step_report": "step_4",
    "utter_crisis": "crisis",
    "utter_under_18": "under_18",
    "utter_helping_someone": "helping_someone",
    "utter_check_risk": "check_risk",
    "utter_forget_me": "forget_me",
    # "Did this help?" asked (bot/conversation/feedback.py), by the assistant or the gateway.
    "utter_did_this_help": "helped_four_steps_asked",
    "gateway_did_this_help": "helped_handoff_asked",
    # A check-in on Telegram and WhatsApp (bot/conversation/check_in.py).
    "gateway_check_in_offer": "check_in_offered",
    "gateway_check_in_agreed": "check_in_agreed",
    "gateway_check_in": "check_in_sent",
}
# "Just to check...?", "Say it another way?", "Still not sure": not understood.
NOT_UNDERSTOOD = {"utter_ask_affirmation", "utter_ask_rephrase", "utter_default"}

# Waits are kept as a histogram: the number waiting up to each of these minutes.
WAIT_MINUTES = (1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240)
WAIT_OVER = "wait_over_240"


# How many counted conversations a gateway remembers (about 100 bytes each).
MAX_REMEMBERED = 100_000


def wait_bucket(seconds: float) -> str:
    minutes = max(0.0, seconds) / 60
    return next((f"wait_le_{m}" for m in WAIT_MINUTES if minutes <= m), WAIT_OVER)


def wait_percentile(histogram: Dict[str, int], fraction: float) -> Optional[Union[int, str]]:
    """The bucket (its upper bound in minutes, or ">240") that holds the waits at
    `fraction` (0.5: the median); None when fewer than SMALL waits lie behind it."""
    total = sum(histogram.values())
    if total < SMALL:
        return None
    seen = 0
    for minutes in WAIT_MINUTES:
        seen += histogram.get(f"wait_le_{minutes}", 0)
        if seen >= fraction * total:
            return minutes
    return f">{WAIT_MINUTES[-1]}"


def shown(count: int) -> Union[int, str]:
    """A count as anyone may see it: 1 to 4 become "<5"."""
    return HIDDEN if 0 < count < SMALL else count


def share(part: int, whole: int) -> Optional[float]:
    """part / whole, unless either is too small to show (a share of 3 in 100 is a count of 3)."""
    if whole < SMALL or 0 < part < SMALL:
        return None
    return round(part / whole, 3)


def hour_of(at: float) -> int:
    return int(at // 3600 * 3600)


class Insights:
    """Counts what happens (called from the turn, the handoff queue and the outbox)
    and sums it up for the page (bot/insights/api.py). A failure to count is logged,
    never passed on: nobody loses an answer over a statistic."""

    def __init__(self, store: Store, hours: SupportHours, on_shift=lambda: 0,
                 wrapup: Optional[WrapUpList] = None) -> None:
        self.store = store
        self.hours = hours
        self.on_shift = on_shift  # how many staff are on shift now
        # The wrap-up's categories and outcomes, shown in this order with their labels.
        self.wrapup = wrapup or WrapUpList((), ())
        # Conversations counted already, so that most messages cost no extra write.
        # Only a shortcut (the store's marks are the record), so it is simply emptied
        # when full: conversations erased by another gateway are never forgotten here.
        self._counted: Set[str] = set()
        self._tallied: Dict[str, int] = {}  # counted by tally, not written yet
        self._writing: Optional[asyncio.Task] = None  # the write due within TALLY_SECONDS
        self._storing: Optional[asyncio.Future] = None  # that write, once in the store's hands

    async def _count(self, session_id: Optional[str], at: Optional[float] = None,
                     each: Sequence[str] = (), marks: Optional[Dict[str, Sequence[str]]] = None,
                     unclear: Optional[str] = None) -> bool:
        """True once counted (or found counted before)."""
        try:
            await self.store.count(
                session_id, hour_of(time.time() if at is None else at), each, marks,
                (secrets.token_urlsafe(9), unclear) if unclear else None)
            return True
        except Exception as error:  # noqa: BLE001 - see the class docstring
            log_failure(logger, "Counting for insights failed", error)
            return False

    # --- counting ---------------------------------------------------------------
    async def stored(self, session_id: str, messages: Iterable[Dict[str, Any]],
                     typed: Optional[str] = None, at: Optional[float] = None) -> None:
        """Messages just stored in a conversation. `typed`: the person's own
        (redacted) words these messages answer, if they typed rather than tapped."""
        marks: Dict[str, Sequence[str]] = {}
        each: List[str] = []
        for message in messages:
            if message["from"] == "user" and session_id not in self._counted:
                marks["conversation"] = ["conversations", *self._start_counters(at)]
            mark = MARKED_BY_RESPONSE.get(message.get("response"))
            if mark:
                marks[mark] = [mark]
            if message.get("response") in NOT_UNDERSTOOD and typed and "fallbacks" not in each:
                each.append("fallbacks")
        if not (marks or each):
            return
        if await self._count(session_id, at, each, marks, unclear=typed if each else None) \
                and "conversation" in marks:
            if len(self._counted) >= MAX_REMEMBERED:
                self._counted.clear()
            self._counted.add(session_id)

    def _start_counters(self, at: Optional[float]) -> List[str]:
        when = None if at is None else datetime.fromtimestamp(at, self.hours.zone)
        counters = []
        if not self.hours.always and not self.hours.is_open(when):
            counters.append("out_of_hours")
        if self.on_shift() == 0:
            counters.append("nobody_on_shift")
        return counters

    async def handoff_requested(self, session_id: str, answered: bool,
                                at: Optional[float] = None) -> None:
        """`answered`: someone could take it now (else: out of hours, nobody on shift)."""
        marks = {"handoff_requested": ["handoff_requested"]}
        if not answered:
            marks["handoff_unstaffed"] = ["handoff_unstaffed"]
        await self._count(session_id, at, marks=marks)

    async def facts_known(self, session_id: str, under_18: bool, helping: bool,
                          paid: bool = False, images_shared: bool = False,
                          at: Optional[float] = None) -> None:
        """Facts the assistant holds when a handoff is asked for: they show in the
        staff queue at once (bot/store/insights.py reads them from the marks) and count once.
        `paid` and `images_shared` are marks only (they tick the wrap-up), not counters."""
        marks: Dict[str, Sequence[str]] = {
            name: [name] for name, known in (("under_18", under_18),
                                             ("helping_someone", helping)) if known}
        marks.update({name: [] for name, known in (("paid", paid),
                                                   ("images_shared", images_shared)) if known})
        if marks:
            await self._count(session_id, at, marks=marks)

    async def reached_person(self, session_id: str, waited_seconds: float,
                             at: Optional[float] = None) -> None:
        await self._count(session_id, at, each=[wait_bucket(waited_seconds)],
                          marks={"reached_person": ["reached_person"]})

    async def passed_on(self, session_id: Optional[str], at: Optional[float] = None) -> None:
        await self._count(session_id, at, each=["report_passed_on"])

    async def helped(self, session_id: str, route: str, answer: str,
                     at: Optional[float] = None) -> None:
        """A "did this help?" answer: counted once per conversation and route."""
        await self._count(session_id, at, marks={f"helped_{route}": [f"helped_{route}_{answer}"]})

    async def wrapped_up(self, categories: Sequence[str], outcome: str,
                         at: Optional[float] = None) -> None:
        """A worker's wrap-up on close: counts only, linked to no conversation."""
        await self._count(None, at, each=["wrapups", *(WRAPUP_CATEGORY + c for c in categories),
                                          WRAPUP_OUTCOME + outcome])

    async def come_back(self, what: str) -> None:
        """A come-back code "made" or "used" (bot/web/come_back.py): counts only, linked
        to no conversation. A failed try is tallied."""
        await self._count(None, each=[f"come_back_{what}"])

    def tally(self, name: str) -> None:
        """One more for the counter `name`, written with the others within TALLY_SECONDS
        in one write, linked to no conversation: for what a flood can make."""
        self._tallied[name] = self._tallied.get(name, 0) + 1
        if self._writing is None:
            self._writing = asyncio.get_running_loop().create_task(self._write_tally_soon())

    async def _write_tally_soon(self) -> None:
        await asyncio.sleep(TALLY_SECONDS)
        self._writing = None
        await self.write_tally()

    async def write_tally(self) -> None:
        """Writes what was tallied since the last write, in one write. (Shielded: a
        shutdown that cancels the wait still lets the write end, and close() awaits it.)"""
        tallied, self._tallied = self._tallied, {}
        if not tallied:
            return
        self._storing = asyncio.ensure_future(self.store.add_counts(hour_of(time.time()), tallied))
        try:
            await asyncio.shield(self._storing)
        except Exception as error:  # noqa: BLE001 - see the class docstring
            log_failure(logger, "Counting for insights failed", error)

    async def close(self) -> None:
        """At shutdown: a write on its way ends first, then what was tallied since is
        written, before the store closes. (A crash loses at most TALLY_SECONDS of it.)"""
        if self._writing is not None:
            self._writing.cancel()
            self._writing = None
        if self._storing is not None:
            await asyncio.gather(self._storing, return_exceptions=True)
        await self.write_tally()

    def forget(self, session_id: str) -> None:
        self._counted.discard(session_id)

    # --- summing up -------------------------------------------------------------
    def days(self, count: int, today: Optional[date] = None) -> Tuple[List[date], List[Tuple[int, int]]]:
        """The last `count` local days, today included, and for each the hour buckets
        it holds (first, end), UTC: those that start on that local day."""
        today = today or datetime.now(self.hours.zone).date()
        dates = [today - timedelta(days=count - 1 - d) for d in range(count + 1)]
        starts = [hour_of(datetime(d.year, d.month, d.day, tzinfo=self.hours.zone).timestamp() + 3599)
                  for d in dates]
        return dates[:-1], list(itertools.pairwise(starts))

    async def _tally(self, count: int, today: Optional[date]):
        """Sums for the period: per local day, in all, and conversations per weekday and hour."""
        dates, bounds = self.days(count, today)
        per_day, hourly = await self.store.insight_sums(bounds)
        by_day: Dict[date, Dict[str, int]] = {day: {} for day in dates}
        totals: Dict[str, int] = {}
        for index, name, total in per_day:
            by_day[dates[index]][name] = total
            totals[name] = totals.get(name, 0) + total
        heat = [[0] * 24 for _ in range(7)]
        for hour, conversations in hourly:
            when = datetime.fromtimestamp(hour, self.hours.zone)
            heat[when.weekday()][when.hour] += conversations
        return dates[0], dates[-1], by_day, totals, heat

    async def summary(self, days: int, today: Optional[date] = None) -> Dict[str, Any]:
        """What the page shows: every count already made safe to show."""
        first, last, by_day, totals, heat = await self._tally(days, today)
        conversations = totals.get("conversations", 0)
        return {
            "period": {"from": first.isoformat(), "to": last.isoformat(), "days": days,
                       "timezone": self.hours.zone.key},
            "small": SMALL,
            "labels": COUNTERS,
            "totals": {name: shown(totals.get(name, 0)) for name in COUNTERS},
            "shares": {name: share(totals.get(name, 0), conversations)
                       for name in ("out_of_hours", "nobody_on_shift", "crisis", "under_18",
                                    "helping_someone", "check_risk", "handoff_requested",
                                    "reached_person", "step_4")},
            "funnel": [{"name": name, "label": COUNTERS[name], "count": shown(totals.get(name, 0))}
                       for name in FUNNEL],
            "waits": waits_summary(totals, histogram=True),
            "days": [{"date": day.isoformat(), "conversations": shown(counts.get("conversations", 0)),
                      "waits": waits_summary(counts)} for day, counts in by_day.items()],
            "heatmap": [[shown(count) for count in hours] for hours in heat],
            # (weekday, first minute, end minute): the page marks them on the heat map
            "support_hours": [list(window) for window in self.hours.windows],
            "helped": {route: {"asked": shown(totals.get(f"helped_{route}_asked", 0)),
                               "answers": [{"answer": answer, "label": label,
                                            "count": shown(totals.get(f"helped_{route}_{answer}", 0))}
                                           for answer, label in ANSWERS.items()]}
                       for route in ROUTES},
            "wrapup": {"count": shown(totals.get("wrapups", 0)),
                       **{group: [{"id": c.id, "label": c.label,
                                   "count": shown(totals.get(prefix + c.id, 0))} for c in choices]
                          for group, prefix, choices in self._wrapup_groups()}},
        }

    def _wrapup_groups(self):
        return (("categories", WRAPUP_CATEGORY, self.wrapup.categories),
                ("outcomes", WRAPUP_OUTCOME, self.wrapup.outcomes))

    async def csv_rows(self, days: int, today: Optional[date] = None) -> List[List[Any]]:
        """One row a day and one for the period, as the page shows them (small counts hidden)."""
        _, _, by_day, totals, _ = await self._tally(days, today)
        wrapup = [prefix + c.id for _, prefix, choices in self._wrapup_groups() for c in choices]
        table: List[List[Any]] = [["date", *COUNTERS, *wrapup, "waits", "wait_median_minutes",
                                   "wait_p90_minutes"]]
        for day, counts in [*((d.isoformat(), c) for d, c in by_day.items()), ("total", totals)]:
            waits = waits_summary(counts)
            table.append([day, *(shown(counts.get(name, 0)) for name in (*COUNTERS, *wrapup)),
                          waits["count"], *("" if waits[key] is None else waits[key]
                                            for key in ("median_minutes", "p90_minutes"))])
        return table


def waits_summary(counts: Dict[str, int], histogram: bool = False) -> Dict[str, Any]:
    """How many waited, the median and 90th percentile wait (minutes, by bucket)."""
    waits = {name: count for name, count in counts.items() if name.startswith("wait_")}
    summary: Dict[str, Any] = {"count": shown(sum(waits.values())),
                               "median_minutes": wait_percentile(waits, 0.5),
                               "p90_minutes": wait_percentile(waits, 0.9)}
    if histogram:
        summary["histogram"] = [
            {"up_to_minutes": m, "count": shown(waits.get(f"wait_le_{m}", 0))} for m in WAIT_MINUTES
        ] + [{"up_to_minutes": None, "count": shown(waits.get(WAIT_OVER, 0))}]
    return summary

"""When a check-in is sent, and how the person is told (bot/conversation/check_in.py).

    the yes + CHECK_IN_AFTER_MINUTES, unless that falls in CHECK_IN_NIGHT
    ("22:00-08:00" in SUPPORT_TIMEZONE's local time; empty: any time):
    then at the night's end

A message at 3am wakes a phone, and a teenager's phone may be seen by someone else:
a check-in waits for the morning instead. The person is told the real time: "later
today" and "in about 4 hours" by day; "tomorrow morning" (or "this morning" after
midnight) and "at about 8am" when it waits. The schedule (bot/messaging/check_ins.py)
sends nothing at night either: one that falls due then (a retry, a gateway that was
down) waits for the morning, or is given up at its give_up_at.

WhatsApp lets a business write only within 24 hours of the person's last message. The
longest wait is for a check-in that would fall just as the night starts: the whole
night, and an hour more on the night the clocks go back. check_settings keeps that
wait at most MAX_AFTER_MINUTES after the yes, so there is time left to retry before
give_up_at (23 hours after the yes).
"""
import re
from datetime import datetime, time, timedelta
from typing import Dict, Optional, Tuple
from zoneinfo import ZoneInfo

from bot.staff.hours import clock

# Inside WhatsApp's 24-hour window, with time left to retry while the provider is down.
MAX_AFTER_MINUTES = 20 * 60
# A night is this much longer when the clocks go back.
CLOCK_CHANGE_MINUTES = 60
DAY_MINUTES = 24 * 60
_NIGHT = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class CheckInSettingsError(ValueError):
    """CHECK_IN_AFTER_MINUTES, CHECK_IN_GRACE_MINUTES or CHECK_IN_NIGHT can't be kept:
    start-up stops."""


def when(minutes: float) -> str:
    """"about 4 hours", as the person reads it."""
    if minutes >= 90:
        return f"about {round(minutes / 60)} hours"
    if minutes >= 60:
        return "about an hour"
    return "about a minute" if round(minutes) <= 1 else f"about {round(minutes)} minutes"


def _night(spec: str) -> Optional[Tuple[int, int]]:
    """CHECK_IN_NIGHT as (the minute of the day it starts, the minute it ends); None: no night."""
    if not spec.strip():
        return None
    found = _NIGHT.match(spec)
    if found:
        start_hour, start_minute, end_hour, end_minute = (int(part) for part in found.groups())
        start, end = start_hour * 60 + start_minute, end_hour * 60 + end_minute
    if not found or max(start_hour, end_hour) > 23 or max(start_minute, end_minute) > 59 or start == end:
        raise CheckInSettingsError(
            f"CHECK_IN_NIGHT: can't read {spec.strip()!r}; write it like '22:00-08:00' "
            "(when no check-in is sent), or leave it empty for any time.")
    return start, end


class CheckInTime:
    """CHECK_IN_AFTER_MINUTES and CHECK_IN_NIGHT in SUPPORT_TIMEZONE: when, and how it is said."""

    def __init__(self, after_minutes: float, night: str = "", timezone: str = "Europe/London") -> None:
        self.after_minutes = after_minutes
        self.zone = ZoneInfo(timezone)
        self.night = _night(night)

    @property
    def longest_wait_minutes(self) -> float:
        """From the yes to the check-in, at most: one that falls just as the night
        starts waits the whole night, an hour more when the clocks go back."""
        if self.night is None:
            return self.after_minutes
        start, end = self.night
        return self.after_minutes + (end - start) % DAY_MINUTES + CLOCK_CHANGE_MINUTES

    def night_end(self, moment: float) -> Optional[float]:
        """When the night `moment` falls in ends; None by day (or with no night)."""
        if self.night is None:
            return None
        start, end = self.night
        local = datetime.fromtimestamp(moment, self.zone)
        minute = local.hour * 60 + local.minute
        if start < end:
            at_night, day = start <= minute < end, local.date()
        else:  # over midnight: in its first part, it ends tomorrow
            at_night = minute >= start or minute < end
            day = local.date() + timedelta(days=1) if minute >= start else local.date()
        if not at_night:
            return None
        ends = datetime.combine(day, time(end // 60, end % 60), self.zone).timestamp()
        return ends if ends > moment else None

    def due(self, agreed_at: float) -> float:
        """When the check-in a person agreed to at `agreed_at` is sent."""
        wanted = agreed_at + self.after_minutes * 60
        return self.night_end(wanted) or wanted

    def words(self, now: float) -> Dict[str, str]:
        """How a yes now is said: {"day": "later today", "at": "in about 4 hours"}, or
        {"day": "tomorrow morning", "at": "at about 8am"} when it waits for the night to end."""
        sent_at = self.due(now)
        moved = sent_at != now + self.after_minutes * 60
        sent = datetime.fromtimestamp(sent_at, self.zone)
        morning = sent.hour < 12
        if sent.date() == datetime.fromtimestamp(now, self.zone).date():
            day = "this morning" if morning else "later today"
        else:
            day = "tomorrow morning" if morning else "tomorrow"
        return {"day": day, "at": f"at about {clock(sent)}" if moved else f"in {when(self.after_minutes)}"}


def check_settings(times: CheckInTime, grace_minutes: float, retention_hours: float) -> None:
    if not 0 < times.after_minutes <= MAX_AFTER_MINUTES:
        raise CheckInSettingsError(
            f"CHECK_IN_AFTER_MINUTES must be above 0 and at most {MAX_AFTER_MINUTES}: WhatsApp "
            "lets us write only within 24 hours of the person's last message.")
    if times.longest_wait_minutes > MAX_AFTER_MINUTES:
        raise CheckInSettingsError(
            f"CHECK_IN_AFTER_MINUTES and CHECK_IN_NIGHT together can make a check-in wait "
            f"{times.longest_wait_minutes:g} minutes (with an hour for the clocks going back); "
            f"at most {MAX_AFTER_MINUTES}: WhatsApp lets us write only within 24 hours of the "
            "person's last message. Make either shorter.")
    if times.longest_wait_minutes >= retention_hours * 60:
        raise CheckInSettingsError(
            "CHECK_IN_AFTER_MINUTES (with the wait for CHECK_IN_NIGHT to end) must be shorter "
            "than RETENTION_HOURS: the conversation would be deleted before its check-in.")
    if grace_minutes < 0:
        raise CheckInSettingsError("CHECK_IN_GRACE_MINUTES can't be below 0.")

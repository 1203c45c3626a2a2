"""When the support team works: SUPPORT_HOURS in SUPPORT_TIMEZONE.

    SUPPORT_HOURS="Mon-Fri 09:00-21:00, Sat-Sun 10:00-18:00"
    SUPPORT_TIMEZONE="Europe/London"

Days are Mon..Sun, single or a range (Fri-Mon wraps round); "24:00" ends at
midnight. Empty means any time: then whether someone is on shift decides.
"""
import re
from datetime import datetime, time, timedelta
from typing import List, Optional, Tuple
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_PART = re.compile(r"^\s*([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def clock(moment: datetime) -> str:
    """'6pm', '9:30am', as a person says the time."""
    hour = moment.strftime("%I").lstrip("0") + (moment.strftime(":%M") if moment.minute else "")
    return hour + ("am" if moment.hour < 12 else "pm")


class SupportHours:
    def __init__(self, spec: str = "", timezone: str = "Europe/London") -> None:
        self.zone = ZoneInfo(timezone)
        # (weekday, start minute, end minute) windows
        self.windows: List[Tuple[int, int, int]] = []
        for part in filter(str.strip, spec.lower().split(",")):
            match = _PART.match(part)
            if not match or match.group(1) not in DAYS or (match.group(2) or "mon") not in DAYS:
                raise ValueError(f"SUPPORT_HOURS: can't read {part.strip()!r}; "
                                 "write it like 'Mon-Fri 09:00-21:00, Sat 10:00-16:00'")
            first = DAYS.index(match.group(1))
            last = DAYS.index(match.group(2)) if match.group(2) else first
            start = int(match.group(3)) * 60 + int(match.group(4))
            end = int(match.group(5)) * 60 + int(match.group(6))
            if not 0 <= start < end <= 24 * 60:
                raise ValueError(f"SUPPORT_HOURS: {part.strip()!r} must start before it ends")
            day = first
            while True:
                self.windows.append((day, start, end))
                if day == last:
                    break
                day = (day + 1) % 7

    @property
    def always(self) -> bool:
        return not self.windows

    def is_open(self, now: Optional[datetime] = None) -> bool:
        if self.always:
            return True
        local = self._local(now)
        minute = local.hour * 60 + local.minute
        return any(day == local.weekday() and start <= minute < end
                   for day, start, end in self.windows)

    def next_opening(self, now: Optional[datetime] = None) -> Optional[datetime]:
        """When the team is next there (local time), or None if hours are not set."""
        if self.always:
            return None
        local = self._local(now)
        for days_ahead in range(8):
            date = (local + timedelta(days=days_ahead)).date()
            starts = sorted(start for day, start, _ in self.windows if day == date.weekday())
            for start in starts:
                opening = datetime.combine(date, time(start // 60, start % 60), self.zone)
                if opening > local:
                    return opening
        return None

    def describe_next_opening(self, now: Optional[datetime] = None) -> Optional[str]:
        """'today at 6pm', 'tomorrow at 9am', 'on Monday at 9:30am'."""
        opening = self.next_opening(now)
        if opening is None:
            return None
        local = self._local(now)
        days = (opening.date() - local.date()).days
        if days == 0:
            return f"today at {clock(opening)}"
        if days == 1:
            return f"tomorrow at {clock(opening)}"
        return f"on {DAY_NAMES[opening.weekday()]} at {clock(opening)}"

    def _local(self, now: Optional[datetime]) -> datetime:
        return (now or datetime.now(self.zone)).astimezone(self.zone)

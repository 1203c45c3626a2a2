"""Support hours: open or closed at a given moment, and when the team is next back."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.staff.hours import SupportHours

LONDON = ZoneInfo("Europe/London")
HOURS = SupportHours("Mon-Fri 09:00-21:00, Sat-Sun 10:00-16:30", "Europe/London")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in the week of Monday 2026-11-23, London time (day 0 = Monday)."""
    return datetime(2026, 11, 23 + day, hour, minute, tzinfo=LONDON)


@pytest.mark.parametrize("moment, is_open", [
    (at(0, 9), True), (at(0, 8, 59), False), (at(4, 20, 59), True), (at(4, 21), False),
    (at(5, 10), True), (at(5, 16, 29), True), (at(5, 16, 30), False), (at(6, 3), False),
])
def test_open_only_inside_the_hours(moment, is_open):
    assert HOURS.is_open(moment) is is_open


@pytest.mark.parametrize("moment, words", [
    (at(0, 7, 30), "today at 9am"),
    (at(2, 22), "tomorrow at 9am"),
    (at(4, 23), "tomorrow at 10am"),
    (at(6, 17), "tomorrow at 9am"),
])
def test_says_when_the_team_is_back(moment, words):
    assert HOURS.describe_next_opening(moment) == words


def test_a_range_can_wrap_round_the_week_and_a_day_can_end_at_midnight():
    hours = SupportHours("Fri-Mon 18:00-24:00", "Europe/London")
    assert hours.is_open(at(6, 23, 59)) and hours.is_open(at(0, 18))
    assert not hours.is_open(at(1, 19))
    assert hours.describe_next_opening(at(1, 12)) == "on Friday at 6pm"


def test_the_timezone_is_the_services_not_the_servers():
    utc_evening = datetime(2026, 7, 1, 20, 30, tzinfo=ZoneInfo("UTC"))  # 21:30 in London (BST)
    assert not HOURS.is_open(utc_evening)


def test_no_hours_means_any_time():
    always = SupportHours("", "Europe/London")
    assert always.always and always.is_open(at(6, 3)) and always.describe_next_opening() is None


@pytest.mark.parametrize("spec", ["Mon-Fri 9-5", "Moonday 09:00-17:00", "Mon 17:00-09:00", "Mon 09:00-25:00"])
def test_settings_that_cant_be_read_are_refused_with_a_clear_error(spec):
    with pytest.raises(ValueError, match="SUPPORT_HOURS"):
        SupportHours(spec, "Europe/London")

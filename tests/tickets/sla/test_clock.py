"""The SLA clock against a minute-by-minute reference, and by dates (Zammad-style).

The reference walks UTC minutes and asks the zone for each one's wall clock: a minute is
open when its wall time lies in a range of the weekday the range started on, and that day
is not a holiday. Ranges and zones are whole minutes, so whole minutes are open or closed.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tickets.sla.clock import (
    DAY,
    Calendar,
    CalendarError,
    add,
    between,
    format_hours,
    is_open,
    next_opening,
    parse_hours,
)

UTC = timezone.utc
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Shanghai", "Australia/Sydney", "UTC", "Asia/Kolkata")
# Days of both daylight-saving switches of 2024 in the zones above (and plain days).
SWITCHES = (datetime(2024, 3, 10, tzinfo=UTC), datetime(2024, 3, 31, tzinfo=UTC), datetime(2024, 10, 27, tzinfo=UTC),
            datetime(2024, 11, 3, tzinfo=UTC), datetime(2024, 4, 7, tzinfo=UTC), datetime(2024, 10, 6, tzinfo=UTC),
            datetime(2024, 6, 14, tzinfo=UTC))
NINE_TO_SIX = ((9 * 3600, 18 * 3600),)
WEEKDAYS_9_18 = (NINE_TO_SIX,) * 5 + ((), ())


def reference_open(calendar: Calendar, ts: int) -> bool:
    wall = datetime.fromtimestamp(ts, UTC).astimezone(ZoneInfo(calendar.zone))
    day, second = wall.date(), wall.hour * 3600 + wall.minute * 60 + wall.second
    if day not in calendar.closed and any(s <= second < e for s, e in calendar.week[day.weekday()]):
        return True
    before = day - timedelta(days=1)
    return before not in calendar.closed and any(second + DAY < e for _s, e in calendar.week[before.weekday()])


def reference_between(calendar: Calendar, start: datetime, end: datetime) -> int:
    return 60 * sum(reference_open(calendar, ts) for ts in range(int(start.timestamp()), int(end.timestamp()), 60))


def reference_add(calendar: Calendar, start: datetime, minutes: int) -> datetime:
    ts = int(start.timestamp())
    while not reference_open(calendar, ts):  # a start outside hours counts from the next opening
        ts += 60
    while minutes:
        minutes -= reference_open(calendar, ts)
        ts += 60
    return datetime.fromtimestamp(ts, UTC)


@st.composite
def day_ranges(draw):
    """Non-overlapping ranges of one day in minutes; the last may run past midnight."""
    count = draw(st.integers(0, 3))
    points = sorted(draw(st.lists(st.integers(0, 24 * 60 - 1), min_size=2 * count, max_size=2 * count, unique=True)))
    ranges = [(points[i] * 60, points[i + 1] * 60) for i in range(0, len(points), 2)]
    if ranges and draw(st.booleans()):
        start, _end = ranges[-1]
        ranges[-1] = (start, start + draw(st.integers(1, 24 * 60 - 1)) * 60)
    return tuple(ranges)


@st.composite
def calendars(draw):
    week = tuple(draw(day_ranges()) for _ in range(7))
    if not any(week):
        week = (((9 * 3600, 17 * 3600),),) + week[1:]
    base = draw(st.sampled_from(SWITCHES)).date()
    closed = frozenset(base + timedelta(days=d) for d in draw(st.lists(st.integers(-3, 6), max_size=3)))
    return Calendar(draw(st.sampled_from(ZONES)), week, closed)


@st.composite
def instants(draw):
    base = draw(st.sampled_from(SWITCHES))
    return base + timedelta(minutes=draw(st.integers(-3 * 24 * 60, 4 * 24 * 60)))


PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(calendars(), instants(), st.integers(0, 4 * 24 * 60))
def test_between_matches_the_minute_reference(calendar, start, minutes):
    end = start + timedelta(minutes=minutes)
    assert between(calendar, start, end) == reference_between(calendar, start, end)


@PROPERTY
@given(calendars(), instants(), st.integers(0, 2 * 24 * 60))
def test_add_matches_the_minute_reference(calendar, start, minutes):
    deadline = add(calendar, start, minutes * 60)
    assert deadline == reference_add(calendar, start, minutes)
    assert between(calendar, start, deadline) == minutes * 60


@PROPERTY
@given(calendars(), instants())
def test_is_open_and_next_opening_match_the_reference(calendar, instant):
    assert is_open(calendar, instant) == reference_open(calendar, int(instant.timestamp()))
    opening = next_opening(calendar, instant)
    assert reference_open(calendar, int(opening.timestamp()))
    assert opening == instant or reference_between(calendar, instant, opening) == 0


@PROPERTY
@given(calendars(), instants(), st.integers(0, 3 * 24 * 3600), st.integers(0, 3 * 24 * 3600))
def test_add_is_additive_to_the_second(calendar, start, first, second):
    """Seconds, not minutes: adding in two steps lands where one step does."""
    assert add(calendar, add(calendar, start, first), second) == add(calendar, start, first + second)


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo("Europe/Berlin"))


def new_york(*args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo("America/New_York"))


def test_created_friday_after_closing_starts_on_monday_morning():
    calendar = Calendar("Europe/Berlin", WEEKDAYS_9_18)
    friday_evening = berlin(2024, 6, 14, 19, 30)
    assert not is_open(calendar, friday_evening)
    assert next_opening(calendar, friday_evening) == berlin(2024, 6, 17, 9, 0)
    assert add(calendar, friday_evening, 4 * 3600) == berlin(2024, 6, 17, 13, 0)
    assert between(calendar, friday_evening, berlin(2024, 6, 17, 10, 0)) == 3600


def test_deadline_on_closing_time_is_the_closing_time():
    calendar = Calendar("Europe/Berlin", WEEKDAYS_9_18)
    assert add(calendar, berlin(2024, 6, 14, 10, 0), 8 * 3600) == berlin(2024, 6, 14, 18, 0)


def test_spring_forward_night_shift_is_one_hour_shorter():
    calendar = Calendar("Europe/Berlin", (((3600, 5 * 3600),),) * 7)  # 01:00-05:00 every day
    sunday = berlin(2024, 3, 31, 0, 0)
    assert between(calendar, sunday, sunday + timedelta(days=1)) == 3 * 3600
    # Two hours from 01:00 CET: 02:00 does not exist, so 04:00 CEST.
    assert add(calendar, berlin(2024, 3, 31, 1, 0), 2 * 3600) == berlin(2024, 3, 31, 4, 0)


def test_fall_back_night_shift_is_one_hour_longer():
    calendar = Calendar("America/New_York", (((3600, 5 * 3600),),) * 7)
    night = new_york(2024, 11, 3, 0, 0)
    assert between(calendar, night, night + timedelta(hours=7)) == 5 * 3600


def test_opening_inside_a_skipped_hour_opens_at_the_switch():
    calendar = Calendar("America/New_York", (((2 * 3600 + 1800, 6 * 3600),),) * 7)  # 02:30-06:00
    switch = datetime(2024, 3, 10, 7, 0, tzinfo=UTC)  # 02:00 EST became 03:00 EDT
    assert next_opening(calendar, switch - timedelta(hours=1)) == switch


def test_overnight_range_belongs_to_the_day_it_starts():
    week = ((), (), (), (), ((22 * 3600, 26 * 3600),), (), ())  # Friday 22:00 - Saturday 02:00
    saturday_holiday = Calendar("Asia/Shanghai", week, frozenset({date(2024, 6, 15)}))
    friday_holiday = Calendar("Asia/Shanghai", week, frozenset({date(2024, 6, 14)}))
    friday = datetime(2024, 6, 14, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert between(saturday_holiday, friday, friday + timedelta(days=2)) == 4 * 3600
    assert between(friday_holiday, friday, friday + timedelta(days=2)) == 0


def test_holidays_are_skipped():
    calendar = Calendar("Australia/Sydney", WEEKDAYS_9_18, frozenset({date(2024, 12, 25), date(2024, 12, 26)}))
    christmas_eve = datetime(2024, 12, 24, 17, 0, tzinfo=ZoneInfo("Australia/Sydney"))
    assert add(calendar, christmas_eve, 2 * 3600) == datetime(2024, 12, 27, 10, 0, tzinfo=ZoneInfo("Australia/Sydney"))


def test_calendar_hours_are_plain_arithmetic():
    start = datetime(2024, 3, 30, 12, 0, 0, 999_999, tzinfo=UTC)
    assert add(None, start, 24 * 3600) == datetime(2024, 3, 31, 12, 0, tzinfo=UTC)
    assert between(None, start, start + timedelta(days=2)) == 2 * DAY
    assert between(None, start, start - timedelta(days=2)) == 0


def test_bad_calendars_and_arguments_are_refused():
    with pytest.raises(CalendarError, match="time zone"):
        Calendar("Mars/Olympus", WEEKDAYS_9_18)
    with pytest.raises(CalendarError, match="never open"):
        Calendar("UTC", ((),) * 7)
    with pytest.raises(CalendarError):
        Calendar("UTC", (((10, 5),),) * 7)
    every_day_closed = Calendar("UTC", WEEKDAYS_9_18, frozenset(date(2024, 1, 1) + timedelta(days=d) for d in range(1200)))
    with pytest.raises(CalendarError, match="no opening"):
        add(every_day_closed, datetime(2024, 1, 1, tzinfo=UTC), 60)
    with pytest.raises(ValueError):
        add(None, datetime(2024, 1, 1), 60)
    with pytest.raises(ValueError):
        add(None, datetime(2024, 1, 1, tzinfo=UTC), -1)


@pytest.mark.parametrize("text, expected", [
    ("09:00-18:00", ((9 * 3600, 18 * 3600),)),
    ("13:30-18:00, 09:00-12:30", ((9 * 3600, 12 * 3600 + 1800), (13 * 3600 + 1800, 18 * 3600))),
    ("22:00-02:00", ((22 * 3600, 26 * 3600),)),
    ("00:00-24:00", ((0, DAY),)),
    ("", ()),
])
def test_parse_hours(text, expected):
    assert parse_hours(text) == expected
    assert parse_hours(format_hours(expected)) == expected


@pytest.mark.parametrize("text", ["9-18", "09:00", "09:00-09:00", "25:00-26:00", "09:00-12:00,11:00-13:00",
                                  "０９:００-１８:００", "24:00-02:00", "09:60-10:00", "<b>", "x" * 10_000])
def test_parse_hours_refuses_nonsense(text):
    with pytest.raises(CalendarError):
        parse_hours(text)

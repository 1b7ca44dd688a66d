"""The SLA clock: business-hours arithmetic as pure functions (no database, no Flask).

A :class:`Calendar` is a time zone, weekly opening hours and closed dates. An instant is
*open* when the calendar's wall clock at that instant lies in an opening range of a
working day:

* opening ranges are wall-clock times ``[start, end)`` of a weekday, in seconds after
  local midnight; ``end`` may pass midnight (``22:00–02:00`` is written ``(79200,
  93600)``) and then the hours after midnight belong to the day the range *started*;
* a closed date (a holiday) closes every range that starts on it, overnight tails
  included; the tail of the evening before still runs into it;
* across a daylight-saving switch the wall clock decides: a range ``01:00–04:00`` on the
  night clocks go forward holds two real hours, on the night they go back four; an
  opening time that does not exist that night (``02:30`` in a skipped hour) opens when
  the wall clock passes it (at the switch).

Everything is exact to the second: instants are taken to the whole second (sub-second
parts dropped) and durations are whole seconds of real (elapsed) time. The functions are
compared with a minute-by-minute reference over random calendars and zones in
``tests/tickets/sla/test_clock.py`` — the same idea as Zammad's escalation calendars
(calendars and holidays as data, arithmetic isolated, tested by dates).

``calendar=None`` everywhere means calendar hours (24/7, no holidays): plain arithmetic
on instants, for rules such as "answer within 24 hours, weekends included".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

DAY = 86_400
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How far the clock looks for the next opening before deciding the calendar never opens.
MAX_CLOSED_DAYS = 3 * 366
_EPOCH = date(1970, 1, 1)
# UTC offsets lie within -12 h and +14 h (with a day of margin for overnight ranges).
_BEFORE, _AFTER = 15 * 3600, 2 * DAY + 15 * 3600
_PROBE = 3 * 3600


class CalendarError(ValueError):
    """A calendar that cannot be used: unknown zone, a malformed or empty range, or no
    opening at all within :data:`MAX_CLOSED_DAYS` days."""


@dataclass(frozen=True)
class Calendar:
    """Business hours: ``zone`` (IANA name), ``week`` (seven tuples, Monday first, of
    ``(start, end)`` wall-clock seconds after midnight with ``0 <= start < end <= start +
    86400`` and ``start < 86400``) and ``closed`` (local dates closed all day: holidays).

    Raises:
        CalendarError: an unknown zone, a range out of bounds, or no range at all.
    """

    zone: str
    week: tuple[tuple[tuple[int, int], ...], ...]
    closed: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self):
        try:
            ZoneInfo(self.zone)
        except (ValueError, KeyError, OSError) as exc:
            raise CalendarError(f"Unknown time zone {self.zone!r}.") from exc
        if len(self.week) != 7:
            raise CalendarError("Opening hours need seven days, Monday first.")
        for ranges in self.week:
            for start, end in ranges:
                if not (0 <= start < DAY and start < end <= start + DAY):
                    raise CalendarError(f"Opening range {start}–{end} seconds is not a range within one day.")
        if not any(self.week):
            raise CalendarError("The calendar is never open: give at least one opening range.")


def _ts(instant: datetime) -> int:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime {instant!r}: the SLA clock takes aware instants only")
    return int(instant.timestamp() // 1)


def _instant(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _offset(zone: ZoneInfo, ts: int) -> int:
    return int(datetime.fromtimestamp(ts, timezone.utc).astimezone(zone).utcoffset().total_seconds())


def _segments(zone: ZoneInfo, lo: int, hi: int) -> list[tuple[int, int, int]]:
    """``[(from_ts, to_ts, offset)]``: the UTC span ``[lo, hi)`` cut where the zone's
    offset changes (found to the second by bisection between probes)."""
    cuts = []
    previous_ts, previous = lo, _offset(zone, lo)
    probe = lo
    while probe < hi:
        probe = min(probe + _PROBE, hi)
        current = _offset(zone, probe)
        if current != previous:
            a, b = previous_ts, probe  # offset(a) == previous, offset(b) != previous
            while b - a > 1:
                middle = (a + b) // 2
                if _offset(zone, middle) == previous:
                    a = middle
                else:
                    b = middle
            cuts.append((b, current))
            previous = current
        previous_ts = probe
    out, start, offset = [], lo, _offset(zone, lo)
    for cut, new in cuts:
        out.append((start, cut, offset))
        start, offset = cut, new
    out.append((start, hi, offset))
    return out


@lru_cache(maxsize=65_536)
def _day(calendar: Calendar, ordinal: int) -> tuple[tuple[int, int], ...]:
    """The open UTC spans ``((from_ts, to_ts), ...)`` of the ranges starting on local date
    ``ordinal`` (days since 1970-01-01), sorted and merged."""
    day = _EPOCH + timedelta(days=ordinal)
    ranges = calendar.week[day.weekday()]
    if not ranges or day in calendar.closed:
        return ()
    midnight = ordinal * DAY  # the wall clock's local midnight, as if it were UTC
    segments = _segments(_zone(calendar.zone), midnight - _BEFORE, midnight + _AFTER)
    spans = []
    for start, end in ranges:
        wall_from, wall_to = midnight + start, midnight + end
        for seg_from, seg_to, offset in segments:
            lo, hi = max(seg_from, wall_from - offset), min(seg_to, wall_to - offset)
            if lo < hi:
                spans.append((lo, hi))
    return _merge(spans)


def _merge(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[list[int]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return tuple((lo, hi) for lo, hi in merged)


def _local_ordinal(calendar: Calendar, ts: int) -> int:
    return (ts + _offset(_zone(calendar.zone), ts)) // DAY


def _spans_from(calendar: Calendar, ts: int):
    """Open UTC spans that end after ``ts``, in order, merged across days (a range
    running into the next day's range is one span). Stops after
    :data:`MAX_CLOSED_DAYS` days without any opening.

    Raises:
        CalendarError: no opening within :data:`MAX_CLOSED_DAYS` days.
    """
    ordinal = _local_ordinal(calendar, ts) - 1  # yesterday's overnight range may still run
    pending: list[int] | None = None
    closed_days = 0
    while True:
        spans = _day(calendar, ordinal)
        ordinal += 1
        if not spans:
            closed_days += 1
            if closed_days > MAX_CLOSED_DAYS:
                raise CalendarError(f"The calendar has no opening hours within {MAX_CLOSED_DAYS} days.")
            continue
        closed_days = 0
        for lo, hi in spans:
            if pending is not None and lo <= pending[1]:
                pending[1] = max(pending[1], hi)
                continue
            if pending is not None and pending[1] > ts:
                yield pending[0], pending[1]
            pending = [lo, hi]


def is_open(calendar: Calendar | None, instant: datetime) -> bool:
    """True when ``instant`` (aware) falls in business hours (always, for ``None``)."""
    if calendar is None:
        return True
    ts = _ts(instant)
    lo, _hi = next(_spans_from(calendar, ts))
    return lo <= ts


def next_opening(calendar: Calendar | None, instant: datetime) -> datetime:
    """``instant`` itself when open, else the next instant the calendar opens (aware UTC).

    Raises:
        CalendarError: the calendar never opens again within :data:`MAX_CLOSED_DAYS` days.
    """
    if calendar is None:
        return _instant(_ts(instant))
    ts = _ts(instant)
    lo, _hi = next(_spans_from(calendar, ts))
    return _instant(max(lo, ts))


def add(calendar: Calendar | None, start: datetime, seconds: int) -> datetime:
    """The earliest instant by which ``seconds`` of business time have passed since
    ``start``: the deadline of a target of ``seconds`` started at ``start``.

    A start outside opening hours counts from the next opening (a ticket created on
    Friday evening starts on Monday morning); a deadline that falls exactly on a closing
    time is that closing time, not the next opening.

    Args:
        calendar: business hours, or ``None`` for calendar hours.
        start: an aware instant.
        seconds: business seconds, ``>= 0``.

    Returns:
        An aware UTC instant, to the second.

    Raises:
        ValueError: negative ``seconds`` or a naive ``start``.
        CalendarError: the calendar stops opening before the time is used up.
    """
    if seconds < 0:
        raise ValueError("seconds must be >= 0")
    ts = _ts(start)
    if calendar is None:
        return _instant(ts + seconds)
    left = seconds
    for lo, hi in _spans_from(calendar, ts):
        lo = max(lo, ts)
        if hi - lo >= left:
            return _instant(lo + left)
        left -= hi - lo
    raise AssertionError("unreachable: _spans_from never ends")  # pragma: no cover


def between(calendar: Calendar | None, start: datetime, end: datetime) -> int:
    """Business seconds in ``[start, end)`` (0 when ``end <= start``).

    Args:
        calendar: business hours, or ``None`` for calendar hours (plain elapsed seconds).
        start, end: aware instants.

    Raises:
        ValueError: a naive instant.
    """
    lo_ts, hi_ts = _ts(start), _ts(end)
    if hi_ts <= lo_ts:
        return 0
    if calendar is None:
        return hi_ts - lo_ts
    total = 0
    for lo, hi in _spans_from(calendar, lo_ts):
        if lo >= hi_ts:
            break
        total += min(hi, hi_ts) - max(lo, lo_ts)
    return total


def parse_hours(text: str) -> tuple[tuple[int, int], ...]:
    """Opening ranges from text such as ``"09:00-12:30, 13:30-18:00"`` or ``"22:00-02:00"``
    (overnight); empty text is a closed day. ``24:00`` is midnight at the end of the day.

    Returns:
        ``((start, end), ...)`` in seconds after local midnight, sorted, ``end`` past
        86400 for overnight ranges.

    Raises:
        CalendarError: a part that is not ``HH:MM-HH:MM``, a time out of range, an empty
            range (start equal to end) or overlapping ranges.
    """
    ranges = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip().replace("–", "-")
        if not part:
            continue
        pieces = part.split("-")
        if len(pieces) != 2:
            raise CalendarError(f"{part[:40]!r} is not a range such as 09:00-18:00.")
        start, end = (_clock_time(piece) for piece in pieces)
        if start == DAY:
            raise CalendarError(f"{part[:40]!r}: a range cannot start at 24:00.")
        if end == start:
            raise CalendarError(f"{part[:40]!r} is empty: start and end are the same time.")
        ranges.append((start, end if end > start else end + DAY))
    ranges.sort()
    for (_s1, e1), (s2, _e2) in zip(ranges, ranges[1:]):
        if s2 < e1:
            raise CalendarError("Opening ranges of one day must not overlap.")
    return tuple(ranges)


def _clock_time(text: str) -> int:
    hours, _, minutes = text.strip().partition(":")
    if not (hours.isascii() and hours.isdigit() and minutes.isascii() and minutes.isdigit()
            and len(hours) <= 2 and len(minutes) == 2):
        raise CalendarError(f"{text.strip()[:20]!r} is not a time such as 09:00.")
    value = int(hours) * 3600 + int(minutes) * 60
    if int(minutes) > 59 or value > DAY:
        raise CalendarError(f"{text.strip()[:20]!r} is not a time of day.")
    return value


def format_hours(ranges: tuple[tuple[int, int], ...]) -> str:
    """The text :func:`parse_hours` reads back for ``ranges``."""
    def clock(seconds: int) -> str:
        seconds = seconds - DAY if seconds > DAY else seconds
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
    return ", ".join(f"{clock(start)}-{clock(end)}" for start, end in ranges)


__all__ = ["Calendar", "CalendarError", "WEEKDAYS", "add", "between", "format_hours", "is_open", "next_opening",
           "parse_hours"]

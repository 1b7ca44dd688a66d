"""Calendars as data: check what an admin typed, and turn a :class:`SlaCalendar` row into
the pure :class:`~tickets.sla.clock.Calendar` the clock computes with.

Public holidays come from the ``holidays`` library (country and subdivision, as its
maintainers keep them per law), for :data:`HOLIDAY_YEARS` years around today; custom
dates are added on top.
"""
from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays as holiday_library

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from tickets.sla.clock import Calendar, CalendarError, parse_hours
from tickets.sla.models import SlaCalendar

HOLIDAY_YEARS = 6  # years of public holidays loaded before and after the current one
MAX_CUSTOM_HOLIDAYS = 500


def holiday_dates(country: str | None, subdivision: str | None, years: range) -> frozenset[date]:
    """Public holidays of ``country`` (ISO alpha-2) and ``subdivision`` in ``years``.

    Raises:
        CalendarError: the library knows no such country or subdivision.
    """
    if not country:
        return frozenset()
    try:
        return frozenset(holiday_library.country_holidays(country.upper(), subdiv=subdivision or None, years=years))
    except NotImplementedError as exc:
        raise CalendarError(f"No public holidays are known for {country!r}"
                            f"{f' ({subdivision})' if subdivision else ''}.") from exc


def custom_dates(values: object) -> tuple[str, ...]:
    """ISO dates (``"2024-12-24"``) from a list or from text (one per line or comma).

    Raises:
        CalendarError: a value that is not a date, or too many.
    """
    items = values.replace(",", "\n").split() if isinstance(values, str) else list(values or [])
    if len(items) > MAX_CUSTOM_HOLIDAYS:
        raise CalendarError(f"At most {MAX_CUSTOM_HOLIDAYS} custom holidays.")
    out = set()
    for item in items:
        try:
            out.add(date.fromisoformat(str(item).strip()).isoformat())
        except ValueError:
            raise CalendarError(f"{str(item)[:20]!r} is not a date such as 2024-12-24.") from None
    return tuple(sorted(out))


def build(time_zone: str, hours: list[str], country: str | None, subdivision: str | None,
          custom: list[str], *, around: int | None = None) -> Calendar:
    """The pure calendar for these settings (``hours``: seven texts, Monday first).

    Args:
        around: the year the holidays are loaded around (default: this year).

    Raises:
        CalendarError: bad zone, hours, country, subdivision or dates.
    """
    if len(hours) != 7:
        raise CalendarError("Opening hours need seven days, Monday first.")
    year = around or utcnow().year
    closed = holiday_dates(country, subdivision, range(year - HOLIDAY_YEARS, year + HOLIDAY_YEARS + 1))
    closed |= {date.fromisoformat(day) for day in custom_dates(custom)}
    return Calendar(time_zone, tuple(parse_hours(text) for text in hours), frozenset(closed))


@lru_cache(maxsize=256)
def _cached(calendar_id: int, version: str, year: int) -> Calendar:
    row = db.session.get(SlaCalendar, calendar_id)
    return build(row.time_zone, row.hours, row.holiday_country, row.holiday_subdivision, row.custom_holidays,
                 around=year)


def calendar_for(calendar_id: int | None) -> Calendar | None:
    """The pure calendar of row ``calendar_id`` (``None``: calendar hours), cached until
    the row changes.

    Raises:
        CalendarError: the row holds settings that no longer work (e.g. a zone removed
            from the time zone database).
    """
    if calendar_id is None:
        return None
    row = db.session.get(SlaCalendar, calendar_id)
    if row is None:
        return None
    return _cached(calendar_id, row.updated_at.isoformat(), utcnow().year)

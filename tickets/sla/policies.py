"""SLA policies: which one a ticket gets (ordered, first match wins) and the checking of
what an admin or the API sends to make or change one or a calendar.
"""
from __future__ import annotations

from sqlalchemy import select

from helpdesk.countries import to_iso_country
from helpdesk.extensions import db
from helpdesk.models import Agent, Store
from helpdesk.validation import InvalidInput, clean_language_tag, clean_name, clean_time_zone
from tickets.models import PRIORITIES, TICKET_TYPES, Ticket
from tickets.sla import calendars
from tickets.sla.clock import WEEKDAYS, CalendarError, format_hours, parse_hours
from tickets.sla.models import METRICS, SlaCalendar, SlaPolicy

MAX_TARGET_SECONDS = 366 * 86_400
MAX_LIST = 200
MAX_NAME = 120
MAX_POSITION = 100_000


class InvalidPolicy(ValueError):
    """What was sent for a policy or calendar cannot be used; the message says why."""


def ordered() -> list[SlaPolicy]:
    """Every policy in the order they are tried (``position``, then id)."""
    return list(db.session.scalars(select(SlaPolicy).order_by(SlaPolicy.position, SlaPolicy.id)))


def matches(policy: SlaPolicy, ticket: Ticket) -> bool:
    """True when every condition of ``policy`` holds for ``ticket`` (empty lists match
    anything; a condition on a value the ticket lacks does not match)."""
    customer = ticket.customer
    language = (ticket.language or "").lower()
    return (policy.active
            and (not policy.types or ticket.type in policy.types)
            and (not policy.priorities or ticket.priority in policy.priorities)
            and (not policy.store_ids or ticket.store_id in policy.store_ids)
            and (not policy.marketplaces or (ticket.store is not None and ticket.store.kind in policy.marketplaces))
            and (not policy.countries or (customer is not None and customer.country in policy.countries))
            and (not policy.tiers or (customer is not None and customer.tier in policy.tiers))
            and (not policy.languages or any(language == tag.lower() or language.startswith(tag.lower() + "-")
                                             for tag in policy.languages)))


def policy_for(ticket: Ticket) -> SlaPolicy | None:
    """The first active policy, in order, whose conditions ``ticket`` meets, or ``None``."""
    return next((policy for policy in ordered() if matches(policy, ticket)), None)


def _list(data: dict, key: str) -> list:
    value = data.get(key) or []
    if isinstance(value, str):
        value = [part for part in value.replace(",", " ").split() if part]
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise InvalidPolicy(f"'{key}' must be a list of at most {MAX_LIST} values.")
    return value


def _choices(data: dict, key: str, allowed: tuple[str, ...]) -> list[str]:
    values = _list(data, key)
    wrong = [str(v)[:30] for v in values if v not in allowed]
    if wrong:
        raise InvalidPolicy(f"Unknown {key}: {', '.join(wrong)}.")
    return values


def _seconds(data: dict, key: str) -> int | None:
    """A target in whole seconds from ``<key>_seconds``, ``<key>_hours`` or ``<key>_minutes``."""
    label = f"The {key.replace('_', ' ')} target"
    value = data.get(f"{key}_seconds")
    if value in (None, "") and data.get(f"{key}_hours") not in (None, ""):
        value = round(_number(data[f"{key}_hours"], label) * 3600)
    elif value in (None, "") and data.get(f"{key}_minutes") not in (None, ""):
        value = round(_number(data[f"{key}_minutes"], label) * 60)
    if value in (None, ""):
        return None
    seconds = _number(value, label)
    if seconds != int(seconds) or not 0 < seconds <= MAX_TARGET_SECONDS:
        raise InvalidPolicy(f"{label} must be a positive time of at most 366 days.")
    return int(seconds)


def _number(value: object, label: str) -> float:
    """A finite number from JSON or form text (ASCII digits only).

    Raises:
        InvalidPolicy: "<label> must be a number."
    """
    text = str(value).strip()
    number = None
    if not isinstance(value, bool) and len(text) <= 20 and text.isascii():
        try:
            number = float(text)
        except ValueError:
            number = None
    if number is None or number != number or number in (float("inf"), float("-inf")):
        raise InvalidPolicy(f"{label} must be a number.")
    return number


def _flag(data: dict, key: str, default: bool) -> bool:
    value = data.get(key, default)
    if isinstance(value, str):
        return value.lower() in ("1", "true", "on", "yes")
    return bool(value)


def _name(data: dict) -> str:
    try:
        return clean_name(data.get("name"), "The name", MAX_NAME)
    except InvalidInput as exc:
        raise InvalidPolicy(str(exc)) from None


def apply_policy(policy: SlaPolicy, data: dict) -> SlaPolicy:
    """Check ``data`` and copy it onto ``policy`` (not committed).

    ``data`` keys: ``name``, ``position``, ``active``, the condition lists (``types``,
    ``priorities``, ``store_ids``, ``marketplaces``, ``countries``, ``languages``,
    ``tiers``: lists or comma-separated text), targets per metric as ``<metric>_seconds``,
    ``<metric>_hours`` or ``<metric>_minutes``, ``business``, ``calendar_id``,
    ``warn_ratio`` (0–1, or a percentage 1–100 as ``warn_percent``), ``pause_on_hold``,
    ``fresh_resolution_on_reopen``, ``escalate_raise_priority``, ``escalate_to_agent_id``.

    Raises:
        InvalidPolicy: a value that cannot be used; ``policy`` is then left unchanged.
    """
    values = {"name": _name(data)}
    duplicate = db.session.scalar(select(SlaPolicy.id).filter_by(name=values["name"]))
    if duplicate is not None and duplicate != policy.id:
        raise InvalidPolicy("Another policy has this name.")
    position = _number(data.get("position") or 0, "The order")
    if position != int(position) or not 0 <= position <= MAX_POSITION:
        raise InvalidPolicy(f"The order must be a whole number from 0 to {MAX_POSITION}.")
    values["position"] = int(position)
    values["active"] = _flag(data, "active", True)
    values["types"] = _choices(data, "types", TICKET_TYPES)
    values["priorities"] = _choices(data, "priorities", PRIORITIES)
    stores = _list(data, "store_ids")
    if any(not str(s).isdigit() or len(str(s)) > 12 or db.session.get(Store, int(s)) is None for s in stores):
        raise InvalidPolicy("A store of the policy does not exist.")
    values["store_ids"] = [int(s) for s in stores]
    values["marketplaces"] = [str(m)[:20].lower() for m in _list(data, "marketplaces")]
    countries = []
    for value in _list(data, "countries"):
        code = to_iso_country(str(value)[:60])
        if code is None:
            raise InvalidPolicy(f"{str(value)[:30]!r} is not a country.")
        countries.append(code)
    values["countries"] = countries
    try:
        values["languages"] = [clean_language_tag(str(v)) for v in _list(data, "languages")]
    except InvalidInput as exc:
        raise InvalidPolicy(str(exc)) from None
    values["tiers"] = [str(t).strip()[:20] for t in _list(data, "tiers") if str(t).strip()]
    for metric in METRICS:
        values[f"{metric}_seconds"] = _seconds(data, metric)
    if not any(values[f"{metric}_seconds"] for metric in METRICS):
        raise InvalidPolicy("Give at least one target.")
    values["business"] = _flag(data, "business", True)
    calendar_id = data.get("calendar_id")
    values["calendar_id"] = None
    if values["business"]:
        if calendar_id in (None, "") or not str(calendar_id).isdigit() or len(str(calendar_id)) > 12 \
                or db.session.get(SlaCalendar, int(calendar_id)) is None:
            raise InvalidPolicy("Business hours need a calendar: choose one, or measure in calendar hours.")
        values["calendar_id"] = int(calendar_id)
    ratio = data.get("warn_ratio")
    if ratio in (None, "") and data.get("warn_percent") not in (None, ""):
        ratio = _number(data["warn_percent"], "The warning") / 100
    ratio = 0.75 if ratio in (None, "") else _number(ratio, "The warning")
    if not 0 < ratio < 1:
        raise InvalidPolicy("The warning must come between 1% and 99% of the target.")
    values["warn_ratio"] = ratio
    values["pause_on_hold"] = _flag(data, "pause_on_hold", False)
    values["fresh_resolution_on_reopen"] = _flag(data, "fresh_resolution_on_reopen", True)
    values["escalate_raise_priority"] = _flag(data, "escalate_raise_priority", False)
    agent_id = data.get("escalate_to_agent_id")
    values["escalate_to_agent_id"] = None
    if agent_id not in (None, ""):
        agent = db.session.get(Agent, int(agent_id)) if str(agent_id).isdigit() and len(str(agent_id)) < 12 else None
        if agent is None or not agent.active:
            raise InvalidPolicy("There is no such agent to escalate to.")
        values["escalate_to_agent_id"] = agent.id
    for key, value in values.items():
        setattr(policy, key, value)
    return policy


def apply_calendar(calendar: SlaCalendar, data: dict) -> SlaCalendar:
    """Check ``data`` and copy it onto ``calendar`` (not committed).

    ``data`` keys: ``name``, ``time_zone`` (IANA), ``hours`` (seven texts, Monday first)
    or ``hours_mon`` … ``hours_sun``, ``holiday_country`` (ISO alpha-2 or a name),
    ``holiday_subdivision``, ``custom_holidays`` (ISO dates, a list or text).

    Raises:
        InvalidPolicy: a value that cannot be used; ``calendar`` is then left unchanged.
    """
    name = _name(data)
    duplicate = db.session.scalar(select(SlaCalendar.id).filter_by(name=name))
    if duplicate is not None and duplicate != calendar.id:
        raise InvalidPolicy("Another calendar has this name.")
    hours = data.get("hours")
    if hours is None:
        hours = [data.get(f"hours_{day}") or "" for day in WEEKDAYS]
    if not isinstance(hours, list) or len(hours) != 7 or not all(isinstance(h, str) and len(h) <= 200 for h in hours):
        raise InvalidPolicy("Opening hours need seven days, Monday first, such as '09:00-18:00'.")
    country = str(data.get("holiday_country") or "").strip()[:60]
    code = to_iso_country(country) if country else None
    if country and code is None:
        raise InvalidPolicy(f"{country[:30]!r} is not a country.")
    subdivision = str(data.get("holiday_subdivision") or "").strip().upper()[:10] or None
    try:
        zone = clean_time_zone(str(data.get("time_zone") or "").strip()[:64])
    except InvalidInput as exc:
        raise InvalidPolicy(str(exc)) from None
    try:
        custom = list(calendars.custom_dates(data.get("custom_holidays")))
        calendars.build(zone, hours, code, subdivision, custom)
        normal = [format_hours(parse_hours(text)) for text in hours]
    except CalendarError as exc:
        raise InvalidPolicy(str(exc)) from None
    calendar.name, calendar.time_zone, calendar.hours = name, zone, normal
    calendar.holiday_country, calendar.holiday_subdivision, calendar.custom_holidays = code, subdivision, custom
    return calendar

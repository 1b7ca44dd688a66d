"""Report aggregation: date ranges in the viewer's time zone, the dimensions every report
groups by, and the reports themselves (CSAT, volumes), as plain functions of the database.

Figures are exact: counts and sums come from SQL ``GROUP BY``; shares and averages are
``Decimal`` quotients of those integers (rounded only when shown). A report (CSAT, volumes, NPS, SLA achievement per
target) is a :class:`Report` in :data:`REPORTS`, added with :func:`register`; each gets the
same dimensions, ranges, weekly trend, table, CSV and charts.

Weekly trends: weeks start on Monday 00:00 in the viewer's zone (ISO weeks); each
boundary is converted to UTC on its own, so a week that crosses a DST change is 167 or
169 hours long, as the viewer lived it. The first and last week are cut to the range.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, or_, select

from helpdesk.extensions import db
from helpdesk.models import Agent, Customer, Store, Team
from helpdesk.surveys.models import Survey
from tickets.models import Ticket, TicketEvent
from tickets.sla.models import SlaTarget

UTC = timezone.utc
MAX_DAYS = 731


class InvalidRange(ValueError):
    """A date range that cannot be reported on; the message says why."""


@dataclass(frozen=True)
class Range:
    """``[start, end)`` in UTC for the local dates ``first``…``last`` (inclusive) in
    ``zone``, and its weeks as ``(local Monday, start UTC, end UTC)``."""

    first: date
    last: date
    zone: str
    start: datetime
    end: datetime
    weeks: tuple[tuple[date, datetime, datetime], ...]


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``zone``."""
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def date_range(first: date, last: date, zone: str) -> Range:
    """The range of local dates ``first`` to ``last`` (both included) in the IANA ``zone``.

    Raises:
        InvalidRange: ``last`` before ``first``, or longer than :data:`MAX_DAYS` days.
    """
    if last < first:
        raise InvalidRange(str(_l("The end date is before the start date.")))
    if (last - first).days >= MAX_DAYS:
        raise InvalidRange(str(_l("Choose at most %(days)s days.", days=MAX_DAYS)))
    tz = ZoneInfo(zone)
    start, end = local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)
    weeks = []
    monday = first - timedelta(days=first.weekday())
    while monday <= last:
        following = monday + timedelta(days=7)
        weeks.append((monday, max(start, local_midnight(monday, tz)), min(end, local_midnight(following, tz))))
        monday = following
    return Range(first, last, zone, start, end, tuple(weeks))


def week_bucket(column, span: Range):
    """SQL: the index of the week of ``span`` that ``column`` falls in."""
    return case(*((column < week_end, index) for index, (_m, _s, week_end) in enumerate(span.weeks)),
                else_=len(span.weeks))


# ---------------------------------------------------------------- dimensions

@dataclass(frozen=True)
class Dimension:
    """What a report groups by: ``label`` for people; ``names`` turns the grouped values
    (ids, codes) into what is shown, ``None`` being "none"."""

    key: str
    label: object
    names: Callable[[list], dict] = field(default=lambda values: {})


def _names_of(model, attribute):
    def names(values: list) -> dict:
        ids = [value for value in values if value is not None]
        if not ids:
            return {}
        return dict(db.session.execute(select(model.id, getattr(model, attribute)).where(model.id.in_(ids))).all())
    return names


DIMENSIONS = {
    "agent": Dimension("agent", _l("Agent"), _names_of(Agent, "display_name")),
    "team": Dimension("team", _l("Team"), _names_of(Team, "name")),
    "type": Dimension("type", _l("Ticket type")),
    "store": Dimension("store", _l("Store"), _names_of(Store, "name")),
    "marketplace": Dimension("marketplace", _l("Marketplace")),
    "language": Dimension("language", _l("Buyer language")),
    "country": Dimension("country", _l("Buyer country")),
}

SURVEY_COLUMNS = {
    "agent": Survey.agent_id, "team": Survey.team_id, "type": Survey.ticket_type, "store": Survey.store_id,
    "marketplace": Survey.marketplace, "language": Survey.language, "country": Survey.country,
}


def ticket_dimension(stmt: Select, key: str) -> tuple[Select, object]:
    """``stmt`` (a select over ``ticket``) with what grouping by dimension ``key`` needs
    joined, and the column to group by. Reports over per-ticket rows (volumes, SLA
    targets) share it."""
    if key == "marketplace":
        return stmt.outerjoin(Store, Store.id == Ticket.store_id), Store.kind
    if key == "country":
        return stmt.outerjoin(Customer, Customer.id == Ticket.customer_id), Customer.country
    return stmt, {"agent": Ticket.assignee_id, "team": Ticket.team_id, "type": Ticket.type,
                  "store": Ticket.store_id, "language": Ticket.language}[key]


# ---------------------------------------------------------------- reports

@dataclass(frozen=True)
class Column:
    """One figure of a report: ``key`` in the rows, ``label`` for people, ``kind`` one of
    ``count``, ``share`` (0–1), ``average`` or ``hours`` (a duration in seconds, shown in
    hours: the SLA report's p50/p90 business times)."""

    key: str
    label: object
    kind: str


def ratio(numerator: int, denominator: int) -> Decimal | None:
    """``numerator / denominator`` as an exact ``Decimal`` (28 significant digits), ``None``
    when the denominator is 0."""
    return Decimal(numerator) / Decimal(denominator) if denominator else None


class Report:
    """A report: ``columns`` it computes and ``chart`` (the column drawn per group and per
    week). Subclasses implement :meth:`figures`: ``{group value: {column key: value}}``
    for the rows of ``span`` grouped by ``group`` (a function of a select and the column
    placing its rows in time, answering the select with what grouping needs joined and the
    SQL expression to group by), limited to ``agent_id``'s own cases when given."""

    name = ""
    title: object = ""
    columns: tuple[Column, ...] = ()
    chart = ""

    def figures(self, span: Range, group, agent_id: int | None) -> dict:
        raise NotImplementedError

    def by_dimension(self, span: Range, key: str, agent_id: int | None = None) -> dict:
        """Figures per value of dimension ``key``."""
        return self.figures(span, lambda stmt, _instant: self.group_by_dimension(stmt, key), agent_id)

    def by_week(self, span: Range, agent_id: int | None = None) -> dict:
        """Figures per week of ``span`` (keys: week index)."""
        return self.figures(span, lambda stmt, instant: (stmt, week_bucket(instant, span)), agent_id)

    def group_by_dimension(self, stmt: Select, key: str):
        raise NotImplementedError


def surveys_sent(span: Range, agent_id: int | None) -> Select:
    """A select over the surveys sent in ``span`` (those of ``agent_id`` when given),
    leaving out cases marked spam, merged, internal or test."""
    stmt = (select().select_from(Survey).outerjoin(Ticket, Ticket.id == Survey.ticket_id)
            .where(Survey.sent_at >= span.start, Survey.sent_at < span.end,
                   or_(Survey.ticket_id.is_(None), Ticket.excluded_as.is_(None))))
    return stmt if agent_id is None else stmt.where(Survey.agent_id == agent_id)


class CsatReport(Report):
    """CSAT of the surveys **sent** in the range: sent, responses, response rate
    (responses / sent), CSAT (answers of 4 or 5 / responses), average rating, and how many
    of each rating 1–5. Cases later marked spam, merged, internal or test are left out."""

    name = "csat"
    title = _l("Customer satisfaction (CSAT)")
    columns = (
        Column("sent", _l("Surveys sent"), "count"), Column("responses", _l("Responses"), "count"),
        Column("response_rate", _l("Response rate"), "share"), Column("csat", _l("CSAT (4–5)"), "share"),
        Column("average", _l("Average rating"), "average"),
        *(Column(f"r{n}", str(n), "count") for n in range(1, 6)),
    )
    chart = "csat"

    def group_by_dimension(self, stmt, key):
        return stmt, SURVEY_COLUMNS[key]

    def figures(self, span, group, agent_id):
        stmt, key = group(surveys_sent(span, agent_id), Survey.sent_at)
        counts = [func.count(), func.count(Survey.rating), func.coalesce(func.sum(Survey.rating), 0)]
        counts += [func.sum(case((Survey.rating == n, 1), else_=0)) for n in range(1, 6)]
        result = {}
        for value, sent, responses, total, *each in db.session.execute(
                stmt.add_columns(key, *counts).group_by(key)).all():
            each = [int(n or 0) for n in each]
            result[value] = {
                "sent": sent, "responses": responses, "response_rate": ratio(responses, sent),
                "csat": ratio(each[3] + each[4], responses), "average": ratio(int(total), responses),
                **{f"r{n}": each[n - 1] for n in range(1, 6)},
            }
        return result


class VolumeReport(Report):
    """Tickets created, solved and reopened in the range: created by ``created_at``;
    solved and reopened are tickets with at least one such status change in the range
    (a ticket solved twice in the range counts once). Cases marked spam, merged, internal
    or test are left out; groups are the ticket's current agent, team, type ..."""

    name = "volume"
    title = _l("Volumes")
    columns = (Column("created", _l("Created"), "count"), Column("solved", _l("Solved"), "count"),
               Column("reopened", _l("Reopened"), "count"))
    chart = "created"

    def group_by_dimension(self, stmt, key):
        return ticket_dimension(stmt, key)

    def _count(self, span, group, agent_id, instant, where, counted):
        stmt = select().select_from(Ticket)
        if instant is TicketEvent.created_at:
            stmt = stmt.join(TicketEvent, TicketEvent.ticket_id == Ticket.id)
        stmt = stmt.where(instant >= span.start, instant < span.end, Ticket.excluded_as.is_(None), *where)
        if agent_id is not None:
            stmt = stmt.where(Ticket.assignee_id == agent_id)
        stmt, key = group(stmt, instant)
        return dict(db.session.execute(stmt.add_columns(key, counted).group_by(key)).all())

    def figures(self, span, group, agent_id):
        status_to, status_from = TicketEvent.payload["to"].as_string(), TicketEvent.payload["from"].as_string()
        changes = TicketEvent.kind == "status_changed"
        created = self._count(span, group, agent_id, Ticket.created_at, (), func.count())
        solved = self._count(span, group, agent_id, TicketEvent.created_at, (changes, status_to == "solved"),
                             func.count(func.distinct(Ticket.id)))
        reopened = self._count(span, group, agent_id, TicketEvent.created_at,
                               (changes, status_from == "solved", status_to != "closed"),
                               func.count(func.distinct(Ticket.id)))
        return {value: {"created": created.get(value, 0), "solved": solved.get(value, 0),
                        "reopened": reopened.get(value, 0)}
                for value in {*created, *solved, *reopened}}


class NpsReport(Report):
    """Net Promoter Score of the surveys sent in the range that asked it: asked, answers,
    promoters (9–10), passives (7–8), detractors (0–6), and NPS = (promoters − detractors)
    / answers, a share from −1 to 1 (shown as −100 % … 100 %)."""

    name = "nps"
    title = _l("Net Promoter Score (NPS)")
    columns = (
        Column("asked", _l("Asked"), "count"), Column("answers", _l("Answers"), "count"),
        Column("promoters", _l("Promoters (9–10)"), "count"), Column("passives", _l("Passives (7–8)"), "count"),
        Column("detractors", _l("Detractors (0–6)"), "count"), Column("nps", _l("NPS"), "share"),
    )
    chart = "nps"

    def group_by_dimension(self, stmt, key):
        return stmt, SURVEY_COLUMNS[key]

    def figures(self, span, group, agent_id):
        stmt, key = group(surveys_sent(span, agent_id).where(Survey.asks_nps.is_(True)), Survey.sent_at)
        band = lambda low, high: func.sum(case((Survey.nps.between(low, high), 1), else_=0))  # noqa: E731
        result = {}
        for value, asked, answers, promoters, passives, detractors in db.session.execute(
                stmt.add_columns(key, func.count(), func.count(Survey.nps), band(9, 10), band(7, 8), band(0, 6))
                .group_by(key)).all():
            promoters, passives, detractors = int(promoters or 0), int(passives or 0), int(detractors or 0)
            result[value] = {"asked": asked, "answers": answers, "promoters": promoters, "passives": passives,
                             "detractors": detractors, "nps": ratio(promoters - detractors, answers)}
        return result


def percentile(values: list[int], p: int) -> int | None:
    """The ``p``-th percentile (0 < p ≤ 100) of ``values`` by the nearest-rank method: the
    smallest value with at least ``p`` % of the values at or below it (so always one of the
    values, exact to the second); ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[-(-p * len(ordered) // 100) - 1]


class SlaReport(Report):
    """SLA achievement of one target (first response, next response or resolution) from
    the targets stored per ticket (``sla_target``; history is never recomputed). A target
    counts in the range when it was decided in it: **met** when achieved in time (at
    ``achieved_at``), **missed** when breached (at ``breached_at``, its due time, whether it
    was achieved late or not yet). Columns: targets decided, met, missed, share met, and the
    p50 and p90 (nearest rank) of the achieved targets' times in business hours (calendar
    hours under a 24-hour policy), paused time excluded. Cancelled targets that never
    breached (e.g. a next response no longer owed) are not counted."""

    title_of = {"first_response": _l("SLA: first response"), "next_response": _l("SLA: next response"),
                "resolution": _l("SLA: resolution")}
    columns = (
        Column("targets", _l("Targets"), "count"), Column("met", _l("Met"), "count"),
        Column("missed", _l("Missed (SLA breach)"), "count"), Column("met_share", _l("Share met"), "share"),
        Column("p50", _l("p50 time (hours)"), "hours"), Column("p90", _l("p90 time (hours)"), "hours"),
    )
    chart = "met_share"

    def __init__(self, metric: str):
        self.metric = metric
        self.name = f"sla_{metric}"
        self.title = self.title_of[metric]

    def group_by_dimension(self, stmt, key):
        return ticket_dimension(stmt, key)

    def figures(self, span, group, agent_id):
        decided = SlaTarget.decided_at
        stmt = (select().select_from(SlaTarget).join(Ticket, Ticket.id == SlaTarget.ticket_id)
                .where(SlaTarget.metric == self.metric, or_(SlaTarget.breached.is_(True), SlaTarget.achieved_at.is_not(None)),
                       decided >= span.start, decided < span.end, Ticket.excluded_as.is_(None)))
        if agent_id is not None:
            stmt = stmt.where(Ticket.assignee_id == agent_id)
        stmt, key = group(stmt, decided)
        groups: dict = {}
        for value, breached, elapsed in db.session.execute(
                stmt.add_columns(key, SlaTarget.breached, SlaTarget.elapsed_seconds)).all():
            tally = groups.setdefault(value, {"targets": 0, "missed": 0, "times": []})
            tally["targets"] += 1
            tally["missed"] += bool(breached)
            if elapsed is not None:
                tally["times"].append(elapsed)
        return {value: {"targets": t["targets"], "met": t["targets"] - t["missed"], "missed": t["missed"],
                        "met_share": ratio(t["targets"] - t["missed"], t["targets"]),
                        "p50": percentile(t["times"], 50), "p90": percentile(t["times"], 90)}
                for value, t in groups.items()}


REPORTS: dict[str, Report] = {}


def register(report: Report) -> Report:
    """Add ``report`` to the dashboard (by its ``name``)."""
    REPORTS[report.name] = report
    return report


register(CsatReport())
register(VolumeReport())
register(NpsReport())
for _metric in ("first_response", "next_response", "resolution"):
    register(SlaReport(_metric))

"""The satisfaction loop: a survey after every solved ticket or closed chat, sent once,
answered through a signed link, and a follow-up for the team lead on a low rating.

No Flask request in sight. Sending and reminding are idempotent functions of an explicit
``now`` (the scheduler, the ``flask surveys send-due`` command and the tests call them);
every step is claimed by a conditional ``UPDATE ... WHERE <not done yet>`` whose row count
says whether this run owns it, so two runs at the same moment never send twice.

Rules (settings in :mod:`helpdesk.config`):

* a ticket is asked once, however often it is solved again; a survey not yet sent waits
  while its ticket is reopened and is due ``SURVEY_DELAY_MINUTES`` after the last solve;
* never for a case marked spam, merged, internal or test (``Ticket.excluded_as``), nor a
  chat that became a ticket (the ticket's survey asks), nor an empty chat;
* the link lives ``SURVEY_LINK_DAYS`` from sending; one reminder ``SURVEY_REMINDER_HOURS``
  after sending if unanswered; the rating may change for ``SURVEY_CHANGE_HOURS`` after the
  first answer, then it is locked;
* CSAT counts ratings 4 and 5 as satisfied (:func:`csat_share`);
* NPS (0–10) is asked when ``SURVEY_NPS`` is on and the buyer was not asked in the same
  calendar quarter (UTC).
"""
from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.exc import IntegrityError

from chat.models import Conversation
from chat.service import ChatError, clean_body
from chat.signals import conversation_closed
from helpdesk import i18n
from helpdesk.extensions import db
from helpdesk.mail import MailError, send_text
from helpdesk.models import MANAGER_ROLES, Agent
from helpdesk.surveys import tokens
from helpdesk.surveys.models import LOW_REASONS, Survey, SurveyFollowUp
from helpdesk.translation.engines import TranslationError
from helpdesk.translation.service import translate_text
from tickets import events, rules
from tickets import service as ticket_service
from tickets.models import EXCLUSIONS, Ticket

log = logging.getLogger(__name__)

CLAIM_TIMEOUT = timedelta(minutes=10)  # a sender that died this long ago gives its claim up
BATCH = 200
LOW_RATINGS = (1, 2)
SATISFIED = (4, 5)
MAX_NOTE = 2000


class SurveyError(Exception):
    """A survey request refused; ``status`` is the HTTP status, the message is for people."""

    status = 400


class InvalidAnswer(SurveyError):
    pass


class LinkInvalid(SurveyError):
    status = 404


class LinkExpired(SurveyError):
    status = 410


class AnswerLocked(SurveyError):
    status = 409


class NotAllowed(SurveyError):
    status = 403


class AlreadyDone(SurveyError):
    status = 409


def csat_share(ratings: list[int]) -> Decimal | None:
    """CSAT: the share of satisfied answers (4 or 5) among all answers, as an exact
    fraction 0–1 (``None`` without answers). ``[5, 4, 3, 1]`` → ``0.5``."""
    if not ratings:
        return None
    return Decimal(sum(1 for rating in ratings if rating in SATISFIED)) / Decimal(len(ratings))


# ---------------------------------------------------------------- scheduling

def _buyer_key(customer_id: int | None, email: str | None) -> str:
    return f"c:{customer_id}" if customer_id else f"e:{(email or '').lower()}"


def _delay() -> timedelta:
    return timedelta(minutes=current_app.config["SURVEY_DELAY_MINUTES"])


def _insert(survey: Survey) -> Survey | None:
    db.session.add(survey)
    try:
        db.session.commit()
    except IntegrityError:  # the same ticket or chat got its survey at the same moment
        db.session.rollback()
        return None
    return survey


def schedule_for_ticket(ticket: Ticket, at: datetime) -> Survey | None:
    """Make (or, if not yet sent, re-time) the survey of a ticket solved at ``at``.

    Returns:
        The new survey, or ``None`` when none is due: the ticket is excluded, has nobody
        to ask, or already has its survey (re-timed if it was waiting).
    """
    if ticket.excluded_as in EXCLUSIONS or not (ticket.buyer_email or ticket.conversation_id):
        return None
    existing = db.session.scalar(select(Survey.id).where(Survey.ticket_id == ticket.id))
    if existing is not None:
        db.session.execute(update(Survey).where(Survey.id == existing, Survey.sent_at.is_(None))
                           .values(due_at=at + _delay()))
        db.session.commit()
        return None
    customer = ticket.customer
    agent = ticket.assignee
    return _insert(Survey(
        ticket_id=ticket.id, nonce=tokens.new_nonce(), email=ticket.buyer_email,
        buyer_name=customer.name if customer else "", buyer_key=_buyer_key(ticket.customer_id, ticket.buyer_email),
        language=ticket.language, agent_id=ticket.assignee_id,
        team_id=ticket.team_id or (agent.team_id if agent else None), ticket_type=ticket.type,
        store_id=ticket.store_id, marketplace=ticket.store.kind if ticket.store else None,
        country=(customer.country if customer else None) or (ticket.order.shipping_country if ticket.order else None),
        resolved_at=at, due_at=at + _delay(), created_at=at,
    ))


def hold_for_ticket(ticket: Ticket) -> None:
    """A reopened ticket's unsent survey waits for the next solve (``due_at`` emptied)."""
    db.session.execute(update(Survey).where(Survey.ticket_id == ticket.id, Survey.sent_at.is_(None))
                       .values(due_at=None))
    db.session.commit()


def schedule_for_conversation(conversation: Conversation, at: datetime) -> Survey | None:
    """Make the survey of a chat closed at ``at``, once per conversation; none for an
    empty chat or one that became a ticket (that ticket's survey asks)."""
    became_ticket = db.session.scalar(select(exists().where(Ticket.conversation_id == conversation.id)))
    if conversation.last_seq == 0 or became_ticket:
        return None
    if db.session.scalar(select(Survey.id).where(Survey.conversation_id == conversation.id)) is not None:
        return None
    customer, agent = conversation.customer, conversation.assignee
    return _insert(Survey(
        conversation_id=conversation.id, nonce=tokens.new_nonce(), email=conversation.buyer_email,
        buyer_name=conversation.buyer_name or (customer.name if customer else ""),
        buyer_key=_buyer_key(conversation.customer_id, conversation.buyer_email),
        language=conversation.buyer_language, agent_id=conversation.assignee_id,
        team_id=agent.team_id if agent else None, ticket_type="chat", store_id=conversation.store_id,
        marketplace=conversation.store.kind if conversation.store else None,
        country=customer.country if customer else None, resolved_at=at, due_at=at + _delay(), created_at=at,
    ))


def _receiver(action):
    """An event receiver that never breaks the committed action which sent the event: a
    failure is rolled back and logged (the survey is then missing, the ticket or chat is
    not)."""
    @functools.wraps(action)
    def receive(sender, **kwargs):
        try:
            action(sender, **kwargs)
        except Exception:  # noqa: BLE001 — a survey bug must not undo a solve or a closed chat
            db.session.rollback()
            log.exception("survey scheduling failed", extra={"receiver": action.__name__})
    return receive


@events.ticket_solved.connect
@_receiver
def _on_ticket_solved(ticket: Ticket, *, at: datetime, **_extra) -> None:
    schedule_for_ticket(ticket, at)


@events.ticket_reopened.connect
@_receiver
def _on_ticket_reopened(ticket: Ticket, **_extra) -> None:
    hold_for_ticket(ticket)


@conversation_closed.connect
@_receiver
def _on_conversation_closed(conversation: Conversation, *, at: datetime, **_extra) -> None:
    schedule_for_conversation(conversation, at)


# ---------------------------------------------------------------- sending

def survey_link(survey: Survey) -> str:
    """The buyer's absolute link to the survey (``PUBLIC_URL`` + path), with ``?lang=``
    so the page speaks the buyer's language."""
    base = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http")
    values = {"token": tokens.issue(survey.id, survey.nonce)}
    locale = i18n.match(survey.language)
    if locale:
        values["lang"] = i18n.bcp47(locale)
    return adapter.build("surveys.answer", values, force_external=True)


def buyer_locale(survey: Survey) -> str:
    """The catalog the buyer reads (the case's language, else English)."""
    return i18n.match(survey.language) or i18n.DEFAULT_LOCALE


def _deliver(survey: Survey, *, reminder: bool) -> None:
    """E-mail the survey (when there is an address) and show it in the buyer's open chat
    widget (when it is about a chat). Raises :class:`MailError`."""
    link = survey_link(survey)
    with force_locale(buyer_locale(survey)):
        subject = _("Reminder: how did we do?") if reminder else _("How did we do?")
        if survey.email:
            body = render_template("surveys/email.txt", survey=survey, link=link, reminder=reminder,
                                   case_subject=survey.ticket.subject if survey.ticket else "")
            send_text(survey.email, subject, body, to_name=survey.buyer_name)
        if survey.conversation_id is not None and not reminder:
            current_app.extensions["socketio"].emit(
                "survey", {"url": link, "question": _("How would you rate the help you got?")},
                to=f"buyer:{survey.conversation_id}")


def _asks_nps(survey: Survey, now: datetime) -> bool:
    if not current_app.config["SURVEY_NPS"]:
        return False
    quarter_start = now.replace(month=(now.month - 1) // 3 * 3 + 1, day=1, hour=0, minute=0, second=0, microsecond=0)
    asked = select(exists().where(Survey.buyer_key == survey.buyer_key, Survey.asks_nps.is_(True),
                                  Survey.sent_at >= quarter_start, Survey.id != survey.id))
    return not db.session.scalar(asked)


def _claim(survey_id: int, claim_column, done_column, condition, now: datetime) -> bool:
    """Take one step of one survey for this run: True when this UPDATE changed the row."""
    result = db.session.execute(
        update(Survey).where(Survey.id == survey_id, done_column.is_(None), condition,
                             or_(claim_column.is_(None), claim_column < now - CLAIM_TIMEOUT))
        .values({claim_column: now}))
    db.session.commit()
    return result.rowcount == 1


def _take_steps(condition, claim_column, done_column, order, now: datetime, act) -> int:
    """Claim each survey matching ``condition`` whose step is not done, ``act`` on it and
    mark the step done; a failed e-mail gives the claim back for the next run."""
    ids = db.session.scalars(select(Survey.id).where(done_column.is_(None), condition)
                             .order_by(order).limit(BATCH)).all()
    done = 0
    for survey_id in ids:
        if not _claim(survey_id, claim_column, done_column, condition, now):
            continue
        survey = db.session.get(Survey, survey_id)
        try:
            act(survey)
        except MailError:
            db.session.rollback()
            db.session.execute(update(Survey).where(Survey.id == survey_id).values({claim_column: None}))
            db.session.commit()
            continue
        setattr(survey, done_column.key, now)
        db.session.commit()
        done += 1
    return done


def send_due_surveys(now: datetime) -> int:
    """Send every survey due at ``now`` (aware UTC) that nobody sent yet; a failed e-mail
    is left for the next run. Safe to run in several processes at once.

    Returns:
        How many surveys were sent by this call.
    """
    def send(survey: Survey) -> None:
        survey.asks_nps = _asks_nps(survey, now)
        survey.expires_at = now + timedelta(days=current_app.config["SURVEY_LINK_DAYS"])
        _deliver(survey, reminder=False)

    due = and_(Survey.due_at.is_not(None), Survey.due_at <= now)
    return _take_steps(due, Survey.send_claimed_at, Survey.sent_at, Survey.due_at, now, send)


def send_reminders(now: datetime) -> int:
    """Send the one reminder of every e-mailed survey unanswered ``SURVEY_REMINDER_HOURS``
    after sending and not expired. Safe to run in several processes at once.

    Returns:
        How many reminders were sent by this call.
    """
    cutoff = now - timedelta(hours=current_app.config["SURVEY_REMINDER_HOURS"])
    waiting = and_(Survey.sent_at <= cutoff, Survey.answered_at.is_(None), Survey.email.is_not(None),
                   Survey.expires_at > now)
    return _take_steps(waiting, Survey.reminder_claimed_at, Survey.reminder_sent_at, Survey.sent_at, now,
                       lambda survey: _deliver(survey, reminder=True))


# ---------------------------------------------------------------- answering

def change_window() -> timedelta:
    """How long after the first answer a rating may still change."""
    return timedelta(hours=current_app.config["SURVEY_CHANGE_HOURS"])


def survey_for_token(token: object, now: datetime) -> Survey:
    """The survey a link names, if it may be opened at ``now``.

    Raises:
        LinkInvalid: not a survey token, altered, or its survey is gone or not sent.
        LinkExpired: past ``expires_at``.
    """
    found = tokens.read(token)
    survey = db.session.get(Survey, found[0]) if found else None
    if survey is None or survey.sent_at is None or not tokens.matches(found[1], survey.nonce):
        raise LinkInvalid(_l("This survey link is not valid. Please use the link from your e-mail."))
    if now >= survey.expires_at:
        raise LinkExpired(_l("This survey has closed. Thank you all the same."))
    return survey


def is_locked(survey: Survey, now: datetime) -> bool:
    """True once the change window after the first answer is over."""
    return survey.answered_at is not None and now >= survey.answered_at + change_window()


def _clean_answer(survey: Survey, rating: object, reason: object, comment: object, nps: object):
    text = str(rating or "").strip()
    if text not in ("1", "2", "3", "4", "5"):
        raise InvalidAnswer(_l("Choose a rating from 1 to 5."))
    value = int(text)
    reason = str(reason or "").strip() or None
    if reason is not None and reason not in LOW_REASONS:
        raise InvalidAnswer(_l("Choose one of the reasons shown, or none."))
    if value in SATISFIED:
        reason = None  # picked before the buyer raised the rating: a happy answer has no complaint
    try:
        comment_text = clean_body(comment if comment is not None else "", may_be_empty=True)
    except ChatError:
        raise InvalidAnswer(_l("The comment is too long or holds characters that cannot be stored.")) from None
    score = None
    nps_text = str(nps or "").strip()
    if nps_text:
        if not survey.asks_nps or not nps_text.isdigit() or not 0 <= int(nps_text) <= 10:
            raise InvalidAnswer(_l("Choose how likely you are to recommend us, from 0 to 10."))
        score = int(nps_text)
    return value, reason, comment_text or None, score


def record_answer(survey: Survey, *, rating: object, reason: object = None, comment: object = None,
                  nps: object = None, now: datetime) -> Survey:
    """Save the buyer's answer (first or changed) and commit; a rating of 1 or 2 makes
    the follow-up (once per survey) and, with ``SURVEY_LOW_SCORE_REOPENS``, reopens the
    solved ticket.

    Args:
        rating: ``"1"`` … ``"5"`` (form text) or an int.
        reason: one of :data:`~helpdesk.surveys.models.LOW_REASONS` or empty; kept only
            below 4.
        comment: free text, at most 5,000 characters.
        nps: ``"0"`` … ``"10"`` or empty; only on a survey that asks it.
        now: the instant of the answer (aware UTC).

    Raises:
        InvalidAnswer: a value out of range; the survey is unchanged.
        AnswerLocked: the change window is over (checked in the UPDATE itself).
    """
    value, reason, comment_text, score = _clean_answer(survey, rating, reason, comment, nps)
    window_open = or_(Survey.answered_at.is_(None), Survey.answered_at > now - change_window())
    result = db.session.execute(
        update(Survey).where(Survey.id == survey.id, window_open)
        .values(rating=value, reason=reason, comment=comment_text, nps=score, changed_at=now,
                answered_at=db.func.coalesce(Survey.answered_at, now)))
    if result.rowcount != 1:
        db.session.rollback()
        raise AnswerLocked(_l("This rating can no longer be changed. Thank you for your answer."))
    db.session.commit()
    db.session.refresh(survey)
    if survey.follow_up is not None and survey.follow_up.state == "open":
        _refresh_follow_up(survey.follow_up, survey)
    elif value in LOW_RATINGS and survey.follow_up is None:
        _follow_up(survey, now)
    return survey


def _translated(survey: Survey) -> tuple[str | None, str | None]:
    target = current_app.config["TRANSLATION_AGENT_LANGUAGE"]
    if not survey.comment:
        return None, None
    try:
        done = translate_text(survey.comment, survey.language or target, target)
    except TranslationError as exc:
        return None, f"Not translated: {exc}"[:300]
    return done.text, None


def _refresh_follow_up(follow_up: SurveyFollowUp, survey: Survey) -> None:
    """An open follow-up shows the buyer's current answer: a changed rating or comment
    replaces the one it was opened with (the page says it was changed); commits."""
    if (follow_up.rating, follow_up.comment) == (survey.rating, survey.comment or ""):
        return
    follow_up.translated, follow_up.translation_note = _translated(survey)
    follow_up.rating, follow_up.comment = survey.rating, survey.comment or ""
    db.session.commit()


def _follow_up(survey: Survey, now: datetime) -> None:
    translated, note = _translated(survey)
    follow_up = SurveyFollowUp(survey_id=survey.id, ticket_id=survey.ticket_id, team_id=survey.team_id,
                               rating=survey.rating, comment=survey.comment or "", translated=translated,
                               translation_note=note, created_at=now)
    if _insert(follow_up) is None:
        return
    ticket = survey.ticket
    if ticket is None:
        return
    system = ticket_service.Actor("system")
    ticket_service.record(ticket, system, "csat_follow_up", {"rating": survey.rating, "follow_up": follow_up.id},
                          internal=True, now=now)
    db.session.commit()
    if current_app.config["SURVEY_LOW_SCORE_REOPENS"] and ticket.status == "solved":
        try:
            ticket_service.set_status(ticket, system, "open", now=now)
        except rules.TicketRuleError:
            db.session.rollback()


# ---------------------------------------------------------------- follow-ups

def close_follow_up(follow_up: SurveyFollowUp, manager: Agent, note: object, now: datetime) -> SurveyFollowUp:
    """A manager marks a follow-up done with a note (what was done for the buyer).

    Raises:
        NotAllowed: ``manager`` is not a manager or admin.
        InvalidAnswer: the note is empty, too long or holds control characters.
        AlreadyDone: someone closed it already (the UPDATE found it done).
    """
    if manager.role not in MANAGER_ROLES:
        raise NotAllowed(_l("Only a manager can close a follow-up."))
    try:
        text = clean_body(note)
    except ChatError:
        raise InvalidAnswer(_l("Write what was done (at most %(limit)s characters).", limit=MAX_NOTE)) from None
    if len(text) > MAX_NOTE:
        raise InvalidAnswer(_l("Write what was done (at most %(limit)s characters).", limit=MAX_NOTE))
    result = db.session.execute(
        update(SurveyFollowUp).where(SurveyFollowUp.id == follow_up.id, SurveyFollowUp.state == "open")
        .values(state="done", note=text, done_by_id=manager.id, done_at=now))
    if result.rowcount != 1:
        db.session.rollback()
        raise AlreadyDone(_l("This follow-up is already done."))
    db.session.commit()
    db.session.refresh(follow_up)
    return follow_up


def exclude_ticket(ticket: Ticket, reason: str) -> Ticket:
    """Mark a case as spam, merged, internal or test: no survey is sent for it (an unsent
    one is dropped) and reports leave it out.

    Raises:
        InvalidAnswer: ``reason`` is not one of :data:`~tickets.models.EXCLUSIONS`.
    """
    if reason not in EXCLUSIONS:
        raise InvalidAnswer(f"Choose one of {', '.join(EXCLUSIONS)}.")
    ticket.excluded_as = reason
    db.session.execute(update(Survey).where(Survey.ticket_id == ticket.id, Survey.sent_at.is_(None))
                       .values(due_at=None))
    db.session.commit()
    return ticket

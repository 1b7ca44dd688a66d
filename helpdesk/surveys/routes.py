"""Survey pages: the buyer's form behind the signed link (GET shows it, only POST saves),
the agent's own ratings, and the managers' follow-ups. Thin: the rules are in
:mod:`helpdesk.surveys.service`; a refusal is a page with a 4xx status and the reason."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from helpdesk.dbtypes import utcnow
from helpdesk.errors import error_response
from helpdesk.extensions import db
from helpdesk.models import MANAGER_ROLES, Agent, Team
from helpdesk.surveys import bp, service
from helpdesk.surveys.models import LOW_REASONS, Survey, SurveyFollowUp

MAX_ROWS = 500
REASON_LABELS = {
    "slow": _l("It took too long"), "not_solved": _l("My problem was not solved"),
    "unfriendly": _l("The answers were unfriendly"), "policy": _l("I disagree with the decision"),
    "product": _l("The product itself"), "other": _l("Something else"),
}


@bp.after_request
def no_store(response):
    """Survey answers and buyers' comments stay out of shared and browser caches."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _form(survey: Survey, token: str, status: int = 200, error: str | None = None):
    now = utcnow()
    return render_template("surveys/answer.html", survey=survey, token=token, error=error,
                           reasons=[(code, REASON_LABELS[code]) for code in LOW_REASONS],
                           locked=service.is_locked(survey, now),
                           values=request.form if request.method == "POST" else None), status


@bp.get("/survey/<token>")
def answer(token: str):
    """Show the survey (and the saved answer, while it may still change). Never records
    anything: link scanners that open every URL in an e-mail cannot rate."""
    try:
        survey = service.survey_for_token(token, utcnow())
    except service.SurveyError as exc:
        return error_response(exc.status, "survey_link", str(exc))
    return _form(survey, token)


@bp.post("/survey/<token>")
def save(token: str):
    """Save the rating (form fields ``rating``, ``reason``, ``comment``, ``nps``; the
    CSRF token of the page)."""
    now = utcnow()
    try:
        survey = service.survey_for_token(token, now)
    except service.SurveyError as exc:
        return error_response(exc.status, "survey_link", str(exc))
    try:
        service.record_answer(survey, rating=request.form.get("rating"), reason=request.form.get("reason"),
                              comment=request.form.get("comment"), nps=request.form.get("nps"), now=now)
    except service.AnswerLocked as exc:
        return error_response(exc.status, "survey_locked", str(exc))
    except service.SurveyError as exc:
        return _form(survey, token, exc.status, str(exc))
    return render_template("surveys/thanks.html", survey=survey, token=token,
                           until=survey.answered_at + service.change_window())


@bp.get("/surveys/ratings")
@login_required
def ratings():
    """Ratings and comments: an agent sees their own; a manager anyone's (``?agent=``)."""
    agent_id = current_user.id
    if current_user.role in MANAGER_ROLES:
        agent_id = request.args.get("agent", type=int) or current_user.id
    agent = db.session.get(Agent, agent_id) or abort(404)
    rows = db.session.scalars(
        select(Survey).where(Survey.agent_id == agent.id, Survey.answered_at.is_not(None))
        .options(selectinload(Survey.ticket)).order_by(Survey.answered_at.desc()).limit(MAX_ROWS)
    ).all()
    agents = (db.session.scalars(select(Agent).order_by(Agent.display_name)).all()
              if current_user.role in MANAGER_ROLES else [])
    return render_template("surveys/ratings.html", agent=agent, rows=rows, agents=agents,
                           share=service.csat_share([row.rating for row in rows]), reasons=REASON_LABELS)


@bp.get("/surveys/follow-ups")
@login_required
def follow_ups():
    """Low-rating follow-ups (``?state=open`` or ``done``): managers see every team's, or
    one team's (``?team=<id>``: the case's team when it was solved); agents see those
    about their own cases."""
    state = request.args.get("state") if request.args.get("state") in ("open", "done") else "open"
    manager = current_user.role in MANAGER_ROLES
    team_id = request.args.get("team", type=int) if manager else None
    stmt = (select(SurveyFollowUp).join(Survey).where(SurveyFollowUp.state == state)
            .options(selectinload(SurveyFollowUp.survey), selectinload(SurveyFollowUp.ticket))
            .order_by(SurveyFollowUp.created_at.desc()).limit(MAX_ROWS))
    if not manager:
        stmt = stmt.where(Survey.agent_id == current_user.id)
    elif team_id:
        stmt = stmt.where(SurveyFollowUp.team_id == team_id)
    teams = db.session.scalars(select(Team).order_by(Team.name)).all() if manager else []
    return render_template("surveys/follow_ups.html", rows=db.session.scalars(stmt).all(), state=state,
                           reasons=REASON_LABELS, can_close=manager, teams=teams, team_id=team_id)


@bp.post("/surveys/follow-ups/<id:follow_up_id>/done")
@login_required
def follow_up_done(follow_up_id: int):
    """A manager closes a follow-up with a note (form field ``note``)."""
    follow_up = db.session.get(SurveyFollowUp, follow_up_id) or abort(404)
    try:
        service.close_follow_up(follow_up, current_user, request.form.get("note"), utcnow())
    except service.SurveyError as exc:
        return error_response(exc.status, "follow_up", str(exc))
    flash(_l("The follow-up is done."), "info")
    return redirect(url_for("surveys.follow_ups"))

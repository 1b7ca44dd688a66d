"""Login, logout, and loading the signed-in agent."""
from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select

from helpdesk import i18n
from helpdesk.auth import bp
from helpdesk.auth.forms import LoginForm, PreferencesForm
from helpdesk.extensions import db, limiter, login_manager
from helpdesk.models import Agent


@login_manager.user_loader
def load_agent(session_id: str) -> Agent | None:
    """Flask-Login hook: the agent named by ``"<id>:<session token>"`` in the session or
    remember-me cookie, only while the token is current (a password change rotates it)."""
    agent_id, _, token = session_id.partition(":")
    if not agent_id.isdigit() or len(agent_id) > 18 or not token:
        return None
    agent = db.session.get(Agent, int(agent_id))
    if agent is None or not hmac.compare_digest(agent.session_token, token):
        return None
    return agent


def safe_next(target: str | None) -> str:
    """Only same-site relative paths may be redirected to after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("console.buyers")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    """Show the form; on POST check the password and start the session."""
    if current_user.is_authenticated:
        return redirect(url_for("console.buyers"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        agent = db.session.scalar(select(Agent).where(func.lower(Agent.email) == form.email.data.lower()))
        if agent is not None and agent.active and agent.check_password(form.password.data):
            login_user(agent, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")))
        flash(_("Wrong e-mail or password."), "error")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    """End the agent's sessions everywhere (POST with the CSRF token, so no link can sign an
    agent out); see :meth:`Agent.end_sessions`. A signed-out agent is away: no chat is
    routed to them."""
    current_user.end_sessions()
    current_user.availability = "away"
    db.session.commit()
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    """The signed-in agent's own console language, time zone and spoken languages (CSRF
    form); a refused value is a 400 with the reason beside its field, nothing saved."""
    form = PreferencesForm()
    status = 200
    if form.validate_on_submit():
        current_user.locale = form.locale.data
        current_user.time_zone = form.time_zone.data
        current_user.languages = form.languages.tags
        db.session.commit()
        flash(_("Your preferences are saved."), "info")
        return redirect(url_for("auth.preferences"))
    if request.method == "POST":
        status = 400
    else:
        form.locale.data = i18n.match(current_user.locale) or i18n.DEFAULT_LOCALE
        form.time_zone.data = current_user.time_zone
        form.languages.data = " ".join(current_user.languages or [])
    return render_template("auth/preferences.html", form=form), status

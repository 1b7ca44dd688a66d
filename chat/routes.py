"""HTTP side of the chat: start a conversation, the buyer's page, the agent's inbox and
conversation view. Messages themselves travel over Socket.IO (``chat.events``)."""
from __future__ import annotations

from contextlib import nullcontext

from flask import abort, current_app, flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import force_locale, format_number
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import validate_csrf
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import Forbidden, NotFound
from wtforms import ValidationError

from chat import bp, service
from chat.attachments import accept_upload, attachment_for_link, attachment_payload
from chat.identity import IdentityRejected, verify_buyer
from chat.macros import render_canned
from chat.models import CannedReply, Conversation
from chat.tokens import issue_buyer_token, read_buyer_token
from helpdesk import buyer_language, i18n
from helpdesk.console.routes import ORDER_DETAIL
from helpdesk.errors import error_response
from helpdesk.extensions import CONTENT_SECURITY_POLICY, csrf, db, limiter, talisman
from helpdesk.mail import MailError, send_text
from helpdesk.models import Agent, Order
from helpdesk.text import has_control_characters
from helpdesk.uploads import UploadRefused, send_upload
from helpdesk.validation import InvalidInput, clean_email

INBOX_TABS = ("unassigned", "mine", "all", "closed")


@bp.get("/")
@talisman(frame_options=None, content_security_policy=None)
def buyer_page():
    """The buyer's chat page, also shown in the widget's iframe on the seller's storefront:
    only the origins in ``CHAT_WIDGET_ORIGINS`` may frame it (CSP ``frame-ancestors``)."""
    identity = {key: request.args.get(key, "")[:200] for key in ("store", "buyer_id", "buyer_hash", "email", "name")}
    response = make_response(render_template("chat/buyer.html", order_number=request.args.get("order", "")[:100],
                                             identity=identity))
    ancestors = " ".join(["'self'", *current_app.config["CHAT_WIDGET_ORIGINS"]])
    policy = {**CONTENT_SECURITY_POLICY, "frame-ancestors": ancestors}
    response.headers["Content-Security-Policy"] = "; ".join(f"{key} {value}" for key, value in policy.items())
    return response


@bp.post("/api/conversations")
@csrf.exempt  # anonymous: no cookie grants anything here; the answer is a token for this caller only
@limiter.limit(lambda: current_app.config["CHAT_START_RATE_LIMIT"])
def start():
    """Start a conversation: JSON ``{"email", "name"?, "order_number"?, "language"?}``
    (``language``: the chat page's language when the buyer chose it; the conversation's
    language, see :func:`helpdesk.buyer_language`), and for a buyer
    signed in on the storefront ``{"store", "buyer_id", "buyer_hash"}`` (see
    :mod:`chat.identity`; then ``email`` is optional) → ``201 {"conversation", "token"}``;
    the token opens the Socket.IO connection."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return error_response(400, "bad_request", _("Send a JSON object with your e-mail address."))
    verified = None
    try:
        if "buyer_hash" in data:
            verified = verify_buyer(data.get("store"), data.get("buyer_id"), data.get("buyer_hash"))
        email = data.get("email")
        if email or not verified:
            email = clean_email(str(email or ""))
    except InvalidInput:
        return error_response(400, "invalid_email", _("Please enter a valid e-mail address."))
    except IdentityRejected as exc:
        return error_response(403, exc.code, str(exc))
    name, order_number = data.get("name") or "", data.get("order_number") or ""
    if isinstance(order_number, int) and not isinstance(order_number, bool):
        order_number = str(order_number)  # {"order_number": 1001} means "1001"
    if not isinstance(name, str) or len(name) > 120 or has_control_characters(name):
        return error_response(400, "bad_name", _("The name must be text of at most %(limit)s characters, without "
                                                   "control characters.", limit=format_number(120)))
    if not isinstance(order_number, str) or len(order_number) > 100 or has_control_characters(order_number):
        return error_response(400, "bad_order_number", _("The order number must be text of at most %(limit)s "
                                                         "characters, without control characters.",
                                                         limit=format_number(100)))
    try:
        conversation = service.start_conversation(email=email, name=name, order_number=order_number or None,
                                                  language=buyer_language(data.get("language")), verified=verified)
    except service.ChatError as exc:
        return error_response(404 if isinstance(exc, service.BuyerNotIdentified) else 400, exc.code, str(exc))
    return jsonify(conversation=conversation.public_id, token=issue_buyer_token(conversation.public_id)), 201


@bp.get("/api/widget")
def widget_text():
    """The storefront widget's launcher text: ``?language=`` (its ``data-lang``, else the
    browser's language; a BCP 47 tag) → ``{"label", "lang", "dir"}`` in the catalog of
    that language and script (English when none). The same for everyone, so any
    storefront may read it (CORS ``*``); ``language`` is not kept as a choice."""
    code = i18n.match(request.args.get("language")) or i18n.DEFAULT_LOCALE
    with force_locale(code):
        label = _("Chat with us")
    response = jsonify(label=label, lang=i18n.bcp47(code), dir=i18n.direction(code))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def conversation_or_404(public_id: str) -> Conversation:
    """The conversation for an agent's page, or a 404."""
    try:
        return service.find_conversation(public_id)
    except service.ConversationNotFound:
        abort(404)


@bp.get("/inbox")
@login_required
def inbox():
    """The agent's inbox; it updates itself over Socket.IO."""
    tab = request.args.get("tab", "unassigned")
    if tab not in INBOX_TABS:
        tab = "unassigned"
    stmt = (select(Conversation).options(selectinload(Conversation.assignee))
            .where(Conversation.last_seq > 0)  # opened but never written in: nothing to do
            .order_by(Conversation.updated_at.desc()))
    if tab == "unassigned":
        stmt = stmt.where(Conversation.status == "open", Conversation.assignee_id.is_(None))
    elif tab == "mine":
        stmt = stmt.where(Conversation.status == "open", Conversation.assignee_id == current_user.id)
    elif tab == "closed":
        stmt = stmt.where(Conversation.status == "closed")
    conversations = db.session.scalars(stmt.limit(200)).all()
    return render_template("chat/inbox.html", conversations=conversations, tab=tab, tabs=INBOX_TABS)


@bp.get("/conversations/<public_id>")
@login_required
def conversation(public_id: str):
    """One conversation for the agent, with the buyer's orders beside it."""
    found = conversation_or_404(public_id)
    orders = []
    if found.customer_id:
        orders = db.session.scalars(
            select(Order).where(Order.customer_id == found.customer_id).options(*ORDER_DETAIL)
            .order_by(Order.placed_at.desc()).limit(20)
        ).all()
    orders = sorted(orders, key=lambda o: o.id != found.order_id)  # the order the chat is about first
    replies = db.session.scalars(select(CannedReply).order_by(CannedReply.title)).all()
    agents = db.session.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.display_name)).all()
    return render_template("chat/conversation.html", conversation=found, orders=orders, replies=replies,
                           agents=agents)


def transcript_text(conversation: Conversation, *, include_internal: bool) -> str:
    """The conversation as plain text, times in the viewer's zone; internal notes (marked)
    only when ``include_internal``."""
    return render_template("chat/transcript.txt", conversation=conversation,
                           messages=service.history(conversation, include_internal=include_internal))


@bp.get("/conversations/<public_id>/transcript.txt")
@login_required
def transcript(public_id: str):
    """The conversation as plain text (internal notes marked), times in the agent's zone."""
    found = conversation_or_404(public_id)
    response = make_response(transcript_text(found, include_internal=True))
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="chat-{found.public_id}.txt"'
    return response


@bp.post("/conversations/<public_id>/transcript/email")
@login_required
def email_transcript(public_id: str):
    """E-mail the transcript (form field ``to``): ``buyer`` gets it without internal notes,
    ``me`` (the agent) with them. No other address can be typed in."""
    found = conversation_or_404(public_id)
    to = request.form.get("to")
    if to not in ("buyer", "me") or (to == "buyer" and not found.buyer_email):
        flash(_("Choose who gets the transcript: the buyer or you."), "error")
        return redirect(url_for("chat.conversation", public_id=found.public_id))
    address, name = (found.buyer_email, found.buyer_name) if to == "buyer" else (current_user.email,
                                                                               current_user.display_name)
    # The buyer's copy speaks the buyer's language (the one their browser asked for when the
    # chat started); the agent's copy, the agent's.
    buyer_locale = i18n.match(found.buyer_language) or i18n.DEFAULT_LOCALE
    in_language = force_locale(buyer_locale) if to == "buyer" else nullcontext()
    try:
        with in_language:
            subject = _("Your conversation with us") if to == "buyer" else _("Chat transcript")
            body = transcript_text(found, include_internal=to == "me")
        send_text(address, subject, body, to_name=name)
    except MailError as exc:
        flash(str(exc), "error")
    else:
        flash(_("The transcript was sent to %(address)s.", address=address), "info")
    return redirect(url_for("chat.conversation", public_id=found.public_id))


@bp.get("/conversations/<public_id>/canned/<id:reply_id>")
@login_required
def canned(public_id: str, reply_id: int):
    """A canned reply filled in for this conversation: ``{"text": ...}``."""
    found = conversation_or_404(public_id)
    reply = db.session.get(CannedReply, reply_id) or abort(404)
    return jsonify(text=render_canned(reply.body, found, current_user))


def _uploader(conversation: Conversation) -> str:
    """Who uploads to ``conversation`` on this request: ``"buyer"`` with the
    conversation's token (``Authorization: Bearer ...``), ``"agent"`` when signed in with a
    valid CSRF token (``X-CSRFToken``).

    Raises:
        NotFound: a buyer token for another conversation (as if it did not exist).
        Forbidden: no credentials, or an agent's request without a valid CSRF token.
    """
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        if read_buyer_token(token.strip()) != conversation.public_id:
            raise NotFound()
        return "buyer"
    if current_user.is_authenticated:
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except ValidationError:
            raise Forbidden(_("Your session has expired; reload the page and try again.")) from None
        return "agent"
    raise Forbidden(_("You may not send files to this conversation."))


@bp.post("/api/conversations/<public_id>/attachments")
@csrf.exempt  # buyers authenticate with their bearer token; agents' CSRF is checked in _uploader
@limiter.limit(lambda: current_app.config["CHAT_START_RATE_LIMIT"])
def upload(public_id: str):
    """Upload one file (multipart field ``file``) to send in a message; answers
    ``201 {"attachment": {...}}``. The type is decided by the content (images, PDF)."""
    try:
        found = service.find_conversation(public_id)
        uploader = _uploader(found)
    except (service.ConversationNotFound, NotFound):
        return error_response(404, "not_found", _("There is no such conversation."))
    except Forbidden as exc:
        return error_response(403, "forbidden", exc.description)
    file = request.files.get("file")
    if file is None:
        return error_response(400, "no_file", _("Choose a file to send."))
    data = file.stream.read(current_app.config["CHAT_ATTACHMENT_MAX_BYTES"] + 1)
    try:
        attachment = accept_upload(found, data=data, filename=file.filename, uploader=uploader,
                                   agent=current_user if uploader == "agent" else None)
    except UploadRefused as exc:
        return error_response(exc.status, exc.code, str(exc))
    return jsonify(attachment=attachment_payload(attachment, with_url=False)), 201


@bp.get("/attachments/<public_id>")
@talisman(content_security_policy=None)
def attachment(public_id: str):
    """A sent attachment, for whoever holds its signed link (``?s=...``): images inline,
    PDFs as a download; never sniffed (``nosniff``), sandboxed, private to caches."""
    found = attachment_for_link(public_id, request.args.get("s"))
    if found is None:
        abort(404)
    return send_upload(found.storage_key, content_type=found.content_type, filename=found.filename)

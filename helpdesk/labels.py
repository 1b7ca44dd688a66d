"""Enum-like values (a priority, a channel, a timeline entry's kind...) in the viewer's
words: every code shown to a buyer or an agent goes through :func:`label`, never raw.

The ticket-specific labels that buyers read (types, statuses, reasons) stay in
:mod:`tickets.routes`; this module holds the rest, shared by tickets, chat and the
console. A code without a label (a value added later) is shown with its underscores as
spaces, never as a key."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from helpdesk.text import isolate

LABELS: dict[str, dict[str, object]] = {
    "priority": {"low": _l("low"), "normal": _l("normal"), "high": _l("high"), "urgent": _l("urgent")},
    "channel": {"chat": _l("chat"), "email": _l("e-mail"), "web_form": _l("web form"),
                "marketplace_message": _l("marketplace message"), "api": _l("API")},
    "resolution": {"accepted": _l("accepted"), "rejected": _l("rejected"), "withdrawn": _l("withdrawn")},
    "chat_status": {"open": _l("open"), "closed": _l("closed")},
    "refund_origin": {"marketplace": _l("on the marketplace"), "helpdesk": _l("from the helpdesk")},
    "outcome": {"pending": _l("pending"), "accepted": _l("accepted"), "rejected": _l("rejected"), "paid": _l("paid"),
                "won": _l("won"), "lost": _l("lost")},
    "event": {
        "created": _l("created"), "message": _l("message"), "status_changed": _l("status changed"),
        "assigned": _l("assigned"), "field_changed": _l("changed"), "claim_outcome": _l("claim outcome"),
        "claim_reference": _l("claim reference"), "dispute_outcome": _l("dispute outcome"),
        "policy_override": _l("policy overridden"), "refund_requested": _l("refund requested"),
        "refund_approved": _l("refund approved"), "refund_rejected": _l("refund rejected"),
        "refund_started": _l("refund started"), "refunded": _l("refunded"), "refund_failed": _l("refund failed"),
        "refund_cancelled": _l("refund cancelled"), "macro_applied": _l("macro applied"),
        "evidence_added": _l("evidence added"), "sla_warning": _l("SLA warning"), "sla_breach": _l("SLA breach"),
        "sla_escalated": _l("SLA escalated"), "csat_follow_up": _l("low rating: follow-up"),
    },
    "sla_metric": {"first_response": _l("first response"), "next_response": _l("next response"),
                   "periodic_update": _l("periodic update"), "resolution": _l("resolution")},
    "field": {
        "type": _l("type"), "channel": _l("channel"), "order": _l("order"), "lines": _l("items"),
        "conversation": _l("conversation"), "from": _l("from"), "to": _l("to"), "resolution": _l("resolution"),
        "field": _l("field"), "reason": _l("reason"), "reference": _l("reference"), "outcome": _l("outcome"),
        "refund": _l("refund"), "kind": _l("kind"), "amount": _l("amount"), "currency": _l("currency"),
        "error": _l("error"), "outcome_unknown": _l("outcome unknown"), "priority": _l("priority"),
        "agent": _l("agent"), "team": _l("team"), "requests_info": _l("asks the buyer for information"),
        "reason_code": _l("reason"), "target": _l("SLA target"), "metric": _l("SLA"), "cycle": _l("cycle"),
        "due_at": _l("due"), "left_seconds": _l("time left"), "rating": _l("rating"), "follow_up": _l("follow-up"),
        "macro": _l("macro"), "name": _l("name"),
    },
}


def label(value: object, kind: str) -> str:
    """``value`` (a code such as ``web_form``) as the viewer reads it among the ``kind``
    codes of :data:`LABELS` (``"channel"`` → "web form"); a code without a label with
    underscores as spaces; ``""`` for ``None``.

    Raises:
        KeyError: ``kind`` is not one of :data:`LABELS` (a programming error).
    """
    if value is None:
        return ""
    return str(LABELS[kind].get(str(value), str(value).replace("_", " ")))


def no_translation(source: str | None, target: str | None) -> str:
    """The marker shown where a text could not be translated: "No translation for pt→en"
    in the viewer's language (the stored note stays in English, for the logs)."""
    return _("No translation for %(pair)s", pair=isolate(f"{source or '?'}→{target or '?'}"))

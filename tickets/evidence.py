"""Evidence files on logistics claims and payment disputes: photos of damage, proofs of
delivery, PDFs, uploaded by the agent on the ticket page or by the buyer on their
request page. Checked and served by the shared upload code (:mod:`helpdesk.uploads`:
type from the content, size cap, signed links, sandboxed downloads, safe names); kept by
:mod:`helpdesk.storage`.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app, url_for
from sqlalchemy import select

from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.uploads import LinkSigner, UploadRefused, store_upload
from tickets import rules
from tickets.models import Ticket, TicketAttachment
from tickets.service import Actor, InvalidTicket, commit_and_emit, record

EVIDENCE_TYPES = ("logistics_claim", "payment_dispute")
MAX_PER_TICKET = 20
LINKS = LinkSigner("ticket-evidence")


class EvidenceRefused(rules.TicketRuleError):
    """An uploaded file that cannot be kept (empty, too large, not an image or PDF);
    ``code`` and ``status`` are the upload check's (400, 413, 415)."""

    def __init__(self, refused: UploadRefused):
        super().__init__(str(refused))
        self.code, self.status = refused.code, refused.status


def add_evidence(ticket: Ticket, actor: Actor, *, data: bytes, filename: object,
                 now: datetime | None = None) -> TicketAttachment:
    """Keep one evidence file on a logistics claim or payment dispute; commits. The
    timeline records it (internal unless the buyer adds it: the buyer sees their own
    uploads); a dispute's gathered evidence lists it.

    Args:
        data: the file's bytes (callers read at most ``TICKET_EVIDENCE_MAX_BYTES`` + 1).
        filename: the name the browser sent (cleaned; only for display and download).

    Raises:
        InvalidTicket: not a claim or dispute, or already :data:`MAX_PER_TICKET` files.
        rules.InvalidTransition: the ticket is closed.
        EvidenceRefused: empty, too large, or not an image or PDF.
    """
    now = now or utcnow()
    if ticket.type not in EVIDENCE_TYPES:
        raise InvalidTicket("Files can be added to logistics claims and payment disputes.")
    if ticket.status == "closed":
        raise rules.InvalidTransition("This request is closed; please open a new one.")
    if len(ticket.attachments) >= MAX_PER_TICKET:
        raise InvalidTicket(f"A request holds at most {MAX_PER_TICKET} files.")
    try:
        stored = store_upload(data, filename, current_app.config["TICKET_EVIDENCE_MAX_BYTES"])
    except UploadRefused as exc:
        raise EvidenceRefused(exc) from None
    attachment = TicketAttachment(ticket=ticket, uploader="buyer" if actor.kind == "buyer" else "agent",
                                  agent=actor.agent, created_at=now, **stored)
    db.session.add(attachment)
    db.session.flush()
    facts = {"attachment": attachment.public_id, "name": attachment.filename, "content_type": attachment.content_type,
             "size": attachment.size}
    record(ticket, actor, "evidence_added", facts, internal=actor.kind != "buyer", now=now)
    if ticket.dispute is not None:
        ticket.dispute.evidence = [*ticket.dispute.evidence, {"kind": "attachment", **facts}]
    commit_and_emit(ticket, [])
    return attachment


def evidence_url(attachment: TicketAttachment) -> str:
    """A link to the file, signed for it, valid :data:`helpdesk.uploads.LINK_MAX_AGE`
    seconds; only pages of the ticket's agents and its buyer show it."""
    return url_for("tickets.evidence_file", public_id=attachment.public_id, s=LINKS.sign(attachment.public_id))


def evidence_for_link(public_id: str, signature: object) -> TicketAttachment | None:
    """The evidence file a signed link names, or ``None`` (bad, expired or foreign
    signature)."""
    if not LINKS.valid(public_id, signature):
        return None
    return db.session.scalar(select(TicketAttachment).where(TicketAttachment.public_id == public_id))


def visible_to_buyer(ticket: Ticket) -> list[TicketAttachment]:
    """The files the buyer sees on their request page: the ones they uploaded."""
    return [a for a in ticket.attachments if a.uploader == "buyer"]

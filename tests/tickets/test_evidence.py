"""Evidence files on logistics claims and payment disputes (SQLite and PostgreSQL):
uploaded by the agent and by the buyer through the real pages, type decided by the
content, size cap, signed links, sandboxed downloads with safe names, the buyer's own
tickets only, listed in the evidence, the timeline and the dispute's gathered evidence."""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from helpdesk.extensions import db
from helpdesk.storage import storage
from tests.chat.test_attachments import HTML, PDF, PNG, SVG
from tests.tickets.conftest import identify
from tickets import service
from tickets.models import Ticket, TicketAttachment
from tickets.service import Actor

RECENT = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)  # pages use the real clock
HOSTILE_NAME = '<img src=x onerror=alert(1)>.png'


def files() -> int:
    return db.session.scalar(select(func.count()).select_from(TicketAttachment))


def post_file(client, url, content, name="photo.png"):
    return client.post(url, data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def links(page: str) -> list[str]:
    return [href.replace("&amp;", "&") for href in re.findall(r'href="(/tickets/evidence/[^"]+)"', page)]


def claim_ticket(order):
    return service.create_ticket(Actor("system"), order=order, type="logistics_claim", subject="Parcel damaged",
                                 claim={"kind": "damaged"}, lines=[{"order_line_id": order.lines[0].id, "quantity": 1}])


def test_an_agent_adds_photos_and_pdfs_to_a_claim_and_they_download_safely(client, login, make_order, no_csrf):
    order = make_order("1001", delivered_at=RECENT)
    ticket = claim_ticket(order)
    agent = login()
    client.application.config["WTF_CSRF_ENABLED"] = False
    base = f"/tickets/{ticket.id}"
    assert post_file(client, f"{base}/evidence", PNG, name=HOSTILE_NAME).status_code == 303
    assert post_file(client, f"{base}/evidence", PDF, name="../../proof of delivery.pdf").status_code == 303
    page = client.get(base).get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;.png" in page
    image, pdf = links(page)[:2]
    shown = client.get(image)
    assert (shown.status_code, shown.data, shown.headers["Content-Type"]) == (200, PNG, "image/png")
    assert shown.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    assert shown.headers["Content-Disposition"].startswith("inline")
    saved = client.get(pdf)
    assert saved.data == PDF and saved.headers["Content-Disposition"] == 'attachment; filename="proof of delivery.pdf"'
    # a forged or foreign signature opens nothing
    assert client.get(image.split("?")[0] + "?s=forged").status_code == 404
    assert client.get(image.split("?")[0]).status_code == 404
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    stored = ticket.attachments
    assert [(a.filename, a.content_type, a.uploader, a.agent_id, a.size) for a in stored] == [
        (HOSTILE_NAME, "image/png", "agent", agent.id, len(PNG)),
        ("proof of delivery.pdf", "application/pdf", "agent", agent.id, len(PDF))]
    assert storage().path(stored[0].storage_key).read_bytes() == PNG
    added = [e for e in ticket.events if e.kind == "evidence_added"]
    assert [(e.payload["name"], e.internal, e.agent_id) for e in added] == [
        (HOSTILE_NAME, True, agent.id), ("proof of delivery.pdf", True, agent.id)]


def test_files_that_are_not_images_or_pdfs_empty_or_too_large_are_refused(client, login, make_order, no_csrf, app):
    order = make_order("1001", delivered_at=RECENT)
    ticket = claim_ticket(order)
    login()
    client.application.config["WTF_CSRF_ENABLED"] = False
    base = f"/tickets/{ticket.id}/evidence"
    assert post_file(client, base, SVG, name="photo.png").status_code == 415
    assert post_file(client, base, HTML, name="photo.png").status_code == 415
    assert post_file(client, base, b"", name="photo.png").status_code == 400
    assert client.post(base, data={}, content_type="multipart/form-data").status_code == 400
    app.config["TICKET_EVIDENCE_MAX_BYTES"] = len(PNG) - 1
    try:
        too_big = post_file(client, base, PNG)
        assert too_big.status_code == 413 and "larger than" in too_big.get_data(as_text=True)
    finally:
        app.config["TICKET_EVIDENCE_MAX_BYTES"] = 10 * 1024 * 1024
    question = service.create_ticket(Actor("system"), order=order, type="question", subject="Colour?")
    refused = post_file(client, f"/tickets/{question.id}/evidence", PNG)
    assert refused.status_code == 400 and "logistics claims and payment disputes" in refused.get_data(as_text=True)
    assert files() == 0
    assert [e.kind for e in db.session.get(Ticket, ticket.id).events].count("evidence_added") == 0


def test_the_buyer_adds_a_photo_on_their_own_request_only(client, make_order, no_csrf):
    mine = make_order("1001", delivered_at=RECENT)
    theirs = make_order("2002", delivered_at=RECENT, email="bo@example.se", customer_id="8")
    ticket, other = claim_ticket(mine), claim_ticket(theirs)
    service.add_message(ticket, Actor("system"), "Please send a photo of the box.")
    from tickets.evidence import add_evidence

    add_evidence(ticket, Actor("system"), data=PDF, filename="carrier-report.pdf")
    identify(client)
    page = client.get(f"/help/requests/{ticket.id}").get_data(as_text=True)
    assert 'id="evidence-file"' in page and "carrier-report.pdf" not in page  # agents' files stay theirs
    assert post_file(client, f"/help/requests/{ticket.id}/evidence", PNG, name="caixa partida 📦.png").status_code == 303
    assert post_file(client, f"/help/requests/{other.id}/evidence", PNG).status_code == 404
    page = client.get(f"/help/requests/{ticket.id}").get_data(as_text=True)
    assert "caixa partida 📦.png" in page and "File added" in page
    assert client.get(links(page)[0]).data == PNG
    db.session.expire_all()
    assert [(a.ticket_id, a.uploader, a.agent_id) for a in db.session.scalars(select(TicketAttachment)
                                                                               .order_by(TicketAttachment.id))] == [
        (ticket.id, "agent", None), (ticket.id, "buyer", None)]
    added = [e for e in db.session.get(Ticket, ticket.id).events if e.kind == "evidence_added"]
    assert [(e.actor, e.internal) for e in added] == [("system", True), ("buyer", False)]


def test_a_disputes_gathered_evidence_lists_its_files(client, login, make_order, no_csrf):
    order = make_order("1001", delivered_at=RECENT)
    ticket = service.create_ticket(Actor("system"), order=order, type="payment_dispute", subject="Chargeback",
                                   dispute={"evidence_due_at": "2030-01-01T00:00:00Z", "reference": "dp_1"})
    login()
    client.application.config["WTF_CSRF_ENABLED"] = False
    assert post_file(client, f"/tickets/{ticket.id}/evidence", PDF, name="signed-delivery.pdf").status_code == 303
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    evidence = ticket.dispute.evidence
    assert [item["kind"] for item in evidence] == ["shipment", "attachment"]
    assert evidence[1] == {"kind": "attachment", "attachment": ticket.attachments[0].public_id,
                           "name": "signed-delivery.pdf", "content_type": "application/pdf", "size": len(PDF)}
    shown = client.get(f"/api/v1/tickets/{ticket.id}").json
    assert [(a["name"], a["uploader"], a["size"]) for a in shown["attachments"]] == [("signed-delivery.pdf", "agent",
                                                                                      len(PDF))]
    assert client.get(shown["attachments"][0]["url"]).data == PDF
    assert shown["dispute"]["evidence"][1]["attachment"] == shown["attachments"][0]["id"]
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    dispute_list = page[page.index('id="dispute-evidence"'):]
    dispute_list = dispute_list[:dispute_list.index("</ul>")]
    assert "signed-delivery.pdf" in dispute_list and "/tickets/evidence/" in dispute_list

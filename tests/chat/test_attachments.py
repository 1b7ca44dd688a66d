"""Chat attachments over real HTTP and Socket.IO: type by content, size limit, storage
outside the web root, signed links served with safe headers, buyer isolation."""
from __future__ import annotations

import base64
import re
import uuid
from pathlib import Path

import requests
from sqlalchemy import func, select

from chat.models import Attachment
from helpdesk.extensions import db

# A real 1×1 PNG and the smallest PDF readers open.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
PDF = (b"%PDF-1.1\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
       b"3 0 obj<</Type/Page/MediaBox[0 0 3 3]/Parent 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><script>alert(document.cookie)</script>"


def upload(live, public_id, content, name="photo.png", *, token=None, http=None, headers=None):
    http = http or requests
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    return http.post(f"{live}/chat/api/conversations/{public_id}/attachments", timeout=10,
                     headers={**auth, **(headers or {})}, files={"file": (name, content, "image/png")})


def count() -> int:
    try:
        return db.session.scalar(select(func.count()).select_from(Attachment))
    finally:
        db.session.rollback()


def test_a_buyer_sends_a_photo_and_the_agent_opens_it(live, app, start_chat, agent_session, clients):
    public_id, token = start_chat()
    uploaded = upload(live, public_id, PNG, name="../../chávena partida 😢.png", token=token)
    assert uploaded.status_code == 201
    sent = uploaded.json()["attachment"]
    assert sent == {"id": sent["id"], "name": "chávena partida 😢.png", "content_type": "image/png", "size": len(PNG)}

    buyer = clients(live, auth={"token": token})
    agent = clients(live, http_session=agent_session())
    agent.call("conversation:join", {"conversation": public_id})
    ack = buyer.call("message:send", {"client_id": "p1", "body": "", "attachments": [sent["id"]]})
    assert ack["ok"] is True and ack["message"]["body"] == ""
    [seen] = agent.wait_for("message")
    [file] = seen["attachments"]
    assert (file["name"], file["size"]) == ("chávena partida 😢.png", len(PNG))

    fetched = requests.get(live + file["url"], timeout=10)
    assert fetched.status_code == 200 and fetched.content == PNG
    assert fetched.headers["Content-Type"] == "image/png"
    assert fetched.headers["X-Content-Type-Options"] == "nosniff"
    assert fetched.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert fetched.headers["Content-Disposition"].startswith("inline")
    assert fetched.headers["Cache-Control"] == "private, max-age=3600"

    key = db.session.scalar(select(Attachment.storage_key))
    db.session.rollback()  # no open transaction (on SQLite it would hold the server's write lock)
    path = Path(app.config["ATTACHMENT_DIR"]) / key[:2] / key
    assert path.read_bytes() == PNG
    assert not path.resolve().is_relative_to(Path(app.static_folder).resolve())
    # A retry of the same message does not need (or consume) the upload again.
    again = buyer.call("message:send", {"client_id": "p1", "body": "", "attachments": [sent["id"]]})
    assert again["duplicate"] is True and again["message"]["attachments"][0]["id"] == sent["id"]


def test_a_pdf_is_a_download_and_links_are_checked(live, start_chat, clients):
    public_id, token = start_chat()
    sent = upload(live, public_id, PDF, name="invoice.pdf", token=token).json()["attachment"]
    assert sent["content_type"] == "application/pdf"
    buyer = clients(live, auth={"token": token})
    first = buyer.call("message:send", {"client_id": "d1", "body": "The invoice", "attachments": [sent["id"]]})
    url = first["message"]["attachments"][0]["url"]
    fetched = requests.get(live + url, timeout=10)
    assert fetched.status_code == 200 and fetched.content == PDF
    assert fetched.headers["Content-Disposition"] == "attachment; filename=invoice.pdf"
    renamed = upload(live, public_id, PNG, name="photo.pdf", token=token).json()["attachment"]
    message = buyer.call("message:send", {"client_id": "d2", "body": "", "attachments": [renamed["id"]]})
    served = requests.get(live + message["message"]["attachments"][0]["url"], timeout=10)
    assert served.headers["Content-Disposition"] == "inline; filename=photo.pdf.png"  # named for what it is

    signature = re.search(r"s=([^&]+)", url).group(1)
    other_id, other_token = start_chat(email="eve@example.com")
    other = upload(live, other_id, PNG, token=other_token).json()["attachment"]
    for bad in (url[:-2] + "xx", f"/chat/attachments/{other['id']}?s={signature}",
                f"/chat/attachments/{sent['id']}", f"/chat/attachments/{'a' * 500}?s={signature}"):
        assert requests.get(live + bad, timeout=10).status_code == 404, bad


def test_only_images_and_pdf_by_content_within_the_limit(live, app, start_chat):
    public_id, token = start_chat()
    app.config["CHAT_ATTACHMENT_MAX_BYTES"] = 1000
    for content, name, status, code in (
        (SVG, "drawing.png", 415, "unsupported_type"),
        (HTML, "page.png", 415, "unsupported_type"),
        (b"MZ\x90\x00" + b"\x00" * 60, "photo.png", 415, "unsupported_type"),
        (b"", "empty.png", 400, "empty_file"),
        (PNG + b"\x00" * 1000, "big.png", 413, "file_too_large"),
    ):
        answer = upload(live, public_id, content, name=name, token=token)
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), name
    assert upload(live, public_id, SVG, token=token).json()["error"]["message"] == \
        "Only images (PNG, JPEG, GIF, WebP) and PDF files can be sent."
    no_file = requests.post(f"{live}/chat/api/conversations/{public_id}/attachments", timeout=10,
                            headers={"Authorization": f"Bearer {token}"})
    assert (no_file.status_code, no_file.json()["error"]["code"]) == (400, "no_file")
    assert count() == 0


def test_nobody_sends_files_to_a_conversation_not_theirs(live, start_chat, agent_session, clients):
    mine, token = start_chat()
    theirs, their_token = start_chat(email="eve@example.com")
    assert upload(live, theirs, PNG, token=token).status_code == 404  # as if it did not exist
    assert upload(live, mine, PNG).status_code == 403  # no token at all
    assert upload(live, "nope", PNG, token=token).status_code == 404
    http = agent_session()
    no_csrf = upload(live, mine, PNG, http=http)  # an agent without the CSRF token
    assert (no_csrf.status_code, no_csrf.json()["error"]["message"]) == (
        403, "Your session has expired; reload the page and try again.")
    page = http.get(f"{live}/chat/conversations/{mine}", timeout=10).text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    by_agent = upload(live, mine, PNG, http=http, headers={"X-CSRFToken": csrf})
    assert by_agent.status_code == 201
    assert count() == 1

    # An upload of another conversation, or the agent's, cannot be sent by this buyer.
    their_file = upload(live, theirs, PNG, token=their_token).json()["attachment"]["id"]
    buyer = clients(live, auth={"token": token})
    for ids in ([their_file], [by_agent.json()["attachment"]["id"]], "x", [1], [str(uuid.uuid4())] * 6):
        ack = buyer.call("message:send", {"client_id": uuid.uuid4().hex, "body": "hi", "attachments": ids})
        assert ack["ok"] is False and ack["error"]["code"] == "bad_request", ids
    empty = buyer.call("message:send", {"client_id": uuid.uuid4().hex, "body": " ", "attachments": []})
    assert empty["error"]["code"] == "empty_message"

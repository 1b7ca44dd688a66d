"""helpdesk.mail: the outbox folder the demo writes its e-mails to."""
from email import policy
from email.parser import BytesParser

import pytest

from helpdesk.mail import MailError, send_text


def test_outbox_holds_the_message_as_an_eml_file(sqlite_app, tmp_path):
    outbox = tmp_path / "outbox"
    app = sqlite_app(MAIL_SERVER="", MAIL_OUTBOX_DIR=str(outbox))
    with app.app_context():
        message_id = send_text("li@example.com", "Wie war unser Service? 满意吗",
                               "Bewerten Sie uns: https://example.test/s/abc\n", to_name="Zoë Li")
    (written,) = outbox.glob("*.eml")
    message = BytesParser(policy=policy.default).parsebytes(written.read_bytes())
    assert message["Message-ID"] == message_id
    assert message["To"] == "Zoë Li <li@example.com>"
    assert message["Subject"] == "Wie war unser Service? 满意吗"
    assert message.get_content() == "Bewerten Sie uns: https://example.test/s/abc\n"


def test_an_unwritable_outbox_is_a_mail_error(sqlite_app, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    app = sqlite_app(MAIL_SERVER="", MAIL_OUTBOX_DIR=str(blocker / "outbox"))
    with app.app_context(), pytest.raises(MailError, match="outbox folder"):
        send_text("li@example.com", "Subject", "Body")

"""Outgoing e-mail over SMTP (the notifications adapter of the design): plain-text
messages built with the standard library's :mod:`email` and sent with :mod:`smtplib`.

Settings: ``MAIL_SERVER`` (empty: e-mail is off), ``MAIL_PORT`` (25), ``MAIL_STARTTLS``
(``1`` to upgrade the connection), ``MAIL_USERNAME`` / ``MAIL_PASSWORD`` (optional) and
``MAIL_FROM``. ``MAIL_OUTBOX_DIR`` (used by the demo, which has no mail server) writes each
message as an ``.eml`` file into that folder instead of sending it; any mail program opens it.
"""
from __future__ import annotations

import secrets
import smtplib
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path

from flask import current_app

SMTP_TIMEOUT = 15  # seconds


class MailError(RuntimeError):
    """E-mail could not be sent; the message says why, for the person who asked."""


def send_text(to: str, subject: str, body: str, *, to_name: str = "") -> str:
    """Send a plain-text (UTF-8) e-mail to one address.

    Returns:
        The ``Message-ID`` given to the e-mail.

    Raises:
        MailError: e-mail is not configured, or the SMTP server refused or could not be
            reached within :data:`SMTP_TIMEOUT` seconds.
    """
    config = current_app.config
    if not config["MAIL_SERVER"] and not config["MAIL_OUTBOX_DIR"]:
        raise MailError("E-mail is not set up on this helpdesk (MAIL_SERVER is empty).")
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = formataddr((to_name, to))
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=config["MAIL_FROM"].rpartition("@")[2].strip("> ") or None)
    message.set_content(body)
    if config["MAIL_OUTBOX_DIR"]:
        return _write_to_outbox(message, Path(config["MAIL_OUTBOX_DIR"]))
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=SMTP_TIMEOUT) as smtp:
            if config["MAIL_STARTTLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        current_app.logger.warning("smtp send failed: %s", exc)
        raise MailError(f"The mail server did not take the e-mail ({exc.__class__.__name__}); try again later.") from exc
    return message["Message-ID"]


def _write_to_outbox(message: EmailMessage, outbox: Path) -> str:
    """Write ``message`` to ``outbox/<UTC time>-<random>.eml`` (RFC 5322 bytes, the folder
    made when missing) and return its ``Message-ID``.

    Raises:
        MailError: the folder cannot be written.
    """
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    try:
        outbox.mkdir(parents=True, exist_ok=True)
        (outbox / f"{stamp}-{secrets.token_hex(8)}.eml").write_bytes(message.as_bytes())
    except OSError as exc:
        current_app.logger.warning("mail outbox write failed: %s", exc)
        raise MailError("The e-mail could not be written to the outbox folder; try again later.") from exc
    return message["Message-ID"]

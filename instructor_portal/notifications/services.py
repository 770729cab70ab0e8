"""Queue email in the outbox with the change that causes it, and deliver it after commit."""

import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, render_template, url_for

from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail, OutboxStatus

log = logging.getLogger(__name__)

#: Retry after 1, 2, 4 ... minutes, never waiting more than six hours.
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)


def absolute_url(endpoint: str, **values) -> str:
    """An address for an email link, built on BASE_URL so it is the same from a request or a CLI command."""
    base = current_app.config["BASE_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)


def enqueue_email(to: str, template: str, *, subject: str, **context) -> OutboxEmail:
    """Render ``emails/<template>.txt`` and ``.html`` into the outbox; the calling service commits."""
    email = OutboxEmail(
        to_address=to,
        subject=subject,
        body_text=render_template(f"emails/{template}.txt", **context),
        body_html=render_template(f"emails/{template}.html", **context),
    )
    db.session.add(email)
    return email


def retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def send_outbox(*, now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Try every pending email that is due; record failures with back-off. Return counts by outcome.

    Each email is claimed with a row lock that other senders skip, and its outcome is
    committed at once, so two senders never send the same email and a crash mid-batch
    never resends what already went out.
    """
    now = now or utcnow()
    config = current_app.config
    counts = {"sent": 0, "retrying": 0, "failed": 0}
    connection = None
    try:
        for _ in range(limit):
            email = db.session.scalars(
                db.select(OutboxEmail)
                .where(OutboxEmail.status == OutboxStatus.PENDING, OutboxEmail.next_attempt_at <= now)
                .order_by(OutboxEmail.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if email is None:
                break
            email.attempts += 1
            try:
                if config["MAIL_SERVER"]:
                    connection = connection or _connect(config)
                    connection.send_message(_build_message(email, config["MAIL_DEFAULT_SENDER"]))
                else:
                    log.info("Email (no MAIL_SERVER set) to %s: %s\n%s", email.to_address, email.subject, email.body_text)
            except (smtplib.SMTPException, OSError) as error:
                connection = _close(connection)
                email.last_error = f"{type(error).__name__}: {error}"[:2000]
                if email.attempts >= config["OUTBOX_MAX_ATTEMPTS"]:
                    email.status = OutboxStatus.FAILED
                    counts["failed"] += 1
                    log.error("Giving up on email %s to %s: %s", email.id, email.to_address, email.last_error)
                else:
                    email.next_attempt_at = now + retry_delay(email.attempts)
                    counts["retrying"] += 1
                    log.warning("Email %s to %s failed, will retry: %s", email.id, email.to_address, email.last_error)
            else:
                email.status = OutboxStatus.SENT
                email.sent_at = now
                email.last_error = None
                counts["sent"] += 1
            db.session.commit()
    finally:
        _close(connection)
        db.session.rollback()
    return counts


def _connect(config) -> smtplib.SMTP:
    cls = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    connection = cls(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"])
    if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
        connection.starttls()
    if config["MAIL_USERNAME"]:
        connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    return connection


def _close(connection: smtplib.SMTP | None) -> None:
    if connection is not None:
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()
    return None


def _build_message(email: OutboxEmail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Message-ID"] = make_msgid(idstring=f"outbox-{email.id}")
    message.set_content(email.body_text)
    if email.body_html:
        message.add_alternative(email.body_html, subtype="html")
    for attachment in email.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return message

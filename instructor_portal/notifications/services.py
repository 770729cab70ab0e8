"""Queue email in the outbox with the change that causes it, and deliver it after commit.

Delivery claims a batch of due emails by writing a lease on them (a conditional UPDATE,
with SKIP LOCKED on PostgreSQL), commits, sends them with no transaction open, then records
each result. Two senders never claim the same email; one killed mid-batch leaves its lease
to run out, and the next sender takes those emails again.
"""

import logging
import secrets
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, url_for
from jinja2 import TemplateError
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import selectinload

from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.notifications.layout import render_email
from instructor_portal.notifications.models import OutboxEmail, OutboxStatus

log = logging.getLogger(__name__)
#: Where development mail is shown in full when no MAIL_SERVER is set.
mail_log = logging.getLogger("instructor_portal.mail")

#: Retry after 1, 2, 4 ... minutes, never waiting more than six hours.
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
#: Emails a sender claims at once, and how long it may take over them before another sender
#: may take them; with MAIL_TIMEOUT's 30 seconds an email, a batch always fits in its lease.
BATCH = 10
LEASE = timedelta(minutes=10)
#: The session.info key marking a transaction that queued email.
QUEUED = "outbox_queued"


def absolute_url(endpoint: str, **values) -> str:
    """An address for an email link, built on BASE_URL so it is the same from a request or a CLI command."""
    base = current_app.config["BASE_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)


def one_line(text: str) -> str:
    """Text fit for an email header: line breaks and runs of space become one space, so nothing typed can add a header."""
    return " ".join(text.split())


def enqueue_email(to: str, template: str, *, subject: str, reply_to: str | None = None, **context) -> OutboxEmail:
    """Render ``emails/<template>.txt`` and ``.html`` into the outbox; the calling service commits.

    ``reply_to`` is the address a reply goes to, when not the sending address.

    A template that fails to render is recorded as a failed email with the error, so the
    change it belongs to still goes through and an organiser can see what went wrong.
    """
    email = OutboxEmail(
        to_address=one_line(to),
        reply_to=one_line(reply_to) if reply_to else None,
        subject=one_line(subject)[:255],
        body_text="",
        body_html=None,
    )
    try:
        # In the one layout every email shares (notifications/layout.py).
        email.body_text, email.body_html = render_email(template, context)
    except TemplateError as error:
        log.error("Email %r to %s could not be written: %s", template, email.to_address, error)
        email.status = OutboxStatus.FAILED
        email.last_error = f"The email could not be written from its template {template!r}: {error}"
    db.session.add(email)
    db.session.info[QUEUED] = True
    return email


def recent_emails(*, limit: int = 100) -> list[OutboxEmail]:
    """The latest emails in the outbox, newest first, whatever became of them."""
    return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(limit)))


def retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def send_outbox(*, now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Send every due email, a batch at a time, recording each result; return counts by outcome.

    Safe beside another sender: each batch is claimed first, so no email goes to two.
    """
    now = now or utcnow()
    counts = {"sent": 0, "retrying": 0, "failed": 0}
    config = current_app.config
    if not config["MAIL_SERVER"] and config["ENV_NAME"] == "production":
        # Showing mail in the log is for development: in production it would put sign-in links in logs.
        waiting = db.session.scalar(
            select(func.count(OutboxEmail.id)).where(OutboxEmail.status == OutboxStatus.PENDING)
        )
        if waiting:
            log.warning(
                "MAIL_SERVER is not set, so the outbox keeps %s %s waiting; set it to send them.",
                waiting,
                "email" if waiting == 1 else "emails",
            )
        return counts
    mail = _Connection(config)
    try:
        while (left := limit - sum(counts.values())) > 0:
            token, emails = _claim(now=now, size=min(BATCH, left))
            if not emails:
                break
            _deliver(emails, token, counts, mail, now=now)
    finally:
        mail.close()
    return counts


def _claim(*, now: datetime, size: int) -> tuple[str, list[tuple[int, int, EmailMessage | Exception]]]:
    """Take up to ``size`` due emails nobody else holds, commit the claim, and return each one's id, attempts and message.

    A message that cannot be built (a header that cannot be written) comes back as its error.
    """
    token = secrets.token_hex(16)
    free = (
        OutboxEmail.status == OutboxStatus.PENDING,
        OutboxEmail.next_attempt_at <= now,
        or_(OutboxEmail.claimed_until.is_(None), OutboxEmail.claimed_until <= now),
    )
    # SKIP LOCKED on PostgreSQL lets two senders take different emails at once; SQLite's write lock takes turns.
    due = select(OutboxEmail.id).where(*free).order_by(OutboxEmail.id).limit(size).with_for_update(skip_locked=True)
    ids = db.session.scalars(
        update(OutboxEmail)
        .where(OutboxEmail.id.in_(due.scalar_subquery()), *free)
        .values(claimed_until=now + LEASE, claim_token=token, attempts=OutboxEmail.attempts + 1)
        .returning(OutboxEmail.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    emails = db.session.scalars(
        select(OutboxEmail)
        .where(OutboxEmail.id.in_(ids))
        .order_by(OutboxEmail.id)
        .options(selectinload(OutboxEmail.attachments))
    )
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    return token, [(email.id, email.attempts, _built(email, sender)) for email in emails]


def _built(email: OutboxEmail, sender: str) -> EmailMessage | Exception:
    try:
        return _build_message(email, sender)
    except (ValueError, TypeError) as error:
        return error


class _Connection:
    """One SMTP connection for a whole run, opened when first needed and again after a failure."""

    def __init__(self, config):
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def send(self, message: EmailMessage) -> None:
        if not self.config["MAIL_SERVER"]:
            _show(message)
            return
        try:
            self.smtp = self.smtp or _connect(self.config)
            self.smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused:
            raise  # the connection is still good
        except (smtplib.SMTPException, OSError):
            self.close()
            raise

    def close(self) -> None:
        self.smtp = _close(self.smtp)


def _deliver(
    emails: list[tuple[int, int, EmailMessage | Exception]],
    token: str,
    counts: dict[str, int],
    mail: _Connection,
    *,
    now: datetime,
) -> None:
    """Send claimed emails with no transaction open, committing each one's outcome as it comes."""
    for email_id, attempts, message in emails:
        if isinstance(message, Exception):  # a header that cannot be written: no retry will help
            _record(email_id, attempts, token, counts, now=now, error=message, permanent=True)
            continue
        try:
            mail.send(message)
        except smtplib.SMTPRecipientsRefused as error:
            # A server's 5xx for the address is final; a 4xx may pass later.
            permanent = all(code >= 500 for code, _ in error.recipients.values())
            _record(email_id, attempts, token, counts, now=now, error=error, permanent=permanent)
        except (smtplib.SMTPException, OSError) as error:
            _record(email_id, attempts, token, counts, now=now, error=error)
        else:
            _record(email_id, attempts, token, counts, now=now)


def _record(
    email_id: int,
    attempts: int,
    token: str,
    counts: dict[str, int],
    *,
    now: datetime,
    error: Exception | None = None,
    permanent: bool = False,
) -> None:
    """Write one email's outcome, if the claim is still this sender's, and commit it."""
    values: dict = {"claimed_until": None, "claim_token": None}
    if error is None:
        outcome = "sent"
        values.update(status=OutboxStatus.SENT, sent_at=now, last_error=None)
    else:
        message = f"{type(error).__name__}: {error}"[:2000]
        gave_up = permanent or attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]
        outcome = "failed" if gave_up else "retrying"
        values.update(last_error=message)
        if gave_up:
            values.update(status=OutboxStatus.FAILED)
            log.error("Giving up on email %s: %s", email_id, message)
        else:
            values.update(next_attempt_at=now + retry_delay(attempts))
            log.warning("Email %s failed, will retry: %s", email_id, message)
    recorded = db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == email_id, OutboxEmail.claim_token == token)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if recorded:
        counts[outcome] += 1
    else:
        log.warning("Email %s was taken over by another sender after this one's claim ran out", email_id)


def _show(message: EmailMessage) -> None:
    """Write a whole email to the log, for development with no mail server; it stays in the outbox to be read again."""
    body = message.get_body(preferencelist=("plain",))
    attachments = [part.get_filename() for part in message.iter_attachments()]
    mail_log.info(
        "Email (no MAIL_SERVER set, so shown here instead of sent)\nTo: %s\nSubject: %s%s\n\n%s",
        message["To"],
        message["Subject"],
        f"\nAttached: {', '.join(attachments)}" if attachments else "",
        body.get_content().rstrip() if body else "",
    )


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
    if email.reply_to:
        message["Reply-To"] = email.reply_to
    message["Message-ID"] = make_msgid(idstring=f"outbox-{email.id}")
    message.set_content(email.body_text)
    if email.body_html:
        message.add_alternative(email.body_html, subtype="html")
    for attachment in email.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return message

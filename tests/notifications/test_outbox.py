from datetime import timedelta

import pytest

from instructor_portal.accounts.models import Role, User
from instructor_portal.accounts.services import AccountError, invite_user
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail, OutboxStatus
from instructor_portal.notifications.services import retry_delay, send_outbox
from tests import factories


def queue_invitation(email="priya@example.org") -> OutboxEmail:
    invite_user(full_name="Priya Shah", email=email, role=Role.INSTRUCTOR, invited_by=None)
    return db.session.scalars(db.select(OutboxEmail).where(OutboxEmail.to_address == email)).one()


def test_outbox_is_written_in_the_same_transaction_as_the_change(app):
    factories.make_user(email="priya@example.org")
    with pytest.raises(AccountError):
        invite_user(full_name="Priya Shah", email="priya@example.org", role=Role.INSTRUCTOR, invited_by=None)
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(OutboxEmail.id))) == 0


def test_send_outbox_delivers_text_and_html_by_smtp(app, smtp_server):
    queued = queue_invitation()
    assert send_outbox() == {"sent": 1, "retrying": 0, "failed": 0}
    [message] = smtp_server.messages
    assert message["To"] == "priya@example.org"
    assert message["Subject"] == "You have been invited to Instructor Portal"
    assert "/welcome/" in message.get_body(("plain",)).get_content()
    assert "<a href=" in message.get_body(("html",)).get_content()
    db.session.refresh(queued)
    assert queued.status == OutboxStatus.SENT
    assert queued.sent_at is not None
    assert send_outbox() == {"sent": 0, "retrying": 0, "failed": 0}
    assert len(smtp_server.messages) == 1


def test_a_refused_message_is_retried_later_with_back_off_and_the_error_kept(app, smtp_server):
    queued = queue_invitation()
    smtp_server.refuse = True
    now = utcnow()
    assert send_outbox(now=now) == {"sent": 0, "retrying": 1, "failed": 0}
    db.session.refresh(queued)
    assert queued.status == OutboxStatus.PENDING
    assert queued.attempts == 1
    assert "451" in queued.last_error
    assert queued.next_attempt_at == now + timedelta(minutes=1)

    smtp_server.refuse = False
    assert send_outbox(now=now + timedelta(seconds=30)) == {"sent": 0, "retrying": 0, "failed": 0}
    assert send_outbox(now=now + timedelta(minutes=1)) == {"sent": 1, "retrying": 0, "failed": 0}
    db.session.refresh(queued)
    assert (queued.status, queued.attempts, queued.last_error) == (OutboxStatus.SENT, 2, None)
    assert len(smtp_server.messages) == 1


def test_an_unreachable_server_counts_as_a_failure_to_retry(app, smtp_server):
    queued = queue_invitation()
    app.config["MAIL_PORT"] = 1  # nothing listens there
    assert send_outbox() == {"sent": 0, "retrying": 1, "failed": 0}
    db.session.refresh(queued)
    assert "ConnectionRefusedError" in queued.last_error


def test_sender_gives_up_after_the_configured_attempts(app, smtp_server):
    queued = queue_invitation()
    smtp_server.refuse = True
    app.config["OUTBOX_MAX_ATTEMPTS"] = 2
    now = utcnow()
    send_outbox(now=now)
    assert send_outbox(now=now + timedelta(hours=1)) == {"sent": 0, "retrying": 0, "failed": 1}
    db.session.refresh(queued)
    assert queued.status == OutboxStatus.FAILED


def test_one_failing_address_does_not_block_the_others(app, smtp_server):
    queue_invitation("first@example.org")
    queue_invitation("second@example.org")
    smtp_server.refuse = True
    now = utcnow()
    send_outbox(now=now)
    smtp_server.refuse = False
    queue_invitation("third@example.org")
    assert send_outbox(now=now + timedelta(seconds=30)) == {"sent": 1, "retrying": 0, "failed": 0}
    assert [m["To"] for m in smtp_server.messages] == ["third@example.org"]


def test_back_off_doubles_and_is_capped():
    assert [retry_delay(n) for n in (1, 2, 3)] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert retry_delay(30) == timedelta(hours=6)


def test_without_a_mail_server_each_email_is_shown_in_full_and_kept(app, caplog):
    queued = queue_invitation()
    caplog.set_level("INFO", logger="instructor_portal.mail")
    assert send_outbox() == {"sent": 1, "retrying": 0, "failed": 0}
    assert "To: priya@example.org" in caplog.text
    assert "Subject: You have been invited to Instructor Portal" in caplog.text
    assert queued.body_text.strip() in caplog.text  # the whole text, links and all
    assert "/welcome/" in caplog.text
    db.session.refresh(queued)
    assert queued.status == OutboxStatus.SENT


def test_send_outbox_command_reports_what_it_did(app, runner, smtp_server):
    queue_invitation()
    result = runner.invoke(args=["send-outbox"])
    assert result.exit_code == 0, result.output
    assert "Sent 1, will retry 0, gave up on 0." in result.output
    assert len(smtp_server.messages) == 1


def test_create_organiser_command_invites_the_first_organiser(app, runner):
    result = runner.invoke(args=["create-organiser", "--email", "Boss@example.org", "--name", "Jo Boss"])
    assert result.exit_code == 0, result.output
    user = db.session.scalars(db.select(User)).one()
    assert (user.email, user.role, user.password_hash) == ("boss@example.org", Role.ORGANISER, None)
    assert db.session.scalar(db.select(db.func.count(OutboxEmail.id))) == 1
    again = runner.invoke(args=["create-organiser", "--email", "boss@example.org", "--name", "Jo Boss"])
    assert again.exit_code == 1
    assert "already has an account" in again.output

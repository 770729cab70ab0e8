"""The outbox never blocks, never lets typed text become a header, and sends each email once however many senders run."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from instructor_portal.booking.services import book_places
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.notifications import services
from instructor_portal.notifications.models import OutboxEmail, OutboxStatus
from tests import factories

ROOT = Path(__file__).resolve().parents[2]


def queue(to: str, subject: str = "Hello") -> OutboxEmail:
    email = OutboxEmail(to_address=to, subject=subject, body_text=f"Hello {to}")
    db.session.add(email)
    db.session.commit()
    return email


def status_of(email: OutboxEmail) -> tuple:
    db.session.refresh(email)
    return email.status, email.attempts


def test_a_course_title_with_line_breaks_cannot_add_a_header(app, smtp_server):
    course = factories.make_course(
        price_pence=0, title="Baby massage\r\nBcc: everyone@example.org", first_session=utcnow() + timedelta(days=9)
    )
    child = factories.make_child()
    book_places(child.parent, course, [child], accept_terms=True)
    assert services.send_outbox()["sent"] == 1
    [message] = smtp_server.messages
    assert message["Subject"] == "Your place is confirmed: Baby massage Bcc: everyone@example.org"
    assert message["Bcc"] is None and list(message.keys()).count("Subject") == 1


def test_an_email_whose_header_cannot_be_written_is_given_up_and_the_rest_go(app, smtp_server):
    broken = queue("first@example.org", subject="Line one\nInjected: yes")  # written before subjects were made one line
    fine = queue("second@example.org")
    assert services.send_outbox() == {"sent": 1, "retrying": 0, "failed": 1}
    assert status_of(broken) == (OutboxStatus.FAILED, 1)
    assert "ValueError" in broken.last_error
    assert status_of(fine) == (OutboxStatus.SENT, 1)
    assert [m["To"] for m in smtp_server.messages] == ["second@example.org"]


def test_an_address_the_server_refuses_is_given_up_at_once_and_the_rest_go(app, smtp_server):
    smtp_server.unknown_addresses.add("nobody@example.org")
    refused, fine = queue("nobody@example.org"), queue("somebody@example.org")
    assert services.send_outbox() == {"sent": 1, "retrying": 0, "failed": 1}
    assert status_of(refused) == (OutboxStatus.FAILED, 1)
    assert "550" in refused.last_error
    assert status_of(fine)[0] == OutboxStatus.SENT


def test_an_email_whose_template_fails_is_kept_as_failed_and_the_change_still_commits(app, caplog):
    email = services.enqueue_email("parent@example.org", "no_such_template", subject="Hello")
    db.session.commit()
    assert status_of(email) == (OutboxStatus.FAILED, 0)
    assert "could not be written from its template 'no_such_template'" in email.last_error
    assert "no_such_template" in caplog.text
    assert services.send_outbox() == {"sent": 0, "retrying": 0, "failed": 0}


def test_a_sender_killed_after_claiming_loses_nothing_and_nothing_goes_twice(app, smtp_server):
    emails = [queue(f"family{n}@example.org") for n in range(3)]
    now = utcnow()
    services._claim(now=now, size=10)  # the first sender claims them, then dies before sending
    assert services.send_outbox(now=now + timedelta(minutes=1)) == {"sent": 0, "retrying": 0, "failed": 0}
    assert services.send_outbox(now=now + services.LEASE + timedelta(seconds=1))["sent"] == 3
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(e.to_address for e in emails)
    assert services.send_outbox(now=now + 2 * services.LEASE)["sent"] == 0


def test_a_sender_whose_claim_ran_out_cannot_record_over_the_next_ones(app, smtp_server):
    email = queue("family@example.org")
    now = utcnow()
    token, [(email_id, attempts, _)] = services._claim(now=now, size=10)
    assert services.send_outbox(now=now + services.LEASE + timedelta(seconds=1))["sent"] == 1
    counts = {"sent": 0, "retrying": 0, "failed": 0}
    services._record(email_id, attempts, token, counts, now=now, error=OSError("late"))
    assert counts["retrying"] == 0
    assert status_of(email)[0] == OutboxStatus.SENT


def test_two_sender_processes_on_one_database_send_every_email_exactly_once(app, database_url, smtp_server, tmp_path):
    addresses = [f"family{n}@example.org" for n in range(120)]
    db.session.add_all(OutboxEmail(to_address=address, subject="Hello", body_text="Hi") for address in addresses)
    db.session.commit()
    env = {
        **os.environ,
        "PORTAL_ENV": "development",
        "DATABASE_URL": database_url,
        "TASK_QUEUE_URL": "memory",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(app.config["MAIL_PORT"]),
        "UPLOAD_STORAGE_PATH": str(tmp_path),
    }
    command = [
        str(Path(sys.executable).with_name("flask")),
        "--app",
        "instructor_portal",
        "send-outbox",
        "--limit",
        "1000",
    ]
    senders = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outputs = [sender.communicate(timeout=120)[0] for sender in senders]
    assert [sender.returncode for sender in senders] == [0, 0], outputs
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(addresses)
    assert db.session.scalar(db.select(db.func.count()).where(OutboxEmail.status == OutboxStatus.SENT)) == len(
        addresses
    )
    sent_by_each = [int(output.split("Sent ")[1].split(",")[0]) for output in outputs]
    assert sum(sent_by_each) == len(addresses)


def test_the_outbox_page_lists_email_with_status_and_error_for_organisers_only(app, client, auth, login_as):
    failed = queue("nobody@example.org", subject="Your place is confirmed")
    failed.status, failed.attempts, failed.last_error = (
        OutboxStatus.FAILED,
        8,
        "SMTPRecipientsRefused: 550 No such user",
    )
    db.session.commit()
    login_as("instructor")
    assert client.get("/organiser/outbox").status_code == 403
    auth.logout()
    login_as("organiser")
    page = client.get("/organiser/outbox").get_data(as_text=True)
    assert "nobody@example.org" in page and "Given up" in page and "550 No such user" in page
    detail = client.get(f"/organiser/outbox/{failed.id}").get_data(as_text=True)
    assert "Hello nobody@example.org" in detail
    assert client.get("/organiser/outbox/999999").status_code == 404


def test_in_production_without_a_mail_server_email_waits_and_no_link_reaches_the_log(app, caplog):
    from instructor_portal.accounts.services import request_password_reset

    user = factories.make_user()
    request_password_reset(user.email)
    app.config["ENV_NAME"] = "production"
    caplog.set_level("INFO")
    assert services.send_outbox() == {"sent": 0, "retrying": 0, "failed": 0}
    [email] = db.session.scalars(db.select(OutboxEmail)).all()
    assert email.status == OutboxStatus.PENDING
    assert "MAIL_SERVER is not set, so the outbox keeps 1 email waiting" in caplog.text
    assert "/password/reset/" not in caplog.text

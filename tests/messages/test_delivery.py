"""A message to a group reaches a real SMTP server with the instructor as its Reply-To, and each family's status follows its email."""

from instructor_portal.extensions import db
from instructor_portal.messages.models import Delivery, GroupMessage
from instructor_portal.notifications import services as outbox
from tests import factories
from tests.conftest import text
from tests.messages.conftest import send


def test_families_get_the_message_with_replies_going_to_the_instructor(scene, smtp_server):
    send(scene.course, scene.instructor, body="Bring a towel.\nAnd a spare nappy.", subject="What to bring")
    assert outbox.send_outbox()["sent"] == 3
    by_address = {message["To"]: message for message in smtp_server.messages}
    assert sorted(by_address) == ["amira@example.org", "ben@example.org", "cara@example.org"]
    amira = by_address["amira@example.org"]
    assert amira["Reply-To"] == "jo@example.org"
    assert amira["Subject"] == "What to bring"
    assert amira["From"] == "Instructor Portal <no-reply@example.org>"
    plain = amira.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    assert "Hello Amira," in plain and "Bring a towel.\nAnd a spare nappy." in plain
    assert "Bring a towel.<br>And a spare nappy." in amira.get_body(preferencelist=("html",)).get_content()


def test_other_email_has_no_reply_to(app, smtp_server):
    child = factories.make_child()
    outbox.enqueue_email(child.parent.email, "group_message", subject="Hello", **_context(child.parent))
    db.session.commit()
    outbox.send_outbox()
    [message] = smtp_server.messages
    assert message["Reply-To"] is None


def test_each_familys_status_turns_to_sent_or_failed_as_the_server_answers(scene, smtp_server, login_as, client):
    smtp_server.unknown_addresses.add("cara@example.org")
    message = send(scene.course, scene.instructor).message
    assert outbox.send_outbox() == {"sent": 2, "retrying": 0, "failed": 1}
    db.session.expire_all()
    message = db.session.get(GroupMessage, message.id)
    assert [(r.parent.full_name, r.delivery) for r in message.recipients] == [
        ("Amira Khan", Delivery.SENT),
        ("Ben Jones", Delivery.SENT),
        ("Cara Holder", Delivery.FAILED),
    ]
    login_as(scene.instructor)
    page = text(client.get(f"/teach/messages/{message.id}"))
    assert "3 families: 1 failed, 2 sent" in page
    assert "No such user here" in page  # why it failed, for the instructor to phone the family instead


def _context(parent):
    course = factories.make_course()
    return {
        "parent": parent,
        "course": course,
        "session": None,
        "sender": course.instructor,
        "body": "Hi",
        "bookings_url": "/",
    }

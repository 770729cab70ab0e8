"""Who a message to a group reaches, what each family gets, and the refusals that change nothing."""

from collections import Counter
from datetime import timedelta

import pytest

from instructor_portal.accounts.models import User
from instructor_portal.audit import AuditEntry
from instructor_portal.booking.models import BookingStatus
from instructor_portal.catalogue.models import Course, CourseStatus, SessionStatus, Track
from instructor_portal.extensions import db
from instructor_portal.messages import services
from instructor_portal.messages.models import Delivery, GroupMessage, MessageRecipient
from instructor_portal.notifications.models import OutboxEmail, OutboxStatus
from tests import factories
from tests.conftest import count, race
from tests.messages.conftest import NOW, family, makeup_at, names, send


def test_a_message_to_the_course_reaches_each_family_with_a_live_booking_once(scene):
    # Twins bring one family; cancelled bookings, expired and lapsed holds bring none.
    assert names(services.audience(scene.course, now=NOW)) == ["Amira Khan", "Ben Jones", "Cara Holder"]
    [twins, *_] = services.audience(scene.course, now=NOW)
    assert twins.children == ("BabyAmira0", "BabyAmira1")


def test_a_family_whose_data_was_erased_is_not_written_to(scene):
    scene.single.parent.active = False  # as erasure leaves an account, bookings of past courses and all
    db.session.commit()
    assert "Ben Jones" not in names(services.audience(scene.course, now=NOW))
    assert "Ben Jones" not in names(services.audience(scene.course, scene.session, now=NOW))


def test_a_family_with_two_bookings_on_the_course_gets_one_email(scene):
    factories.make_booking(scene.course, [factories.make_child(scene.single.parent, first_name="Later")])
    sent = send(scene.course, scene.instructor)
    assert names(sent.message.recipients) == ["Amira Khan", "Ben Jones", "Cara Holder"]
    assert count(OutboxEmail) == 3


def test_a_message_to_one_session_reaches_its_register_including_families_there_for_a_make_up(scene):
    other = factories.make_course(title="Friday babies", first_session=NOW + timedelta(days=2))
    visiting = family(other, "Gus Visitor")
    makeup_at(scene.session, visiting)
    family(other, "Hal Elsewhere")
    # On the register: the confirmed families and the make-up; a hold still being paid is not on it yet.
    assert names(services.audience(scene.course, scene.session, now=NOW)) == ["Amira Khan", "Ben Jones", "Gus Visitor"]
    assert names(services.audience(scene.course, scene.course.sessions[1], now=NOW)) == ["Amira Khan", "Ben Jones"]


def test_a_family_who_cancelled_after_a_make_up_is_not_written_to(scene):
    other = factories.make_course(title="Friday babies", first_session=NOW + timedelta(days=2))
    visiting = family(other, "Gus Visitor")
    makeup_at(scene.session, visiting)
    visiting.status = BookingStatus.CANCELLED
    visiting.places[0].live = False
    db.session.commit()
    assert "Gus Visitor" not in names(services.audience(scene.course, scene.session, now=NOW))


def test_sending_queues_one_email_per_family_with_the_reply_going_to_the_instructor(scene):
    sent = send(scene.course, scene.instructor, body="Bring a towel.\n\nAnd a spare nappy.")
    message = db.session.get(GroupMessage, sent.message.id)
    assert message.subject == "Tuesday babies: a message from Jo Teacher"
    assert (message.sender, message.session, message.reply_to) == (scene.instructor, None, "jo@example.org")
    emails = [recipient.outbox_email for recipient in message.recipients]
    assert [email.to_address for email in emails] == ["amira@example.org", "ben@example.org", "cara@example.org"]
    assert {email.reply_to for email in emails} == {"jo@example.org"}
    assert {email.subject for email in emails} == {message.subject}
    assert message.deliveries == {Delivery.QUEUED: 3}
    [entry] = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "message.sent")).all()
    assert (entry.actor_id, entry.subject_id) == (scene.instructor.id, message.id)
    assert entry.data["families"] == 3 and entry.data["title"] == message.subject


def test_each_family_reads_the_message_with_its_line_breaks_and_nothing_typed_becomes_markup(scene):
    body = "The room has changed.\nWe meet in the hall <b>upstairs</b> & to the left.\n\nSee you Tuesday."
    send(scene.course, scene.instructor, body=body, subject="Room change")
    email = db.session.scalars(db.select(OutboxEmail).where(OutboxEmail.to_address == "ben@example.org")).one()
    assert email.subject == "Room change"
    assert "Hello Ben," in email.body_text
    assert body in email.body_text
    assert "Jo Teacher has written to the families on Tuesday babies" in email.body_text
    assert "reply to this email" in email.body_text
    html = email.body_html
    assert "<p>The room has changed.<br>We meet in the hall &lt;b&gt;upstairs&lt;/b&gt; &amp; to the left.</p>" in html
    assert "<p>See you Tuesday.</p>" in html
    assert "<b>" not in html
    assert "<p>Hello Ben,</p>" in html
    for part in (email.body_text, html):
        assert "http://portal.test/account/bookings" in part


def test_a_message_to_one_session_says_which_session(scene):
    send(scene.course, scene.instructor, session_id=scene.session.id)
    message = db.session.scalars(db.select(GroupMessage)).one()
    assert message.session == scene.session
    assert "about the session on" in message.recipients[0].outbox_email.body_text


def test_an_adoptive_and_foster_course_names_children_by_first_name_and_initial(app):
    course = factories.make_course(track=Track.ADOPTIVE_FOSTER, first_session=NOW + timedelta(days=7))
    family(course, "Ida Carer")
    [recipient] = services.audience(course, now=NOW)
    assert recipient.children == ("BabyIda0 C.",)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", services.BODY_MISSING),
        ("   \n\t  ", services.BODY_MISSING),
        ("x" * (services.BODY_MAX + 1), f"{services.BODY_TOO_LONG} This one has 5,001."),
    ],
)
def test_a_message_with_no_text_or_too_much_is_refused_and_nothing_is_sent(scene, body, message):
    with pytest.raises(services.MessageError) as refused:
        send(scene.course, scene.instructor, body=body)
    assert (refused.value.message, refused.value.field) == (message, "body")
    assert count(GroupMessage) == count(OutboxEmail) == count(AuditEntry) == 0


def test_the_limit_counts_a_line_break_once_as_the_email_does(scene):
    body = ("x" * 99 + "\r\n") * (services.BODY_MAX // 100)
    assert len(send(scene.course, scene.instructor, body=body).message.body) == services.BODY_MAX - 1


def test_a_typed_subject_is_one_line_so_it_cannot_add_a_header(scene):
    message = send(scene.course, scene.instructor, subject="Room change\r\nBcc: everyone@example.org").message
    assert message.subject == "Room change Bcc: everyone@example.org"
    assert {r.outbox_email.subject for r in message.recipients} == {message.subject}


def test_a_subject_too_long_is_refused(scene):
    with pytest.raises(services.MessageError, match="subject to 150"):
        send(scene.course, scene.instructor, subject="x" * (services.SUBJECT_MAX + 1))


def test_a_course_with_no_families_is_refused_with_a_message(app):
    course = factories.make_course(first_session=NOW + timedelta(days=7))
    family(course, "Dan Cancelled", status=BookingStatus.CANCELLED)
    with pytest.raises(services.MessageError) as refused:
        send(course, course.instructor)
    assert refused.value.message == "No families are booked on this course yet."
    assert count(GroupMessage) == count(OutboxEmail) == 0


def test_a_session_with_nobody_on_its_register_is_refused_with_a_message(app):
    course = factories.make_course(first_session=NOW + timedelta(days=7))
    family(course, "Cara Holder", status=BookingStatus.AWAITING_PAYMENT)
    with pytest.raises(services.MessageError, match="No families are on this session's register yet."):
        send(course, course.instructor, session_id=course.sessions[0].id)


def test_an_instructor_cannot_write_to_another_instructors_families_but_an_organiser_can(scene):
    with pytest.raises(services.MessageError, match="courses you teach"):
        send(scene.course, factories.make_user(role="instructor"))
    organiser = factories.make_user(role="organiser", full_name="Olu Organiser", email="olu@example.org")
    message = send(scene.course, organiser).message
    assert message.subject == "Tuesday babies: a message from Olu Organiser"
    assert {r.outbox_email.reply_to for r in message.recipients} == {"olu@example.org"}


def test_a_cancelled_course_or_session_or_another_courses_session_is_refused(scene):
    other = factories.make_course(first_session=NOW + timedelta(days=7))
    with pytest.raises(services.MessageError, match="whole course or one of its sessions"):
        send(scene.course, scene.instructor, session_id=other.sessions[0].id)
    scene.course.sessions[2].status = SessionStatus.CANCELLED
    db.session.commit()
    with pytest.raises(services.MessageError, match="That session was cancelled"):
        send(scene.course, scene.instructor, session_id=scene.course.sessions[2].id)
    scene.course.status = CourseStatus.CANCELLED
    db.session.commit()
    with pytest.raises(services.MessageError, match="This course was cancelled"):
        send(scene.course, scene.instructor)
    assert count(GroupMessage) == 0


def test_a_message_sent_without_its_preview_key_is_refused(scene):
    with pytest.raises(services.MessageError, match=services.NOT_PREVIEWED):
        services.send_message(scene.course, sender=scene.instructor, body="Hello", send_key="")


def test_the_same_preview_sent_twice_sends_once(scene):
    key = services.new_send_key()
    first = services.send_message(scene.course, sender=scene.instructor, body="Hello", send_key=key)
    again = services.send_message(scene.course, sender=scene.instructor, body="Hello", send_key=key)
    assert again.repeated and again.message.id == first.message.id
    assert count(GroupMessage) == 1 and count(OutboxEmail) == 3


def test_two_clicks_on_send_at_the_same_moment_send_the_message_once(scene, racing_app):
    key, course_id, sender_id = services.new_send_key(), scene.course.id, scene.instructor.id

    def click() -> str:
        course, sender = db.session.get(Course, course_id), db.session.get(User, sender_id)
        return "again" if services.send_message(course, sender=sender, body="Hi", send_key=key).repeated else "sent"

    assert race(racing_app, click, [()] * 2) == Counter({"sent": 1, "again": 1})
    assert count(GroupMessage) == 1 and count(OutboxEmail) == 3


def test_a_preview_whose_families_changed_is_sent_to_the_families_booked_now_and_says_so(scene):
    draft = services.draft_message(scene.course, sender=scene.instructor, body="Bring a towel.", now=NOW)
    assert names(draft.recipients) == ["Amira Khan", "Ben Jones", "Cara Holder"]
    scene.single.status = BookingStatus.CANCELLED  # Ben cancels and Nia books while the preview is open
    scene.single.places[0].live = False
    db.session.commit()
    family(scene.course, "Nia Newcomer")
    sent = send(scene.course, scene.instructor, body="Bring a towel.", previewed=draft.parent_ids)
    assert names(sent.message.recipients) == ["Amira Khan", "Cara Holder", "Nia Newcomer"]
    assert (sent.joined, sent.left) == (["Nia Newcomer"], 1)
    entry = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "message.sent")).one()
    assert (entry.data["joined_since_preview"], entry.data["left_since_preview"]) == (1, 1)


def test_the_course_keeps_every_message_newest_first_with_each_familys_status(scene):
    first = send(scene.course, scene.instructor, body="First").message
    second = send(scene.course, scene.instructor, body="Second", session_id=scene.session.id).message
    ben = next(r for r in first.recipients if r.parent == scene.single.parent)
    ben.outbox_email.status = OutboxStatus.SENT
    first.recipients[0].outbox_email.status = OutboxStatus.FAILED
    db.session.commit()
    kept = services.course_messages(scene.course)
    assert [m.id for m in kept] == [second.id, first.id]
    assert [r.delivery for r in kept[1].recipients] == [Delivery.FAILED, Delivery.SENT, Delivery.QUEUED]
    assert [m.id for m in services.recent_messages()] == [second.id, first.id]


def test_a_familys_copy_shows_as_removed_once_their_data_is_erased(scene):
    message = send(scene.course, scene.instructor).message
    db.session.delete(message.recipients[1].outbox_email)
    db.session.commit()
    recipient = db.session.get(MessageRecipient, message.recipients[1].id)
    assert recipient.outbox_email is None and recipient.delivery == Delivery.REMOVED

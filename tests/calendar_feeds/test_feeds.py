"""What the feeds hold, read as a calendar app reads them: a family's sessions and make-ups, an instructor's numbers."""

from datetime import time, timedelta

from icalendar import Calendar

from instructor_portal.accounts.models import Role
from instructor_portal.attendance.models import MakeupStatus
from instructor_portal.booking import cancellation
from instructor_portal.booking.models import BookingStatus
from instructor_portal.booking.services import book_places
from instructor_portal.calendar_feeds import services
from instructor_portal.calendar_feeds.feeds import feed_calendar
from instructor_portal.catalogue.models import CourseStatus
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from instructor_portal.teaching import services as teaching
from tests import factories
from tests.calendar_feeds.conftest import NOW, events_of, make_makeup, uid

LONDON = "Europe/London"


def feed_of(user, *, now=NOW) -> bytes:
    """The person's feed as their calendar app would fetch it, made first if they have none."""
    if services.feed_of(user) is None:
        services.issue_feed(user)
    return feed_calendar(services.feed_of(user), now=now)


def backdate(*rows) -> None:
    """Say the rows were last changed a day ago, so a change now is seen as later."""
    for row in rows:
        row.updated_at = NOW - timedelta(days=1)
    db.session.commit()


def test_a_parents_feed_holds_every_session_of_their_live_bookings_and_their_booked_makeups(feed_scene):
    parent = feed_scene.parent
    held = factories.make_course(title="Thursday babies", sessions=2)
    factories.make_booking(held, [parent.children[0]], status=BookingStatus.AWAITING_PAYMENT)
    lapsed = factories.make_course(title="Lapsed hold")
    factories.make_booking(
        lapsed, [parent.children[0]], status=BookingStatus.AWAITING_PAYMENT, hold_expires_at=NOW - timedelta(minutes=1)
    )
    expired = factories.make_course(title="Expired hold")
    factories.make_booking(expired, [parent.children[0]], status=BookingStatus.EXPIRED)
    elsewhere = factories.make_course(title="Friday babies", sessions=3)
    make_makeup(feed_scene.booking.places[0], elsewhere.sessions[1])
    offered = factories.make_course(title="Only offered")
    place = feed_scene.booking.places[0]
    make_makeup(place, offered.sessions[1], status=MakeupStatus.OFFERED, responded=False, missed=1)
    declined = factories.make_course(title="Declined")
    make_makeup(place, declined.sessions[1], status=MakeupStatus.DECLINED, missed=2)

    events = events_of(feed_of(parent))

    expected = [*feed_scene.course.sessions, *held.sessions, elsewhere.sessions[1]]
    assert set(events) == {uid(session) for session in expected}
    assert events[uid(feed_scene.course.sessions[1])]["summary"] == "Tuesday babies (2 of 3)"
    assert events[uid(elsewhere.sessions[1])]["summary"] == "Make-up session: Friday babies"
    assert {event["status"] for event in events.values()} == {"CONFIRMED"}
    first = feed_scene.course.sessions[0]
    assert events[uid(first)]["starts"] == first.starts_at  # the same moment, given in the organisation's zone
    assert str(events[uid(first)]["starts"].tzinfo) == LONDON


def test_the_feed_and_the_confirmation_emails_attachment_describe_a_session_as_the_same_event(feed_scene):
    course = factories.make_course(title="Booked through the service", price_pence=0, sessions=2)
    child = factories.make_child(feed_scene.parent)
    book_places(feed_scene.parent, course, [child], accept_terms=True)
    email = db.session.scalars(db.select(OutboxEmail).where(OutboxEmail.subject.contains(course.title))).one()

    attached = events_of(email.attachments[0].content)
    in_feed = events_of(feed_of(feed_scene.parent))

    assert attached == {key: value for key, value in in_feed.items() if key in attached}
    assert set(attached) == {uid(session) for session in course.sessions}


def test_a_moved_session_keeps_its_uid_with_the_new_time_and_a_higher_sequence(feed_scene):
    session = feed_scene.course.sessions[1]
    backdate(session)
    before = events_of(feed_of(feed_scene.parent))[uid(session)]
    new_day = (session.starts_at + timedelta(days=1)).date()

    teaching.move_session(
        session, actor=feed_scene.instructor, day=new_day, start_time=time(14, 0), minutes=60, tz=LONDON, note="Room 2"
    )
    after = events_of(feed_of(feed_scene.parent))[uid(session)]

    assert after["starts"].date() == new_day and after["starts"].hour == 14
    assert after["sequence"] > before["sequence"]
    assert after["description"] == "Room 2"
    # The email telling the family of the move carries the same, newer event.
    email = db.session.scalars(db.select(OutboxEmail).where(OutboxEmail.to_address == feed_scene.parent.email)).one()
    assert events_of(email.attachments[0].content)[uid(session)]["sequence"] == after["sequence"]


def test_a_cancelled_session_stays_in_the_feed_as_cancelled(feed_scene):
    cancelled, going_ahead = feed_scene.course.sessions[1], feed_scene.course.sessions[2]
    backdate(cancelled)
    before = events_of(feed_of(feed_scene.parent))[uid(cancelled)]

    teaching.cancel_session(cancelled, actor=feed_scene.instructor, note="Instructor unwell")
    events = events_of(feed_of(feed_scene.parent))

    assert events[uid(cancelled)]["status"] == "CANCELLED"
    assert events[uid(cancelled)]["sequence"] > before["sequence"]
    assert events[uid(going_ahead)]["status"] == "CONFIRMED"


def test_a_cancelled_booking_marks_its_sessions_cancelled_and_a_new_booking_brings_them_back(feed_scene):
    parent, course = feed_scene.parent, feed_scene.course
    backdate(*course.sessions)
    before = events_of(feed_of(parent))

    cancellation.cancel_booking(feed_scene.booking, by=parent, now=NOW)
    cancelled = events_of(feed_of(parent))
    factories.make_booking(course, [parent.children[0]])
    rebooked = events_of(feed_of(parent))

    assert {event["status"] for event in cancelled.values()} == {"CANCELLED"}
    assert all(cancelled[key]["sequence"] > before[key]["sequence"] for key in before)
    assert set(cancelled) == set(before) == set(rebooked)  # each session once, with the same UID
    assert {event["status"] for event in rebooked.values()} == {"CONFIRMED"}


def test_a_makeup_taken_back_after_the_family_accepted_it_is_cancelled_in_their_feed(feed_scene):
    elsewhere = factories.make_course(title="Friday babies")
    makeup = make_makeup(feed_scene.booking.places[0], elsewhere.sessions[1])
    makeup.status = MakeupStatus.WITHDRAWN
    db.session.commit()

    events = events_of(feed_of(feed_scene.parent))

    assert events[uid(elsewhere.sessions[1])]["status"] == "CANCELLED"


def test_a_session_a_sibling_comes_to_as_a_makeup_appears_once_and_live(feed_scene):
    parent, course = feed_scene.parent, feed_scene.course
    sibling_course = factories.make_course(title="Sibling's course")
    sibling = factories.make_child(parent, first_name="Noor")
    sibling_booking = factories.make_booking(sibling_course, [sibling])
    make_makeup(sibling_booking.places[0], course.sessions[1])
    cancellation.cancel_booking(feed_scene.booking, by=parent, now=NOW)

    events = events_of(feed_of(parent))

    assert events[uid(course.sessions[1])]["status"] == "CONFIRMED"  # the make-up still holds it
    assert events[uid(course.sessions[0])]["status"] == "CANCELLED"
    assert feed_of(parent).count(uid(course.sessions[1]).encode()) == 1


def test_a_feed_leaves_out_courses_that_ended_more_than_a_year_ago(feed_scene):
    old = factories.make_course(title="Long ago", first_session=NOW - timedelta(days=400), sessions=2)
    factories.make_booking(old, [feed_scene.parent.children[0]])

    events = events_of(feed_of(feed_scene.parent))

    assert not any(event["summary"].startswith("Long ago") for event in events.values())
    assert len(events) == len(feed_scene.course.sessions)


def test_a_parents_feed_holds_nothing_about_other_families(feed_scene):
    other = feed_scene.other_booking
    make_makeup(other.places[0], factories.make_course().sessions[1])

    body = feed_of(feed_scene.parent).decode()

    for detail in ("Bethany", "Other", "Oscar", "Pemberton", "bethany@example.org", other.reference):
        assert detail not in body
    for own in ("Amira", "Layla", "amira@example.org"):  # nor does it need the family's own names
        assert own not in body


def test_an_instructors_feed_has_each_sessions_numbers_but_nothing_about_the_families(feed_scene):
    course, instructor = feed_scene.course, feed_scene.instructor
    elsewhere = factories.make_course(instructor=instructor, title="Friday babies")
    make_makeup(feed_scene.booking.places[0], elsewhere.sessions[1])
    factories.make_course(instructor=instructor, title="Still a draft", status=CourseStatus.DRAFT)
    factories.make_course(title="Someone else's course")

    body = feed_of(instructor)
    events = events_of(body)

    assert set(events) == {uid(session) for session in [*course.sessions, *elsewhere.sessions]}
    assert events[uid(course.sessions[0])]["description"] == "2 of 8 places booked."
    assert events[uid(elsewhere.sessions[1])]["description"] == "0 of 8 places booked, and 1 make-up family."
    for detail in ("Amira", "Khan", "Layla", "Bethany", "Oscar", "Pemberton", "@example.org", "Reflux"):
        assert detail not in body.decode()
    for booking in (feed_scene.booking, feed_scene.other_booking):
        assert booking.reference not in body.decode()


def test_a_cancelled_course_is_cancelled_in_its_instructors_feed(feed_scene):
    backdate(*feed_scene.course.sessions)
    teaching.cancel_course(feed_scene.course, actor=feed_scene.instructor, reason="Venue closed", now=NOW)

    instructors = events_of(feed_of(feed_scene.instructor))
    familys = events_of(feed_of(feed_scene.parent))

    assert {event["status"] for event in instructors.values()} == {"CANCELLED"}
    assert {event["status"] for event in familys.values()} == {"CANCELLED"}
    assert len(instructors) == len(familys) == len(feed_scene.course.sessions)


def test_an_organiser_who_teaches_gets_their_teaching_sessions(app):
    organiser = factories.make_user(role=Role.ORGANISER)
    course = factories.make_course(instructor=organiser, sessions=2)

    assert set(events_of(feed_of(organiser))) == {uid(session) for session in course.sessions}


def test_the_feed_is_named_for_the_calendar_app_and_asks_it_to_look_again_hourly(feed_scene):
    calendar = Calendar.from_ical(feed_of(feed_scene.parent))

    assert str(calendar["X-WR-CALNAME"]).endswith(": my classes")
    assert calendar.decoded("REFRESH-INTERVAL") == timedelta(hours=1)
    assert calendar["X-PUBLISHED-TTL"].to_ical() == b"PT1H"

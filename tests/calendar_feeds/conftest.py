"""A scene for calendar feeds: two families on one instructor's course, and a parser for what a feed says."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from instructor_portal.accounts.models import Role, User
from instructor_portal.attendance.models import Makeup, MakeupStatus
from instructor_portal.booking.models import Booking, BookingPlace
from instructor_portal.catalogue.models import Course, CourseSession
from instructor_portal.extensions import db
from tests import factories

#: Services are given this as now; pages use the real clock, so it sits close to it.
NOW = datetime.now(UTC).replace(second=0, microsecond=0)


@dataclass
class FeedScene:
    instructor: User
    course: Course
    #: The family whose feed the tests read.
    booking: Booking
    #: Another family on the same course, whose details must never reach the first family's feed.
    other_booking: Booking

    @property
    def parent(self) -> User:
        return self.booking.parent


@pytest.fixture
def feed_scene(app) -> FeedScene:
    instructor = factories.make_user(role=Role.INSTRUCTOR, full_name="Jo Teacher")
    course = factories.make_course(instructor=instructor, title="Tuesday babies", sessions=3, places=8)
    parent = factories.make_user(full_name="Amira Khan", email="amira@example.org")
    child = factories.make_child(parent, first_name="Layla", last_name="Khan")
    other = factories.make_user(full_name="Bethany Other", email="bethany@example.org")
    other_child = factories.make_child(other, first_name="Oscar", last_name="Pemberton")
    return FeedScene(
        instructor, course, factories.make_booking(course, [child]), factories.make_booking(course, [other_child])
    )


def make_makeup(
    place: BookingPlace,
    session: CourseSession,
    *,
    status=MakeupStatus.ACCEPTED,
    responded: bool = True,
    missed: int = 0,
) -> Makeup:
    """A make-up for the ``missed``-th session of the place's course, written directly (not through the service)."""
    makeup = Makeup(
        place=place,
        missed_session=place.booking.course.sessions[missed],
        session=session,
        status=status,
        offered_at=NOW - timedelta(days=1),
        responded_at=NOW if responded else None,
    )
    db.session.add(makeup)
    db.session.commit()
    return makeup


def events_of(body: bytes) -> dict[str, dict]:
    """A feed's events by UID, each with what a calendar app reads from it."""
    calendar = Calendar.from_ical(body)
    return {
        str(event["UID"]): {
            "summary": str(event["SUMMARY"]),
            "status": str(event["STATUS"]),
            "starts": event.decoded("DTSTART"),
            "sequence": int(event["SEQUENCE"]),
            "description": str(event.get("DESCRIPTION", "")),
        }
        for event in calendar.walk("VEVENT")
    }


def uid(session: CourseSession) -> str:
    return f"course-{session.course_id}-session-{session.id}@portal.test"

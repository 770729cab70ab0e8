"""A scene for make-ups: a family marked absent on one course, and other courses on the same track."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from instructor_portal.accounts.models import Role, User
from instructor_portal.attendance import services
from instructor_portal.booking.models import Booking
from instructor_portal.catalogue.models import Course, CourseSession
from tests import factories

#: Services are given this as now; pages use the real clock, so it sits close to it.
NOW = datetime.now(UTC).replace(second=0, microsecond=0)


@dataclass
class MakeupScene:
    instructor: User
    course: Course
    booking: Booking
    #: The session the family missed: the second of their course, an hour from now.
    missed: CourseSession
    other: Course
    #: The second session of ``other``, five days from now: the matching one.
    target: CourseSession

    @property
    def place(self):
        return self.booking.places[0]


@pytest.fixture
def makeup_scene(app) -> MakeupScene:
    instructor = factories.make_user(role=Role.INSTRUCTOR, full_name="Jo Teacher")
    course = factories.make_course(
        instructor=instructor,
        title="Tuesday babies",
        places=6,
        first_session=NOW - timedelta(days=7) + timedelta(hours=1),
    )
    parent = factories.make_user(full_name="Amira Khan")
    child = factories.make_child(
        parent, first_name="Layla", last_name="Khan", born=NOW.date() - timedelta(weeks=12), care_notes="Reflux"
    )
    booking = factories.make_booking(course, [child])
    missed = course.sessions[1]
    services.mark_attendance(missed, booking.places[0].id, "absent_unwell", by=instructor, now=NOW)
    other = factories.make_course(title="Friday babies", places=3, first_session=NOW - timedelta(days=2))
    return MakeupScene(instructor, course, booking, missed, other, other.sessions[1])

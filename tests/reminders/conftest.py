"""A scene for reminders: a session on a June morning in London, its families, and the times reminders fall due."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from instructor_portal.accounts.models import Role, User
from instructor_portal.booking.models import Booking
from instructor_portal.catalogue.models import Course, CourseSession
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from tests import factories

#: 10:00 in London (British Summer Time) on Wednesday 10 June 2026.
START = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
#: 18:00 in London the day before, and 07:30 on the morning: the default reminder times.
DAY_BEFORE = datetime(2026, 6, 9, 17, 0, tzinfo=UTC)
MORNING = datetime(2026, 6, 10, 6, 30, tzinfo=UTC)


@dataclass
class ReminderScene:
    instructor: User
    course: Course
    session: CourseSession
    booking: Booking


@pytest.fixture
def scene(app) -> ReminderScene:
    """One family, with twins, booked on a one-session course at a children's centre, first session at START."""
    instructor = factories.make_user(role=Role.INSTRUCTOR, full_name="Jo Teacher", phone="07700 900123")
    venue = factories.make_venue(name="Southmead Children's Centre", address="1 Park Road", postcode="BS10 5AB")
    course = factories.make_course(
        instructor=instructor,
        venue=venue,
        sessions=1,
        first_session=START,
        title="Tuesday babies",
        what_to_bring="A towel and a spare nappy",
    )
    parent = factories.make_user(full_name="Amira Khan", email="amira@example.org")
    twins = [factories.make_child(parent, first_name=name) for name in ("Layla", "Yusuf")]
    booking = factories.make_booking(course, twins)
    return ReminderScene(instructor, course, course.sessions[0], booking)


def emails_to(address: str) -> list[OutboxEmail]:
    return db.session.scalars(
        db.select(OutboxEmail).where(OutboxEmail.to_address == address).order_by(OutboxEmail.id)
    ).all()


def a_week_before(moment: datetime) -> datetime:
    return moment - timedelta(days=7)

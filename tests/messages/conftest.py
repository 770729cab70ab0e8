"""A course with its instructor and families in every state a booking can be in, and a helper to send as the pages do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from instructor_portal.accounts.models import Role, User
from instructor_portal.attendance.models import Makeup, MakeupStatus
from instructor_portal.booking.models import Booking, BookingStatus
from instructor_portal.catalogue.models import Course
from instructor_portal.extensions import db
from instructor_portal.messages import services
from tests import factories

#: Services are given this as now; the course starts a week after it.
NOW = datetime.now(UTC).replace(second=0, microsecond=0)


@dataclass
class Scene:
    instructor: User
    course: Course
    #: Twins on one booking: one family, one email.
    twins: Booking
    single: Booking
    #: Held while paying, the hold still running: booked on the course, not yet on a register.
    holding: Booking

    @property
    def session(self):
        return self.course.sessions[0]


def family(course: Course, name: str, *, children: int = 1, **booking) -> Booking:
    """Book ``children`` babies of the parent named on the course, written directly."""
    first, last = name.split()
    parent = factories.make_user(full_name=name, email=f"{first.lower()}@example.org")
    babies = [factories.make_child(parent, first_name=f"Baby{first}{n}", last_name=last) for n in range(children)]
    return factories.make_booking(course, babies, **booking)


def makeup_at(session, booking: Booking) -> Makeup:
    """Bring a family of another course to ``session`` for a make-up they accepted, written directly."""
    missed = booking.course.sessions[0]
    makeup = Makeup(
        place=booking.places[0],
        missed_session=missed,
        session=session,
        status=MakeupStatus.ACCEPTED,
        offered_at=NOW,
        responded_at=NOW,
    )
    db.session.add(makeup)
    db.session.commit()
    return makeup


@pytest.fixture
def scene(app) -> Scene:
    instructor = factories.make_user(role=Role.INSTRUCTOR, full_name="Jo Teacher", email="jo@example.org")
    course = factories.make_course(
        instructor=instructor, title="Tuesday babies", sessions=3, first_session=NOW + timedelta(days=7)
    )
    twins = family(course, "Amira Khan", children=2)
    single = family(course, "Ben Jones")
    holding = family(course, "Cara Holder", status=BookingStatus.AWAITING_PAYMENT)
    family(course, "Dan Cancelled", status=BookingStatus.CANCELLED)
    family(course, "Eve Expired", status=BookingStatus.EXPIRED)
    family(course, "Fay Lapsed", status=BookingStatus.AWAITING_PAYMENT, hold_expires_at=NOW - timedelta(minutes=1))
    return Scene(instructor, course, twins, single, holding)


def send(course: Course, sender: User, body: str = "The room has changed: we meet in the hall.", **options):
    """Preview and send as the pages do, with a fresh preview key."""
    return services.send_message(course, sender=sender, body=body, send_key=services.new_send_key(), now=NOW, **options)


def names(recipients) -> list[str]:
    return [recipient.parent.full_name for recipient in recipients]

"""A course with sessions, its instructor and a booked family, and an upload helper."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from instructor_portal.accounts.models import Role, User
from instructor_portal.booking.models import Booking
from instructor_portal.catalogue.models import Course
from instructor_portal.handouts import services
from tests import factories
from tests.files import PDF

#: The first session starts at this moment; the others follow weekly.
FIRST_SESSION = datetime(2030, 3, 5, 10, 0, tzinfo=UTC)


@dataclass
class Scene:
    instructor: User
    course: Course
    parent: User
    booking: Booking

    def session(self, week: int):
        return self.course.sessions[week - 1]


@pytest.fixture
def scene(app) -> Scene:
    instructor = factories.make_user(role=Role.INSTRUCTOR, full_name="Jo Teacher")
    course = factories.make_course(instructor=instructor, sessions=3, first_session=FIRST_SESSION)
    parent = factories.make_user(full_name="Amira Khan")
    booking = factories.make_booking(course, [factories.make_child(parent)])
    return Scene(instructor, course, parent, booking)


def upload(course, actor, *, data: bytes = PDF, filename: str = "strokes.pdf", title: str = "Week 1 strokes", **kwargs):
    """Upload through the service, as a view would."""
    return services.upload_handout(
        course, actor=actor, title=title, filename=filename, stream=io.BytesIO(data), **kwargs
    )


def week(n: int) -> datetime:
    """The start of the course's nth session."""
    return FIRST_SESSION + timedelta(weeks=n - 1)

"""A course with sessions, its instructor and a booked family, and sample files of every kind."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from instructor_portal.accounts.models import Role, User
from instructor_portal.booking.models import Booking
from instructor_portal.catalogue.models import Course
from instructor_portal.handouts import services
from tests import factories

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
MARKDOWN = "# Week 3: tummy and chest\n\nWarm your hands, ask your baby, and watch their cues.\n".encode()

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
    return services.upload_handout(course, actor=actor, title=title, filename=filename, stream=io.BytesIO(data), **kwargs)


def files_on_disk(app) -> list[Path]:
    """Every file in handout storage, temporary ones included."""
    root = Path(app.config["UPLOAD_STORAGE_PATH"])
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def week(n: int) -> datetime:
    """The start of the course's nth session."""
    return FIRST_SESSION + timedelta(weeks=n - 1)

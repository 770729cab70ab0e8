"""Which sessions' registers an export holds: the filters, what they say in words, and whose courses one may export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from datetime import time as clock_time

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import selectinload

from instructor_portal.accounts.models import Role, User
from instructor_portal.catalogue.models import Course, CourseSession, SessionStatus, Track, Venue
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db
from instructor_portal.organisation import get_organisation
from instructor_portal.templating import format_date
from instructor_portal.timezones import local_to_utc


class RegisterExportError(DomainError):
    """A register export could not be made from these filters."""


@dataclass(frozen=True)
class RegisterFilters:
    """Which sessions' registers to export; dates are local days, both ends included."""

    date_from: date | None = None
    date_to: date | None = None
    course: Course | None = None
    instructor: User | None = None
    venue: Venue | None = None
    track: Track | None = None

    def describe(self) -> str:
        """Say the filters in words for the audit log, such as "From Mon 2 Mar 2026; course: Baby massage"."""
        parts = []
        if self.date_from:
            parts.append(f"From {format_date(self.date_from)}")
        if self.date_to:
            parts.append(f"To {format_date(self.date_to)}")
        if self.course:
            parts.append(f"Course: {self.course.title} (#{self.course.id})")
        if self.instructor:
            parts.append(f"Instructor: {self.instructor.full_name}")
        if self.venue:
            parts.append(f"Venue: {self.venue.name}")
        if self.track:
            parts.append(f"Track: {self.track.label}")
        return "; ".join(parts) or "Every session"


def session_conditions(filters: RegisterFilters, by: User) -> list[ColumnElement[bool]]:
    """Conditions on ``CourseSession`` and ``Course`` for the sessions the filters take, within ``by``'s courses.

    A cancelled session's register is never exported: nobody came.
    """
    conditions = [CourseSession.status == SessionStatus.SCHEDULED]
    if by.role != Role.ORGANISER:
        conditions.append(Course.instructor_id == by.id)
    tz = get_organisation().timezone
    if filters.date_from:
        conditions.append(CourseSession.starts_at >= local_to_utc(filters.date_from, clock_time(0), tz))
    if filters.date_to:
        conditions.append(
            CourseSession.starts_at < local_to_utc(filters.date_to + timedelta(days=1), clock_time(0), tz)
        )
    if filters.course:
        conditions.append(Course.id == filters.course.id)
    if filters.instructor:
        conditions.append(Course.instructor_id == filters.instructor.id)
    if filters.venue:
        conditions.append(Course.venue_id == filters.venue.id)
    if filters.track:
        conditions.append(Course.track == filters.track)
    return conditions


def check_scope(filters: RegisterFilters, by: User) -> None:
    """Refuse an instructor a course or an instructor filter beyond their own courses, as if it did not exist."""
    if by.role == Role.ORGANISER:
        return
    if filters.course is not None and filters.course.instructor_id != by.id:
        raise RegisterExportError("Choose a course from the list.", field="course")
    if filters.instructor is not None and filters.instructor.id != by.id:
        raise RegisterExportError("Choose an instructor from the list.", field="instructor")


def register_courses(by: User) -> list[Course]:
    """List the courses whose registers ``by`` may export (an organiser: every course), by title."""
    query = select(Course).options(selectinload(Course.sessions)).order_by(Course.title, Course.id)
    if by.role != Role.ORGANISER:
        query = query.where(Course.instructor_id == by.id)
    return list(db.session.scalars(query))

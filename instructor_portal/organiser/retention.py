"""Children's records kept no longer than the organisation's retention period.

A child's record (name, dates of birth and due, care notes, relationship) is removed once
every course the child had a place on ended more than ``retention_months`` ago. The places
stay, so registers and exports keep their counts for funders, naming the child by first
initial only. The audit log says how many records went from which courses, never whose.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from instructor_portal import audit
from instructor_portal.accounts.family import forget_child
from instructor_portal.accounts.models import Child
from instructor_portal.booking.models import BookingPlace
from instructor_portal.catalogue.models import Course, CourseSession
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.locks import unit_of_work
from instructor_portal.organisation import get_organisation

#: Records removed per transaction, so a first purge of years of records never holds a long lock.
BATCH = 200


@dataclass(frozen=True)
class ExpiredCourse:
    """A course that ended before the cut-off, with how many children's records it still holds."""

    course: Course
    ended_at: datetime
    children: int


@dataclass(frozen=True)
class PurgeReport:
    """What a purge removed, or would remove: records before the cut-off, course by course."""

    cutoff: datetime
    retention_months: int
    courses: list[ExpiredCourse]
    children: int

    def summary(self, *, dry_run: bool) -> str:
        count = f"{self.children} {'child' if self.children == 1 else 'children'}'s {'record' if self.children == 1 else 'records'}"
        courses = f"{len(self.courses)} {'course' if len(self.courses) == 1 else 'courses'}"
        when = f"ended before {self.cutoff.day} {self.cutoff:%b %Y} ({self.retention_months} months ago)"
        return f"{'Would remove' if dry_run else 'Removed'} {count} from {courses} that {when}."


def retention_cutoff(now: datetime, months: int) -> datetime:
    """The moment ``months`` calendar months before ``now`` (the 31st becomes the month's last day)."""
    month_index = now.year * 12 + now.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)


def _course_ends():
    return (
        select(CourseSession.course_id, func.max(CourseSession.ends_at).label("ended_at"))
        .group_by(CourseSession.course_id)
        .subquery()
    )


def _expired_children(cutoff: datetime):
    """The ids of children whose every course ended before ``cutoff``."""
    ends = _course_ends()
    return (
        select(BookingPlace.child_id)
        .join(ends, ends.c.course_id == BookingPlace.course_id)
        .where(BookingPlace.child_id.is_not(None))
        .group_by(BookingPlace.child_id)
        .having(func.max(ends.c.ended_at) < cutoff)
    )


def find_old_records(*, now: datetime | None = None) -> PurgeReport:
    """Say which children's records are past the retention period, course by course, removing nothing."""
    now = now or utcnow()
    months = get_organisation().retention_months
    cutoff = retention_cutoff(now, months)
    ends = _course_ends()
    expired = _expired_children(cutoff).subquery()
    rows = db.session.execute(
        select(Course, ends.c.ended_at, func.count(func.distinct(BookingPlace.child_id)))
        .join(ends, ends.c.course_id == Course.id)
        .join(BookingPlace, BookingPlace.course_id == Course.id)
        .where(BookingPlace.child_id.in_(select(expired.c.child_id)))
        .group_by(Course.id, ends.c.ended_at)
        .order_by(ends.c.ended_at, Course.id)
    ).all()
    children = db.session.scalar(select(func.count()).select_from(expired))
    return PurgeReport(cutoff, months, [ExpiredCourse(course, ended, count) for course, ended, count in rows], children)


def purge_old_records(*, dry_run: bool = False, actor=None, now: datetime | None = None) -> PurgeReport:
    """Remove the children's records past the retention period (or, with ``dry_run``, only say which); safe to run any time."""
    report = find_old_records(now=now)
    if dry_run or not report.children:
        return report
    expired = _expired_children(report.cutoff)
    while ids := list(db.session.scalars(expired.limit(BATCH))):
        with unit_of_work():
            for child in db.session.scalars(select(Child).where(Child.id.in_(ids))):
                forget_child(child)
    with unit_of_work():
        audit.record(
            actor,
            "retention.purged",
            get_organisation(),
            children=report.children,
            course_ids=[entry.course.id for entry in report.courses],
            cutoff=report.cutoff.isoformat(),
            retention_months=report.retention_months,
        )
    return report

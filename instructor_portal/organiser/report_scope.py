"""What a report covers: the range and filters chosen, the courses they pick out, and the shape of a section.

A report covers the courses that start in a range of local days (drafts left out), narrowed
by instructor, venue and track; every section's query joins the same subquery of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, Subquery, func, select

from instructor_portal.accounts.models import User
from instructor_portal.catalogue.models import Course, CourseSession, CourseStatus, Track, Venue
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db
from instructor_portal.organisation import get_organisation, local_today
from instructor_portal.organiser.report_tables import Column, Kind, Table
from instructor_portal.timezones import local_to_utc, to_local

#: The longest range a report covers: longer is almost always a slip of the year.
MAX_YEARS = 5


class ReportError(DomainError):
    """The report cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class ReportFilters:
    """Which courses a report covers: those starting from ``date_from`` to ``date_to`` (local days, both included)."""

    date_from: date
    date_to: date
    instructor: User | None = None
    venue: Venue | None = None
    track: Track | None = None

    def __post_init__(self) -> None:
        check_range(self.date_from, self.date_to)


def check_range(date_from: date, date_to: date) -> None:
    """Refuse a range that ends before it starts or spans more than MAX_YEARS years."""
    if date_to < date_from:
        raise ReportError('The "To" date must be on or after the "From" date.', field="date_to")
    if date_to > _years_after(date_from, MAX_YEARS):
        raise ReportError(f"Choose a range of {MAX_YEARS} years or less.", field="date_to")


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February, in a year without one
        return day.replace(year=day.year + years, day=28)


def default_range(today: date | None = None) -> tuple[date, date]:
    """The range a report opens with: courses starting in the last twelve months and the next three."""
    today = today or local_today()
    return today - timedelta(days=365), today + timedelta(days=91)


@dataclass(frozen=True)
class CourseLine:
    """A course in the report, as every per-course row names it."""

    id: int
    title: str
    starts: datetime
    instructor: str
    venue: str
    track: Track
    places: int
    status: CourseStatus

    @property
    def label(self) -> tuple:
        return (self.title, self.starts.date(), self.instructor, self.venue)


COURSE_COLUMNS = (
    Column("Course", Kind.TEXT),
    Column("Starts", Kind.DATE),
    Column("Instructor", Kind.TEXT),
    Column("Venue", Kind.TEXT),
)


@dataclass(frozen=True)
class Section:
    """One part of the report: the chart's numbers, and the tables behind them to read and download.

    ``chart`` names the summary's columns drawn as series, over its first column; ``files``
    are the CSV downloads by name, the first of them the summary's own rows in full.
    """

    key: str
    title: str
    explanation: str
    summary: Table
    chart: tuple[str, ...]
    files: dict[str, Table]
    stacked: bool = False
    horizontal: bool = False


class Scope:
    """The courses a report covers, as a subquery of (course_id, starts_at) that each section's query joins."""

    def __init__(self, filters: ReportFilters, *, now: datetime):
        self.filters, self.now = filters, now
        self.tz = get_organisation().timezone
        start = local_to_utc(filters.date_from, time(0), self.tz)
        end = local_to_utc(filters.date_to + timedelta(days=1), time(0), self.tz)
        starts = course_starts()
        query = (
            select(Course.id.label("course_id"), starts.c.starts_at)
            .join(starts, starts.c.course_id == Course.id)
            .where(Course.status != CourseStatus.DRAFT, starts.c.starts_at >= start, starts.c.starts_at < end)
        )
        if filters.instructor is not None:
            query = query.where(Course.instructor_id == filters.instructor.id)
        if filters.venue is not None:
            query = query.where(Course.venue_id == filters.venue.id)
        if filters.track is not None:
            query = query.where(Course.track == filters.track)
        self.subquery: Subquery = query.subquery("scope")
        self._courses: dict[int, CourseLine] | None = None

    def ids(self) -> Select:
        return select(self.subquery.c.course_id)

    @property
    def courses(self) -> dict[int, CourseLine]:
        """The courses covered, by id, in order of starting; one query, made when a section first needs it."""
        if self._courses is None:
            rows = db.session.execute(
                select(
                    Course.id,
                    Course.title,
                    self.subquery.c.starts_at,
                    User.full_name,
                    Venue.name,
                    Course.track,
                    Course.places,
                    Course.status,
                )
                .join(self.subquery, self.subquery.c.course_id == Course.id)
                .join(User, User.id == Course.instructor_id)
                .outerjoin(Venue, Venue.id == Course.venue_id)
                .order_by(self.subquery.c.starts_at, Course.id)
            )
            self._courses = {
                row.id: CourseLine(
                    id=row.id,
                    title=row.title,
                    starts=to_local(row.starts_at, self.tz),
                    instructor=row.full_name,
                    venue=row.name or "Online",
                    track=row.track,
                    places=row.places,
                    status=row.status,
                )
                for row in rows
            }
        return self._courses


def course_starts() -> Subquery:
    """A subquery of each course's first session: (course_id, starts_at)."""
    return (
        select(CourseSession.course_id.label("course_id"), func.min(CourseSession.starts_at).label("starts_at"))
        .group_by(CourseSession.course_id)
        .subquery("starts")
    )

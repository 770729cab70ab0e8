"""The public catalogue: who a course is for (eligibility, corrected age) and finding courses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, and_, case, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from instructor_portal.accounts.models import InstructorProfile, Role, User
from instructor_portal.booking.capacity import families_waiting, places_taken
from instructor_portal.catalogue.eligibility import Eligibility, check_eligibility
from instructor_portal.catalogue.models import Course, CourseSession, CourseStatus, SessionStatus, Track, Venue
from instructor_portal.clock import utcnow
from instructor_portal.db import MAX_ID
from instructor_portal.extensions import db
from instructor_portal.organisation import get_organisation
from instructor_portal.pagination import Page, page_bounds
from instructor_portal.timezones import local_date, local_to_utc
from instructor_portal.uploads import StoredFile

#: Most words of free text that are matched, so a pasted essay cannot build a huge query.
MAX_SEARCH_WORDS = 8


@dataclass(frozen=True)
class CourseFilters:
    """What a family searches by; every field is optional."""

    track: Track | None = None
    #: The child's date of birth, or the due date of a baby not yet born.
    born: date | None = None
    #: The due date of a baby born early, for courses that use corrected age.
    due: date | None = None
    #: Local dates between which the first session falls, both inclusive.
    date_from: date | None = None
    date_to: date | None = None
    #: A town (prefix), a postcode (prefix, spaces and case ignored) or "online".
    place: str = ""
    q: str = ""


@dataclass(frozen=True)
class CourseListing:
    """A course as the public sees it, with its schedule summary and places left."""

    course: Course
    #: First and next scheduled (not cancelled) sessions; None when there are none.
    first_session_at: datetime | None
    next_session_at: datetime | None
    session_count: int
    places_left: int
    #: Families on the waiting list (waiting or holding an offer).
    waiting: int = 0
    #: Set when the search gave a child's date of birth.
    eligibility: Eligibility | None = None

    @property
    def is_upcoming(self) -> bool:
        # The same rule as _is_upcoming, for a listing already loaded.
        return self.course.status == CourseStatus.PUBLISHED and self.next_session_at is not None


@dataclass(frozen=True)
class InstructorListing:
    """An instructor in the public directory with their upcoming courses."""

    instructor: User
    courses: list[CourseListing] = field(default_factory=list)
    #: The instructor's current credentials in words ("CIMI certified since 2019", "Insured"), for the finder.
    credentials: list[str] = field(default_factory=list)

    @property
    def profile(self) -> InstructorProfile:
        assert self.instructor.profile is not None  # listed instructors always have one
        return self.instructor.profile


def _places_left(now: datetime) -> ColumnElement[int]:
    """Places left as a column of the listing query: the course's places less those held or confirmed."""
    return (Course.places - places_taken(Course.id, now)).label("places_left")


def _session_summary(now: datetime) -> Subquery:
    """Per course: first and next scheduled session and how many there are, in one grouped query."""
    return (
        select(
            CourseSession.course_id.label("course_id"),
            func.min(CourseSession.starts_at).label("first_session_at"),
            func.min(case((CourseSession.starts_at > now, CourseSession.starts_at))).label("next_session_at"),
            func.count(CourseSession.id).label("session_count"),
        )
        .where(CourseSession.status == SessionStatus.SCHEDULED)
        .group_by(CourseSession.course_id)
        .subquery("session_summary")
    )


def _is_upcoming(summary: Subquery) -> list[ColumnElement[bool]]:
    return [Course.status == CourseStatus.PUBLISHED, summary.c.next_session_at.is_not(None)]


def _listings(
    now: datetime, *where: ColumnElement[bool], upcoming_only: bool = False, options: Sequence[LoaderOption] = ()
) -> list[CourseListing]:
    """Load courses with venue, instructor and schedule summary in one query, by first session."""
    summary = _session_summary(now)
    if upcoming_only:
        where = (*where, *_is_upcoming(summary))
    statement = (
        select(
            Course,
            summary.c.first_session_at,
            summary.c.next_session_at,
            summary.c.session_count,
            _places_left(now),
            families_waiting(Course.id).label("waiting"),
        )
        .outerjoin(summary, summary.c.course_id == Course.id)
        .options(joinedload(Course.venue), joinedload(Course.instructor).joinedload(User.profile), *options)
        .where(*where)
        .order_by(summary.c.first_session_at, Course.id)
    )
    return [
        CourseListing(
            course=row.Course,
            first_session_at=row.first_session_at,
            next_session_at=row.next_session_at,
            session_count=row.session_count or 0,
            places_left=row.places_left,
            waiting=row.waiting,
        )
        for row in db.session.execute(statement)
    ]


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _normalise_postcode(text: str) -> str:
    return "".join(text.split()).upper()


def place_condition(place: str) -> ColumnElement[bool]:
    """Courses online (for "online"), or at a venue whose town or postcode starts with ``place`` (spaces and case ignored)."""
    if place.lower() == "online":
        return Course.is_online.is_(True)
    conditions = [Venue.town.ilike(f"{escape_like(place)}%", escape="\\")]
    postcode = _normalise_postcode(place)
    if postcode.isalnum() and postcode.isascii():
        conditions.append(func.upper(func.replace(Venue.postcode, " ", "")).like(f"{postcode}%"))
    return or_(*conditions)


def _text_condition(q: str) -> ColumnElement[bool]:
    """Every word must appear in the title, description, venue or instructor name."""
    words = q.split()[:MAX_SEARCH_WORDS]
    columns = (Course.title, Course.description, Venue.name, Venue.town, User.full_name)
    return and_(*(or_(*(column.ilike(f"%{escape_like(word)}%", escape="\\") for column in columns)) for word in words))


def _filter_conditions(filters: CourseFilters, summary: Subquery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    tz = get_organisation().timezone
    if filters.track is not None:
        conditions.append(Course.track == filters.track)
    if filters.date_from is not None:
        conditions.append(summary.c.first_session_at >= local_to_utc(filters.date_from, time.min, tz))
    if filters.date_to is not None:
        conditions.append(summary.c.first_session_at < local_to_utc(filters.date_to + timedelta(days=1), time.min, tz))
    if filters.place.strip():
        conditions.append(place_condition(filters.place.strip()))
    if filters.q.strip():
        conditions.append(_text_condition(filters.q))
    return conditions


def _first_session_date(first_session_at: datetime) -> date:
    return local_date(first_session_at, get_organisation().timezone)


def _candidates(filters: CourseFilters, now: datetime) -> Select[Any]:
    """Ids and age rules of every upcoming course matching the SQL-side filters, in order."""
    summary = _session_summary(now)
    return (
        select(
            Course.id,
            Course.track,
            Course.age_unit,
            Course.age_min,
            Course.age_max,
            Course.uses_corrected_age,
            summary.c.first_session_at,
        )
        .join(summary, summary.c.course_id == Course.id)
        .join(User, User.id == Course.instructor_id)
        .outerjoin(Venue, Venue.id == Course.venue_id)
        .where(*_is_upcoming(summary), *_filter_conditions(filters, summary))
        .order_by(summary.c.first_session_at, Course.id)
    )


def search_courses(
    filters: CourseFilters, *, page: int = 1, per_page: int = 12, now: datetime | None = None
) -> Page[CourseListing]:
    """Find upcoming published courses matching ``filters``, soonest first, one page at a time.

    Costs two queries whatever the number of courses: one for the matching ids (eligibility
    is then checked in Python, because age arithmetic in SQL differs by database) and one
    for the page's courses with everything a card shows.
    """
    now = now or utcnow()
    rows = db.session.execute(_candidates(filters, now)).all()
    checks: dict[int, Eligibility] = {}
    if filters.born is not None:
        cutoff = get_organisation().corrected_age_cutoff_months
        for row in rows:
            checks[row.id] = check_eligibility(
                row,
                born=filters.born,
                due=filters.due,
                first_session_date=_first_session_date(row.first_session_at),
                corrected_age_cutoff_months=cutoff,
            )
        rows = [row for row in rows if checks[row.id].eligible]
    number, pages = page_bounds(page, len(rows), per_page)
    page_ids = [row.id for row in rows[(number - 1) * per_page : number * per_page]]
    listings = _listings(now, Course.id.in_(page_ids)) if page_ids else []
    items = [replace(listing, eligibility=checks.get(listing.course.id)) for listing in listings]
    return Page(items=items, number=number, pages=pages, total=len(rows))


def get_public_course(course_id: int, *, now: datetime | None = None) -> CourseListing | None:
    """Return a course for its public page with all its sessions, or None for drafts and unknown ids."""
    if not 0 < course_id <= MAX_ID:
        return None
    listings = _listings(
        now or utcnow(),
        Course.id == course_id,
        Course.status != CourseStatus.DRAFT,
        options=[selectinload(Course.sessions)],
    )
    return listings[0] if listings else None


def check_course_eligibility(listing: CourseListing, *, born: date, due: date | None = None) -> Eligibility | None:
    """Check a child against a course at its first scheduled session; None if no session is scheduled."""
    if listing.first_session_at is None:
        return None
    return check_eligibility(
        listing.course, born=born, due=due, first_session_date=_first_session_date(listing.first_session_at)
    )


def is_listed_instructor(user: User) -> bool:
    """Say whether ``user`` appears in the public directory (the same rule as ``_is_listed``)."""
    return user.role == Role.INSTRUCTOR and user.active and user.profile is not None and user.profile.listed


def _is_listed() -> list[ColumnElement[bool]]:
    return [User.role == Role.INSTRUCTOR, User.active.is_(True), InstructorProfile.listed.is_(True)]


def instructor_listings(now: datetime, *where: ColumnElement[bool]) -> list[InstructorListing]:
    """Listed, active instructors matching ``where`` with their upcoming courses, in two queries."""
    instructors = db.session.scalars(
        select(User)
        .join(User.profile)
        .options(contains_eager(User.profile))
        .where(*_is_listed(), *where)
        .order_by(User.full_name, User.id)
    ).all()
    if not instructors:
        return []
    courses: dict[int, list[CourseListing]] = {user.id: [] for user in instructors}
    for listing in _listings(now, Course.instructor_id.in_(courses), upcoming_only=True):
        courses[listing.course.instructor_id].append(listing)
    return [InstructorListing(instructor=user, courses=courses[user.id]) for user in instructors]


def get_public_instructor(user_id: int, *, now: datetime | None = None) -> InstructorListing | None:
    """Return one listed instructor with their upcoming courses, or None if they are not public."""
    if not 0 < user_id <= MAX_ID:
        return None
    found = instructor_listings(now or utcnow(), User.id == user_id)
    return found[0] if found else None


def get_public_photo(user_id: int) -> StoredFile | None:
    """Return a listed instructor's photo, or None for anyone else or no photo."""
    if not 0 < user_id <= MAX_ID:
        return None
    return db.session.scalars(
        select(StoredFile)
        .join(InstructorProfile, InstructorProfile.photo_file_id == StoredFile.id)
        .join(User, User.id == InstructorProfile.user_id)
        .where(User.id == user_id, *_is_listed())
    ).first()


def upcoming_courses(*, limit: int, now: datetime | None = None) -> list[CourseListing]:
    """Return the next few upcoming courses, for the home page."""
    return search_courses(CourseFilters(), page=1, per_page=limit, now=now).items

"""The rows of an export: every family on the register of every session the filters take, streamed a batch at a time.

Rows come from the database already sorted, in batches, so a large range never sits in
memory whole; what a row shares with its session is looked up once per session.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice
from operator import itemgetter
from typing import NamedTuple

from sqlalchemy import Select, and_, bindparam, distinct, func, null, select, type_coerce, union_all
from sqlalchemy.orm import aliased
from sqlalchemy.types import NullType

from instructor_portal.accounts.models import Child, User
from instructor_portal.attendance.export_filters import RegisterFilters, check_scope, session_conditions
from instructor_portal.attendance.models import AttendanceMark, Makeup
from instructor_portal.attendance.services import accepted_makeup_at, on_register, removed_child
from instructor_portal.booking.models import Booking, BookingPlace
from instructor_portal.booking.services import describe_child_age
from instructor_portal.catalogue.models import AgeUnit, Course, CourseSession, Track, Venue, staff_name
from instructor_portal.extensions import db
from instructor_portal.organisation import get_organisation
from instructor_portal.timezones import to_local

#: Rows fetched from the database at a time; also the CSV's chunk.
BATCH = 1000


@dataclass(frozen=True)
class RegisterCount:
    rows: int
    sessions: int


class SessionHeading(NamedTuple):
    """What a register says about its session, worked out once per session."""

    day: date
    starts: str
    ends: str
    course: str
    track: str
    venue: str
    instructor: str


class RegisterLine(NamedTuple):
    """One family's line on a session's register, as exported."""

    child: str
    age: str
    parent: str
    phone: str
    status: str
    note: str
    marked_by: str
    #: The course a family is making up a session of; empty for the course's own families.
    makeup_from: str
    #: None unless the person exporting asked for care notes.
    care_notes: str | None


class _CourseFacts(NamedTuple):
    """The columns of a course that children's names and ages on its register depend on."""

    track: Track
    age_unit: AgeUnit
    uses_corrected_age: bool


class _ChildFacts(NamedTuple):
    """The columns of a child that names and ages need, with the model's own rules for them."""

    first_name: str
    last_name: str
    date_of_birth: date | None
    due_date: date | None
    gestation_weeks: int | None

    full_name = property(Child.full_name.fget)
    private_name = property(Child.private_name.fget)
    expected_date = property(Child.expected_date.fget)


def _register_selects(filters: RegisterFilters, *, by: User, care_notes: bool = False) -> tuple[Select, Select]:
    """Select a row per session the filters take and family on its register, only the columns exported.

    Who is on a session's register is ``on_register``, the rule the register page filters
    by too; the two parts are the two ways onto it (a place on the session's course, a
    make-up accepted there), read apart so that each comes sorted from the database and a
    make-up carries the course it makes up. Counting, the files and the sign-in sheets all
    read these. What a row shares with its session is looked up once per session
    (``_session_headings``); the column before the care notes only orders the rows.
    """
    parent, marker, own_course = aliased(User), aliased(User), aliased(Course)

    def rows(makeup_from) -> Select:
        columns = [
            # A removed child's record leaves its initial on the place, read here in the first name's stead.
            CourseSession.id.label("session_id"),
            BookingPlace.child_id,
            func.coalesce(Child.first_name, BookingPlace.child_initial),
            Child.last_name,
            Child.date_of_birth,
            Child.due_date,
            Child.gestation_weeks,
            parent.full_name.label("parent"),
            parent.phone,
            AttendanceMark.status,
            AttendanceMark.note,
            marker.full_name.label("marked_by"),
            makeup_from.label("makeup_from"),
            # As the database gives it: only compared, so not worth converting on every row.
            type_coerce(CourseSession.starts_at, NullType()).label("starts_at"),
        ]
        if care_notes:
            columns.append(Child.care_notes)
        return select(*columns).select_from(CourseSession).join(Course, Course.id == CourseSession.course_id)

    def families(query: Select) -> Select:
        return (
            query.join(Booking, Booking.id == BookingPlace.booking_id)
            .join(parent, parent.id == Booking.parent_id)
            .outerjoin(Child, Child.id == BookingPlace.child_id)
            .outerjoin(
                AttendanceMark,
                and_(AttendanceMark.place_id == BookingPlace.id, AttendanceMark.session_id == CourseSession.id),
            )
            .outerjoin(marker, marker.id == AttendanceMark.marked_by_id)
            .where(on_register(CourseSession), *session_conditions(filters, by))
        )

    booked = families(rows(null()).join(BookingPlace, BookingPlace.course_id == Course.id))
    makeups = families(
        rows(own_course.title)
        .join(Makeup, accepted_makeup_at(CourseSession))
        .join(BookingPlace, BookingPlace.id == Makeup.place_id)
        .join(own_course, own_course.id == BookingPlace.course_id)
    )
    return booked, makeups


#: How each part of a register export is ordered: by session start, then booking.
ROW_ORDER = (CourseSession.starts_at, CourseSession.id, Booking.created_at, BookingPlace.id)


def _headings_query() -> Select:
    """Select what a register says about each session whose id is in the ``ids`` parameter."""
    instructor = aliased(User)
    return (
        select(
            CourseSession.id,
            CourseSession.starts_at,
            CourseSession.ends_at,
            Course.title,
            Course.track,
            Course.age_unit,
            Course.uses_corrected_age,
            Venue.name,
            instructor.full_name,
        )
        .join(Course, Course.id == CourseSession.course_id)
        .join(instructor, instructor.id == Course.instructor_id)
        .outerjoin(Venue, Venue.id == Course.venue_id)
        .where(CourseSession.id.in_(bindparam("ids", expanding=True)))
    )


def _session_headings(
    query: Select, session_ids: Iterable[int], tz: str
) -> dict[int, tuple[SessionHeading, _CourseFacts]]:
    """Work out the heading and course facts of each of the sessions, with ``_headings_query``'s query built once per export."""
    rows = db.session.execute(query, {"ids": list(session_ids)})
    headings = {}
    for session_id, starts_at, ends_at, title, track, age_unit, uses_corrected_age, venue, instructor_name in rows:
        starts = to_local(starts_at, tz)
        heading = SessionHeading(
            day=starts.date(),
            starts=f"{starts:%H:%M}",
            ends=f"{to_local(ends_at, tz):%H:%M}",
            course=title,
            track=track.label,
            venue=venue or "Online",
            instructor=instructor_name,
        )
        headings[session_id] = (heading, _CourseFacts(track, age_unit, uses_corrected_age))
    return headings


def count_register_rows(filters: RegisterFilters, *, by: User) -> RegisterCount:
    """Count the register rows and the sessions they fall in that an export with these filters would hold."""
    check_scope(filters, by)
    rows = union_all(*_register_selects(filters, by=by)).subquery()
    total, sessions = db.session.execute(select(func.count(), func.count(distinct(rows.c.session_id)))).one()
    return RegisterCount(rows=total, sessions=sessions)


def register_lines(
    filters: RegisterFilters, *, by: User, care_notes: bool = False
) -> Iterator[tuple[SessionHeading, RegisterLine]]:
    """Yield each session's heading and each family's line, by session start then booking, a batch at a time.

    Children are named in full, by first name and last initial on adoptive and foster courses; ages are on the
    session's day, corrected where the course uses it, as on the register itself. Everything
    read from ``filters``, ``by`` and the settings is read now: a streamed file's lines are
    written after the request's database session has ended, when those objects can no longer load.
    """
    organisation = get_organisation()
    settings = organisation.timezone, organisation.corrected_age_cutoff_months
    parts = [
        part.order_by(*ROW_ORDER).execution_options(yield_per=BATCH)
        for part in _register_selects(filters, by=by, care_notes=care_notes)
    ]
    return _register_lines(parts, *settings, care_notes=care_notes)


def _register_lines(
    parts: list[Select], tz: str, cutoff: int, *, care_notes: bool
) -> Iterator[tuple[SessionHeading, RegisterLine]]:
    # Each part comes sorted from the database and the two are merged here, each session's
    # make-ups after its own families: sorting their union in the database costs far more.
    connection = db.session.connection()
    rows = heapq.merge(*(connection.execute(part) for part in parts), key=itemgetter(13, 0))
    headings_query = _headings_query()
    headings: dict[int, tuple[SessionHeading, _CourseFacts]] = {}
    while partition := list(islice(rows, BATCH)):
        # Look up this batch's sessions once; the last one may carry on from the batch before.
        wanted = {row[0] for row in partition}
        headings = {key: value for key, value in headings.items() if key in wanted}
        headings |= _session_headings(headings_query, wanted - headings.keys(), tz)
        # Unpacking each row as a tuple, rather than reading it by name, keeps the loop cheap.
        for (
            session_id,
            child_id,
            first_name,
            last_name,
            date_of_birth,
            due_date,
            gestation_weeks,
            parent,
            phone,
            status,
            note,
            marked_by,
            makeup_from,
            _starts_at,
            *notes,
        ) in partition:
            heading, course = headings[session_id]
            if child_id is None:
                child, age = removed_child(first_name), ""
            else:
                facts = _ChildFacts(first_name, last_name, date_of_birth, due_date, gestation_weeks)
                child = staff_name(course, facts, full=True)
                age = describe_child_age(course, facts, on=heading.day, cutoff_months=cutoff)
            # Positional: this runs once a row, and keywords cost a noticeable share of the export.
            yield (
                heading,
                RegisterLine(
                    child,
                    age,
                    parent,
                    phone or "",
                    status.label if status else "",
                    note or "",
                    marked_by or "",
                    makeup_from or "",
                    (notes[0] or "") if care_notes else None,
                ),
            )

"""Taking the register: who is on it, marking them, and the attendance summaries built from the marks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import selectinload

from instructor_portal import audit
from instructor_portal.accounts.models import User
from instructor_portal.attendance.models import (
    LIVE_MAKEUP_STATUSES,
    NOTE_MAX,
    AttendanceChange,
    AttendanceMark,
    AttendanceStatus,
    Makeup,
    MakeupStatus,
)
from instructor_portal.booking.models import Booking, BookingPlace, BookingStatus
from instructor_portal.booking.services import describe_child_age
from instructor_portal.catalogue.models import Course, CourseSession, CourseStatus, SessionStatus, staff_name
from instructor_portal.clock import utcnow
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db
from instructor_portal.organisation import get_organisation
from instructor_portal.timezones import local_date


class AttendanceError(DomainError):
    """A mark could not be recorded."""


@dataclass(frozen=True)
class RegisterRow:
    place: BookingPlace
    child_name: str
    parent_name: str
    age: str
    care_notes: str
    mark: AttendanceMark | None
    #: The course a family here for a make-up is booked on; None for the session's own families.
    makeup_from: Course | None = None


@dataclass(frozen=True)
class MakeupState:
    """A live make-up for a missed session, with the family's mark at the make-up session once marked."""

    makeup: Makeup
    mark: AttendanceMark | None

    @property
    def label(self) -> str:
        if self.makeup.status == MakeupStatus.OFFERED:
            return "Make-up offered"
        if self.mark is None:
            return "Make-up booked"
        return "Make-up attended" if self.mark.status.attended else "Make-up missed"


@dataclass(frozen=True)
class GridRow:
    child_name: str
    parent_name: str
    #: The mark at each of the course's sessions, in session order; None where nobody marked it.
    marks: list[AttendanceMark | None]
    #: The make-up for each of the course's sessions, in session order; None where there is none.
    makeups: list[MakeupState | None]


def child_name(course: Course, place: BookingPlace) -> str:
    """Name the child on a place as a register does: first name, with the initial on adoptive and foster courses."""
    child = place.child
    if child is None:
        return removed_child(place.child_initial)
    return staff_name(course, child, full=False)


def removed_child(initial: str | None) -> str:
    """How a register names a place whose child's record was removed: by the initial kept, where there is one."""
    return f"{initial} (record removed)" if initial else "Child removed"


def _confirmed_place() -> ColumnElement[bool]:
    """True for a place kept for good: live, on a confirmed booking; a hold, even one still running, is not."""
    return and_(BookingPlace.live, Booking.status == BookingStatus.CONFIRMED)


def accepted_makeup_at(session: CourseSession | type[CourseSession]) -> ColumnElement[bool]:
    """True for a make-up that brings its family to the session: accepted there (an offer holds no place yet)."""
    return and_(Makeup.session_id == session.id, Makeup.status == MakeupStatus.ACCEPTED)


def on_register(session: CourseSession | type[CourseSession]) -> ColumnElement[bool]:
    """True for a place on the session's register: kept for good, and booked on its course or there for a make-up.

    The one rule for who is on a register, which the register page and the exports both
    filter by. ``session`` is a session, or ``CourseSession`` itself in a query over
    sessions, for each row's own; the query joins ``BookingPlace`` and its ``Booking``. A
    place whose child's record was removed stays on. Whether a cancelled session's
    register is shown or exported is the caller's choice, not part of the rule.
    """
    # Never correlated to a make-up the outer query joins itself. IN rather than EXISTS: for
    # one session the database reads its make-ups once, not once a place.
    makeup_places = select(Makeup.place_id).where(accepted_makeup_at(session)).correlate_except(Makeup)
    here = or_(BookingPlace.course_id == session.course_id, BookingPlace.id.in_(makeup_places))
    return and_(_confirmed_place(), here)


def _register_places(course: Course) -> list[BookingPlace]:
    """The places on the course kept for good, in booking order: the course's own families, at every session."""
    return list(
        db.session.scalars(
            select(BookingPlace)
            .join(Booking)
            .where(BookingPlace.course_id == course.id, _confirmed_place())
            .options(selectinload(BookingPlace.child), selectinload(BookingPlace.booking).selectinload(Booking.parent))
            .order_by(Booking.created_at, BookingPlace.id)
        )
    )


def _marks(session_ids: list[int]) -> dict[tuple[int, int], AttendanceMark]:
    marks = db.session.scalars(
        select(AttendanceMark)
        .where(AttendanceMark.session_id.in_(session_ids))
        .options(
            selectinload(AttendanceMark.marked_by),
            selectinload(AttendanceMark.changes).selectinload(AttendanceChange.changed_by),
        )
    )
    return {(mark.place_id, mark.session_id): mark for mark in marks}


def register_place(session: CourseSession, place_id: int) -> BookingPlace | None:
    """The live place on a confirmed booking on the session's own course, or None."""
    return next((place for place in _register_places(session.course) if place.id == place_id), None)


def _session_places(session: CourseSession) -> list[tuple[BookingPlace, Makeup | None]]:
    """Everyone on the session's register: the course's own families in booking order, then make-ups as accepted."""
    # The two ways onto a register read apart, as the export reads them, so each finds its rows by index.
    loading = selectinload(BookingPlace.child), selectinload(BookingPlace.booking).selectinload(Booking.parent)
    own = db.session.scalars(
        select(BookingPlace)
        .join(Booking, Booking.id == BookingPlace.booking_id)
        .where(BookingPlace.course_id == session.course_id, on_register(session))
        .options(*loading)
        .order_by(Booking.created_at, BookingPlace.id)
    )
    made_up = db.session.execute(
        select(BookingPlace, Makeup)
        .join(Booking, Booking.id == BookingPlace.booking_id)
        .join(Makeup, and_(Makeup.place_id == BookingPlace.id, accepted_makeup_at(session)))
        .where(on_register(session))
        .options(*loading)
        .order_by(Makeup.responded_at, Makeup.id)
    )
    return [(place, None) for place in own] + [(place, makeup) for place, makeup in made_up]


def build_register(session: CourseSession) -> list[RegisterRow]:
    """List the families on the session's register with their current marks; first name only, with the initial on adoptive and foster courses."""
    course = session.course
    organisation = get_organisation()
    on = local_date(session.starts_at, organisation.timezone)
    marks = _marks([session.id])
    rows = []
    for place, makeup in _session_places(session):
        child = place.child
        rows.append(
            RegisterRow(
                place=place,
                child_name=child_name(course, place),
                parent_name=place.booking.parent.full_name,
                age=describe_child_age(course, child, on=on, cutoff_months=organisation.corrected_age_cutoff_months)
                if child
                else "",
                care_notes=child.care_notes if child else "",
                mark=marks.get((place.id, session.id)),
                makeup_from=makeup.missed_session.course if makeup else None,
            )
        )
    return rows


def _check_open(session: CourseSession) -> None:
    if session.course.status == CourseStatus.CANCELLED:
        raise AttendanceError("This course was cancelled, so its register cannot be changed.")
    if session.status == SessionStatus.CANCELLED:
        raise AttendanceError("This session was cancelled, so its register cannot be changed.")


def _set_mark(
    session: CourseSession,
    place: BookingPlace,
    status: AttendanceStatus,
    note: str,
    *,
    by: User,
    now: datetime,
    mark: AttendanceMark | None,
) -> AttendanceMark | None:
    """Create or change one mark and keep the change; None when nothing changed."""
    if mark is not None and mark.status == status and mark.note == note:
        return None
    if mark is None:
        mark = AttendanceMark(place=place, session=session, status=status, note=note, marked_by=by, marked_at=now)
        db.session.add(mark)
        from_status, from_note = None, ""
    else:
        from_status, from_note = mark.status, mark.note
        mark.status, mark.note, mark.marked_by, mark.marked_at = status, note, by, now
    mark.changes.append(
        AttendanceChange(
            from_status=from_status, to_status=status, from_note=from_note, to_note=note, changed_by=by, changed_at=now
        )
    )
    return mark


def mark_attendance(
    session: CourseSession, place_id: int, status: str, note: str = "", *, by: User, now: datetime | None = None
) -> AttendanceMark:
    """Record one family's attendance at the session, keeping the change when it differs from the last mark."""
    now = now or utcnow()
    _check_open(session)
    try:
        status = AttendanceStatus(status)
    except ValueError:
        raise AttendanceError("Choose one of the statuses on the register.", field="status") from None
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise AttendanceError(f"Keep the note to {NOTE_MAX} characters or fewer.", field="note")
    place = next((p for p, _ in _session_places(session) if p.id == place_id), None)
    if place is None:
        raise AttendanceError("That family is not booked on this course.")
    existing = _marks([session.id]).get((place.id, session.id))
    mark = _set_mark(session, place, status, note, by=by, now=now, mark=existing)
    if mark is None:
        return existing
    audit.record(
        by,
        "attendance.marked",
        mark,
        session_id=session.id,
        place_id=place.id,
        status=status.value,
        previous=mark.changes[-1].from_status,
    )
    db.session.commit()
    return mark


def mark_everyone_present(session: CourseSession, *, by: User, now: datetime | None = None) -> int:
    """Mark every family not yet marked at the session as present, leaving existing marks alone; return how many."""
    now = now or utcnow()
    _check_open(session)
    marks = _marks([session.id])
    count = 0
    for place, _ in _session_places(session):
        if (place.id, session.id) not in marks:
            _set_mark(session, place, AttendanceStatus.PRESENT, "", by=by, now=now, mark=None)
            count += 1
    if count:
        audit.record(by, "attendance.everyone_present", session, marked=count)
    db.session.commit()
    return count


def _makeup_states(place_ids: list[int]) -> dict[tuple[int, int], MakeupState]:
    """The live make-ups of the places, keyed by (place, missed session), each with its mark at the make-up session."""
    makeups = db.session.scalars(
        select(Makeup)
        .where(Makeup.place_id.in_(place_ids), Makeup.status.in_(LIVE_MAKEUP_STATUSES))
        .options(selectinload(Makeup.session).selectinload(CourseSession.course))
    ).all()
    marks = _marks([makeup.session_id for makeup in makeups]) if makeups else {}
    return {
        (makeup.place_id, makeup.missed_session_id): MakeupState(
            makeup, marks.get((makeup.place_id, makeup.session_id))
        )
        for makeup in makeups
    }


def attendance_grid(course: Course) -> list[GridRow]:
    """Build the families-by-sessions summary of the course's register for its instructor, with any make-ups."""
    sessions = course.sessions
    places = _register_places(course)
    marks = _marks([session.id for session in sessions]) if sessions else {}
    makeups = _makeup_states([place.id for place in places]) if places else {}
    return [
        GridRow(
            child_name=child_name(course, place),
            parent_name=place.booking.parent.full_name,
            marks=[marks.get((place.id, session.id)) for session in sessions],
            makeups=[makeups.get((place.id, session.id)) for session in sessions],
        )
        for place in places
    ]


def family_attendance(booking: Booking) -> dict[int, list[tuple[str, AttendanceStatus | None, MakeupState | None]]]:
    """Map each session id to the family's marks and make-ups there as (child's first name, status, make-up), for the parent's page."""
    places = [place for place in booking.places if place.live]
    if booking.status != BookingStatus.CONFIRMED or not places:
        return {}
    place_ids = [place.id for place in places]
    marks = {
        (mark.place_id, mark.session_id): mark.status
        for mark in db.session.scalars(select(AttendanceMark).where(AttendanceMark.place_id.in_(place_ids)))
    }
    makeups = _makeup_states(place_ids)
    summary: dict[int, list[tuple[str, AttendanceStatus | None, MakeupState | None]]] = {}
    for session in booking.course.sessions:
        for place in places:
            status, makeup = marks.get((place.id, session.id)), makeups.get((place.id, session.id))
            if status or makeup:
                name = place.child.first_name if place.child else "Your child"
                summary.setdefault(session.id, []).append((name, status, makeup))
    return summary

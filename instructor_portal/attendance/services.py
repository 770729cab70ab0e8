"""Taking the register: who is on it, marking them, and the attendance summaries built from the marks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from instructor_portal import audit
from instructor_portal.accounts.models import Child, User
from instructor_portal.attendance.models import NOTE_MAX, AttendanceChange, AttendanceMark, AttendanceStatus
from instructor_portal.booking.models import Booking, BookingPlace, BookingStatus
from instructor_portal.booking.services import describe_child_age
from instructor_portal.catalogue.models import Course, CourseSession, CourseStatus, SessionStatus, Track
from instructor_portal.clock import utcnow
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db
from instructor_portal.organiser.services import get_organisation
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


@dataclass(frozen=True)
class GridRow:
    child_name: str
    parent_name: str
    #: The mark at each of the course's sessions, in session order; None where nobody marked it.
    marks: list[AttendanceMark | None]


def _child_name(course: Course, child: Child | None) -> str:
    if child is None:
        return "Child removed"
    return child.private_name if course.track == Track.ADOPTIVE_FOSTER else child.first_name


def _register_places(course: Course) -> list[BookingPlace]:
    """Live places on the course's confirmed bookings, in booking order."""
    return list(
        db.session.scalars(
            select(BookingPlace)
            .join(Booking)
            .where(BookingPlace.course_id == course.id, BookingPlace.live, Booking.status == BookingStatus.CONFIRMED)
            .options(selectinload(BookingPlace.child), selectinload(BookingPlace.booking).selectinload(Booking.parent))
            .order_by(Booking.created_at, BookingPlace.id)
        )
    )


def _marks(session_ids: list[int]) -> dict[tuple[int, int], AttendanceMark]:
    marks = db.session.scalars(
        select(AttendanceMark)
        .where(AttendanceMark.session_id.in_(session_ids))
        .options(selectinload(AttendanceMark.marked_by), selectinload(AttendanceMark.changes).selectinload(AttendanceChange.changed_by))
    )
    return {(mark.place_id, mark.session_id): mark for mark in marks}


def build_register(session: CourseSession) -> list[RegisterRow]:
    """List the families booked on the session with their current marks; first name only, with the initial on adoptive and foster courses."""
    course = session.course
    organisation = get_organisation()
    on = local_date(session.starts_at, organisation.timezone)
    marks = _marks([session.id])
    rows = []
    for place in _register_places(course):
        child = place.child
        rows.append(
            RegisterRow(
                place=place,
                child_name=_child_name(course, child),
                parent_name=place.booking.parent.full_name,
                age=describe_child_age(course, child, on=on, cutoff_months=organisation.corrected_age_cutoff_months) if child else "",
                care_notes=child.care_notes if child else "",
                mark=marks.get((place.id, session.id)),
            )
        )
    return rows


def _check_open(session: CourseSession) -> None:
    if session.course.status == CourseStatus.CANCELLED:
        raise AttendanceError("This course was cancelled, so its register cannot be changed.")
    if session.status == SessionStatus.CANCELLED:
        raise AttendanceError("This session was cancelled, so its register cannot be changed.")


def _set_mark(session: CourseSession, place: BookingPlace, status: AttendanceStatus, note: str, *, by: User, now: datetime,
              mark: AttendanceMark | None) -> AttendanceMark | None:
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
        AttendanceChange(from_status=from_status, to_status=status, from_note=from_note, to_note=note, changed_by=by, changed_at=now)
    )
    return mark


def mark_attendance(session: CourseSession, place_id: int, status: str, note: str = "", *, by: User,
                    now: datetime | None = None) -> AttendanceMark:
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
    place = next((p for p in _register_places(session.course) if p.id == place_id), None)
    if place is None:
        raise AttendanceError("That family is not booked on this course.")
    existing = _marks([session.id]).get((place.id, session.id))
    mark = _set_mark(session, place, status, note, by=by, now=now, mark=existing)
    if mark is None:
        return existing
    audit.record(by, "attendance.marked", mark, session_id=session.id, place_id=place.id, status=status.value,
                 previous=mark.changes[-1].from_status)
    db.session.commit()
    return mark


def mark_everyone_present(session: CourseSession, *, by: User, now: datetime | None = None) -> int:
    """Mark every family not yet marked at the session as present, leaving existing marks alone; return how many."""
    now = now or utcnow()
    _check_open(session)
    marks = _marks([session.id])
    count = 0
    for place in _register_places(session.course):
        if (place.id, session.id) not in marks:
            _set_mark(session, place, AttendanceStatus.PRESENT, "", by=by, now=now, mark=None)
            count += 1
    if count:
        audit.record(by, "attendance.everyone_present", session, marked=count)
    db.session.commit()
    return count


def attendance_grid(course: Course) -> list[GridRow]:
    """Build the families-by-sessions summary of the course's register for its instructor."""
    sessions = course.sessions
    marks = _marks([session.id for session in sessions]) if sessions else {}
    return [
        GridRow(
            child_name=_child_name(course, place.child),
            parent_name=place.booking.parent.full_name,
            marks=[marks.get((place.id, session.id)) for session in sessions],
        )
        for place in _register_places(course)
    ]


def family_attendance(booking: Booking) -> dict[int, list[tuple[str, AttendanceStatus]]]:
    """Map each session id to the family's marks there as (child's first name, status), for the parent's page."""
    place_ids = [place.id for place in booking.places if place.live]
    if booking.status != BookingStatus.CONFIRMED or not place_ids:
        return {}
    marks = db.session.scalars(
        select(AttendanceMark).where(AttendanceMark.place_id.in_(place_ids)).order_by(AttendanceMark.place_id)
    )
    summary: dict[int, list[tuple[str, AttendanceStatus]]] = {}
    for mark in marks:
        name = mark.place.child.first_name if mark.place.child else "Your child"
        summary.setdefault(mark.session_id, []).append((name, mark.status))
    return summary

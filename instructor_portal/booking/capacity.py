"""The one place that takes places on a course, atomically, on SQLite and PostgreSQL alike."""

from datetime import datetime

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.sql.elements import ColumnElement

from instructor_portal.attendance.models import LIVE_MAKEUP_STATUSES, Makeup, MakeupStatus
from instructor_portal.booking.models import Booking, BookingPlace, BookingStatus
from instructor_portal.catalogue.models import Course, CourseSession, SessionStatus
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db


class BookingError(DomainError):
    """A booking rule was not met; the message says which, in words fit for a parent."""


class CourseFull(BookingError):
    """Not enough places are left for this booking."""


class SessionFull(BookingError):
    """No place is left at the session for a make-up."""


def holds_places(now: datetime) -> ColumnElement[bool]:
    """True for a booking whose places count against the course: confirmed, or held and not yet expired."""
    return or_(
        Booking.status == BookingStatus.CONFIRMED,
        and_(Booking.status == BookingStatus.AWAITING_PAYMENT, Booking.hold_expires_at > now),
    )


def places_booked(course_id, now: datetime):
    """A scalar subquery counting the places held or confirmed on a course; ``course_id`` may be a column (correlated)."""
    return (
        select(func.count(BookingPlace.id))
        .join(Booking, Booking.id == BookingPlace.booking_id)
        .where(BookingPlace.course_id == course_id, BookingPlace.live, holds_places(now))
        .scalar_subquery()
    )


def makeups_at(session_id: int):
    """A scalar subquery counting the make-ups accepted at one session."""
    return (
        select(func.count(Makeup.id))
        .where(Makeup.session_id == session_id, Makeup.status == MakeupStatus.ACCEPTED)
        .scalar_subquery()
    )


def _busiest_makeup_session(course_id, now: datetime):
    """A scalar subquery: the most make-ups accepted at any one of the course's sessions still to come, or NULL."""
    accepted = func.count(Makeup.id)
    return (
        select(accepted)
        .join(CourseSession, CourseSession.id == Makeup.session_id)
        .where(
            CourseSession.course_id == course_id,
            CourseSession.status == SessionStatus.SCHEDULED,
            CourseSession.starts_at > now,
            Makeup.status == MakeupStatus.ACCEPTED,
        )
        .group_by(Makeup.session_id)
        .order_by(accepted.desc())
        .limit(1)
        .scalar_subquery()
    )


def places_taken(course_id, now: datetime):
    """An expression counting the places a new booking cannot have; ``course_id`` may be a column (correlated).

    A booking needs a place at every session, so the places booked count, and so does the
    busiest session still to come with families there for a make-up.
    """
    return places_booked(course_id, now) + func.coalesce(_busiest_makeup_session(course_id, now), 0)


def places_free_at(session: CourseSession, *, now: datetime) -> int:
    """How many more families the session has room for: the course's places less its bookings and make-ups there."""
    return session.course.places - db.session.scalar(select(places_booked(session.course_id, now) + makeups_at(session.id)))


def lock_course(course_id: int) -> None:
    """Make every other booking for this course wait until the current transaction ends.

    A write to the course row does it on both databases: PostgreSQL locks the row, SQLite
    takes its database-wide write lock. It must be the transaction's first write, before
    the places are counted.
    """
    db.session.execute(text("UPDATE courses SET places = places WHERE id = :id"), {"id": course_id})


def release_expired_holds(*, now: datetime, course_id: int | None = None) -> int:
    """Mark held bookings whose time is up as expired and free their places; return how many."""
    expired = select(Booking.id).where(Booking.status == BookingStatus.AWAITING_PAYMENT, Booking.hold_expires_at <= now)
    if course_id is not None:
        expired = expired.where(Booking.course_id == course_id)
    ids = list(db.session.scalars(expired))
    if ids:
        db.session.execute(update(BookingPlace).where(BookingPlace.booking_id.in_(ids)).values(live=False))
        db.session.execute(update(Booking).where(Booking.id.in_(ids)).values(status=BookingStatus.EXPIRED))
    return len(ids)


def take_places(course: Course, count: int, *, now: datetime) -> None:
    """Lock the course and check that ``count`` more places fit; raise CourseFull if not.

    Call it inside the service's transaction before adding the booking's places; the
    lock holds until that transaction commits or rolls back.
    """
    lock_course(course.id)
    release_expired_holds(now=now, course_id=course.id)
    left = course.places - db.session.scalar(select(places_taken(course.id, now)))
    if count > left:
        if left <= 0:
            raise CourseFull("Sorry, this course is now full.")
        raise CourseFull(f"Sorry, only {left} {'place is' if left == 1 else 'places are'} left on this course.")


def release_makeups(*where: ColumnElement[bool]) -> list[Makeup]:
    """Cancel the live make-ups matching ``where``, which frees any place they held; return them. The caller commits."""
    makeups = list(db.session.scalars(select(Makeup).where(Makeup.status.in_(LIVE_MAKEUP_STATUSES), *where).order_by(Makeup.id)))
    for makeup in makeups:
        makeup.status = MakeupStatus.CANCELLED
    return makeups


def take_makeup_place(session: CourseSession, *, now: datetime) -> None:
    """Lock the session's course and check that one more family fits at the session; raise SessionFull if not.

    Call it inside the service's transaction before accepting the make-up; the lock holds
    until that transaction commits or rolls back.
    """
    lock_course(session.course_id)
    release_expired_holds(now=now, course_id=session.course_id)
    if places_free_at(session, now=now) <= 0:
        raise SessionFull("Sorry, that session is now full.")

"""The one place that takes places on a course, atomically, on SQLite and PostgreSQL alike."""

from datetime import datetime

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.sql.elements import ColumnElement

from instructor_portal.booking.models import Booking, BookingPlace, BookingStatus
from instructor_portal.catalogue.models import Course
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db


class BookingError(DomainError):
    """A booking rule was not met; the message says which, in words fit for a parent."""


class CourseFull(BookingError):
    """Not enough places are left for this booking."""


def holds_places(now: datetime) -> ColumnElement[bool]:
    """True for a booking whose places count against the course: confirmed, or held and not yet expired."""
    return or_(
        Booking.status == BookingStatus.CONFIRMED,
        and_(Booking.status == BookingStatus.AWAITING_PAYMENT, Booking.hold_expires_at > now),
    )


def places_taken(course_id, now: datetime):
    """A scalar subquery counting the places taken on a course; ``course_id`` may be a column (correlated)."""
    return (
        select(func.count(BookingPlace.id))
        .join(Booking, Booking.id == BookingPlace.booking_id)
        .where(BookingPlace.course_id == course_id, BookingPlace.live, holds_places(now))
        .scalar_subquery()
    )


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

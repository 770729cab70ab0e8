"""Cancelling bookings: by the family or staff, after a full refund, and every booking on a cancelled course."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from instructor_portal import audit, locks
from instructor_portal.accounts.models import Role, User
from instructor_portal.attendance.models import Makeup
from instructor_portal.booking import capacity, states
from instructor_portal.booking.capacity import BookingError
from instructor_portal.booking.emails import email_booking
from instructor_portal.booking.holds import lock_booking
from instructor_portal.booking.models import Booking, BookingStatus
from instructor_portal.booking.rules import first_session_start, is_refundable
from instructor_portal.catalogue.models import Course
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.locks import unit_of_work

# --- Reading ------------------------------------------------------------------------------


def cancel_booking(booking: Booking, *, by: User, reason: str = "", now: datetime | None = None) -> Booking:
    """Cancel a booking and return its places to the pool at once; tell the family."""
    now = now or utcnow()
    with unit_of_work():
        lock_booking(booking)
        refusal = cancel_refusal(booking, by=by, now=now)
        if refusal:
            raise BookingError(refusal)
        booking.cancellation_refundable = is_refundable(booking, now=now)
        _cancel(booking, by=by, reason=reason, now=now)
        email_booking(booking, "booking_cancelled", f"Booking cancelled: {booking.course.title}", cancelled=True)
        audit.record(by, "booking.cancelled", booking, refundable=booking.cancellation_refundable, reason=reason)
    return booking


def cancel_refusal(booking: Booking, *, by: User, now: datetime) -> str | None:
    """Why ``by`` cannot cancel this booking now, or None when they can."""
    if booking.status in (BookingStatus.CANCELLED, BookingStatus.EXPIRED):
        return "This booking is already cancelled."
    start = first_session_start(booking.course)
    if by.role == Role.PARENT and start is not None and now >= start:
        return "This course has already started, so the booking can no longer be cancelled online. Please contact your instructor."
    return None


def cancel_refunded_booking(booking: Booking, *, by: User | None, reason: str, now: datetime) -> bool:
    """Cancel a booking whose money was refunded in full, freeing its places; say whether it was cancelled now.

    The family hears of it in the refund's email, not in a second one. The caller holds its lock and commits.
    """
    if booking.status in (BookingStatus.CANCELLED, BookingStatus.EXPIRED):
        return False
    booking.cancellation_refundable = True
    _cancel(booking, by=by, reason=reason, now=now)
    return True


def _cancel(booking: Booking, *, by: User | None, reason: str, now: datetime) -> None:
    states.move(booking, BookingStatus.CANCELLED)
    booking.cancelled_at = now
    booking.cancelled_by = by
    booking.cancellation_reason = reason.strip() or None
    capacity.release_makeups(Makeup.place_id.in_([place.id for place in booking.places]))


def cancel_course_bookings(course: Course, *, by: User, reason: str, now: datetime) -> list[Booking]:
    """Cancel every live booking on a cancelled course and tell each family; return them.

    Inside the caller's unit of work: the course is locked first, then its bookings.
    """
    locks.lock(course)
    bookings = db.session.scalars(
        select(Booking)
        .where(
            Booking.course_id == course.id,
            Booking.status.in_([BookingStatus.CONFIRMED, BookingStatus.AWAITING_PAYMENT]),
        )
        .order_by(Booking.id)
    ).all()
    locks.lock(*bookings)
    bookings = [booking for booking in bookings if booking.status in states.HOLDS_PLACES]
    for booking in bookings:
        booking.cancellation_refundable = booking.amount_paid_pence > 0
        _cancel(booking, by=by, reason=reason, now=now)
        email_booking(booking, "course_cancelled", f"Course cancelled: {course.title}", cancelled=True, reason=reason)
    return bookings

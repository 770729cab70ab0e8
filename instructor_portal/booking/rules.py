"""When a course takes bookings, starts and ends, and what a booking's cancellation terms are: facts every booking step reads."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from instructor_portal.booking import capacity
from instructor_portal.booking.models import Booking, BookingStatus, PaymentMethod
from instructor_portal.catalogue.models import Course, CourseStatus
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db

# --- Reading ------------------------------------------------------------------------------


def first_session_start(course: Course) -> datetime | None:
    sessions = course.scheduled_sessions
    return sessions[0].starts_at if sessions else None


def last_session_end(course: Course) -> datetime | None:
    """When the course ends: its last scheduled session, or its last session when every one was cancelled."""
    sessions = course.scheduled_sessions or course.sessions
    return sessions[-1].ends_at if sessions else None


def booking_closes_at(course: Course) -> datetime | None:
    """When booking closes: the course's own setting, else the start of the first session."""
    return course.booking_closes_at or first_session_start(course)


def booking_closed_reason(course: Course, *, now: datetime) -> str | None:
    """Why a course cannot be booked right now, or None when it can."""
    if course.status == CourseStatus.CANCELLED:
        return "This course has been cancelled."
    if course.status != CourseStatus.PUBLISHED:
        return "This course is not open for booking."
    if course.booking_opens_at and now < course.booking_opens_at:
        return "Booking for this course has not opened yet."
    closes = booking_closes_at(course)
    if closes is None or now >= closes:
        return "Booking for this course has closed."
    return None


def places_left(course: Course, *, now: datetime | None = None) -> int:
    now = now or utcnow()
    return course.places - db.session.scalar(select(capacity.places_taken(course.id, now)))


def refund_deadline(course: Course) -> datetime | None:
    """The last moment a family can cancel and be refunded: the notice period before the first session."""
    start = first_session_start(course)
    return None if start is None else start - timedelta(days=course.cancellation_notice_days)


def is_refundable(booking: Booking, *, now: datetime) -> bool:
    """Whether cancelling now falls inside the course's refund window."""
    deadline = refund_deadline(booking.course)
    return deadline is not None and now <= deadline


def cancellation_terms(booking: Booking, *, now: datetime) -> str:
    """What cancelling now would mean for the family's money, in one sentence."""
    if booking.amount_pence == 0:
        return f"This place is {'funded' if booking.payment_method == PaymentMethod.FUNDED else 'free'}, so there is nothing to refund."
    if is_refundable(booking, now=now):
        if booking.amount_paid_pence:
            return "You are cancelling in good time, so what you have paid will be refunded."
        return "You are cancelling in good time, so you will not be asked to pay."
    days = booking.course.cancellation_notice_days
    return (
        f"Cancellations less than {days} {'day' if days == 1 else 'days'} before the first session are not refundable"
        + (
            ", so what you have paid will not be refunded."
            if booking.amount_paid_pence
            else "; your instructor will let you know if anything is owed."
        )
    )


def is_live(booking: Booking, *, now: datetime) -> bool:
    """Held (and not yet expired) or confirmed."""
    if booking.status == BookingStatus.CONFIRMED:
        return True
    return (
        booking.status == BookingStatus.AWAITING_PAYMENT
        and booking.hold_expires_at is not None
        and booking.hold_expires_at > now
    )


def next_session(course: Course, *, now: datetime):
    """The next scheduled session that has not started, or None."""
    return next((s for s in course.scheduled_sessions if s.starts_at > now), None)

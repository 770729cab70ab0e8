"""The emails a booking sends its family, each with the course's calendar file attached."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from instructor_portal.booking import capacity
from instructor_portal.booking.ical import course_calendar
from instructor_portal.booking.models import Booking
from instructor_portal.catalogue.models import CourseSession, SessionStatus
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxAttachment
from instructor_portal.notifications.services import absolute_url, enqueue_email

# --- Reading ------------------------------------------------------------------------------


def tell_families_of_session_change(session: CourseSession, *, moved_from: datetime | None = None) -> int:
    """Email every family with a place the moved or cancelled session and the updated dates; the caller commits."""
    course = session.course
    db.session.flush()  # stamp the change on the session first, so the attached event's SEQUENCE goes up with it
    bookings = db.session.scalars(
        select(Booking).where(Booking.course_id == course.id, capacity.holds_places(utcnow()))
    ).all()
    what = "cancelled" if session.status == SessionStatus.CANCELLED else "moved"
    for booking in bookings:
        email_booking(
            booking, "session_changed", f"Session {what}: {course.title}", session=session, moved_from=moved_from
        )
    return len(bookings)


def email_booking(
    booking: Booking, template: str, subject: str, *, cancelled: bool = False, calendar: bool = True, **context
) -> None:
    """Email the family about their booking, with the course's calendar file unless ``calendar`` is False; the caller commits."""
    email = enqueue_email(
        booking.parent.email,
        template,
        subject=subject,
        booking=booking,
        course=booking.course,
        booking_url=absolute_url("booking.my_booking", booking_id=booking.id),
        classes_url=absolute_url("catalogue.classes"),
        **context,
    )
    if calendar:
        email.attachments.append(
            calendar_attachment(
                f"course-{booking.course_id}.ics",
                course_calendar(booking.course, cancelled=cancelled, cancelled_at=booking.cancelled_at),
            )
        )


def calendar_attachment(filename: str, content: bytes) -> OutboxAttachment:
    """An iCalendar file to attach to an email."""
    return OutboxAttachment(filename=filename, content_type="text/calendar", content=content)

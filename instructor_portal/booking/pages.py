"""What the booking pages share with other features' pages: which course may be booked, and where a new booking goes next."""

from flask import abort, flash, redirect, url_for

from instructor_portal.booking.models import Booking, BookingStatus
from instructor_portal.catalogue.models import Course, CourseStatus
from instructor_portal.db import get_or_404


def get_bookable_course(course_id: int) -> Course:
    """The course a family may book or wait for: any but a draft, which is not public (404)."""
    course = get_or_404(Course, course_id)
    if course.status == CourseStatus.DRAFT:
        abort(404)
    return course


def after_booking(booking: Booking):
    """Send the family on from a new booking: to it when confirmed, else to choose how to pay."""
    if booking.status == BookingStatus.CONFIRMED:
        flash("Your place is confirmed. We have emailed you the details.", "success")
        return redirect(url_for("booking.my_booking", booking_id=booking.id))
    return redirect(url_for("booking.pay", booking_id=booking.id))

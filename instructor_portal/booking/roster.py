"""The instructor's roster of a course: every child with a place, their age and what the family owes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from instructor_portal.booking import capacity
from instructor_portal.booking.models import Booking, BookingPlace, BookingStatus, PaymentMethod
from instructor_portal.booking.rules import first_session_start, is_live
from instructor_portal.booking.services import describe_child_age
from instructor_portal.catalogue.models import Course, staff_name
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.money import format_money
from instructor_portal.organisation import get_organisation
from instructor_portal.timezones import local_date, to_local

# --- Reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterRow:
    """One child's place on a course, as the instructor sees it."""

    booking: Booking
    child_name: str
    age: str
    care_notes: str
    payment: str


def payment_status(booking: Booking, *, now: datetime) -> str:
    """Payment in a few words for the roster: free, paid, or what is due and how."""
    if booking.status == BookingStatus.AWAITING_PAYMENT:
        if not is_live(booking, now=now):
            return "Hold expired"
        return f"Held until {to_local(booking.hold_expires_at, get_organisation().timezone):%H:%M}, not yet paid"
    if booking.amount_pence == 0:
        return "Funded" if booking.payment_method == PaymentMethod.FUNDED else "Free"
    if booking.amount_due_pence == 0:
        return "Paid"
    method = f" ({booking.payment_method.label.lower()})" if booking.payment_method else ""
    return f"{format_money(booking.amount_due_pence, booking.currency)} due{method}"


def build_roster(course: Course, *, now: datetime | None = None) -> list[RosterRow]:
    """Every child with a live place on the course, for its instructor; private names on adoptive and foster courses."""
    now = now or utcnow()
    organisation = get_organisation()
    start = first_session_start(course)
    today = local_date(now, organisation.timezone)
    on = max(today, local_date(start, organisation.timezone)) if start else today
    bookings = db.session.scalars(
        select(Booking)
        .where(Booking.course_id == course.id, capacity.holds_places(now))
        .options(selectinload(Booking.places).selectinload(BookingPlace.child), selectinload(Booking.parent))
        .order_by(Booking.created_at)
    ).all()
    return [
        RosterRow(
            booking=booking,
            child_name=staff_name(course, child, full=True),
            age=describe_child_age(course, child, on=on, cutoff_months=organisation.corrected_age_cutoff_months),
            care_notes=child.care_notes,
            payment=payment_status(booking, now=now),
        )
        for booking in bookings
        for child in booking.children
    ]

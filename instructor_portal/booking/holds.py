"""A booking's held places and what payment does to them: holding, confirming when money arrives, releasing and expiring."""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from instructor_portal import audit, locks
from instructor_portal.accounts.models import User
from instructor_portal.booking import capacity, pricing, states
from instructor_portal.booking.capacity import BookingError
from instructor_portal.booking.emails import email_booking
from instructor_portal.booking.models import (
    Booking,
    BookingPlace,
    BookingStatus,
    PaymentMethod,
    Voucher,
    VoucherRedemption,
)
from instructor_portal.booking.rules import booking_closed_reason, is_live
from instructor_portal.catalogue.models import Course
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.locks import unit_of_work
from instructor_portal.organisation import get_organisation

log = logging.getLogger(__name__)


# --- Reading ------------------------------------------------------------------------------


def lock_booking(booking: Booking) -> None:
    """Lock the booking and all a change to it may need, in the house order: its voucher, its course, the booking.

    Inside the caller's unit of work; the session's copy of the booking is current afterwards.
    """
    voucher_id = db.session.scalar(
        select(VoucherRedemption.voucher_id).where(VoucherRedemption.booking_id == booking.id)
    )
    locks.lock(*([(Voucher, voucher_id)] if voucher_id else []), (Course, booking.course_id), booking)


def confirm_booking(booking: Booking, method: PaymentMethod, *, now: datetime) -> None:
    """Confirm a booking whose places are held (or were just taken again) and email the family; the caller holds its lock and commits."""
    states.move(booking, BookingStatus.CONFIRMED)
    booking.payment_method = method
    booking.confirmed_at = now
    booking.hold_expires_at = None
    email_booking(booking, "booking_confirmed", f"Your place is confirmed: {booking.course.title}")


def offline_methods(course: Course) -> list[PaymentMethod]:
    """The ways to pay a family may choose for this course, besides card."""
    if course.is_free or not course.allows_offline_payment:
        return []
    methods = [PaymentMethod.PAY_AT_VENUE]
    if get_organisation().bank_transfer_details.strip():
        methods.append(PaymentMethod.BANK_TRANSFER)
    return methods


def choose_offline_payment(
    booking: Booking, method: PaymentMethod, *, now: datetime | None = None, actor: User | None = None
) -> Booking:
    """Confirm a held booking to be paid at the first session or by bank transfer.

    If the hold has run out, the places are taken again atomically, so a late choice
    is confirmed only while places remain. ``actor`` is who chose, when not the parent.
    """
    now = now or utcnow()
    if method not in offline_methods(booking.course):
        raise BookingError("That way of paying is not offered for this course.", field="method")
    with unit_of_work():
        lock_booking(booking)
        if booking.status == BookingStatus.CONFIRMED:
            return booking
        if booking.status == BookingStatus.CANCELLED:
            raise BookingError("This booking was cancelled.")
        if not is_live(booking, now=now):
            retake_places(booking, now=now)
        confirm_booking(booking, method, now=now)
        audit.record(actor or booking.parent, "booking.confirmed", booking, method=method.value)
    return booking


def retake_places(booking: Booking, *, now: datetime) -> None:
    """Take a lapsed booking's places again, atomically, if the course still has room; raise BookingError if not.

    The caller holds ``lock_booking`` and confirms or re-holds the booking in the same unit of work.
    """
    closed = booking_closed_reason(booking.course, now=now)
    if closed:
        raise BookingError(closed)
    redemption = db.session.scalars(select(VoucherRedemption).where(VoucherRedemption.booking_id == booking.id)).first()
    # The lapsed hold no longer counts as a use of its voucher; the voucher's lock keeps the count true.
    if redemption is not None and redemption.voucher.max_uses is not None:
        if db.session.scalar(select(pricing.voucher_uses(redemption.voucher_id, now))) >= redemption.voucher.max_uses:
            raise BookingError("The code used on this booking has since been used up by other families.")
    capacity.take_places(booking.course, len(booking.places), now=now)
    child_ids = [place.child_id for place in booking.places]
    rebooked = db.session.scalars(
        select(BookingPlace.child_id).where(
            BookingPlace.course_id == booking.course_id,
            BookingPlace.live,
            BookingPlace.booking_id != booking.id,
            BookingPlace.child_id.in_(child_ids),
        )
    ).first()
    if rebooked is not None:
        raise BookingError("The family has booked this course again since, so this booking cannot be revived.")


def hold_for_payment(booking: Booking, *, until: datetime, now: datetime) -> None:
    """Keep the booking's places held until ``until`` while a payment is under way, taking them again if the hold lapsed.

    Raises BookingError when the places cannot be had. The caller holds ``lock_booking`` and commits.
    """
    if booking.status == BookingStatus.CANCELLED:
        raise BookingError("This booking was cancelled.")
    if booking.status == BookingStatus.CONFIRMED:
        raise BookingError("This booking is already confirmed.")
    if not is_live(booking, now=now):
        retake_places(booking, now=now)
        if booking.status == BookingStatus.EXPIRED:
            states.move(booking, BookingStatus.AWAITING_PAYMENT)
    booking.hold_expires_at = max(booking.hold_expires_at or now, until)


class PaidOutcome(StrEnum):
    """What the booking made of money that arrived for it."""

    CONFIRMED = "confirmed"
    #: Paid after its hold ran out, and a place was still free.
    CONFIRMED_LATE = "confirmed-late"
    ALREADY_CONFIRMED = "already-confirmed"


def take_payment(booking: Booking, method: PaymentMethod, *, now: datetime) -> PaidOutcome:
    """Money for the whole booking arrived: confirm it, taking the places again if its hold lapsed.

    Raises BookingError, with the reason, when no place can be given, so the payer is refunded.
    The caller holds ``lock_booking`` and commits.
    """
    if booking.status == BookingStatus.CONFIRMED:
        return PaidOutcome.ALREADY_CONFIRMED
    if is_live(booking, now=now):
        confirm_booking(booking, method, now=now)
        return PaidOutcome.CONFIRMED
    if booking.status == BookingStatus.CANCELLED:
        raise BookingError("The booking had been cancelled.")
    retake_places(booking, now=now)
    confirm_booking(booking, method, now=now)
    return PaidOutcome.CONFIRMED_LATE


def release_hold(booking: Booking) -> None:
    """Give a held booking's places back at once (the family stopped paying); the caller holds its lock and commits."""
    if booking.status == BookingStatus.AWAITING_PAYMENT:
        states.move(booking, BookingStatus.EXPIRED)


def tell_payment_failed(booking: Booking) -> None:
    """Email the family that their bank payment failed and the places were let go; the caller commits."""
    email_booking(booking, "payment_failed", f"Your payment did not go through: {booking.course.title}", cancelled=True)


def expire_holds(*, now: datetime | None = None) -> int:
    """Release every hold whose time is up, course by course; safe to run at any moment and from two workers. Return how many."""
    now = now or utcnow()
    course_ids = db.session.scalars(
        select(Booking.course_id)
        .where(Booking.status == BookingStatus.AWAITING_PAYMENT, Booking.hold_expires_at <= now)
        .distinct()
    ).all()
    released = 0
    for course_id in sorted(course_ids):
        try:
            with unit_of_work():
                released += capacity.release_expired_holds(db.session.get(Course, course_id), now=now)
        except OperationalError:  # the course is busy; its holds lapse on the next run, and never count meanwhile
            log.warning("Holds on course %s not released this time", course_id, exc_info=True)
    return released

"""Booking places: eligibility, atomic places, holds, payment choice, cancellation and confirmations."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from instructor_portal import audit, locks
from instructor_portal.accounts.models import Child, Role, User
from instructor_portal.booking import capacity, pricing
from instructor_portal.booking.holds import confirm_booking
from instructor_portal.booking.models import (
    Booking,
    BookingPlace,
    BookingStatus,
    PaymentMethod,
    Voucher,
    VoucherRedemption,
)
from instructor_portal.booking.rules import booking_closed_reason, first_session_start, last_session_end
from instructor_portal.catalogue.eligibility import age_in_months, age_in_units, check_eligibility, format_age
from instructor_portal.catalogue.models import Course, Track
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.locks import unit_of_work
from instructor_portal.organisation import get_organisation
from instructor_portal.timezones import local_date
from instructor_portal.waitlist.models import EntryStatus, WaitlistEntry

log = logging.getLogger(__name__)

BookingError = capacity.BookingError
CourseFull = capacity.CourseFull
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L to misread


def split_bookings(parent: User, *, now: datetime) -> tuple[list[Booking], list[Booking]]:
    """The parent's bookings: those for courses still to finish (soonest first), then finished ones."""
    bookings = db.session.scalars(
        select(Booking)
        .where(Booking.parent_id == parent.id)
        .options(selectinload(Booking.course).selectinload(Course.sessions), selectinload(Booking.places))
    ).all()

    def last_end(booking: Booking) -> datetime:
        return last_session_end(booking.course) or booking.created_at

    def first_start(booking: Booking) -> datetime:
        return first_session_start(booking.course) or booking.created_at

    upcoming = sorted((b for b in bookings if last_end(b) > now), key=first_start)
    past = sorted((b for b in bookings if last_end(b) <= now), key=first_start, reverse=True)
    return upcoming, past


@dataclass(frozen=True)
class ChildChoice:
    """One of the parent's children as the booking form offers them."""

    child: Child
    eligible: bool
    reason: str


def children_choices(parent: User, course: Course, *, now: datetime) -> list[ChildChoice]:
    """Each of the parent's children with whether they can be booked on the course, and why not."""
    organisation = get_organisation()
    start = first_session_start(course)
    booked = booked_children(course, parent.children, now=now)
    choices = []
    for child in parent.children:
        if child in booked:
            choices.append(ChildChoice(child, False, f"{child.first_name} already has a place on this course."))
        elif start is None:
            choices.append(ChildChoice(child, False, "This course has no sessions to come."))
        else:
            result = child_eligibility(
                course, child, start, organisation.timezone, organisation.corrected_age_cutoff_months
            )
            choices.append(ChildChoice(child, result.eligible, result.reason))
    return choices


def booked_children(course: Course, children: list[Child], *, now: datetime) -> list[Child]:
    """Those of ``children`` who hold a place on the course: confirmed, or held and not yet expired."""
    ids = set(
        db.session.scalars(
            select(BookingPlace.child_id)
            .join(Booking, Booking.id == BookingPlace.booking_id)
            .where(
                BookingPlace.course_id == course.id,
                BookingPlace.live,
                capacity.holds_places(now),
                BookingPlace.child_id.in_([child.id for child in children]),
            )
        )
    )
    return [child for child in children if child.id in ids]


def already_booked(children: list[Child]) -> str:
    """Why these children cannot be booked again, in one sentence."""
    names = ", ".join(child.first_name for child in children)
    return f"{names} already {'has' if len(children) == 1 else 'have'} a place on this course."


def _new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


def child_eligibility(course: Course, child: Child, start: datetime, tz: str, cutoff: int):
    """Whether the child may join the course, judged by their age on the day of ``start`` in zone ``tz``."""
    return check_eligibility(
        course,
        born=child.date_of_birth or child.due_date,
        due=child.expected_date if child.date_of_birth else None,
        first_session_date=local_date(start, tz),
        corrected_age_cutoff_months=cutoff,
    )


def _check_child(course: Course, child: Child, start: datetime, tz: str, cutoff: int) -> None:
    result = child_eligibility(course, child, start, tz, cutoff)
    if not result.eligible:
        raise BookingError(f"{child.first_name}: {result.reason}", field="children")


def book_places(
    parent: User,
    course: Course,
    children: list[Child],
    *,
    accept_terms: bool,
    medical_clearance: bool = False,
    photo_consent: bool = False,
    voucher_code: str = "",
    now: datetime | None = None,
    actor: User | None = None,
    offer: WaitlistEntry | None = None,
) -> Booking:
    """Book a place for each child (twins: two places, one booking), taking the places atomically.

    The price comes from the course: the sibling discount off each place after the first,
    then the voucher named by ``voucher_code``, whose usage limit holds however many book
    at once. A booking with nothing to pay (a free course, a funded place) is confirmed at
    once; any other is held for the organisation's hold time while the family chooses how to pay.
    ``actor`` is who made the booking for the audit log when it is not the parent (staff booking for them).
    ``offer`` is a waiting-list offer whose held places this booking takes up.
    """
    now = now or utcnow()
    organisation = get_organisation()
    if parent.role != Role.PARENT:
        raise BookingError("Only parents and carers can book places.")
    closed = booking_closed_reason(course, now=now)
    if closed:
        raise BookingError(closed)
    if not children:
        raise BookingError("Choose at least one child to book a place for.", field="children")
    if len({child.id for child in children}) != len(children) or any(
        child.parent_id != parent.id for child in children
    ):
        raise BookingError("Choose children from your own family.", field="children")
    if not accept_terms:
        raise BookingError("Please agree to the course terms to book.", field="accept_terms")
    if course.track == Track.PREMATURE and not medical_clearance:
        raise BookingError(
            "Please confirm that your baby's medical team has said your baby is stable enough for massage. "
            "If you are not sure, ask them before booking.",
            field="medical_clearance",
        )
    start = first_session_start(course)
    for child in children:
        _check_child(course, child, start, organisation.timezone, organisation.corrected_age_cutoff_months)

    with unit_of_work():
        voucher_id = pricing.voucher_id(voucher_code) if voucher_code.strip() else None
        locks.lock(*([(Voucher, voucher_id)] if voucher_id else []), course)
        voucher = pricing.find_voucher(voucher_code, course=course, now=now) if voucher_code.strip() else None
        if offer is not None:
            _take_up_offer(offer, parent, course, children, now=now)
        capacity.take_places(course, len(children), now=now, for_offer=offer is not None)
        already = booked_children(course, children, now=now)
        if already:
            raise BookingError(already_booked(already), field="children")

        price = pricing.price_places(course, len(children), voucher=voucher)
        booking = Booking(
            reference=_new_reference(),
            course=course,
            parent=parent,
            status=BookingStatus.AWAITING_PAYMENT,
            hold_expires_at=now + timedelta(minutes=organisation.hold_minutes),
            amount_pence=price.total_pence,
            discount_pence=price.discount_pence,
            currency=course.currency,
            terms_accepted_at=now,
            medical_clearance=medical_clearance,
            photo_consent=photo_consent,
            places=[BookingPlace(course_id=course.id, child=child) for child in children],
        )
        db.session.add(booking)
        if voucher is not None:
            db.session.add(
                VoucherRedemption(voucher=voucher, booking=booking, discount_pence=price.voucher_discount_pence)
            )
        db.session.flush()  # the confirmation email links to the booking by id
        if offer is not None:
            offer.booking = booking
        locks.lock(booking)
        if price.total_pence == 0:
            # Nothing to pay, so nothing goes near Stripe: free, or paid for by a referrer's voucher.
            confirm_booking(booking, PaymentMethod.FREE if course.is_free else PaymentMethod.FUNDED, now=now)
        audit.record(
            actor or parent,
            "booking.created",
            booking,
            course_id=course.id,
            places=len(children),
            status=booking.status.value,
            amount_pence=price.total_pence,
            discount_pence=price.discount_pence,
            voucher=voucher.code if voucher else None,
        )
    return booking


def _take_up_offer(offer: WaitlistEntry, parent: User, course: Course, children: list[Child], *, now: datetime) -> None:
    """Turn a waiting-list offer into this booking's places, so they count once; the course's lock is held.

    Offers change only under that lock, so the offer read here cannot lapse or go to someone else meanwhile.
    """
    db.session.refresh(offer)
    if offer.parent_id != parent.id or offer.course_id != course.id:
        raise BookingError("This offer is not yours.")
    if offer.status != EntryStatus.OFFERED or offer.offer_expires_at <= now:
        raise BookingError("This offer has ended, so its places have gone to the next family on the list.")
    if {child.id for child in children} != {child.id for child in offer.children}:
        names = " and ".join(child.first_name for child in offer.children)
        raise BookingError(f"This offer is for {names}; book the place for them.", field="children")
    offer.status = EntryStatus.BOOKED
    db.session.flush()  # the offer's places stop counting, and the booking's start


def quote_places(course: Course, places: int, *, voucher_code: str = "", now: datetime | None = None) -> pricing.Price:
    """Price ``places`` places with the course's sibling discount and the voucher named, booking nothing."""
    if places < 1:
        raise BookingError("Choose at least one child to see the price.", field="children")
    voucher = pricing.find_voucher(voucher_code, course=course, now=now or utcnow()) if voucher_code.strip() else None
    return pricing.price_places(course, places, voucher=voucher)


def describe_child_age(course: Course, child: Child, *, on, cutoff_months: int) -> str:
    """The child's age on ``on`` in the course's unit, with the corrected age where the course uses it."""
    if child.date_of_birth is None or child.date_of_birth > on:
        return f"Not born yet (due {child.due_date:%d %b %Y})" if child.due_date else "Not born yet"
    unit = course.age_unit
    age = format_age(age_in_units(child.date_of_birth, on, unit), unit)
    expected = child.expected_date
    if (
        course.uses_corrected_age
        and expected
        and expected > child.date_of_birth
        and age_in_months(child.date_of_birth, on) < cutoff_months
    ):
        return f"{age} (corrected {format_age(age_in_units(expected, on, unit), unit)})"
    return age

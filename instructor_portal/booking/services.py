"""Booking places: eligibility, atomic places, holds, payment choice, cancellation and confirmations."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import selectinload

from instructor_portal import audit, locks
from instructor_portal.accounts.models import Child, Role, User
from instructor_portal.attendance.models import Makeup
from instructor_portal.booking import capacity, states
from instructor_portal.booking.ical import course_calendar
from instructor_portal.booking.models import Booking, BookingPlace, BookingStatus, PaymentMethod
from instructor_portal.catalogue.models import Course, CourseSession, CourseStatus, SessionStatus, Track
from instructor_portal.catalogue.services import age_in_months, age_in_units, check_eligibility, format_age
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.locks import unit_of_work
from instructor_portal.money import format_money
from instructor_portal.notifications.models import OutboxAttachment
from instructor_portal.notifications.services import absolute_url, enqueue_email
from instructor_portal.organiser.services import get_organisation
from instructor_portal.payments import pricing
from instructor_portal.payments.models import Voucher, VoucherRedemption
from instructor_portal.timezones import local_date, to_local

log = logging.getLogger(__name__)

BookingError = capacity.BookingError
CourseFull = capacity.CourseFull
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L to misread


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
        + (", so what you have paid will not be refunded." if booking.amount_paid_pence else "; your instructor will let you know if anything is owed.")
    )


def is_live(booking: Booking, *, now: datetime) -> bool:
    """Held (and not yet expired) or confirmed."""
    if booking.status == BookingStatus.CONFIRMED:
        return True
    return booking.status == BookingStatus.AWAITING_PAYMENT and booking.hold_expires_at is not None and booking.hold_expires_at > now


def next_session(course: Course, *, now: datetime):
    """The next scheduled session that has not started, or None."""
    return next((s for s in course.scheduled_sessions if s.starts_at > now), None)


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
    booked = set(
        db.session.scalars(
            select(BookingPlace.child_id)
            .join(Booking, Booking.id == BookingPlace.booking_id)
            .where(BookingPlace.course_id == course.id, BookingPlace.live, capacity.holds_places(now))
        )
    )
    choices = []
    for child in parent.children:
        if child.id in booked:
            choices.append(ChildChoice(child, False, f"{child.first_name} already has a place on this course."))
        elif start is None:
            choices.append(ChildChoice(child, False, "This course has no sessions to come."))
        else:
            result = child_eligibility(course, child, start, organisation.timezone, organisation.corrected_age_cutoff_months)
            choices.append(ChildChoice(child, result.eligible, result.reason))
    return choices


# --- Booking --------------------------------------------------------------------------------


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
) -> Booking:
    """Book a place for each child (twins: two places, one booking), taking the places atomically.

    The price comes from the course: the sibling discount off each place after the first,
    then the voucher named by ``voucher_code``, whose usage limit holds however many book
    at once. A booking with nothing to pay (a free course, a funded place) is confirmed at
    once; any other is held for the organisation's hold time while the family chooses how to pay.
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
    if len({child.id for child in children}) != len(children) or any(child.parent_id != parent.id for child in children):
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
        capacity.take_places(course, len(children), now=now)
        already = db.session.scalars(
            select(BookingPlace.child_id).where(
                BookingPlace.course_id == course.id, BookingPlace.live, BookingPlace.child_id.in_([c.id for c in children])
            )
        ).all()
        if already:
            names = ", ".join(c.first_name for c in children if c.id in already)
            raise BookingError(f"{names} already {'has' if len(already) == 1 else 'have'} a place on this course.", field="children")

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
            db.session.add(VoucherRedemption(voucher=voucher, booking=booking, discount_pence=price.voucher_discount_pence))
        db.session.flush()  # the confirmation email links to the booking by id
        locks.lock(booking)
        if price.total_pence == 0:
            # Nothing to pay, so nothing goes near Stripe: free, or paid for by a referrer's voucher.
            confirm_booking(booking, PaymentMethod.FREE if course.is_free else PaymentMethod.FUNDED, now=now)
        audit.record(
            parent, "booking.created", booking, course_id=course.id, places=len(children), status=booking.status.value,
            amount_pence=price.total_pence, discount_pence=price.discount_pence, voucher=voucher.code if voucher else None,
        )
    return booking


def quote_places(course: Course, places: int, *, voucher_code: str = "", now: datetime | None = None) -> pricing.Price:
    """Price ``places`` places with the course's sibling discount and the voucher named, booking nothing."""
    if places < 1:
        raise BookingError("Choose at least one child to see the price.", field="children")
    voucher = pricing.find_voucher(voucher_code, course=course, now=now or utcnow()) if voucher_code.strip() else None
    return pricing.price_places(course, places, voucher=voucher)


def lock_booking(booking: Booking) -> None:
    """Lock the booking and all a change to it may need, in the house order: its voucher, its course, the booking.

    Inside the caller's unit of work; the session's copy of the booking is current afterwards.
    """
    voucher_id = db.session.scalar(select(VoucherRedemption.voucher_id).where(VoucherRedemption.booking_id == booking.id))
    locks.lock(*([(Voucher, voucher_id)] if voucher_id else []), (Course, booking.course_id), booking)


def confirm_booking(booking: Booking, method: PaymentMethod, *, now: datetime) -> None:
    """Confirm a booking whose places are held (or were just taken again) and email the family; the caller holds its lock and commits."""
    states.move(booking, BookingStatus.CONFIRMED)
    booking.payment_method = method
    booking.confirmed_at = now
    booking.hold_expires_at = None
    _email_booking(booking, "booking_confirmed", f"Your place is confirmed: {booking.course.title}")


def offline_methods(course: Course) -> list[PaymentMethod]:
    """The ways to pay a family may choose for this course, besides card."""
    if course.is_free or not course.allows_offline_payment:
        return []
    methods = [PaymentMethod.PAY_AT_VENUE]
    if get_organisation().bank_transfer_details.strip():
        methods.append(PaymentMethod.BANK_TRANSFER)
    return methods


def choose_offline_payment(booking: Booking, method: PaymentMethod, *, now: datetime | None = None) -> Booking:
    """Confirm a held booking to be paid at the first session or by bank transfer.

    If the hold has run out, the places are taken again atomically, so a late choice
    is confirmed only while places remain.
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
        audit.record(booking.parent, "booking.confirmed", booking, method=method.value)
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
    _email_booking(booking, "payment_failed", f"Your payment did not go through: {booking.course.title}", cancelled=True)


def expire_holds(*, now: datetime | None = None) -> int:
    """Release every hold whose time is up, course by course; safe to run at any moment and from two workers. Return how many."""
    now = now or utcnow()
    course_ids = db.session.scalars(
        select(Booking.course_id).where(Booking.status == BookingStatus.AWAITING_PAYMENT, Booking.hold_expires_at <= now).distinct()
    ).all()
    released = 0
    for course_id in sorted(course_ids):
        try:
            with unit_of_work():
                released += capacity.release_expired_holds(db.session.get(Course, course_id), now=now)
        except OperationalError:  # the course is busy; its holds lapse on the next run, and never count meanwhile
            log.warning("Holds on course %s not released this time", course_id, exc_info=True)
    return released


# --- Cancelling ------------------------------------------------------------------------------


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
        _email_booking(booking, "booking_cancelled", f"Booking cancelled: {booking.course.title}", cancelled=True)
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


def cancel_refunded_booking(booking: Booking, *, by: User | None, reason: str, now: datetime) -> None:
    """Cancel a booking whose money was refunded in full, freeing its places and telling the family; the caller holds its lock and commits."""
    if booking.status in (BookingStatus.CANCELLED, BookingStatus.EXPIRED):
        return
    booking.cancellation_refundable = True
    _cancel(booking, by=by, reason=reason, now=now)
    _email_booking(booking, "booking_cancelled", f"Booking cancelled: {booking.course.title}", cancelled=True)


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
        select(Booking).where(
            Booking.course_id == course.id,
            Booking.status.in_([BookingStatus.CONFIRMED, BookingStatus.AWAITING_PAYMENT]),
        ).order_by(Booking.id)
    ).all()
    locks.lock(*bookings)
    bookings = [booking for booking in bookings if booking.status in states.HOLDS_PLACES]
    for booking in bookings:
        booking.cancellation_refundable = booking.amount_paid_pence > 0
        _cancel(booking, by=by, reason=reason, now=now)
        _email_booking(booking, "course_cancelled", f"Course cancelled: {course.title}", cancelled=True, reason=reason)
    return bookings


def tell_families_of_session_change(session: CourseSession, *, moved_from: datetime | None = None) -> int:
    """Email every family with a place the moved or cancelled session and the updated dates; the caller commits."""
    course = session.course
    bookings = db.session.scalars(
        select(Booking).where(Booking.course_id == course.id, capacity.holds_places(utcnow()))
    ).all()
    what = "cancelled" if session.status == SessionStatus.CANCELLED else "moved"
    for booking in bookings:
        _email_booking(booking, "session_changed", f"Session {what}: {course.title}", session=session, moved_from=moved_from)
    return len(bookings)


def _email_booking(booking: Booking, template: str, subject: str, *, cancelled: bool = False, **context) -> None:
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
    email.attachments.append(calendar_attachment(f"course-{booking.course_id}.ics", course_calendar(booking.course, cancelled=cancelled)))


def calendar_attachment(filename: str, content: bytes) -> OutboxAttachment:
    """An iCalendar file to attach to an email."""
    return OutboxAttachment(filename=filename, content_type="text/calendar", content=content)


# --- Roster ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterRow:
    """One child's place on a course, as the instructor sees it."""

    booking: Booking
    child_name: str
    age: str
    care_notes: str
    payment: str


def describe_child_age(course: Course, child: Child, *, on, cutoff_months: int) -> str:
    """The child's age on ``on`` in the course's unit, with the corrected age where the course uses it."""
    if child.date_of_birth is None or child.date_of_birth > on:
        return f"Not born yet (due {child.due_date:%d %b %Y})" if child.due_date else "Not born yet"
    unit = course.age_unit
    age = format_age(age_in_units(child.date_of_birth, on, unit), unit)
    expected = child.expected_date
    if course.uses_corrected_age and expected and expected > child.date_of_birth and age_in_months(child.date_of_birth, on) < cutoff_months:
        return f"{age} (corrected {format_age(age_in_units(expected, on, unit), unit)})"
    return age


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


def roster_name(course: Course, child) -> str:
    """Name a child as staff see it on a roster or an export: in full, or first name and last initial on adoptive and foster courses."""
    return child.private_name if course.track == Track.ADOPTIVE_FOSTER else child.full_name


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
            child_name=roster_name(course, child),
            age=describe_child_age(course, child, on=on, cutoff_months=organisation.corrected_age_cutoff_months),
            care_notes=child.care_notes,
            payment=payment_status(booking, now=now),
        )
        for booking in bookings
        for child in booking.children
    ]

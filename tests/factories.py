"""Keyword-default builders that save and return domain objects for tests."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pyotp

from instructor_portal.accounts.models import Child, InstructorProfile, Role, User
from instructor_portal.accounts.services import set_password
from instructor_portal.booking.models import Booking, BookingPlace, BookingStatus, PaymentMethod, Voucher, VoucherKind
from instructor_portal.catalogue.models import AgeUnit, Course, CourseSession, CourseStatus, Track, Venue
from instructor_portal.extensions import db
from instructor_portal.payments.models import Payment, PaymentStatus, Refund, RefundStatus

PASSWORD = "correct horse battery"
_sequence = itertools.count(1)


def _next() -> int:
    return next(_sequence)


def make_user(
    *,
    role: Role | str = Role.PARENT,
    email: str | None = None,
    full_name: str | None = None,
    password: str | None = PASSWORD,
    active: bool = True,
    two_step: bool = True,
    **extra,
) -> User:
    role = Role(role)
    n = _next()
    # Staff have two-step sign-in set up, as they must before seeing families' details; two_step=False leaves it off.
    staff_two_step = (
        {"totp_secret": pyotp.random_base32(), "totp_enabled_at": datetime.now(UTC)}
        if two_step and role != Role.PARENT
        else {}
    )
    user = User(
        email=email or f"{role.value}{n}@example.org",
        full_name=full_name or f"{role.label.split()[0]} Person{n}",
        role=role,
        active=active,
        **{"email_verified_at": datetime.now(UTC), **staff_two_step, **extra},
    )
    if password is not None:
        set_password(user, password)
    if role == Role.INSTRUCTOR:
        user.profile = InstructorProfile(
            bio="Certified infant massage instructor.", area="Bristol", qualifications="CIMI"
        )
    db.session.add(user)
    db.session.commit()
    return user


def two_step_code(user: User) -> str:
    """The code the user's authenticator app shows now, as if 30 seconds had passed since their last (each code works once)."""
    user.totp_last_step = None
    db.session.commit()
    return pyotp.TOTP(user.totp_secret).now()


def make_venue(**overrides) -> Venue:
    n = _next()
    values = {
        "name": f"Children's Centre {n}",
        "address": f"{n} Park Road",
        "town": "Bristol",
        "postcode": "BS6 5AB",
        "step_free_access": True,
        "pram_parking": True,
        "baby_changing": True,
    }
    venue = Venue(**{**values, **overrides})
    db.session.add(venue)
    db.session.commit()
    return venue


def make_course(
    *,
    instructor: User | None = None,
    venue: Venue | None = None,
    sessions: int = 5,
    first_session: datetime | None = None,
    status: CourseStatus = CourseStatus.PUBLISHED,
    **overrides,
) -> Course:
    """A course with ``sessions`` weekly sessions, the first a week from now by default."""
    instructor = instructor or make_user(role=Role.INSTRUCTOR)
    is_online = overrides.get("is_online", False)
    if venue is None and not is_online:
        venue = make_venue()
    values = {
        "title": f"Baby massage course {_next()}",
        "description": "Five relaxed weekly sessions.",
        "track": Track.FAMILY,
        "places": 8,
        "price_pence": 4500,
        "age_unit": AgeUnit.WEEKS,
        "age_min": 6,
        "age_max": 52,
    }
    course = Course(instructor=instructor, venue=venue, status=status, **{**values, **overrides})
    if status == CourseStatus.PUBLISHED:
        course.published_at = datetime.now(UTC)
    start = first_session or (datetime.now(UTC) + timedelta(days=7)).replace(hour=10, minute=0, second=0, microsecond=0)
    for week in range(sessions):
        begins = start + timedelta(weeks=week)
        course.sessions.append(CourseSession(starts_at=begins, ends_at=begins + timedelta(hours=1)))
    db.session.add(course)
    db.session.commit()
    return course


def make_session(course: Course, *, starts_at: datetime, minutes: int = 60, **overrides) -> CourseSession:
    session = CourseSession(
        course=course, starts_at=starts_at, ends_at=starts_at + timedelta(minutes=minutes), **overrides
    )
    db.session.add(session)
    db.session.commit()
    return session


def make_child(
    parent: User | None = None,
    *,
    born: date | None = None,
    due: date | None = None,
    gestation_weeks: int | None = None,
    **overrides,
) -> Child:
    """A child of ``parent``; by default a baby born twelve weeks ago."""
    parent = parent or make_user(role=Role.PARENT)
    if born is None and due is None:
        born = date.today() - timedelta(weeks=12)
    child = Child(
        parent=parent,
        first_name=overrides.pop("first_name", f"Baby{_next()}"),
        last_name=overrides.pop("last_name", "Smith"),
        date_of_birth=born,
        due_date=due,
        gestation_weeks=gestation_weeks,
        **overrides,
    )
    db.session.add(child)
    db.session.commit()
    return child


def make_booking(
    course: Course,
    children: list[Child] | None = None,
    *,
    status: BookingStatus = BookingStatus.CONFIRMED,
    hold_expires_at: datetime | None = None,
    amount_paid_pence: int = 0,
    **overrides,
) -> Booking:
    """A booking written directly (not through the service), for setting the scene."""
    children = children or [make_child()]
    if status == BookingStatus.AWAITING_PAYMENT and hold_expires_at is None:
        hold_expires_at = datetime.now(UTC) + timedelta(minutes=15)
    live = status in (BookingStatus.CONFIRMED, BookingStatus.AWAITING_PAYMENT)
    booking = Booking(
        reference=f"T{_next():07d}",
        course=course,
        parent=children[0].parent,
        status=status,
        amount_pence=course.price_pence * len(children),
        amount_paid_pence=amount_paid_pence,
        currency=course.currency,
        hold_expires_at=hold_expires_at,
        terms_accepted_at=datetime.now(UTC),
        confirmed_at=datetime.now(UTC) if status == BookingStatus.CONFIRMED else None,
        places=[BookingPlace(course_id=course.id, child=child, live=live) for child in children],
        **overrides,
    )
    db.session.add(booking)
    db.session.commit()
    return booking


def make_payment(
    booking: Booking,
    *,
    method: PaymentMethod = PaymentMethod.CARD,
    status: PaymentStatus = PaymentStatus.SUCCEEDED,
    amount_pence: int | None = None,
    at: datetime | None = None,
    **overrides,
) -> Payment:
    """A payment written directly (not through the service), made ``at`` (default now), for setting the scene."""
    at = at or datetime.now(UTC)
    payment = Payment(
        booking=booking,
        method=method,
        status=status,
        amount_pence=amount_pence or booking.amount_pence,
        currency=booking.currency,
        created_at=at,
        succeeded_at=at if status == PaymentStatus.SUCCEEDED else None,
        **overrides,
    )
    db.session.add(payment)
    db.session.commit()
    return payment


def make_refund(
    payment: Payment,
    *,
    amount_pence: int | None = None,
    status: RefundStatus = RefundStatus.SUCCEEDED,
    at: datetime | None = None,
    reason: str = "Goodwill",
    **overrides,
) -> Refund:
    """A refund written directly, counted against its payment when it succeeded."""
    amount_pence = amount_pence or payment.amount_pence
    refund = Refund(
        payment=payment,
        amount_pence=amount_pence,
        status=status,
        reason=reason,
        idempotency_key=f"test-refund-{_next()}",
        created_at=at or datetime.now(UTC),
        **overrides,
    )
    db.session.add(refund)
    if status == RefundStatus.SUCCEEDED:
        payment.amount_refunded_pence += amount_pence
    db.session.commit()
    return refund


def make_voucher(**overrides) -> Voucher:
    """A voucher for 10% off any course, with no limit or expiry unless told."""
    values = {"code": f"CODE-{_next()}", "kind": VoucherKind.PERCENT, "value": 10}
    voucher = Voucher(**{**values, **overrides})
    db.session.add(voucher)
    db.session.commit()
    return voucher

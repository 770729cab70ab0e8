"""Late payments, new bookings and the sweeper at once on one course: locks in one order, so no deadlock and nothing lost.

The control takes the booking's lock before the course's, as the payment paths once did,
and shows PostgreSQL deadlocking, so the green test proves the order, not luck.
"""

import time
from datetime import UTC, datetime, timedelta

import pytest

from instructor_portal import locks
from instructor_portal.accounts.models import Child, User
from instructor_portal.booking import holds as booking_holds
from instructor_portal.booking import rules as booking_rules
from instructor_portal.booking import services as booking_services
from instructor_portal.booking.models import Booking, BookingStatus
from instructor_portal.catalogue.models import Course
from instructor_portal.extensions import db
from instructor_portal.payments import checkout as card_checkout
from instructor_portal.payments.models import Payment, PaymentStatus, Refund
from tests import factories
from tests.conftest import race
from tests.payments.conftest import expire_hold

PLACES = 3
LATE_PAYERS = 4
NEW_FAMILIES = 4


@pytest.fixture
def crowded(app, held_booking, checkout, stripe_server, racing_app):
    """A course of three places, four families who paid after their holds ran out, and four more about to book."""
    racing_app.config.update(STRIPE_SECRET_KEY=stripe_server.api_key, STRIPE_API_BASE=stripe_server.url)
    course = factories.make_course(places=PLACES, first_session=datetime.now(UTC) + timedelta(days=14))
    sessions = []
    for _ in range(LATE_PAYERS):
        booking = held_booking(course=course)
        _, session = checkout(booking)
        expire_hold(booking)
        stripe_server.complete_session(session["id"])
        sessions.append(session["id"])
    families = [factories.make_child() for _ in range(NEW_FAMILIES)]
    attempts = [("pay", stripe_server.get(session_id)) for session_id in sessions]
    attempts += [("book", (child.parent_id, child.id, course.id)) for child in families]
    attempts.append(("sweep", None))
    return course.id, attempts


def attempt(kind: str, what) -> str:
    if kind == "pay":
        return card_checkout.apply_checkout_session(what, now=datetime.now(UTC)).value
    if kind == "book":
        parent_id, child_id, course_id = what
        try:
            booking_services.book_places(
                db.session.get(User, parent_id),
                db.session.get(Course, course_id),
                [db.session.get(Child, child_id)],
                accept_terms=True,
            )
        except booking_services.CourseFull:
            return "full"
        return "booked"
    booking_holds.expire_holds()
    return "swept"


@pytest.fixture
def slow_locks(monkeypatch):
    """Hold each booking's locks a moment before going on, as a busy server might."""
    lock_booking = booking_holds.lock_booking

    def slowly(booking):
        lock_booking(booking)
        time.sleep(0.2)

    monkeypatch.setattr(booking_holds, "lock_booking", slowly)


def test_control_taking_the_bookings_lock_before_the_courses_deadlocks(database_url, racing_app, crowded, monkeypatch):
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one lock for the whole database, so it cannot deadlock on the order of row locks")

    def booking_then_course(booking):
        held = db.session.info.setdefault(locks._HELD, set())
        for row in (booking, db.session.get(Course, booking.course_id)):
            key = locks._key(row)
            locks._acquire(db.session, [key], {key[0]: type(row)}, first=not held)
            held.add(key)
            time.sleep(0.2)

    def payers_first(kind: str, what) -> str:
        if kind != "pay":
            time.sleep(0.1)  # the payers hold their bookings' locks by now, and wait for the course's
        return attempt(kind, what)

    monkeypatch.setattr(booking_holds, "lock_booking", booking_then_course)
    _, attempts = crowded
    outcomes = race(racing_app, payers_first, attempts)
    assert any("deadlock detected" in outcome for outcome in outcomes), outcomes


def test_late_payments_new_bookings_and_the_sweeper_at_once_never_deadlock_or_lose_money(
    app, racing_app, crowded, slow_locks
):
    course_id, attempts = crowded
    outcomes = race(racing_app, attempt, attempts)
    expected = {"confirmed-late", "refunded-late", "booked", "full", "swept"}
    assert set(outcomes) <= expected, outcomes
    assert outcomes["confirmed-late"] + outcomes["booked"] == PLACES
    course = db.session.get(Course, course_id)
    assert booking_rules.places_left(course) == 0
    # Every family that paid has a place or has its money back.
    paid = db.session.scalars(db.select(Payment).where(Payment.status == PaymentStatus.SUCCEEDED)).all()
    assert len(paid) == LATE_PAYERS
    for payment in paid:
        booking = db.session.get(Booking, payment.booking_id)
        refunded = db.session.scalars(db.select(Refund).where(Refund.payment_id == payment.id)).all()
        assert (booking.status == BookingStatus.CONFIRMED) != bool(refunded), (booking, refunded)

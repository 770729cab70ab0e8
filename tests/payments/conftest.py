"""Helpers for payment tests: a held booking, paying for it at the fake Stripe, delivering webhooks."""

from datetime import UTC, datetime, timedelta

import pytest

from instructor_portal.booking import holds as booking_holds
from instructor_portal.booking import services as booking_services
from instructor_portal.booking.models import BookingStatus, PaymentMethod
from instructor_portal.extensions import db
from instructor_portal.payments import checkout as card_checkout
from instructor_portal.payments.models import Payment
from tests import factories


@pytest.fixture
def held_booking(app, stripe_server):
    """A booking for one child on a £45 course, its place held, about to pay by card."""

    def _held(course=None, **course_fields):
        course = course or factories.make_course(price_pence=4500, **course_fields)
        child = factories.make_child()
        return booking_services.book_places(child.parent, course, [child], accept_terms=True)

    return _held


@pytest.fixture
def checkout(stripe_server):
    """Start Checkout for a booking and return (payment, stripe session)."""

    def _checkout(booking):
        card_checkout.start_checkout(booking)
        payment = db.session.scalars(
            db.select(Payment).where(Payment.booking_id == booking.id).order_by(Payment.id.desc())
        ).first()
        return payment, stripe_server.get(payment.stripe_checkout_session_id)

    return _checkout


@pytest.fixture
def place_gone(held_booking, checkout):
    """A booking whose Checkout is open but whose hold lapsed and whose only place another family took; returns (booking, session)."""

    def _gone():
        booking = held_booking(places=1)
        _, session = checkout(booking)
        expire_hold(booking)
        rival = held_booking(course=booking.course)
        booking_holds.choose_offline_payment(rival, PaymentMethod.PAY_AT_VENUE)
        return booking, session

    return _gone


@pytest.fixture
def deliver(client, stripe_server):
    """POST an event to the app's webhook as Stripe would; return the response."""

    def _deliver(event, secret="whsec_test_current"):
        body, headers = stripe_server.webhook_request(event, secret)
        return client.post("/stripe/webhook", data=body, headers=headers)

    return _deliver


@pytest.fixture
def paid_booking(held_booking, checkout, stripe_server, deliver):
    """A booking paid by card through Checkout and the webhook; returns (booking, payment)."""

    def _paid(course=None, **course_fields):
        booking = held_booking(course, **course_fields)
        payment, session = checkout(booking)
        stripe_server.complete_session(session["id"])
        deliver(last_event(stripe_server, "checkout.session.completed"))
        db.session.refresh(payment)
        db.session.refresh(booking)
        return booking, payment

    return _paid


@pytest.fixture
def organiser(app):
    return factories.make_user(role="organiser")


def last_event(stripe_server, type_):
    return stripe_server.events(type_)[-1]


def expire_hold(booking):
    """Move a booking's hold into the past, as if the family took too long."""
    booking.hold_expires_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    assert booking.status == BookingStatus.AWAITING_PAYMENT

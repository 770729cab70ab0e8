from datetime import date, timedelta

import pytest

from instructor_portal.booking import rules as booking_rules
from instructor_portal.booking.models import BookingStatus, PaymentMethod
from instructor_portal.extensions import db
from instructor_portal.organisation import DEFAULTS, Organisation
from instructor_portal.payments import refunds, services, stripe_events
from instructor_portal.payments.models import FlagKind, Payment, PaymentFlag, Refund, RefundStatus
from tests import factories
from tests.payments.conftest import last_event


def test_partial_then_full_refund_never_exceeds_what_was_paid(paid_booking, organiser, stripe_server):
    booking, payment = paid_booking()
    refunds.refund_payment(payment, 1500, by=organiser, reason="Missed a session", request_key="r1")
    db.session.refresh(booking)
    assert (payment.amount_refunded_pence, booking.amount_paid_pence, booking.status) == (
        1500,
        3000,
        BookingStatus.CONFIRMED,
    )
    # A refund lowers what the family owes; it does not leave them owing it again.
    assert (booking.amount_refunded_pence, booking.amount_due_pence) == (1500, 0)
    with pytest.raises(services.PaymentError, match="At most £30.00") as caught:
        refunds.refund_payment(payment, 3001, by=organiser, reason="Too much", request_key="r2")
    assert caught.value.field == "amount"
    assert len(stripe_server.objects("refund")) == 1  # our guard refused before asking Stripe
    refunds.refund_payment(payment, 3000, by=organiser, reason="Family moved away", request_key="r3")
    db.session.refresh(booking)
    assert (booking.amount_paid_pence, booking.status) == (0, BookingStatus.CANCELLED)
    assert booking_rules.places_left(booking.course) == booking.course.places
    assert [r["amount"] for r in stripe_server.objects("refund")] == [1500, 3000]


def test_a_double_click_makes_one_refund(paid_booking, organiser, stripe_server):
    _, payment = paid_booking()
    first = refunds.refund_payment(payment, 1000, by=organiser, reason="Goodwill", request_key="same-form")
    second = refunds.refund_payment(payment, 1000, by=organiser, reason="Goodwill", request_key="same-form")
    assert first.id == second.id
    assert len(stripe_server.objects("refund")) == 1
    assert db.session.scalar(db.select(db.func.count(Refund.id))) == 1


def test_instructors_refund_only_when_the_organisation_allows(paid_booking):
    booking, payment = paid_booking()
    instructor = booking.course.instructor
    with pytest.raises(services.PaymentError, match="cannot refund"):
        refunds.refund_payment(payment, 500, by=instructor, reason="x", request_key="i1")
    db.session.add(Organisation(**{**DEFAULTS, "allow_instructor_refunds": True}))
    db.session.commit()
    from flask import g

    g.pop("organisation", None)
    assert (
        refunds.refund_payment(payment, 500, by=instructor, reason="Session cancelled", request_key="i2").status
        == RefundStatus.SUCCEEDED
    )
    other = factories.make_user(role="instructor")
    with pytest.raises(services.PaymentError, match="cannot refund"):
        refunds.refund_payment(payment, 500, by=other, reason="x", request_key="i3")


def test_refund_needs_a_reason_and_an_amount(paid_booking, organiser):
    _, payment = paid_booking()
    with pytest.raises(services.PaymentError, match="Say why"):
        refunds.refund_payment(payment, 500, by=organiser, reason=" ", request_key="a")
    with pytest.raises(services.PaymentError, match="Enter an amount"):
        refunds.refund_payment(payment, 0, by=organiser, reason="x", request_key="b")


def test_a_refund_made_in_the_stripe_dashboard_is_recorded_and_flagged(paid_booking, stripe_server, deliver, client):
    import stripe

    booking, payment = paid_booking()
    outside = stripe.StripeClient(
        stripe_server.api_key, base_addresses={"api": stripe_server.url}, max_network_retries=0
    )
    outside.v1.refunds.create({"payment_intent": payment.stripe_payment_intent_id, "amount": 2000})
    assert deliver(last_event(stripe_server, "charge.refunded")).json["outcome"] == "refunded"
    assert deliver(last_event(stripe_server, "refund.created")).json["outcome"] == "unchanged"
    db.session.refresh(booking)
    assert booking.amount_paid_pence == 2500
    [refund] = db.session.scalars(db.select(Refund)).all()
    assert (refund.amount_pence, refund.requested_by_id) == (2000, None)
    assert db.session.scalars(db.select(PaymentFlag)).one().kind == FlagKind.MISMATCH


def test_reconcile_applies_a_payment_whose_webhook_never_came(held_booking, checkout, stripe_server, runner):
    booking = held_booking()
    _, session = checkout(booking)
    stripe_server.complete_session(session["id"])  # ...and the webhook is lost
    result = runner.invoke(args=["reconcile-payments"])
    assert result.exit_code == 0, result.output
    assert "Updated 1 payments" in result.output
    db.session.refresh(booking)
    assert booking.status == BookingStatus.CONFIRMED
    again = runner.invoke(args=["reconcile-payments"])
    assert "Updated 0 payments from their sessions, applied 0 missed events, completed 0 refunds." in again.output
    db.session.refresh(booking)
    assert booking.amount_paid_pence == 4500


def test_reconcile_applies_missed_refund_events(paid_booking, stripe_server):
    import stripe

    booking, payment = paid_booking()
    outside = stripe.StripeClient(
        stripe_server.api_key, base_addresses={"api": stripe_server.url}, max_network_retries=0
    )
    outside.v1.refunds.create({"payment_intent": payment.stripe_payment_intent_id})
    counts = stripe_events.reconcile_payments()
    assert counts["events"] >= 1
    db.session.refresh(booking)
    assert (booking.amount_paid_pence, booking.status) == (0, BookingStatus.CANCELLED)
    assert stripe_events.reconcile_payments() == {"sessions": 0, "events": 0, "refunds": 0, "errors": 0}


def test_offline_payment_is_recorded_up_to_the_amount_due(app, organiser):
    course = factories.make_course(price_pence=4500)
    booking = factories.make_booking(course, payment_method=PaymentMethod.BANK_TRANSFER)
    with pytest.raises(services.PaymentError, match="Only £45.00 is due"):
        services.record_offline_payment(
            booking, by=organiser, amount_pence=5000, method=PaymentMethod.BANK_TRANSFER, received_on=date.today()
        )
    with pytest.raises(services.PaymentError, match="future"):
        services.record_offline_payment(
            booking,
            by=organiser,
            amount_pence=100,
            method=PaymentMethod.BANK_TRANSFER,
            received_on=date.today() + timedelta(days=5),
        )
    payment = services.record_offline_payment(
        booking,
        by=organiser,
        amount_pence=2000,
        method=PaymentMethod.BANK_TRANSFER,
        received_on=date.today(),
        note="First half",
    )
    db.session.refresh(booking)
    assert (booking.amount_paid_pence, booking.amount_due_pence, payment.recorded_by_id) == (2000, 2500, organiser.id)
    refunds.refund_payment(payment, 2000, by=organiser, reason="Paid twice by mistake", request_key="o1")
    db.session.refresh(booking)
    assert (booking.amount_paid_pence, booking.status) == (0, BookingStatus.CONFIRMED)
    assert db.session.scalar(db.select(db.func.count(Payment.id))) == 1


def test_a_parent_cancelling_in_good_time_is_refunded_automatically(paid_booking, client, auth, stripe_server):
    from tests.conftest import post_form

    booking, payment = paid_booking(cancellation_notice_days=1)
    auth.login(booking.parent)
    page = client.get(f"/bookings/{booking.id}/cancel").get_data(as_text=True)
    assert "what you have paid will be refunded" in page
    post_form(client, f"/bookings/{booking.id}/cancel", {"reason": ""})
    db.session.refresh(booking)
    assert (booking.status, booking.amount_paid_pence) == (BookingStatus.CANCELLED, 0)
    assert [r["amount"] for r in stripe_server.objects("refund")] == [4500]
    assert booking_rules.places_left(booking.course) == booking.course.places


def test_late_cancellation_keeps_the_money(paid_booking, stripe_server):
    from datetime import UTC, datetime

    booking, payment = paid_booking(cancellation_notice_days=30)
    refunds.cancel_booking_and_refund(booking, by=booking.parent, now=datetime.now(UTC))
    assert booking.status == BookingStatus.CANCELLED
    assert booking.cancellation_refundable is False
    assert stripe_server.objects("refund") == []


def test_cancelling_a_course_refunds_every_paying_family(paid_booking, stripe_server):
    from instructor_portal.teaching.services import cancel_course

    booking, payment = paid_booking()
    cancel_course(booking.course, actor=booking.course.instructor, reason="Venue flooded")
    db.session.refresh(booking)
    assert (booking.status, booking.amount_paid_pence) == (BookingStatus.CANCELLED, 0)
    assert [r["amount"] for r in stripe_server.objects("refund")] == [4500]

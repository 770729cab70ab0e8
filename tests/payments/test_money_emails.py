"""What families are told about their money: a receipt for each payment, and each refund once it is made."""

from datetime import UTC, date, datetime, timedelta

import pytest

from instructor_portal.booking import cancellation
from instructor_portal.booking.models import BookingStatus, PaymentMethod
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from instructor_portal.organisation import DEFAULTS, Organisation
from instructor_portal.payments import refunds, services, stripe_events
from instructor_portal.teaching import minimum_numbers
from instructor_portal.teaching import services as teaching_services
from tests import factories
from tests.payments.conftest import last_event

CARD_ARRIVES = "Card refunds usually take 5-10 working days to reach your card."


def emails_to(address: str, starting: str = "") -> list[OutboxEmail]:
    emails = db.session.scalars(
        db.select(OutboxEmail).where(OutboxEmail.to_address == address).order_by(OutboxEmail.id)
    ).all()
    return [email for email in emails if email.subject.startswith(starting)]


def refund_emails(booking) -> list[OutboxEmail]:
    return emails_to(booking.parent.email, "Refund of")


def both_parts(email: OutboxEmail) -> list[str]:
    return [email.body_text, email.body_html]


@pytest.fixture
def organisation(app):
    """The organisation's settings, saved with a postal address, as a receipt shows them."""
    saved = Organisation(
        **{
            **DEFAULTS,
            "name": "Connected Babies Bristol",
            "contact_email": "hello@connectedbabies.example.org",
            "contact_phone": "0117 496 0123",
            "postal_address": "12 Gloucester Road\nBristol BS7 8AA",
            "bank_transfer_details": "Sort code 60-83-71",
        }
    )
    db.session.add(saved)
    db.session.commit()
    from flask import g

    g.pop("organisation", None)
    return saved


# --- Receipts --------------------------------------------------------------------------------------


def test_a_card_payment_gets_one_receipt_with_what_it_was_for(
    organisation, held_booking, checkout, stripe_server, deliver
):
    booking = held_booking()
    _, session = checkout(booking)
    stripe_server.complete_session(session["id"])
    event = last_event(stripe_server, "checkout.session.completed")
    deliver(event)
    deliver({**event, "id": "evt_copy"})  # the same session told twice: still one receipt
    db.session.refresh(booking)
    [receipt] = emails_to(booking.parent.email, "Receipt")
    assert receipt.subject == f"Receipt for £45.00: {booking.course.title}"
    assert receipt.attachments == []
    child = booking.children[0]
    for part in both_parts(receipt):
        for fact in (
            "£45.00",
            booking.reference,
            booking.course.title,
            child.first_name,
            "Card",
            "Nothing more is due on this booking.",
            "Connected Babies Bristol",
            "hello@connectedbabies.example.org",
            "0117 496 0123",
            "12 Gloucester Road, Bristol BS7 8AA",
        ):
            assert fact in part, fact


def test_an_offline_payment_recorded_by_staff_gets_a_receipt_once(organisation, organiser):
    course = factories.make_course(price_pence=4500)
    booking = factories.make_booking(course, payment_method=PaymentMethod.BANK_TRANSFER)
    for _ in range(2):  # the same form sent twice records, and receipts, once
        services.record_offline_payment(
            booking,
            by=organiser,
            amount_pence=2000,
            method=PaymentMethod.BANK_TRANSFER,
            received_on=date(2026, 3, 3),
            request_key="form-1",
        )
    [receipt] = emails_to(booking.parent.email, "Receipt")
    for part in both_parts(receipt):
        assert "£20.00" in part
        assert "Bank transfer" in part
        assert "Tue 3 Mar 2026" in part
        assert "Still to pay on this booking:" in part and "£25.00" in part


# --- Refunds ---------------------------------------------------------------------------------------


def test_a_staff_refund_by_card_says_how_much_why_and_when_it_arrives(organisation, paid_booking, organiser):
    booking, payment = paid_booking()
    refunds.refund_payment(payment, 1500, by=organiser, reason="Missed a session", request_key="r1")
    refunds.refund_payment(payment, 1500, by=organiser, reason="Missed a session", request_key="r1")
    [email] = refund_emails(booking)
    assert email.subject == f"Refund of £15.00: {booking.course.title}"
    assert email.attachments == []  # the booking goes on: nothing to change in the calendar
    for part in both_parts(email):
        assert "£15.00" in part
        assert "Missed a session" in part
        assert CARD_ARRIVES in part
        assert booking.reference in part
        assert "£30.00" in part  # what is left paid


def test_a_full_refund_that_cancels_the_booking_is_one_email(organisation, paid_booking, organiser):
    booking, payment = paid_booking()
    before = len(emails_to(booking.parent.email))
    refunds.refund_payment(payment, 4500, by=organiser, reason="Family moved away", request_key="r1")
    db.session.refresh(booking)
    assert booking.status == BookingStatus.CANCELLED
    [email] = emails_to(booking.parent.email)[before:]
    assert email.subject.startswith("Refund of £45.00")
    assert "your booking is cancelled" in email.body_text
    assert "METHOD:CANCEL" in email.attachments[0].content.decode()


def test_a_refund_stripe_could_not_make_is_told_only_once_it_is_made(
    organisation, paid_booking, organiser, stripe_server
):
    booking, payment = paid_booking()
    stripe_server.inject("down", method="POST", path="/v1/refunds", times=None)
    refunds.refund_payment(payment, 1000, by=organiser, reason="Goodwill", request_key="r1")
    assert refund_emails(booking) == []  # owed, not made: nothing to tell yet
    stripe_server.clear_faults()
    assert stripe_events.reconcile_payments()["refunds"] == 1
    stripe_events.reconcile_payments()  # the events of the refund, applied again, change nothing
    [email] = refund_emails(booking)
    assert "£10.00" in email.body_text


def test_a_refund_made_in_the_stripe_dashboard_is_told_once(organisation, paid_booking, stripe_server, deliver):
    import stripe

    booking, payment = paid_booking()
    outside = stripe.StripeClient(
        stripe_server.api_key, base_addresses={"api": stripe_server.url}, max_network_retries=0
    )
    outside.v1.refunds.create({"payment_intent": payment.stripe_payment_intent_id, "amount": 2000})
    deliver(last_event(stripe_server, "charge.refunded"))
    deliver(last_event(stripe_server, "refund.created"))
    stripe_events.reconcile_payments()
    [email] = refund_emails(booking)
    assert "£20.00" in email.body_text and CARD_ARRIVES in email.body_text


def test_cancelling_in_good_time_tells_of_the_cancellation_then_of_the_refund(organisation, paid_booking):
    booking, _ = paid_booking(first_session=datetime.now(UTC) + timedelta(days=30))
    before = len(emails_to(booking.parent.email))
    refunds.cancel_booking_and_refund(booking, by=booking.parent)
    cancelled, refunded = emails_to(booking.parent.email)[before:]
    assert cancelled.subject.startswith("Booking cancelled")
    assert "we will email you when the refund has been made" in cancelled.body_text
    assert "£45.00" not in cancelled.body_text.split("refunded")[-1]  # the amount is the refund email's to tell
    assert refunded.subject.startswith("Refund of £45.00")
    assert "Booking cancelled in good time." in refunded.body_text
    assert "your booking is cancelled" not in refunded.body_text  # already told


def test_a_course_cancelled_by_staff_refunds_and_says_why(organisation, paid_booking):
    booking, _ = paid_booking()
    course = booking.course
    teaching_services.cancel_course(course, actor=course.instructor, reason="The venue has closed.")
    subjects = [email.subject.split(":")[0] for email in emails_to(booking.parent.email)]
    assert subjects[-2:] == ["Course cancelled", "Refund of £45.00"]
    [email] = refund_emails(booking)
    for part in both_parts(email):
        assert f"{course.title} was cancelled." in part
        assert CARD_ARRIVES in part


def test_the_minimum_numbers_check_tells_a_family_paid_by_bank_transfer_how_they_are_repaid(organisation):
    start = datetime(2030, 6, 10, 10, 0, tzinfo=UTC)
    course = factories.make_course(places=6, min_places=3, first_session=start)
    booking = factories.make_booking(course, amount_paid_pence=4500)
    factories.make_payment(booking, method=PaymentMethod.BANK_TRANSFER)
    decision = start - timedelta(days=3)
    minimum_numbers.check_minimum_numbers(now=decision)
    minimum_numbers.check_minimum_numbers(now=decision + timedelta(minutes=1))  # the job runs again
    [email] = refund_emails(booking)
    for part in both_parts(email):
        assert "by bank transfer to the account you paid from" in part
        assert f"{course.title} was cancelled." in part


def test_an_offline_refund_says_it_is_paid_back_by_hand(organisation, organiser):
    booking = factories.make_booking(factories.make_course(price_pence=4500), amount_paid_pence=4500)
    payment = factories.make_payment(booking, method=PaymentMethod.PAY_AT_VENUE)
    refunds.refund_payment(payment, 500, by=organiser, reason="Session cancelled", request_key="r1")
    [email] = refund_emails(booking)
    assert "we pay it back to you by hand" in email.body_text


def test_a_late_payment_with_no_place_left_is_told_as_refunded_and_gets_no_receipt(
    organisation, place_gone, stripe_server, deliver
):
    booking, session = place_gone()
    stripe_server.complete_session(session["id"])
    event = last_event(stripe_server, "checkout.session.completed")
    assert deliver(event).json["outcome"] == "refunded-late"
    deliver({**event, "id": "evt_again"})
    stripe_events.reconcile_payments()
    [email] = emails_to(booking.parent.email)
    assert email.subject.startswith("Refund of £45.00")
    for part in both_parts(email):
        assert "reached us after the time we could hold your place had run out" in part
        assert "refunded the payment in full" in part
        assert CARD_ARRIVES in part


# --- Payments that fail ----------------------------------------------------------------------------


def test_a_delayed_payment_that_fails_after_its_places_lapsed_still_tells_the_family(
    organisation, place_gone, stripe_server, deliver
):
    booking, session = place_gone()
    stripe_server.complete_session(session["id"], paid=False)
    deliver(last_event(stripe_server, "checkout.session.completed"))
    db.session.refresh(booking)
    assert booking.status == BookingStatus.EXPIRED  # its place could not be kept
    stripe_server.async_payment_failed(session["id"])
    failed = last_event(stripe_server, "checkout.session.async_payment_failed")
    assert deliver(failed).json["outcome"] == "failed"
    deliver({**failed, "id": "evt_failed_again"})
    [email] = emails_to(booking.parent.email)
    assert email.subject.startswith("Your payment did not go through")


def test_a_booking_cancelled_without_money_sends_no_refund_email(organisation):
    booking = factories.make_booking(factories.make_course(price_pence=4500))
    cancellation.cancel_booking(booking, by=booking.parent)
    assert refund_emails(booking) == []

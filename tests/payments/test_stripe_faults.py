"""Card payments when Stripe is slow, silent or down: no lock held while Stripe answers, nothing lost, one session per hold."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from instructor_portal import locks
from instructor_portal.booking import holds as booking_holds
from instructor_portal.booking import rules as booking_rules
from instructor_portal.booking import services as booking_services
from instructor_portal.booking.models import Booking, BookingStatus
from instructor_portal.extensions import db
from instructor_portal.payments import checkout as card_checkout
from instructor_portal.payments import refunds, stripe_events
from instructor_portal.payments.models import FlagKind, Payment, PaymentFlag, PaymentStatus, Refund, RefundStatus
from instructor_portal.payments.stripe_gateway import gateway
from tests import factories
from tests.conftest import post_form, text
from tests.payments.conftest import last_event
from tests.payments.test_staff_pages import refund_form

CHECKOUT = "/v1/checkout/sessions"


def sessions_for(stripe_server, booking) -> list[dict]:
    return [s for s in stripe_server.objects("checkout.session") if s["metadata"].get("booking_id") == str(booking.id)]


def open_sessions(stripe_server, booking) -> list[dict]:
    return [s for s in sessions_for(stripe_server, booking) if s["status"] == "open"]


def card_payments(booking) -> list[Payment]:
    return list(db.session.scalars(db.select(Payment).where(Payment.booking_id == booking.id).order_by(Payment.id)))


def test_no_call_to_stripe_is_made_while_a_lock_is_held(held_booking):
    booking = held_booking()
    with pytest.raises(locks.LocksHeld):
        with locks.unit_of_work():
            booking_holds.lock_booking(booking)
            gateway().retrieve_checkout_session("cs_test_anything")


def test_a_slow_stripe_keeps_nobody_else_waiting_and_the_family_is_told_their_place_is_held(
    app, racing_app, held_booking, stripe_server
):
    for configured in (app, racing_app):
        configured.config.update(
            STRIPE_TIMEOUT=1.0,
            STRIPE_MAX_RETRIES=1,
            STRIPE_SECRET_KEY=stripe_server.api_key,
            STRIPE_API_BASE=stripe_server.url,
        )
    booking = held_booking()
    booking_id = booking.id
    stripe_server.inject("slow", method="POST", path=CHECKOUT, times=None, seconds=2.5)
    refused: list[str] = []

    def pay():
        with racing_app.app_context():
            try:
                card_checkout.start_checkout(db.session.get(Booking, booking_id))
            except card_checkout.CardUnavailable as error:
                refused.append(error.message)
            finally:
                db.session.remove()

    paying = threading.Thread(target=pay)
    paying.start()
    while ("POST", CHECKOUT) not in stripe_server.hits:
        time.sleep(0.01)
    # While Stripe keeps the first family waiting, another family books on the same course.
    started = time.monotonic()
    other = factories.make_child()
    booking_services.book_places(other.parent, booking.course, [other], accept_terms=True)
    assert time.monotonic() - started < 2.0  # well short of the 2.5 s Stripe takes: nothing waited for it
    paying.join(timeout=30)

    [message] = refused
    assert message.startswith("Card payments are not answering just now. Your place is held until ")
    db.session.refresh(booking)
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    assert booking.hold_expires_at > datetime.now(UTC) + timedelta(minutes=29)
    # Stripe did the work in the end; asking again gets that same session, not a second one.
    stripe_server.clear_faults()
    time.sleep(2)  # let the slow requests finish at Stripe
    url = card_checkout.start_checkout(booking)
    [session] = sessions_for(stripe_server, booking)
    assert url == session["url"]
    [payment] = card_payments(booking)
    assert payment.stripe_checkout_session_id == session["id"]


def test_an_answer_lost_on_every_try_poisons_no_later_checkout(held_booking, stripe_server):
    first, second = held_booking(), held_booking()
    stripe_server.inject("lost", method="POST", path=CHECKOUT, times=None)
    with pytest.raises(card_checkout.CardUnavailable):
        card_checkout.start_checkout(first)
    assert len(sessions_for(stripe_server, first)) == 1  # Stripe made it; we never heard
    stripe_server.clear_faults()
    # Another family's checkout does not collide with the lost one's idempotency key.
    assert card_checkout.start_checkout(second) == open_sessions(stripe_server, second)[0]["url"]
    # The first family, trying again, gets the session the lost request made.
    url = card_checkout.start_checkout(first)
    [session] = sessions_for(stripe_server, first)
    assert url == session["url"]
    assert [p.stripe_checkout_session_id for p in card_payments(first)] == [session["id"]]


def test_a_session_whose_answer_was_lost_is_still_confirmed_when_paid(held_booking, stripe_server, deliver):
    booking = held_booking()
    stripe_server.inject("lost", method="POST", path=CHECKOUT, times=None)
    with pytest.raises(card_checkout.CardUnavailable):
        card_checkout.start_checkout(booking)
    stripe_server.clear_faults()
    [session] = sessions_for(stripe_server, booking)
    stripe_server.complete_session(session["id"])
    assert deliver(last_event(stripe_server, "checkout.session.completed")).json["outcome"] == "confirmed"
    db.session.refresh(booking)
    assert booking.status == BookingStatus.CONFIRMED
    assert card_payments(booking)[0].stripe_checkout_session_id == session["id"]


def test_stripe_down_gives_the_family_a_clear_page_and_keeps_the_place(client, login_as, stripe_server):
    parent = login_as("parent")
    booking = booking_services.book_places(
        parent, factories.make_course(price_pence=4500), [factories.make_child(parent)], accept_terms=True
    )
    stripe_server.inject("down", times=None)
    response = post_form(client, f"/bookings/{booking.id}/pay", {"method": "card"})
    assert response.status_code == 422
    assert "Card payments are not answering just now. Your place is held until" in text(response)
    db.session.refresh(booking)
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    stripe_server.clear_faults()
    response = post_form(client, f"/bookings/{booking.id}/pay", {"method": "card"})
    assert response.status_code == 302 and response.headers["Location"].startswith(stripe_server.url)


def test_after_a_long_outage_a_fresh_session_is_opened_for_a_fresh_hold(held_booking, stripe_server):
    booking = held_booking()
    stripe_server.inject("down", method="POST", path=CHECKOUT, times=None)
    with pytest.raises(card_checkout.CardUnavailable):
        card_checkout.start_checkout(booking)
    stripe_server.clear_faults()
    stripe_server.advance(35 * 60)
    later = datetime.now(UTC) + timedelta(minutes=35)
    url = card_checkout.start_checkout(booking, now=later)
    [session] = open_sessions(stripe_server, booking)
    assert url == session["url"]
    assert [p.status for p in card_payments(booking)] == [PaymentStatus.EXPIRED, PaymentStatus.PENDING]
    db.session.refresh(booking)
    assert booking.status == BookingStatus.AWAITING_PAYMENT and booking.hold_expires_at > later + timedelta(minutes=30)


def test_a_session_about_to_run_out_is_closed_before_another_opens_and_the_place_stays_held(
    held_booking, stripe_server
):
    booking = held_booking(places=1)
    first = card_checkout.start_checkout(booking)
    stripe_server.advance(30 * 60)
    second = card_checkout.start_checkout(booking, now=datetime.now(UTC) + timedelta(minutes=30))
    assert first != second
    [still_open] = open_sessions(stripe_server, booking)
    assert still_open["url"] == second
    db.session.refresh(booking)
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    assert booking_rules.places_left(booking.course, now=datetime.now(UTC) + timedelta(minutes=30)) == 0


def test_clicks_at_once_open_one_session(app, racing_app, held_booking, stripe_server):
    racing_app.config.update(STRIPE_SECRET_KEY=stripe_server.api_key, STRIPE_API_BASE=stripe_server.url)
    booking = held_booking()
    booking_id = booking.id
    start = threading.Barrier(4)
    urls: list[str] = []

    def click():
        with racing_app.app_context():
            start.wait()
            try:
                urls.append(card_checkout.start_checkout(db.session.get(Booking, booking_id)))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(urls) == 4 and len(set(urls)) == 1
    assert len(sessions_for(stripe_server, booking)) == 1
    assert len(card_payments(booking)) == 1


# --- Refunds when Stripe is away -------------------------------------------------------------------


def test_a_late_payment_refund_stripe_cannot_make_is_owed_and_made_by_reconciliation(
    place_gone, stripe_server, deliver
):
    booking, session = place_gone()
    stripe_server.complete_session(session["id"])
    stripe_server.inject("down", method="POST", path="/v1/refunds", times=None)
    assert deliver(last_event(stripe_server, "checkout.session.completed")).json["outcome"] == "refunded-late"
    [refund] = db.session.scalars(db.select(Refund)).all()
    assert (refund.status, refund.stripe_refund_id, refund.amount_pence) == (RefundStatus.PENDING, None, 4500)
    db.session.refresh(booking)
    assert booking.status == BookingStatus.EXPIRED
    assert [f.kind for f in db.session.scalars(db.select(PaymentFlag))] == [FlagKind.LATE_PAYMENT_REFUNDED]
    stripe_server.clear_faults()
    assert stripe_events.reconcile_payments()["refunds"] == 1
    db.session.refresh(refund)
    assert refund.status == RefundStatus.SUCCEEDED
    assert [r["amount"] for r in stripe_server.objects("refund")] == [4500]


def test_a_crash_between_cancelling_and_refunding_leaves_the_refund_owed_not_lost(
    paid_booking, stripe_server, monkeypatch
):
    booking, payment = paid_booking(first_session=datetime.now(UTC) + timedelta(days=30))

    def crash(**kwargs):
        raise RuntimeError("the worker died")

    monkeypatch.setattr(refunds, "send_owed_refunds", crash)
    with pytest.raises(RuntimeError):
        refunds.cancel_booking_and_refund(booking, by=booking.parent)
    monkeypatch.undo()
    db.session.refresh(booking)
    [refund] = db.session.scalars(db.select(Refund)).all()
    assert booking.status == BookingStatus.CANCELLED
    assert (refund.status, refund.amount_pence) == (RefundStatus.PENDING, 4500)
    assert stripe_server.objects("refund") == []
    assert stripe_events.reconcile_payments()["refunds"] == 1
    db.session.refresh(booking)
    assert (booking.amount_paid_pence, booking.amount_refunded_pence) == (0, 4500)
    assert stripe_events.reconcile_payments()["refunds"] == 0
    assert len(stripe_server.objects("refund")) == 1


def test_a_staff_refund_while_stripe_is_down_is_recorded_and_made_later(client, login_as, paid_booking, stripe_server):
    booking, payment = paid_booking()
    login_as("organiser")
    stripe_server.inject("down", method="POST", path="/v1/refunds", times=None)
    response = client.post(
        f"/teach/bookings/{booking.id}/refunds",
        data={**refund_form(client, booking), "amount": "10", "reason": "Missed a session"},
        follow_redirects=True,
    )
    assert "Refund of £10.00 recorded. Stripe is not answering just now" in text(response)
    stripe_server.clear_faults()
    assert stripe_events.reconcile_payments()["refunds"] == 1
    db.session.refresh(booking)
    assert booking.amount_paid_pence == 3500


# --- Delayed payment methods --------------------------------------------------------------------------


def test_a_delayed_payment_keeps_the_place_past_the_card_hold_until_it_settles(
    held_booking, checkout, stripe_server, deliver
):
    booking = held_booking(places=1)
    _, session = checkout(booking)
    stripe_server.complete_session(session["id"], paid=False)
    assert deliver(last_event(stripe_server, "checkout.session.completed")).json["outcome"] == "processing"
    db.session.refresh(booking)
    assert booking.hold_expires_at > datetime.now(UTC) + timedelta(days=13)
    two_hours_on = datetime.now(UTC) + timedelta(hours=2)
    assert booking_holds.expire_holds(now=two_hours_on) == 0
    assert booking_rules.places_left(booking.course, now=two_hours_on) == 0
    stripe_server.async_payment_succeeded(session["id"])
    assert deliver(last_event(stripe_server, "checkout.session.async_payment_succeeded")).json["outcome"] == "confirmed"

from datetime import UTC, datetime, timedelta

import pytest

from instructor_portal.booking import rules as booking_rules
from instructor_portal.booking import services as booking_services
from instructor_portal.booking.models import BookingStatus, PaymentMethod
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from instructor_portal.payments import checkout as card_checkout
from instructor_portal.payments import services
from instructor_portal.payments.models import FlagKind, Payment, PaymentFlag, PaymentStatus, Refund, StripeEvent
from tests import factories
from tests.conftest import post_form
from tests.payments.conftest import expire_hold, last_event


def emails_to(address):
    return db.session.scalars(
        db.select(OutboxEmail).where(OutboxEmail.to_address == address).order_by(OutboxEmail.id)
    ).all()


def subjects_to(address):
    return [email.subject.split(":")[0] for email in emails_to(address)]


#: What a family paying by card gets once: the confirmation and the receipt.
CONFIRMED_AND_RECEIPT = ["Your place is confirmed", "Receipt for £45.00"]


def flags(kind=None):
    query = db.select(PaymentFlag)
    return db.session.scalars(query.where(PaymentFlag.kind == kind) if kind else query).all()


def test_without_stripe_keys_card_is_not_offered_and_the_rest_works(app, client, login_as):
    parent = login_as("parent")
    course = factories.make_course(price_pence=4500)
    child = factories.make_child(parent)
    booking = booking_services.book_places(parent, course, [child], accept_terms=True)
    page = client.get(f"/bookings/{booking.id}/pay").get_data(as_text=True)
    assert 'value="card"' not in page and 'value="pay_at_venue"' in page
    with pytest.raises(services.PaymentError, match="not available"):
        card_checkout.start_checkout(booking)
    assert post_form(client, f"/bookings/{booking.id}/pay", {"method": "pay_at_venue"}).status_code == 302


def test_checkout_session_carries_the_server_side_amount_and_booking(held_booking, checkout, stripe_server):
    booking = held_booking()
    payment, session = checkout(booking)
    assert (session["amount_total"], session["currency"]) == (4500, "gbp")
    assert session["client_reference_id"] == booking.reference
    assert session["metadata"] == {
        "booking_id": str(booking.id),
        "payment_id": str(payment.id),
        "reference": booking.reference,
    }
    assert session["expires_at"] == int(payment.expires_at.timestamp())
    # Stripe needs at least 30 minutes, so the hold for a card payment lasts at least that.
    assert booking.hold_expires_at >= datetime.now(UTC) + timedelta(minutes=30)
    assert payment.status == PaymentStatus.PENDING


def test_a_double_click_opens_one_session(held_booking, stripe_server):
    booking = held_booking()
    first = card_checkout.start_checkout(booking)
    second = card_checkout.start_checkout(booking)
    assert first == second
    assert stripe_server.created_count("checkout.session") == 1
    assert db.session.scalar(db.select(db.func.count(Payment.id))) == 1


def test_paid_webhook_confirms_once_and_a_replay_changes_nothing(held_booking, checkout, stripe_server, deliver):
    booking = held_booking()
    payment, session = checkout(booking)
    stripe_server.complete_session(session["id"])
    event = last_event(stripe_server, "checkout.session.completed")
    response = deliver(event)
    assert (response.status_code, response.json["outcome"]) == (200, "confirmed")
    db.session.refresh(booking)
    assert (booking.status, booking.payment_method, booking.amount_paid_pence) == (
        BookingStatus.CONFIRMED,
        PaymentMethod.CARD,
        4500,
    )
    assert subjects_to(booking.parent.email) == CONFIRMED_AND_RECEIPT
    again = deliver(event, secret="whsec_test_previous")  # rotation: the old secret still verifies
    assert (again.status_code, again.json["outcome"]) == (200, "duplicate")
    db.session.refresh(booking)
    assert booking.amount_paid_pence == 4500
    assert subjects_to(booking.parent.email) == CONFIRMED_AND_RECEIPT
    assert db.session.get(StripeEvent, event["id"]).outcome == "confirmed"


def test_a_bad_signature_is_refused_and_nothing_changes(held_booking, checkout, stripe_server, client):
    booking = held_booking()
    _, session = checkout(booking)
    stripe_server.complete_session(session["id"])
    body, headers = stripe_server.webhook_request(
        last_event(stripe_server, "checkout.session.completed"), "whsec_wrong"
    )
    assert client.post("/stripe/webhook", data=body, headers=headers).status_code == 400
    assert client.post("/stripe/webhook", data=b"{}").status_code == 400
    db.session.refresh(booking)
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    assert db.session.scalar(db.select(db.func.count(StripeEvent.id))) == 0


def test_delayed_payment_confirms_only_when_it_settles(held_booking, checkout, stripe_server, deliver):
    booking = held_booking()
    payment, session = checkout(booking)
    stripe_server.complete_session(session["id"], paid=False)
    assert deliver(last_event(stripe_server, "checkout.session.completed")).json["outcome"] == "processing"
    db.session.refresh(booking)
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    stripe_server.async_payment_succeeded(session["id"])
    assert deliver(last_event(stripe_server, "checkout.session.async_payment_succeeded")).json["outcome"] == "confirmed"
    db.session.refresh(booking)
    assert booking.status == BookingStatus.CONFIRMED


def test_failed_delayed_payment_releases_the_place_and_tells_the_family(held_booking, checkout, stripe_server, deliver):
    booking = held_booking(places=1)
    payment, session = checkout(booking)
    stripe_server.complete_session(session["id"], paid=False)
    deliver(last_event(stripe_server, "checkout.session.completed"))
    stripe_server.async_payment_failed(session["id"])
    assert deliver(last_event(stripe_server, "checkout.session.async_payment_failed")).json["outcome"] == "failed"
    db.session.refresh(booking)
    db.session.refresh(payment)
    assert (booking.status, payment.status) == (BookingStatus.EXPIRED, PaymentStatus.FAILED)
    assert booking_rules.places_left(booking.course) == 1
    [email] = emails_to(booking.parent.email)
    assert email.subject.startswith("Your payment did not go through")
    assert "did not go through, so nothing has been taken" in email.body_text


def test_expired_session_releases_the_hold(held_booking, checkout, stripe_server, deliver):
    booking = held_booking(places=1)
    _, session = checkout(booking)
    stripe_server.expire_session(session["id"])
    assert deliver(last_event(stripe_server, "checkout.session.expired")).json["outcome"] == "expired"
    db.session.refresh(booking)
    assert booking.status == BookingStatus.EXPIRED
    assert booking_rules.places_left(booking.course) == 1


def test_events_out_of_order_still_end_confirmed(held_booking, checkout, stripe_server, deliver):
    booking = held_booking()
    _, session = checkout(booking)
    stripe_server.complete_session(session["id"])
    completed = last_event(stripe_server, "checkout.session.completed")
    # An "expired" event for the same session, delivered first (as a stale copy), must not release the place.
    stale = {**completed, "id": "evt_stale_expired", "type": "checkout.session.expired"}
    assert deliver(stale).json["outcome"] == "confirmed"
    assert deliver(completed).json["outcome"] == "unchanged"
    db.session.refresh(booking)
    assert booking.status == BookingStatus.CONFIRMED
    assert subjects_to(booking.parent.email) == CONFIRMED_AND_RECEIPT


@pytest.mark.parametrize(
    ("tampered", "words"),
    [
        ({"amount_total": 100}, "is for £1.00, not £45.00"),
        ({"currency": "eur"}, "not £45.00"),
        ({"client_reference_id": "SOMEONE"}, "names another booking"),
    ],
)
def test_a_mismatched_payment_is_not_confirmed_but_flagged(
    held_booking, checkout, stripe_server, deliver, tampered, words
):
    booking = held_booking()
    _, session = checkout(booking)
    stripe_server.complete_session(session["id"])
    stripe_server.tamper(session["id"], **tampered)
    response = deliver(last_event(stripe_server, "checkout.session.completed"))
    assert (response.status_code, response.json["outcome"]) == (200, "flagged")
    db.session.refresh(booking)
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    [flag] = flags(FlagKind.MISMATCH)
    assert words in flag.message


def test_a_late_payment_is_confirmed_when_a_place_is_free(held_booking, checkout, stripe_server, deliver):
    booking = held_booking(places=2)
    _, session = checkout(booking)
    expire_hold(booking)
    stripe_server.complete_session(session["id"])
    assert deliver(last_event(stripe_server, "checkout.session.completed")).json["outcome"] == "confirmed-late"
    db.session.refresh(booking)
    assert booking.status == BookingStatus.CONFIRMED
    assert [f.kind for f in flags()] == [FlagKind.LATE_PAYMENT_CONFIRMED]


def test_a_late_payment_is_refunded_when_the_place_has_gone(place_gone, stripe_server, deliver):
    booking, session = place_gone()
    stripe_server.complete_session(session["id"])
    assert deliver(last_event(stripe_server, "checkout.session.completed")).json["outcome"] == "refunded-late"
    db.session.refresh(booking)
    assert booking.status == BookingStatus.EXPIRED
    assert booking_rules.places_left(booking.course) == 0
    [refund] = stripe_server.objects("refund")
    assert refund["amount"] == 4500
    assert db.session.scalars(db.select(Refund)).one().stripe_refund_id == refund["id"]
    assert [f.kind for f in flags()] == [FlagKind.LATE_PAYMENT_REFUNDED]


def test_two_late_payers_for_one_place_one_wins_one_is_refunded(held_booking, checkout, stripe_server, deliver):
    first = held_booking(places=1)
    _, first_session = checkout(first)
    expire_hold(first)
    second = held_booking(course=first.course)
    _, second_session = checkout(second)
    expire_hold(second)
    stripe_server.complete_session(first_session["id"])
    stripe_server.complete_session(second_session["id"])
    outcomes = [deliver(event).json["outcome"] for event in stripe_server.events("checkout.session.completed")]
    assert sorted(outcomes) == ["confirmed-late", "refunded-late"]
    assert booking_rules.places_left(first.course) == 0
    assert len(stripe_server.objects("refund")) == 1


def test_concurrent_duplicate_deliveries_apply_once(app, held_booking, checkout, stripe_server):
    import threading

    booking = held_booking()
    _, session = checkout(booking)
    stripe_server.complete_session(session["id"])
    body, headers = stripe_server.webhook_request(
        last_event(stripe_server, "checkout.session.completed"), "whsec_test_current"
    )
    results = []
    start = threading.Barrier(6)

    def post():
        client = app.test_client()
        start.wait()
        results.append(client.post("/stripe/webhook", data=body, headers=headers).json["outcome"])

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["confirmed"] + ["duplicate"] * 5
    db.session.refresh(booking)
    assert booking.amount_paid_pence == 4500
    assert subjects_to(booking.parent.email) == CONFIRMED_AND_RECEIPT


def test_unknown_events_are_acknowledged_and_ignored(app, stripe_server, deliver):
    event = {"id": "evt_other", "object": "event", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}
    response = deliver(event)
    assert (response.status_code, response.json["outcome"]) == (200, "ignored")


def test_stripe_unreachable_means_503_so_stripe_retries(app, held_booking, checkout, stripe_server, deliver):
    booking = held_booking()
    _, session = checkout(booking)
    stripe_server.complete_session(session["id"])
    event = last_event(stripe_server, "checkout.session.completed")
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"  # nothing listens there
    assert deliver(event).status_code == 503
    assert db.session.get(StripeEvent, event["id"]) is None
    app.config["STRIPE_API_BASE"] = stripe_server.url
    assert deliver(event).json["outcome"] == "confirmed"


def test_returning_from_stripe_confirms_before_the_webhook(client, login_as, stripe_server):
    parent = login_as("parent")
    booking = booking_services.book_places(
        parent, factories.make_course(price_pence=4500), [factories.make_child(parent)], accept_terms=True
    )
    response = post_form(client, f"/bookings/{booking.id}/pay", {"method": "card"})
    assert response.status_code == 302 and response.headers["Location"].startswith(stripe_server.url)
    waiting = client.get(f"/bookings/{booking.id}/paid").get_data(as_text=True)
    assert "Confirming your payment" in waiting
    session = stripe_server.objects("checkout.session")[0]
    stripe_server.complete_session(session["id"])
    response = client.get(f"/bookings/{booking.id}/paid")
    assert response.headers["Location"] == f"/account/bookings/{booking.id}"
    db.session.refresh(booking)
    assert booking.status == BookingStatus.CONFIRMED


def test_going_back_from_stripe_keeps_the_place_until_the_family_lets_it_go(client, login_as, stripe_server):
    parent = login_as("parent")
    course = factories.make_course(price_pence=4500, places=1)
    booking = booking_services.book_places(parent, course, [factories.make_child(parent)], accept_terms=True)
    post_form(client, f"/bookings/{booking.id}/pay", {"method": "card"})
    back = client.get(f"/bookings/{booking.id}/payment-cancelled").get_data(as_text=True)
    assert "We are still holding your place until" in back and "Let my place go" in back
    assert booking_rules.places_left(course) == 0  # a link (even from another site) changes nothing
    assert stripe_server.objects("checkout.session")[0]["status"] == "open"
    page = post_form(client, f"/bookings/{booking.id}/payment-cancelled").get_data(as_text=True)
    assert "Nothing was taken from your card, and we have let your place go" in page
    assert stripe_server.objects("checkout.session")[0]["status"] == "expired"
    db.session.refresh(booking)
    assert booking.status == BookingStatus.EXPIRED
    assert booking_rules.places_left(course) == 1


def test_another_familys_payment_pages_are_not_found(client, login_as, held_booking):
    booking = held_booking()
    login_as("parent")
    assert client.get(f"/bookings/{booking.id}/paid").status_code == 404
    assert client.get(f"/bookings/{booking.id}/payment-cancelled").status_code == 404

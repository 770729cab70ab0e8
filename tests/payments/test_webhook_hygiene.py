"""The webhook refuses what is not Stripe's, ignores what is not ours, and says "try later" only when later could help."""

import json
import logging
import time

import pytest
import stripe

from instructor_portal.booking.models import BookingStatus
from instructor_portal.extensions import db
from instructor_portal.payments.models import PaymentFlag, StripeEvent
from tests.conftest import count, lock_held_elsewhere
from tests.payments.conftest import last_event
from tests.stripe_helpers import sign_webhook


@pytest.fixture
def completed(held_booking, checkout, stripe_server):
    """A booking whose Checkout was paid at Stripe, and Stripe's event saying so, not yet delivered."""
    booking = held_booking()
    _, session = checkout(booking)
    stripe_server.complete_session(session["id"])
    return booking, last_event(stripe_server, "checkout.session.completed")


def post_signed(client, body: bytes, *, timestamp: int | None = None, secret: str = "whsec_test_current"):
    headers = {"Content-Type": "application/json", "Stripe-Signature": sign_webhook(body, secret, timestamp)}
    return client.post("/stripe/webhook", data=body, headers=headers)


@pytest.mark.parametrize(
    ("seconds", "words"), [(-600, "seconds ago"), (600, "seconds ahead")], ids=["too old", "from the future"]
)
def test_a_signature_outside_the_time_tolerance_is_refused_and_logged(client, completed, caplog, seconds, words):
    booking, event = completed
    caplog.set_level(logging.WARNING)
    response = post_signed(client, json.dumps(event).encode(), timestamp=int(time.time()) + seconds)
    assert (response.status_code, response.json["reason"]) == (400, "timestamp")
    assert words in response.json["error"]
    assert "Stripe webhook refused (timestamp)" in caplog.text
    db.session.refresh(booking)
    assert booking.status == BookingStatus.AWAITING_PAYMENT and count(StripeEvent) == 0


@pytest.mark.parametrize(
    ("body", "header", "reason"),
    [
        (b'{"id": "evt_1"}', "t=1,v1=abc", "timestamp"),
        (b'{"id": "evt_1"}', "v1=abc", "signature"),
        (b"not json", None, "payload"),
        (b'{"hello": "world"}', None, "payload"),
    ],
    ids=["ancient", "no timestamp", "not json", "not an event"],
)
def test_bodies_that_are_not_stripe_events_are_refused_with_their_reason(
    client, stripe_server, caplog, body, header, reason
):
    caplog.set_level(logging.WARNING)
    headers = {"Stripe-Signature": header or sign_webhook(body, "whsec_test_current")}
    response = client.post("/stripe/webhook", data=body, headers=headers)
    assert (response.status_code, response.json["reason"]) == (400, reason)
    assert f"Stripe webhook refused ({reason})" in caplog.text


def test_a_wrong_signature_is_refused_and_logged(client, completed, caplog):
    _, event = completed
    caplog.set_level(logging.WARNING)
    response = post_signed(client, json.dumps(event).encode(), secret="whsec_someone_else")
    assert (response.status_code, response.json["reason"]) == (400, "signature")
    assert "Stripe webhook refused (signature)" in caplog.text


def test_an_event_from_the_other_mode_is_acknowledged_but_not_acted_on(client, completed, caplog):
    booking, event = completed
    caplog.set_level(logging.WARNING)
    response = post_signed(client, json.dumps({**event, "livemode": True}).encode())
    assert (response.status_code, response.json["outcome"]) == (200, "ignored")
    assert "is from live mode" in caplog.text
    db.session.refresh(booking)
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    assert post_signed(client, json.dumps(event).encode()).json["outcome"] == "confirmed"


def test_a_session_that_is_not_ours_is_acknowledged_logged_and_not_flagged(client, stripe_server, caplog):
    caplog.set_level(logging.INFO)
    someone_else = stripe.StripeClient(stripe_server.api_key, base_addresses={"api": stripe_server.url})
    session = someone_else.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "success_url": "https://shop.example/ok",
            "metadata": {"order": "42"},
            "line_items": [
                {"quantity": 1, "price_data": {"currency": "gbp", "unit_amount": 999, "product_data": {"name": "Mug"}}}
            ],
        }
    )
    stripe_server.complete_session(session.id)
    response = post_signed(client, json.dumps(last_event(stripe_server, "checkout.session.completed")).encode())
    assert (response.status_code, response.json["outcome"]) == (200, "ignored")
    assert "is not one of ours" in caplog.text
    assert count(PaymentFlag) == 0


def test_a_signed_event_without_an_object_is_acknowledged_and_ignored(client, stripe_server):
    event = {"id": "evt_empty", "object": "event", "type": "checkout.session.completed", "data": {}}
    response = post_signed(client, json.dumps(event).encode())
    assert (response.status_code, response.json["outcome"]) == (200, "ignored")


def test_a_booking_busy_elsewhere_gets_503_with_retry_after_and_the_redelivery_applies(client, completed):
    booking, event = completed
    body = json.dumps(event).encode()
    with lock_held_elsewhere("bookings", booking.id):
        response = post_signed(client, body)
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert count(StripeEvent) == 0
    assert post_signed(client, body).json["outcome"] == "confirmed"
    db.session.refresh(booking)
    assert booking.status == BookingStatus.CONFIRMED

"""The fake Stripe server, driven through the real stripe library as the payments code will drive it."""

from __future__ import annotations

import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor
from email.message import Message
from urllib.parse import urlencode, urlsplit

import pytest
import stripe

from tests.stripe_server import FakeStripe, StripeApiError, parse_params

SECRETS = ["whsec_test_current", "whsec_test_previous"]


@pytest.fixture
def fake(_fake_stripe) -> FakeStripe:
    _fake_stripe.reset()
    return _fake_stripe


@pytest.fixture
def stripe_client(fake) -> stripe.StripeClient:
    return stripe.StripeClient(fake.api_key, base_addresses={"api": fake.url}, max_network_retries=0)


def session_params(**overrides) -> dict:
    params = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 2,
                "price_data": {"currency": "GBP", "unit_amount": 4500, "product_data": {"name": "Baby massage"}},
            }
        ],
        "client_reference_id": "booking-7",
        "metadata": {"booking_id": "7"},
        "customer_email": "parent@example.org",
        "success_url": "https://portal.test/bookings/7/paid?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://portal.test/bookings/7/pay",
        "payment_intent_data": {"metadata": {"booking_id": "7"}},
    }
    return params | overrides


def raw_request(url: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None):
    """Speak HTTP without the library, to see status codes, headers and redirects as sent."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        connection.request(method, parts.path, body=body, headers=headers or {})
        response = connection.getresponse()
        result: tuple[int, Message, bytes] = (response.status, response.headers, response.read())
    finally:
        connection.close()
    return result


def paid_payment_intent(stripe_client, fake) -> str:
    session = stripe_client.v1.checkout.sessions.create(session_params())
    return fake.complete_session(session.id)["payment_intent"]


def test_parse_params_builds_nested_dicts_and_lists():
    pairs = [
        ("line_items[0][price_data][unit_amount]", "4500"),
        ("line_items[1][quantity]", "2"),
        ("metadata[0]", "digits stay a key"),
        ("expand[]", "payment_intent"),
        ("expand[]", "payment_intent.latest_charge"),
        ("created[gte]", "100"),
    ]

    assert parse_params(pairs) == {
        "line_items": [{"price_data": {"unit_amount": "4500"}}, {"quantity": "2"}],
        "metadata": {"0": "digits stay a key"},
        "expand": ["payment_intent", "payment_intent.latest_charge"],
        "created": {"gte": "100"},
    }


def test_created_session_reads_back_the_same(stripe_client, fake):
    created = stripe_client.v1.checkout.sessions.create(session_params())

    session = stripe_client.v1.checkout.sessions.retrieve(created.id)

    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert (session.status, session.payment_status, session.payment_intent) == ("open", "unpaid", None)
    assert (session.amount_subtotal, session.amount_total, session.currency) == (9000, 9000, "gbp")
    assert session.client_reference_id == "booking-7"
    assert session.metadata.to_dict() == {"booking_id": "7"}
    assert session.customer_email == "parent@example.org"
    assert session.url == f"{fake.url}/pay/{session.id}"
    assert session.expires_at == session.created + 24 * 60 * 60
    assert session.livemode is False


def test_unknown_session_is_resource_missing(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.checkout.sessions.retrieve("cs_test_nope")

    assert (raised.value.http_status, raised.value.code) == (404, "resource_missing")


def test_unknown_parameter_is_refused(stripe_client):
    with pytest.raises(stripe.InvalidRequestError, match="Received unknown parameter: line_items\\[0\\]\\[price\\]"):
        stripe_client.v1.checkout.sessions.create(session_params(line_items=[{"price": "price_123", "quantity": 1}]))


def test_same_idempotency_key_returns_the_stored_session(stripe_client, fake):
    first = stripe_client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "book-7"})
    second = stripe_client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "book-7"})

    assert second.id == first.id
    assert second.last_response.headers["Idempotent-Replayed"] == "true"
    assert fake.created_count("checkout.session") == 1


def test_a_concurrent_double_click_creates_one_session(stripe_client, fake):
    def book(_):
        return stripe_client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "book-7"}).id

    with ThreadPoolExecutor(max_workers=2) as pool:
        ids = set(pool.map(book, range(2)))

    assert len(ids) == 1
    assert fake.created_count("checkout.session") == 1


def test_same_idempotency_key_with_other_parameters_is_an_idempotency_error(stripe_client, fake):
    stripe_client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "book-7"})

    with pytest.raises(stripe.IdempotencyError):
        stripe_client.v1.checkout.sessions.create(
            session_params(client_reference_id="booking-8"), {"idempotency_key": "book-7"}
        )

    assert fake.created_count("checkout.session") == 1


@pytest.mark.parametrize(
    ("lifetime", "accepted"), [(29 * 60, False), (30 * 60, True), (24 * 3600, True), (24 * 3600 + 60, False)]
)
def test_expires_at_must_be_between_30_minutes_and_24_hours(stripe_client, fake, lifetime, accepted):
    params = session_params(expires_at=fake.now() + lifetime)

    if accepted:
        assert stripe_client.v1.checkout.sessions.create(params).status == "open"
        return
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.checkout.sessions.create(params)
    assert raised.value.param == "expires_at"
    assert fake.created_count("checkout.session") == 0


def test_completing_a_session_pays_it_and_emits_a_snapshot(stripe_client, fake):
    session = stripe_client.v1.checkout.sessions.create(session_params())

    fake.complete_session(session.id)
    fake.tamper(session.id, amount_total=1)

    [event] = fake.events("checkout.session.completed")
    snapshot = event["data"]["object"]
    assert event["id"].startswith("evt_") and event["object"] == "event"
    assert (event["api_version"], event["livemode"], event["pending_webhooks"]) == (stripe.api_version, False, 1)
    assert (snapshot["status"], snapshot["payment_status"], snapshot["amount_total"]) == ("complete", "paid", 9000)
    paid = stripe_client.v1.checkout.sessions.retrieve(session.id, {"expand": ["payment_intent.latest_charge"]})
    assert paid.amount_total == 1  # the tampered session, while the event kept its snapshot
    assert paid.payment_intent.id == snapshot["payment_intent"]
    assert (paid.payment_intent.status, paid.payment_intent.amount_received) == ("succeeded", 9000)
    assert paid.payment_intent.metadata.to_dict() == {"booking_id": "7"}
    assert (paid.payment_intent.latest_charge.status, paid.payment_intent.latest_charge.paid) == ("succeeded", True)


def test_a_delayed_payment_succeeds_later(stripe_client, fake):
    session = stripe_client.v1.checkout.sessions.create(session_params(payment_method_types=["bacs_debit"]))

    completed = fake.complete_session(session.id, paid=False)

    assert (completed["status"], completed["payment_status"]) == ("complete", "unpaid")
    assert stripe_client.v1.payment_intents.retrieve(completed["payment_intent"]).status == "processing"
    with pytest.raises(stripe.InvalidRequestError, match="does not have a successful charge"):
        stripe_client.v1.refunds.create({"payment_intent": completed["payment_intent"]})

    fake.async_payment_succeeded(session.id)

    [event] = fake.events("checkout.session.async_payment_succeeded")
    assert event["data"]["object"]["payment_status"] == "paid"
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"
    assert stripe_client.v1.payment_intents.retrieve(completed["payment_intent"]).status == "succeeded"


def test_a_delayed_payment_can_fail(stripe_client, fake):
    session = stripe_client.v1.checkout.sessions.create(session_params(payment_method_types=["sepa_debit"]))
    completed = fake.complete_session(session.id, paid=False)

    fake.async_payment_failed(session.id)

    [event] = fake.events("checkout.session.async_payment_failed")
    assert (event["data"]["object"]["status"], event["data"]["object"]["payment_status"]) == ("complete", "unpaid")
    intent = stripe_client.v1.payment_intents.retrieve(completed["payment_intent"], {"expand": ["latest_charge"]})
    assert (intent.status, intent.latest_charge.status) == ("requires_payment_method", "failed")
    with pytest.raises(StripeApiError, match="no payment still processing"):
        fake.async_payment_succeeded(session.id)


def test_expiring_an_open_session_emits_expired(stripe_client, fake):
    session = stripe_client.v1.checkout.sessions.create(session_params())

    expired = stripe_client.v1.checkout.sessions.expire(session.id)

    assert (expired.status, expired.url) == ("expired", None)
    [event] = fake.events("checkout.session.expired")
    assert event["data"]["object"]["id"] == session.id


def test_a_session_expires_on_its_own_when_the_clock_passes_expires_at(stripe_client, fake):
    session = stripe_client.v1.checkout.sessions.create(session_params(expires_at=fake.now() + 3600))

    fake.advance(3599)
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).status == "open"
    fake.advance(1)

    assert stripe_client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    assert [event["type"] for event in fake.events()] == ["checkout.session.expired"]
    with pytest.raises(StripeApiError, match="is expired and cannot be paid"):
        fake.complete_session(session.id)


@pytest.mark.parametrize(
    "finish", [FakeStripe.complete_session, FakeStripe.expire_session], ids=["complete", "expired"]
)
def test_only_an_open_session_can_be_expired(stripe_client, fake, finish):
    session = stripe_client.v1.checkout.sessions.create(session_params())
    finish(fake, session.id)

    with pytest.raises(stripe.InvalidRequestError, match='Only Checkout Sessions with a status in \\["open"\\]'):
        stripe_client.v1.checkout.sessions.expire(session.id)


def test_sessions_list_filters_newest_first(stripe_client, fake):
    older = stripe_client.v1.checkout.sessions.create(session_params())
    fake.advance(60)
    since = fake.now()
    paid = stripe_client.v1.checkout.sessions.create(session_params())
    newest = stripe_client.v1.checkout.sessions.create(session_params())
    intent_id = fake.complete_session(paid.id)["payment_intent"]

    def ids(params):
        return [session.id for session in stripe_client.v1.checkout.sessions.list(params).data]

    assert ids({}) == [newest.id, paid.id, older.id]
    assert ids({"status": "open"}) == [newest.id, older.id]
    assert ids({"payment_intent": intent_id}) == [paid.id]
    assert ids({"created": {"gte": since}}) == [newest.id, paid.id]
    assert ids({"limit": 1, "starting_after": newest.id}) == [paid.id]


def test_events_list_filters_and_pages_newest_first(stripe_client, fake):
    first, second, third = (stripe_client.v1.checkout.sessions.create(session_params()) for _ in range(3))
    fake.complete_session(first.id)
    fake.expire_session(second.id)
    fake.advance(60)
    since = fake.now()
    fake.complete_session(third.id, paid=False)
    fake.async_payment_succeeded(third.id)
    emitted = [event["id"] for event in reversed(fake.events())]

    page = stripe_client.v1.events.list({"limit": 2})
    following = stripe_client.v1.events.list({"limit": 2, "starting_after": page.data[-1].id})

    assert [event.id for event in page.data] == emitted[:2] and page.has_more
    assert [event.id for event in following.data] == emitted[2:] and not following.has_more
    assert [event.id for event in stripe_client.v1.events.list({"limit": 1}).auto_paging_iter()] == emitted
    completed = stripe_client.v1.events.list({"type": "checkout.session.completed"})
    assert [event.data.object.id for event in completed.data] == [third.id, first.id]
    assert len(stripe_client.v1.events.list({"type": "checkout.session.*"}).data) == 4
    types = ["checkout.session.expired", "checkout.session.async_payment_succeeded"]
    some = stripe_client.v1.events.list({"types": types})
    assert [event.type for event in some.data] == list(reversed(types))
    assert [event.id for event in stripe_client.v1.events.list({"created": {"gte": since}}).data] == emitted[:2]
    assert stripe_client.v1.events.retrieve(emitted[-1]).type == "checkout.session.completed"


def test_a_partial_refund_then_the_rest(stripe_client, fake):
    intent_id = paid_payment_intent(stripe_client, fake)

    partial = stripe_client.v1.refunds.create(
        {"payment_intent": intent_id, "amount": 2000, "reason": "requested_by_customer"}
    )
    rest = stripe_client.v1.refunds.create({"payment_intent": intent_id, "metadata": {"booking_id": "7"}})

    assert partial.id.startswith("re_") and partial.object == "refund"
    assert (partial.status, partial.amount, partial.currency) == ("succeeded", 2000, "gbp")
    assert partial.reason == "requested_by_customer"
    assert rest.amount == 7000
    charge = stripe_client.v1.charges.retrieve(partial.charge)
    assert (charge.amount_refunded, charge.refunded) == (9000, True)
    assert [event["data"]["object"]["amount_refunded"] for event in fake.events("charge.refunded")] == [2000, 9000]
    assert [event["data"]["object"]["id"] for event in fake.events("refund.created")] == [partial.id, rest.id]
    listed = stripe_client.v1.refunds.list({"payment_intent": intent_id})
    assert [refund.id for refund in listed.data] == [rest.id, partial.id]
    assert stripe_client.v1.refunds.retrieve(partial.id).amount == 2000
    with pytest.raises(stripe.InvalidRequestError) as raised:
        stripe_client.v1.refunds.create({"payment_intent": intent_id})
    assert raised.value.code == "charge_already_refunded"


def test_a_refund_above_the_unrefunded_amount_is_refused(stripe_client, fake):
    intent_id = paid_payment_intent(stripe_client, fake)
    stripe_client.v1.refunds.create({"payment_intent": intent_id, "amount": 5000})

    with pytest.raises(stripe.InvalidRequestError, match="greater than unrefunded amount") as raised:
        stripe_client.v1.refunds.create({"payment_intent": intent_id, "amount": 4001})

    assert raised.value.param == "amount"
    assert fake.created_count("refund") == 1


def test_a_wrong_api_key_is_an_authentication_error(fake):
    wrong = stripe.StripeClient("sk_test_wrong", base_addresses={"api": fake.url}, max_network_retries=0)

    with pytest.raises(stripe.AuthenticationError):
        wrong.v1.checkout.sessions.list()


def test_a_missing_api_key_gets_stripes_error_shape(fake):
    status, _, body = raw_request(f"{fake.url}/v1/checkout/sessions")

    assert status == 401
    assert json.loads(body)["error"]["type"] == "invalid_request_error"


def test_the_checkout_page_pays_and_returns_to_success_url(stripe_client, fake):
    session = stripe_client.v1.checkout.sessions.create(session_params())
    status, _, page = raw_request(session.url)
    assert status == 200 and b"90.00 GBP" in page

    status, headers, _ = raw_request(
        session.url,
        "POST",
        urlencode({"action": "pay"}).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert status == 303
    assert headers["Location"] == f"https://portal.test/bookings/7/paid?session={session.id}"
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"


@pytest.mark.parametrize("secret", SECRETS)
def test_webhook_request_verifies_with_stripes_own_check(stripe_client, fake, secret):
    session = stripe_client.v1.checkout.sessions.create(session_params())
    fake.complete_session(session.id)
    [event] = fake.events("checkout.session.completed")

    body, headers = fake.webhook_request(event, secret)

    assert headers["Content-Type"] == "application/json"
    verified = stripe_client.construct_event(body, headers["Stripe-Signature"], secret)
    assert (verified.id, verified.type, verified.data.object.id) == (event["id"], event["type"], session.id)
    [other] = set(SECRETS) - {secret}
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, headers["Stripe-Signature"], other)


def test_a_tampered_or_old_webhook_fails_verification(fake):
    event = {"id": "evt_1", "object": "event", "type": "charge.refunded", "data": {"object": {"amount_refunded": 9000}}}
    body, headers = fake.webhook_request(event, SECRETS[0])
    old_body, old_headers = fake.webhook_request(event, SECRETS[0], timestamp=int(time.time()) - 600)

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body.replace(b"9000", b"1"), headers["Stripe-Signature"], SECRETS[0])
    with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
        stripe.Webhook.construct_event(old_body, old_headers["Stripe-Signature"], SECRETS[0])


def test_stripe_server_fixture_points_the_app_at_the_fake(app, stripe_server):
    assert app.config["STRIPE_SECRET_KEY"] == stripe_server.api_key
    assert app.config["STRIPE_API_BASE"] == stripe_server.url
    assert app.config["STRIPE_WEBHOOK_SECRETS"] == SECRETS
    assert stripe_server.objects("checkout.session") == []

"""The staff booking page: who sees it, recording money received, refunding; and the family's view of it."""

import re
import uuid
from datetime import timedelta

import pytest

from instructor_portal.booking import rules as booking_rules
from instructor_portal.booking.models import BookingStatus, PaymentMethod
from instructor_portal.extensions import db
from instructor_portal.organisation import DEFAULTS, Organisation, local_today
from instructor_portal.payments import refunds, services
from instructor_portal.payments.models import Payment, Refund
from tests import factories
from tests.conftest import count, csrf_token_from, post_form, text

REQUEST_KEY = re.compile(r'id="refund-request-key"[^>]*value="([^"]+)"')
PAYMENT_KEY = re.compile(r'id="payment-request-key"[^>]*value="([^"]+)"')


def new_key() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def owner(app):
    return factories.make_user(role="instructor")


@pytest.fixture
def booking(owner):
    """A confirmed £45 booking to be paid by bank transfer, nothing paid yet."""
    course = factories.make_course(instructor=owner, price_pence=4500)
    return factories.make_booking(course, payment_method=PaymentMethod.BANK_TRANSFER)


def allow_instructor_refunds() -> None:
    db.session.add(Organisation(**{**DEFAULTS, "allow_instructor_refunds": True}))
    db.session.commit()


def refund_form(client, booking) -> dict:
    """The refund form's hidden values as the staff page renders them: CSRF token, payment and one-time key."""
    page = text(client.get(f"/teach/bookings/{booking.id}"))
    payment = re.search(r'name="payment" value="(\d+)"', page)
    return {
        "csrf_token": csrf_token_from(page),
        "request_key": REQUEST_KEY.search(page).group(1),
        "payment": payment.group(1),
    }


# Who may see and use the page

WHO = [
    ("anonymous", 302),
    ("parent", 403),
    ("the family", 403),
    ("another instructor", 404),
    ("owner", 200),
    ("organiser", 200),
]


def sign_in(login_as, who: str, booking) -> None:
    if who == "owner":
        login_as(booking.course.instructor)
    elif who == "the family":
        login_as(booking.parent)
    elif who == "another instructor":
        login_as("instructor")
    elif who != "anonymous":
        login_as(who)


def test_sending_the_record_form_twice_records_once(client, login_as, booking):
    login_as(booking.course.instructor)
    page = text(client.get(f"/teach/bookings/{booking.id}"))
    data = {
        "csrf_token": csrf_token_from(page),
        "request_key": PAYMENT_KEY.search(page).group(1),
        "amount": "10",
        "method": "pay_at_venue",
        "received_on": local_today().isoformat(),
    }
    assert [client.post(f"/teach/bookings/{booking.id}/payments", data=data).status_code for _ in range(2)] == [
        302,
        302,
    ]
    assert count(Payment) == 1
    db.session.refresh(booking)
    assert booking.amount_paid_pence == 1000


@pytest.mark.parametrize(("who", "status"), WHO)
def test_only_the_courses_instructor_and_organisers_see_the_booking_page(client, login_as, booking, who, status):
    sign_in(login_as, who, booking)
    response = client.get(f"/teach/bookings/{booking.id}")
    assert response.status_code == status
    if status == 302:
        assert "/login" in response.headers["Location"]
    if status == 200:
        assert booking.reference in text(response)


@pytest.mark.parametrize("action", ["payments", "refunds"])
@pytest.mark.parametrize(("who", "status"), [w for w in WHO if w[1] != 200])
def test_others_cannot_post_money_forms(client, login_as, booking, action, who, status):
    sign_in(login_as, who, booking)
    data = {
        "amount": "45",
        "method": "bank_transfer",
        "received_on": local_today().isoformat(),
        "reason": "x",
        "payment": "1",
    }
    response = post_form(
        client, f"/teach/bookings/{booking.id}/{action}", data, page="/login" if who == "anonymous" else "/"
    )
    assert response.status_code == status
    assert count(Payment) == 0


def test_the_page_shows_the_booking_with_its_family_and_discount(client, login_as, owner):
    course = factories.make_course(instructor=owner, price_pence=4500)
    parent = factories.make_user(full_name="Sam Carer", phone="0117 496 0000")
    booking = factories.make_booking(course, [factories.make_child(parent, first_name="Ada")], discount_pence=1000)
    login_as("organiser")
    page = text(client.get(f"/teach/bookings/{booking.id}"))
    for shown in (
        booking.reference,
        course.title,
        "Sam Carer",
        "0117 496 0000",
        "Ada",
        "Confirmed",
        "£55.00",
        "£45.00",
        "No payments yet.",
    ):
        assert shown in page


def test_unknown_booking_is_a_friendly_404(client, login_as):
    login_as("organiser")
    assert client.get("/teach/bookings/424242").status_code == 404
    assert client.get("/teach/bookings/99999999999999999999").status_code == 404


def test_each_roster_row_links_to_the_money_page(client, login_as, booking):
    login_as(booking.course.instructor)
    page = text(client.get(f"/teach/courses/{booking.course_id}"))
    assert f'href="/teach/bookings/{booking.id}"' in page


# Recording money received


def test_the_instructor_records_a_bank_transfer(client, login_as, booking):
    login_as(booking.course.instructor)
    page = text(client.get(f"/teach/bookings/{booking.id}"))
    assert "Record a payment" in page and 'value="45.00"' in page
    yesterday = local_today() - timedelta(days=1)
    response = post_form(
        client,
        f"/teach/bookings/{booking.id}/payments",
        {
            "amount": "20.50",
            "method": "bank_transfer",
            "received_on": yesterday.isoformat(),
            "note": "Ref on statement",
            "request_key": new_key(),
        },
        page=f"/teach/bookings/{booking.id}",
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/teach/bookings/{booking.id}")
    payment = db.session.scalars(db.select(Payment)).one()
    assert (payment.amount_pence, payment.method, payment.received_on, payment.recorded_by_id, payment.note) == (
        2050,
        PaymentMethod.BANK_TRANSFER,
        yesterday,
        booking.course.instructor_id,
        "Ref on statement",
    )
    db.session.refresh(booking)
    assert (booking.amount_paid_pence, booking.amount_due_pence) == (2050, 2450)
    after = text(client.get(f"/teach/bookings/{booking.id}"))
    assert "£20.50 recorded as received." in after
    assert "Ref on statement" in after and 'value="24.50"' in after


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": "0"}, "Enter an amount of more than 0."),
        ({"amount": "-5"}, "Enter an amount of more than 0."),
        ({"amount": "12.345"}, "Enter an amount such as 45 or 45.50."),
        ({"amount": ""}, "Enter the amount received."),
        ({"amount": "45.01"}, "Only £45.00 is due on this booking."),
        ({"received_on": "tomorrow"}, "The date received cannot be in the future."),
        ({"received_on": ""}, "Enter the date the money arrived."),
        ({"method": "cash"}, "Choose pay at the first session or bank transfer."),
        ({"method": "card"}, "Choose pay at the first session or bank transfer."),
    ],
)
def test_bad_payment_input_is_refused_and_changes_nothing(client, login_as, booking, changes, message):
    login_as("organiser")
    data = {"amount": "45", "method": "pay_at_venue", "received_on": local_today().isoformat(), "note": ""}
    if changes.get("received_on") == "tomorrow":
        changes = {"received_on": (local_today() + timedelta(days=1)).isoformat()}
    response = post_form(
        client,
        f"/teach/bookings/{booking.id}/payments",
        {**data, "request_key": new_key(), **changes},
        page=f"/teach/bookings/{booking.id}",
    )
    assert response.status_code == 422
    assert message in text(response).replace("&#39;", "'")
    assert count(Payment) == 0
    db.session.refresh(booking)
    assert booking.amount_paid_pence == 0


def test_money_is_recorded_only_against_a_confirmed_booking(client, login_as, owner):
    held = factories.make_booking(factories.make_course(instructor=owner), status=BookingStatus.AWAITING_PAYMENT)
    login_as(owner)
    assert "Record a payment" not in text(client.get(f"/teach/bookings/{held.id}"))
    response = post_form(
        client,
        f"/teach/bookings/{held.id}/payments",
        {"amount": "45", "method": "pay_at_venue", "received_on": local_today().isoformat(), "request_key": new_key()},
        page=f"/teach/bookings/{held.id}",
    )
    assert response.status_code == 422
    assert "Only confirmed bookings can be marked as paid." in text(response)
    assert count(Payment) == 0


def test_no_payment_form_once_everything_is_paid(client, login_as, booking):
    organiser = login_as("organiser")
    services.record_offline_payment(
        booking, by=organiser, amount_pence=4500, method=PaymentMethod.BANK_TRANSFER, received_on=local_today()
    )
    page = text(client.get(f"/teach/bookings/{booking.id}"))
    assert "Record a payment" not in page
    response = post_form(
        client,
        f"/teach/bookings/{booking.id}/payments",
        {"amount": "1", "method": "pay_at_venue", "received_on": local_today().isoformat(), "request_key": new_key()},
        page=f"/teach/bookings/{booking.id}",
    )
    assert response.status_code == 422
    assert "Only £0.00 is due on this booking." in text(response)
    assert count(Payment) == 1


# Refunds through the page


def test_a_full_refund_cancels_the_booking_and_frees_the_place(client, login_as, paid_booking, stripe_server):
    booking, payment = paid_booking()
    login_as("organiser")
    page = text(client.get(f"/teach/bookings/{booking.id}"))
    assert "At most £45.00 can be refunded" in page and "cancels the booking and frees the place" in page
    assert 'id="refund-amount"' in page and 'value="45.00"' in page
    response = client.post(
        f"/teach/bookings/{booking.id}/refunds",
        data={**refund_form(client, booking), "amount": "45.00", "reason": "Family moved away"},
    )
    assert response.status_code == 302
    db.session.refresh(booking)
    assert (booking.status, booking.amount_paid_pence) == (BookingStatus.CANCELLED, 0)
    assert booking_rules.places_left(booking.course) == booking.course.places
    assert [refund["amount"] for refund in stripe_server.objects("refund")] == [4500]
    after = text(client.get(f"/teach/bookings/{booking.id}"))
    assert "£45.00 refunded." in after and "Family moved away" in after
    assert "At most" not in after  # nothing left to refund, so no form


def test_a_part_refund_leaves_the_booking_as_it_is(client, login_as, paid_booking, stripe_server):
    booking, payment = paid_booking()
    organiser = login_as("organiser")
    response = client.post(
        f"/teach/bookings/{booking.id}/refunds",
        data={**refund_form(client, booking), "amount": "15", "reason": "Missed a session"},
    )
    assert response.status_code == 302
    db.session.refresh(booking)
    assert (booking.status, booking.amount_paid_pence) == (BookingStatus.CONFIRMED, 3000)
    refund = db.session.scalars(db.select(Refund)).one()
    assert (refund.amount_pence, refund.requested_by_id, refund.reason) == (1500, organiser.id, "Missed a session")
    assert "At most £30.00 can be refunded" in text(client.get(f"/teach/bookings/{booking.id}"))


def test_refunding_more_than_was_paid_is_refused_before_stripe_hears_of_it(
    client, login_as, paid_booking, stripe_server
):
    booking, payment = paid_booking()
    login_as("organiser")
    form = refund_form(client, booking)
    response = client.post(
        f"/teach/bookings/{booking.id}/refunds", data={**form, "amount": "45.01", "reason": "Too much"}
    )
    assert response.status_code == 422
    page = text(response)
    assert "At most £45.00 of this payment can still be refunded." in page
    assert form["request_key"] not in page  # a fresh key, so the corrected form is a new request
    assert stripe_server.objects("refund") == []
    assert count(Refund) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": "0"}, "Enter an amount of more than 0."),
        ({"amount": "-10"}, "Enter an amount of more than 0."),
        ({"amount": "ten"}, "Enter an amount such as 45 or 45.50."),
        ({"reason": "   "}, "Say why you are refunding."),
        ({"request_key": ""}, "This form has expired."),
        ({"request_key": "late-payment-1"}, "This form has expired."),
        ({"payment": "999999"}, "Choose a payment from the list."),
        ({"payment": "99999999999999999999"}, "Choose a payment from the list."),
    ],
)
def test_bad_refund_input_is_refused_and_changes_nothing(
    client, login_as, paid_booking, stripe_server, changes, message
):
    booking, payment = paid_booking()
    login_as("organiser")
    data = {**refund_form(client, booking), "amount": "10", "reason": "Goodwill", **changes}
    response = client.post(f"/teach/bookings/{booking.id}/refunds", data=data)
    assert response.status_code == 422
    assert message in text(response)
    assert count(Refund) == 0 and stripe_server.objects("refund") == []


def test_a_payment_of_another_booking_cannot_be_refunded_from_this_one(client, login_as, paid_booking, stripe_server):
    booking, _ = paid_booking()
    _, other_payment = paid_booking()
    login_as("organiser")
    data = {**refund_form(client, booking), "payment": str(other_payment.id), "amount": "10", "reason": "Wrong page"}
    response = client.post(f"/teach/bookings/{booking.id}/refunds", data=data)
    assert response.status_code == 422
    assert stripe_server.objects("refund") == []


@pytest.mark.parametrize("amount", ["45", "10"])
def test_the_same_form_sent_twice_makes_one_refund(client, login_as, paid_booking, stripe_server, amount):
    booking, payment = paid_booking()
    login_as("organiser")
    data = {**refund_form(client, booking), "amount": amount, "reason": "Double click"}
    first = client.post(f"/teach/bookings/{booking.id}/refunds", data=data)
    second = client.post(f"/teach/bookings/{booking.id}/refunds", data=data)
    assert (first.status_code, second.status_code) == (302, 302)
    assert count(Refund) == 1
    assert [refund["amount"] for refund in stripe_server.objects("refund")] == [int(amount) * 100]


def test_an_instructor_refunds_only_when_the_organisation_allows(client, login_as, paid_booking, stripe_server):
    booking, payment = paid_booking()
    login_as(booking.course.instructor)
    page = text(client.get(f"/teach/bookings/{booking.id}"))
    assert "At most" not in page and "request_key" not in page
    response = post_form(
        client,
        f"/teach/bookings/{booking.id}/refunds",
        {
            "payment": str(payment.id),
            "amount": "10",
            "reason": "Session cancelled",
            "request_key": "9b2e4c1e-0000-4000-8000-000000000000",
        },
        page=f"/teach/bookings/{booking.id}",
    )
    assert response.status_code == 403
    assert count(Refund) == 0 and stripe_server.objects("refund") == []

    allow_instructor_refunds()
    response = client.post(
        f"/teach/bookings/{booking.id}/refunds",
        data={**refund_form(client, booking), "amount": "10", "reason": "Session cancelled"},
    )
    assert response.status_code == 302
    assert [refund["amount"] for refund in stripe_server.objects("refund")] == [1000]


def test_a_refund_chooses_between_payments(client, login_as, booking):
    organiser = login_as("organiser")
    for pence in (1000, 2000):
        services.record_offline_payment(
            booking, by=organiser, amount_pence=pence, method=PaymentMethod.BANK_TRANSFER, received_on=local_today()
        )
    first, second = db.session.scalars(db.select(Payment).order_by(Payment.id)).all()
    page = text(client.get(f"/teach/bookings/{booking.id}"))
    assert '<select id="payment"' in page and "At most £30.00 can be refunded" in page
    assert "Bank transfer, £10.00 (£10.00 left)" in page and "Bank transfer, £20.00 (£20.00 left)" in page
    token = csrf_token_from(page)
    key = REQUEST_KEY.search(page).group(1)
    response = client.post(
        f"/teach/bookings/{booking.id}/refunds",
        data={
            "csrf_token": token,
            "request_key": key,
            "payment": str(second.id),
            "amount": "20.01",
            "reason": "Overpaid",
        },
    )
    assert "At most £20.00 of this payment can still be refunded." in text(response)
    response = client.post(
        f"/teach/bookings/{booking.id}/refunds",
        data={"csrf_token": token, "request_key": key, "payment": str(second.id), "amount": "20", "reason": "Overpaid"},
    )
    assert response.status_code == 302
    db.session.refresh(second)
    db.session.refresh(booking)
    assert (second.amount_refunded_pence, booking.amount_paid_pence, booking.status) == (
        2000,
        1000,
        BookingStatus.CONFIRMED,
    )


# What the family sees


def test_the_family_sees_their_payments_and_refunds(client, login_as, paid_booking, organiser, stripe_server):
    booking, payment = paid_booking()
    refunds.refund_payment(payment, 1500, by=organiser, reason="Missed the second session", request_key="family-view")
    login_as(booking.parent)
    page = text(client.get(f"/account/bookings/{booking.id}"))
    assert "Payments and refunds" in page
    payments = page[page.index(">Payments<") : page.index(">Refunds<")]
    refunds_section = page[page.index(">Refunds<") :]
    assert "Card" in payments and "£45.00" in payments and "Succeeded" in payments
    assert (
        "£15.00" in refunds_section
        and "Missed the second session" in refunds_section
        and "Succeeded" in refunds_section
    )
    assert payment.stripe_payment_intent_id not in page  # Stripe ids are for staff
    assert organiser.full_name not in page


def test_the_family_does_not_see_checkout_pages_left_unpaid(client, login_as, held_booking, checkout):
    booking = held_booking()
    checkout(booking)
    login_as(booking.parent)
    page = text(client.get(f"/account/bookings/{booking.id}"))
    assert "Payments and refunds" not in page

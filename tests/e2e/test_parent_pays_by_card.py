"""A parent pays for a place by card through (our stand-in for) Stripe Checkout, in a real browser."""

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from instructor_portal.booking.models import Booking, BookingStatus, PaymentMethod
from instructor_portal.extensions import db
from tests import factories

pytestmark = pytest.mark.e2e


def book_and_go_to_checkout(page, sign_in, *, child_name: str, places: int) -> None:
    """Sign a parent with one baby in, book a £45 course and choose to pay by card."""
    parent = factories.make_user()
    factories.make_child(parent, first_name=child_name, born=date.today() - timedelta(weeks=10))
    course = factories.make_course(price_pence=4500, places=places)
    sign_in(page, parent, f"/classes/{course.id}/book")
    page.get_by_label(child_name).check()
    page.get_by_label("I have read the course details").check()
    page.get_by_role("button", name="Book and continue to payment").click()
    expect(page.get_by_text("We are holding your place until")).to_be_visible()
    page.get_by_label("Card").check()
    page.get_by_role("button", name="Continue").click()


def test_parent_books_pays_by_card_and_sees_the_place_confirmed(phone, sign_in, stripe_server):
    book_and_go_to_checkout(phone, sign_in, child_name="Zara", places=4)

    # Stripe's hosted page, served by our test server on loopback.
    expect(phone.get_by_role("heading", name="Pay 45.00 GBP")).to_be_visible()
    phone.get_by_role("button", name="Pay").click()

    expect(phone.get_by_text("your payment has gone through and your place is confirmed")).to_be_visible()
    booking = db.session.scalars(db.select(Booking)).one()
    assert (booking.status, booking.payment_method, booking.amount_paid_pence) == (
        BookingStatus.CONFIRMED,
        PaymentMethod.CARD,
        4500,
    )


def test_parent_goes_back_from_checkout_then_lets_the_place_go(phone, sign_in, stripe_server):
    book_and_go_to_checkout(phone, sign_in, child_name="Mei", places=1)
    phone.get_by_role("button", name="Cancel").click()

    expect(phone.get_by_role("heading", name="You have not paid")).to_be_visible()
    expect(phone.get_by_text("We are still holding your place until")).to_be_visible()
    phone.get_by_role("button", name="Let my place go").click()
    expect(phone.get_by_text("we have let your place go so another family can book")).to_be_visible()
    booking = db.session.scalars(db.select(Booking)).one()
    assert booking.status == BookingStatus.EXPIRED

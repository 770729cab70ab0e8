"""A parent on a phone signs up, adds their baby, finds a class and books it, in a real browser."""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from instructor_portal.booking.models import Booking, BookingStatus
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from tests import factories

pytestmark = pytest.mark.e2e


def test_parent_signs_up_adds_a_baby_and_books_a_free_course(live_server, phone):
    course = factories.make_course(title="Tuesday Baby Massage", price_pence=0, places=6, age_min=6, age_max=40)
    born = date.today() - timedelta(weeks=12)

    phone.goto(f"{live_server}/classes")
    phone.get_by_role("link", name="Tuesday Baby Massage").click()
    phone.get_by_role("link", name="Create an account").click()
    phone.get_by_label("Your name").fill("Priya Patel")
    phone.get_by_label("Email address").fill("priya@example.org")
    phone.get_by_label("Password", exact=True).fill("soothing strokes daily")
    phone.get_by_label("Confirm password").fill("soothing strokes daily")
    phone.get_by_role("button", name="Create account").click()

    # The parent follows the link emailed to confirm the address, and is signed in.
    expect(phone.get_by_role("heading", name="Check your email")).to_be_visible()
    email = db.session.scalars(db.select(OutboxEmail).where(OutboxEmail.to_address == "priya@example.org")).one()
    phone.goto(re.search(r"http://\S+/confirm/\S+", email.body_text).group(0))
    phone.get_by_label("First name").fill("Asha")
    phone.get_by_label("Last name").fill("Patel")
    phone.get_by_label("Date of birth").fill(born.isoformat())
    phone.get_by_role("button", name="Save").click()

    # Back on the booking page for the course the parent started from.
    assert phone.get_by_role("heading", name="Book a place").is_visible()
    phone.get_by_label("Asha").check()
    phone.get_by_label("I have read the course details").check()
    phone.get_by_role("button", name="Book").click()

    assert phone.get_by_text("Your place is confirmed.").is_visible()
    assert phone.get_by_text("Confirmed").first.is_visible()
    booking = db.session.scalars(db.select(Booking)).one()
    assert (booking.course_id, booking.status) == (course.id, BookingStatus.CONFIRMED)


def test_an_ineligible_baby_is_explained_and_cannot_be_booked(phone, sign_in):
    parent = factories.make_user(email="sam@example.org")
    factories.make_child(parent, first_name="Tiny", born=date.today() - timedelta(weeks=2))
    course = factories.make_course(title="Older Babies", age_min=12, age_max=40)

    sign_in(phone, parent, f"/classes/{course.id}/book")

    assert phone.get_by_text("this course is for babies from 12 weeks").is_visible()
    assert phone.get_by_role("checkbox", name="Tiny").count() == 0

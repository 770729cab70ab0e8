"""An instructor books a place for a family who walked in, paying at the venue, in a real browser."""

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from instructor_portal.accounts.models import Role
from instructor_portal.booking.models import Booking, BookingStatus, PaymentMethod
from instructor_portal.extensions import db
from tests import factories

pytestmark = pytest.mark.e2e


def test_instructor_books_a_walk_in_family_paying_at_the_venue_and_sees_them_on_the_roster(
    phone, sign_in, assert_fits_phone
):
    instructor = factories.make_user(role=Role.INSTRUCTOR, full_name="Jo Teacher")
    course = factories.make_course(instructor=instructor, title="Tuesday babies")
    born = date.today() - timedelta(weeks=12)

    sign_in(phone, instructor, f"/teach/courses/{course.id}")
    phone.get_by_role("link", name="Book for a family").click()
    expect(phone.get_by_role("heading", name="Book for a family")).to_be_visible()
    phone.get_by_label("Parent's or carer's email address").fill("walk.in@example.org")
    phone.get_by_role("button", name="Find the family").click()

    expect(phone.get_by_text("Nobody has an account with walk.in@example.org yet")).to_be_visible()
    assert_fits_phone(phone)
    phone.get_by_label("Parent's or carer's name").fill("Sam Walkin")
    phone.get_by_label("Phone (optional)").fill("07700 900123")
    phone.get_by_label("Child's first name").fill("Maya")
    phone.get_by_label("Child's last name").fill("Walkin")
    phone.get_by_label("Date of birth").fill(born.isoformat())
    phone.get_by_label("Pay at the first session").check()
    phone.get_by_label("The family agreed to the course terms").check()
    phone.get_by_role("button", name="Book the place").click()

    expect(phone.get_by_text("Place booked for Sam Walkin: confirmed")).to_be_visible()
    roster = phone.locator("section", has=phone.get_by_role("heading", name="Families booked"))
    row = roster.get_by_role("row", name="Maya")
    expect(row).to_contain_text("Sam Walkin")
    expect(row).to_contain_text("07700 900123")
    assert_fits_phone(phone)
    booking = db.session.scalars(db.select(Booking)).one()
    assert (booking.status, booking.payment_method) == (BookingStatus.CONFIRMED, PaymentMethod.PAY_AT_VENUE)

"""A parent joins a full course's waiting list, another family cancels, and the first books the place from the offer email."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from instructor_portal.queue import huey
from tests import factories

pytestmark = pytest.mark.e2e


def test_a_parent_on_the_waiting_list_is_offered_a_cancelled_place_and_books_it(
    live_server, phone, sign_in, assert_fits_phone
):
    course = factories.make_course(
        places=1, price_pence=0, first_session=datetime.now(UTC) + timedelta(days=14), title="Tuesday babies"
    )
    booked = factories.make_booking(course)
    waiting = factories.make_user(role="parent", full_name="Priya Shah", email="priya@example.org")
    factories.make_child(waiting, first_name="Asha")

    sign_in(phone, waiting, f"/classes/{course.id}")
    expect(phone.get_by_text("join the waiting list", exact=False).first).to_be_visible()
    phone.get_by_role("link", name="Join the waiting list").click()
    phone.get_by_label("Asha").check()
    phone.get_by_role("button", name="Join the waiting list").click()
    expect(phone.get_by_text("You are number 1 on the waiting list.", exact=False)).to_be_visible()
    assert_fits_phone(phone)
    phone.get_by_role("button", name="Sign out").click()

    sign_in(phone, booked.parent, f"/bookings/{booked.id}/cancel")
    phone.get_by_role("button", name="Yes, cancel the booking").click()
    expect(phone.get_by_text("Your booking is cancelled.", exact=False)).to_be_visible()
    phone.get_by_role("button", name="Sign out").click()
    for job in huey.pending():
        if job.name == "offer_freed_places":
            huey.execute(job)

    email = db.session.scalars(
        db.select(OutboxEmail).where(
            OutboxEmail.to_address == "priya@example.org", OutboxEmail.subject.contains("free")
        )
    ).one()
    link = re.search(r"http://\S+/offer", email.body_text).group(0)
    sign_in(phone, waiting, link.removeprefix(live_server))
    expect(phone.get_by_role("heading", name="A place is free for you")).to_be_visible()
    assert_fits_phone(phone)
    phone.get_by_label(re.compile("agree to the course terms")).check()
    phone.get_by_role("button", name="Book").click()
    expect(phone.get_by_text("Your place is confirmed.", exact=False)).to_be_visible()

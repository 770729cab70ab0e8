"""An instructor offers a make-up on a phone, the parent accepts it, and the family is on the other register."""

import pytest
from playwright.sync_api import expect

# The make-up tests' scene fixture, so pytest finds it here: Layla, marked absent at a Tuesday babies session.
from tests.attendance.conftest import makeup_scene  # noqa: F401

pytestmark = pytest.mark.e2e


def test_parent_accepts_a_make_up_offered_from_the_register(phone, sign_in, assert_fits_phone, makeup_scene):
    scene = makeup_scene

    sign_in(phone, scene.instructor, f"/teach/sessions/{scene.missed.id}/register")
    phone.get_by_role("link", name="Offer a make-up to Layla").click()
    expect(phone.get_by_role("heading", name="Offer a make-up")).to_be_visible()
    assert_fits_phone(phone)
    friday = phone.get_by_role("listitem").filter(has=phone.get_by_role("heading", name="Friday babies"))
    friday.get_by_role("button", name="Offer this session").click()
    expect(phone.get_by_text("Make-up offered. We have emailed the family.")).to_be_visible()
    expect(phone.get_by_role("region", name="Make-ups for this session")).to_contain_text("Friday babies")
    phone.get_by_role("button", name="Sign out").click()

    sign_in(phone, scene.booking.parent, "/account/bookings")
    offer = phone.get_by_role("region", name="Make-up sessions").get_by_role("listitem")
    expect(offer).to_contain_text("Friday babies")
    expect(offer).to_contain_text("Offered")
    expect(offer).to_contain_text("Make-up for Layla's missed session")
    assert_fits_phone(phone)
    offer.get_by_role("button", name="Accept").click()
    expect(phone.get_by_text("Your make-up session is booked. We have emailed you the details.")).to_be_visible()
    booked = phone.get_by_role("region", name="Make-up sessions").get_by_role("listitem")
    expect(booked).to_contain_text("Booked")
    expect(booked.get_by_role("button", name="Accept")).to_have_count(0)
    phone.get_by_role("button", name="Sign out").click()

    sign_in(phone, scene.other.instructor, f"/teach/sessions/{scene.target.id}/register")
    layla = phone.locator(".register-family", has=phone.get_by_role("heading", name="Layla"))
    expect(layla.get_by_text("Make-up from Tuesday babies")).to_be_visible()
    expect(layla).to_contain_text("Amira Khan")

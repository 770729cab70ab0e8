"""An instructor on a phone writes to the group, checks the preview, changes a word and sends it: line breaks and all."""

import pytest
from playwright.sync_api import expect

from instructor_portal.extensions import db
from instructor_portal.messages.models import GroupMessage

# The message tests' scene: Jo Teacher's Tuesday babies with Amira (twins), Ben and Cara booked, and others who are not.
from tests.messages.conftest import scene  # noqa: F401

pytestmark = pytest.mark.e2e


def test_instructor_previews_changes_and_sends_a_message_to_the_group(
    live_server, phone, sign_in, assert_fits_phone, scene
):
    sign_in(phone, scene.instructor, f"/teach/courses/{scene.course.id}")
    phone.get_by_role("link", name="Write to families").first.click()
    phone.get_by_label("Message").fill("The room has changed.\nWe meet in the hall.")
    phone.get_by_role("button", name="Preview").click()
    expect(phone.get_by_text("Nothing has been sent yet. It goes to 3 families")).to_be_visible()
    expect(phone.get_by_role("region", name="Who gets it").get_by_role("listitem")).to_have_count(3)
    assert_fits_phone(phone)

    phone.get_by_role("button", name="Change the message").click()
    expect(phone.get_by_label("Message")).to_have_value("The room has changed.\nWe meet in the hall.")
    phone.get_by_label("Message").fill("The room has changed.\nWe meet in the main hall.")
    phone.get_by_role("button", name="Preview").click()
    phone.get_by_role("button", name="Send to 3 families").click()
    expect(phone.get_by_text("Message sent to 3 families.")).to_be_visible()
    expect(phone.get_by_role("region", name="Who it went to").get_by_role("row")).to_have_count(
        4
    )  # with its heading row

    message = db.session.scalars(db.select(GroupMessage)).one()
    assert message.body == "The room has changed.\nWe meet in the main hall."

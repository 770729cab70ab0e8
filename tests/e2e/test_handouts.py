"""An instructor uploads handouts on a phone; only booked families get them, and only once released."""

import pytest
from playwright.sync_api import expect

from instructor_portal.accounts.models import Role
from instructor_portal.extensions import db
from instructor_portal.handouts.models import Handout
from instructor_portal.templating import format_datetime
from tests import factories
from tests.files import MARKDOWN, PDF

# The handout tests' scene fixture, so pytest finds it here: Jo Teacher's course from 2030, with Amira Khan booked.
from tests.handouts.conftest import scene  # noqa: F401

pytestmark = pytest.mark.e2e


def test_booked_parent_downloads_released_handouts_and_nobody_else_can(
    live_server, phone, sign_in, assert_fits_phone, scene
):
    week_2 = format_datetime(scene.session(2).starts_at)

    sign_in(phone, scene.instructor, f"/teach/courses/{scene.course.id}/handouts")
    upload = phone.get_by_role("region", name="Upload a handout")
    upload.get_by_label("Title").fill("Week 2: legs and feet")
    upload.get_by_label("File").set_input_files(
        {"name": "legs-and-feet.md", "mimeType": "text/markdown", "buffer": MARKDOWN}
    )
    upload.get_by_label("For which session (optional)").select_option(label=week_2)
    upload.get_by_label("From the start of a session").check()
    upload.get_by_role("button", name="Upload handout").click()
    expect(phone.get_by_text("Week 2: legs and feet uploaded.")).to_be_visible()

    upload.get_by_label("Title").fill("Welcome and first strokes")
    upload.get_by_label("File").set_input_files({"name": "welcome.pdf", "mimeType": "application/pdf", "buffer": PDF})
    upload.get_by_label("As soon as the family has a confirmed place").check()
    upload.get_by_role("button", name="Upload handout").click()
    expect(phone.get_by_text("Welcome and first strokes uploaded.")).to_be_visible()
    on_course = phone.get_by_role("region", name="On this course")
    expect(on_course.get_by_role("row", name="Week 2: legs and feet")).to_contain_text(f"From the session on {week_2}")
    expect(on_course.get_by_role("row", name="Welcome and first strokes")).to_contain_text("Once booked")
    assert_fits_phone(phone)
    phone.get_by_role("button", name="Sign out").click()

    sign_in(phone, scene.parent, f"/account/bookings/{scene.booking.id}")
    handouts = phone.get_by_role("region", name="Handouts")
    expect(handouts.get_by_role("link")).to_have_text(["Welcome and first strokes"])
    expect(handouts).to_contain_text(f"Next handout: Week 2: legs and feet from {week_2}.")
    assert_fits_phone(phone)

    pdf_url = live_server + handouts.get_by_role("link", name="Welcome and first strokes").get_attribute("href")
    download = phone.request.get(pdf_url)  # with the parent's cookies from the browser
    assert download.status == 200
    assert download.body() == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "Welcome and first strokes.pdf" in download.headers["content-disposition"]
    # The week 2 handout is not released yet, even to someone who guesses its address.
    week_2_handout = db.session.scalars(db.select(Handout).filter_by(title="Week 2: legs and feet")).one()
    assert phone.request.get(f"{live_server}/handouts/{week_2_handout.id}").status == 404
    phone.get_by_role("button", name="Sign out").click()

    sign_in(phone, factories.make_user(role=Role.PARENT), "/account")
    refused = phone.goto(pdf_url)
    assert refused.status == 404
    expect(phone.get_by_role("heading", name="Page not found")).to_be_visible()

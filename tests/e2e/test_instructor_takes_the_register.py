"""An instructor takes the register on a phone in class, in a real browser."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from instructor_portal.accounts.models import Role
from tests import factories

pytestmark = pytest.mark.e2e

#: Apple's and Google's smallest comfortable touch target, in CSS pixels.
TOUCH_TARGET = 44


def test_instructor_marks_everyone_present_then_one_family_absent_and_the_marks_are_kept(
    phone, sign_in, assert_fits_phone
):
    instructor = factories.make_user(role=Role.INSTRUCTOR, full_name="Jo Teacher")
    # The class began ten minutes ago.
    course = factories.make_course(
        instructor=instructor, title="Tuesday babies", first_session=datetime.now(UTC) - timedelta(minutes=10)
    )
    for first_name in ("Asha", "Ben", "Cara"):
        factories.make_booking(course, [factories.make_child(first_name=first_name)])
    session = course.sessions[0]

    sign_in(phone, instructor, f"/teach/sessions/{session.id}/register")
    expect(phone.get_by_role("heading", name="Register")).to_be_visible()
    assert_fits_phone(phone)
    # Each status is a whole labelled row to tap, not just its radio button: six for each of the three families.
    expect(phone.locator(".register-option")).to_have_count(18)
    for control in [
        phone.get_by_role("button", name="Mark everyone present"),
        *phone.locator(".register-option").all(),
        *phone.get_by_role("button", name="Save").all(),
    ]:
        assert control.bounding_box()["height"] >= TOUCH_TARGET, f"{control.inner_text()!r} is too small to tap"

    phone.get_by_role("button", name="Mark everyone present").click()
    expect(phone.get_by_text("3 families marked present.")).to_be_visible()

    ben = phone.locator(".register-family", has=phone.get_by_role("heading", name="Ben"))
    ben.get_by_label("Absent: unwell").check()
    ben.get_by_label("Note").fill("Temperature after jabs, back next week")
    ben.get_by_role("button", name="Save").click()
    expect(phone.get_by_text("Mark saved.")).to_be_visible()

    phone.reload()
    for name in ("Asha", "Cara"):
        family = phone.locator(".register-family", has=phone.get_by_role("heading", name=name))
        expect(family.get_by_label("Present", exact=True)).to_be_checked()
        expect(family.get_by_text("Marked present by Jo Teacher")).to_be_visible()
    expect(ben.get_by_label("Absent: unwell")).to_be_checked()
    expect(ben.get_by_label("Note")).to_have_value("Temperature after jabs, back next week")
    expect(ben.get_by_text("Marked absent: unwell by Jo Teacher")).to_be_visible()
    assert_fits_phone(phone)

    phone.get_by_role("link", name="Tuesday babies").click()
    grid = phone.locator("table.attendance-grid")
    expect(grid.get_by_role("row", name="Asha").get_by_role("cell").first).to_have_text("P")
    expect(grid.get_by_role("row", name="Ben").get_by_role("cell").first).to_have_text("AU")
    expect(grid.get_by_role("row", name="Cara").get_by_role("cell").first).to_have_text("P")
    # The later sessions are still to be marked.
    expect(grid.get_by_role("row", name="Ben").get_by_role("cell").nth(1)).to_have_text("–")
    assert_fits_phone(phone)

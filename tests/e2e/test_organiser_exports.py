"""An organiser downloads registers and payments from a real server: streamed files are written after the request ends."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from pypdf import PdfReader

from instructor_portal.accounts.models import Role
from instructor_portal.attendance.services import mark_attendance
from tests import factories

pytestmark = pytest.mark.e2e


@pytest.fixture
def marked_course(app):
    instructor = factories.make_user(role=Role.INSTRUCTOR, full_name="Jo Teacher")
    course = factories.make_course(
        instructor=instructor, title="Tuesday babies", sessions=2, first_session=datetime.now(UTC) - timedelta(days=1)
    )
    parent = factories.make_user(full_name="Amira Khan")
    booking = factories.make_booking(course, [factories.make_child(parent, first_name="Layla", last_name="Khan")])
    mark_attendance(course.sessions[0], booking.places[0].id, "present", "=1+1", by=instructor)
    factories.make_payment(booking, amount_pence=5500)
    return course


def download(page, button: str) -> bytes:
    with page.expect_download() as started:
        page.get_by_role("button", name=button).click()
    return started.value.path().read_bytes()


def test_organiser_downloads_each_format_and_sees_it_in_the_export_log(live_server, phone, sign_in, marked_course):
    sign_in(phone, factories.make_user(role=Role.ORGANISER, full_name="Olu Organiser"), "/organiser/registers")
    expect(phone.get_by_text("2 rows from 2 sessions match")).to_be_visible()

    rows = list(csv.reader(io.StringIO(download(phone, "Download CSV").decode("utf-8-sig"))))
    assert rows[0][:7] == ["Date", "Start time", "Course", "Track", "Venue", "Instructor", "Child"]
    assert [(row[2], row[6], row[10], row[11]) for row in rows[1:]] == [
        ("Tuesday babies", "Layla Khan", "Present", "'=1+1"),
        ("Tuesday babies", "Layla Khan", "", ""),
    ]

    sheet = load_workbook(io.BytesIO(download(phone, "Download Excel"))).active
    assert (sheet["G2"].value, sheet["L2"].value, sheet["L2"].data_type) == ("Layla Khan", "=1+1", "s")

    text = "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(download(phone, "Download PDF sign-in sheets"))).pages
    )
    assert "Tuesday babies" in text and "Layla Khan" in text and "Amira Khan" in text

    phone.get_by_role("link", name="Export log").click()
    log = phone.get_by_role("table")
    for fmt in ("CSV", "Excel", "PDF sign-in sheets"):
        expect(log).to_contain_text(fmt)
    expect(log).to_contain_text("Olu Organiser")


def test_organiser_downloads_the_payments_ledger(live_server, phone, sign_in, marked_course):
    sign_in(phone, factories.make_user(role=Role.ORGANISER), "/organiser/payments")
    response = phone.request.get(f"{live_server}/organiser/payments.csv")
    assert response.status == 200
    rows = list(csv.reader(io.StringIO(response.text())))
    assert rows[0][:4] == ["Date", "Type", "Booking", "Course"]
    assert [(row[3], row[4], row[7]) for row in rows[1:]] == [("Tuesday babies", "Amira Khan", "55.00")]

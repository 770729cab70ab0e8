"""Register export pages through the client: access, filters and their errors, downloads, care notes and the export log."""

import csv
import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from instructor_portal.accounts.models import Role
from instructor_portal.attendance import exports
from instructor_portal.attendance.exports import EXPORT_ACTION
from instructor_portal.attendance.register_pages import NO_ROWS
from instructor_portal.audit import AuditEntry
from instructor_portal.catalogue.models import Track
from instructor_portal.extensions import db
from tests import factories
from tests.conftest import post_form, text

MONDAY = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)


@pytest.fixture
def scene(app):
    instructor = factories.make_user(role=Role.INSTRUCTOR, full_name="Jo Teacher")
    course = factories.make_course(instructor=instructor, sessions=2, first_session=MONDAY, title="Tuesday babies")
    parent = factories.make_user(full_name="Amira Khan")
    factories.make_booking(
        course, [factories.make_child(parent, first_name="Layla", last_name="Khan", care_notes="Reflux")]
    )
    adoptive = factories.make_course(
        instructor=instructor,
        sessions=1,
        first_session=MONDAY,
        title="Kinship group",
        track=Track.ADOPTIVE_FOSTER,
        age_min=0,
        age_max=84,
    )
    factories.make_booking(adoptive, [factories.make_child(first_name="Mia", last_name="Jones")])
    other = factories.make_course(sessions=1, first_session=MONDAY, title="Someone else's course")
    factories.make_booking(other, [factories.make_child(first_name="Noor", last_name="Ali")])
    return {"instructor": instructor, "course": course, "adoptive": adoptive, "other": other}


def exports_logged() -> int:
    return db.session.scalar(
        db.select(db.func.count()).select_from(AuditEntry).where(AuditEntry.action == EXPORT_ACTION)
    )


def download(client, base: str, fmt: str, data: dict | None = None):
    return post_form(client, f"{base}.{fmt}", data, page=base)


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))


# Access


@pytest.mark.parametrize(
    ("who", "url", "status"),
    [
        ("organiser", "/organiser/registers", 200),
        ("instructor", "/organiser/registers", 403),
        ("parent", "/organiser/registers", 403),
        ("organiser", "/teach/registers", 200),
        ("instructor", "/teach/registers", 200),
        ("parent", "/teach/registers", 403),
        ("organiser", "/organiser/registers/exports", 200),
        ("instructor", "/organiser/registers/exports", 403),
        ("parent", "/organiser/registers/exports", 403),
    ],
)
def test_who_sees_the_register_export_pages(client, login_as, who, url, status):
    login_as(who)

    assert client.get(url).status_code == status


@pytest.mark.parametrize("url", ["/organiser/registers", "/teach/registers", "/organiser/registers/exports"])
def test_anonymous_visitors_are_sent_to_sign_in(client, app, url):
    response = client.get(url)

    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("url", ["/organiser/registers.csv", "/teach/registers.csv"])
def test_anonymous_downloads_are_sent_to_sign_in(client, scene, url):
    response = post_form(client, url, page="/login")

    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert exports_logged() == 0


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("parent", "/teach/registers.csv"),
        ("parent", "/organiser/registers.pdf"),
        ("instructor", "/organiser/registers.csv"),
    ],
)
def test_others_cannot_download_registers(client, login_as, scene, who, url):
    login_as(who)

    assert post_form(client, url, page="/").status_code == 403
    assert exports_logged() == 0


def test_downloads_need_the_csrf_token(client, login_as, scene):
    login_as("organiser")

    response = client.post("/organiser/registers.csv", data={})

    assert response.status_code == 400
    assert exports_logged() == 0


# The page


def test_the_page_counts_matching_rows_and_sessions(client, login_as, scene):
    login_as("organiser")

    page = text(client.get("/organiser/registers"))

    assert "4 rows from 4 sessions match" in page
    assert "Someone else&#39;s course" in page and 'name="instructor"' in page
    assert 'href="/organiser/registers/exports"' in page


def test_an_instructor_sees_only_their_own_courses_and_no_instructor_filter(client, login_as, scene):
    login_as(scene["instructor"])

    page = text(client.get("/teach/registers"))

    assert "3 rows from 3 sessions match" in page
    assert "Tuesday babies" in page and "Someone else" not in page
    assert 'name="instructor"' not in page
    assert "/organiser/registers/exports" not in page


def test_no_matching_rows_shows_a_note(client, login_as, scene):
    login_as("organiser")

    page = text(client.get("/organiser/registers", query_string={"track": "premature"}))

    assert "0 rows from 0 sessions match" in page
    assert NO_ROWS in page


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"date_from": "2030-01-10", "date_to": "2030-01-01"}, "date_to", "on or after the &#34;From&#34; date"),
        ({"date_from": "31/02/2030"}, "date_from", "Enter a real date"),
        ({"date_to": "next week"}, "date_to", "Enter a real date"),
        ({"course": "999999"}, "course", "Choose a course from the list."),
        ({"course": "abc"}, "course", "Choose a course from the list."),
        ({"instructor": "999999"}, "instructor", "Choose an instructor from the list."),
        ({"venue": "999999"}, "venue", "Choose a venue from the list."),
        ({"track": "underwater"}, "track", "Choose a track from the list."),
    ],
)
def test_impossible_filters_get_a_clear_message(client, login_as, scene, query, field, message):
    login_as("organiser")

    response = client.get("/organiser/registers", query_string=query)

    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert f'id="{field}-error"' in page
    assert "rows from" not in page


# Downloads


def test_csv_download(client, login_as, scene):
    login_as("organiser")

    response = download(client, "/organiser/registers", "csv", {"course": str(scene["course"].id)})

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="registers.csv"'
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = csv_rows(response)
    assert rows[0][:3] == ["Date", "Start time", "Course"]
    assert [row[6] for row in rows[1:]] == ["Layla Khan", "Layla Khan"]
    assert "Care notes" not in rows[0] and "Reflux" not in response.get_data(as_text=True)


def test_xlsx_download(client, login_as, scene):
    login_as("organiser")

    response = download(client, "/organiser/registers", "xlsx", {"date_from": "2030-01-07", "date_to": "2030-01-07"})

    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="registers.xlsx"'
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet["A1"].value == "Date" and sheet.max_row == 4
    assert {sheet.cell(row=row, column=7).value for row in (2, 3, 4)} == {"Layla Khan", "Mia J.", "Noor Ali"}


def test_pdf_download(client, login_as, scene):
    login_as(scene["instructor"])

    response = download(client, "/teach/registers", "pdf", {"course": str(scene["adoptive"].id)})

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    (page,) = PdfReader(io.BytesIO(response.data)).pages
    content = page.extract_text()
    assert "Kinship group" in content and "Mia J." in content and "Jones" not in content


def test_care_notes_only_when_ticked(client, login_as, scene):
    login_as("organiser")
    course = {"course": str(scene["course"].id)}

    without = csv_rows(download(client, "/organiser/registers", "csv", course))
    with_notes = csv_rows(download(client, "/organiser/registers", "csv", {**course, "include_care_notes": "y"}))

    assert "Care notes" not in without[0]
    assert with_notes[0][-1] == "Care notes" and with_notes[1][-1] == "Reflux"


def test_an_instructor_exports_only_their_own_courses(client, login_as, scene):
    login_as(scene["instructor"])

    rows = csv_rows(download(client, "/teach/registers", "csv"))

    assert {row[2] for row in rows[1:]} == {"Tuesday babies", "Kinship group"}


def test_an_instructor_cannot_export_another_instructors_course(client, login_as, scene):
    login_as(scene["instructor"])

    response = download(client, "/teach/registers", "csv", {"course": str(scene["other"].id)})

    assert response.status_code == 422
    assert "Choose a course from the list." in text(response)
    assert exports_logged() == 0


def test_an_instructor_filter_from_an_instructor_is_ignored(client, login_as, scene):
    login_as(scene["instructor"])

    rows = csv_rows(download(client, "/teach/registers", "csv", {"instructor": str(scene["other"].instructor_id)}))

    assert len(rows) == 4


@pytest.mark.parametrize(
    "data", [{"date_from": "2030-01-10", "date_to": "2030-01-01"}, {"venue": "999999"}, {"track": "x"}]
)
def test_bad_filters_export_nothing_and_log_nothing(client, login_as, scene, data):
    login_as("organiser")

    response = download(client, "/organiser/registers", "xlsx", data)

    assert response.status_code == 422
    assert "Please correct" in text(response)
    assert exports_logged() == 0


def test_a_pdf_of_too_many_sessions_is_refused_with_a_message(client, login_as, scene, monkeypatch):
    monkeypatch.setattr(exports, "PDF_MAX_SESSIONS", 1)
    login_as("organiser")

    response = download(client, "/organiser/registers", "pdf")

    assert response.status_code == 422
    assert text(response).count("These filters match 4 sessions; a PDF holds the sign-in sheets of up to 1.") == 1
    assert exports_logged() == 0


def test_an_empty_export_is_a_file_with_just_the_header(client, login_as, scene):
    login_as("organiser")

    response = download(client, "/organiser/registers", "csv", {"track": "premature"})

    assert response.status_code == 200
    assert csv_rows(response) == [csv_rows(response)[0]]


def test_an_unknown_format_is_not_found(client, login_as, scene):
    login_as("organiser")

    assert download(client, "/organiser/registers", "docx").status_code == 404


# The export log


def test_each_download_is_logged_and_organisers_read_the_log(client, login_as, scene, auth):
    login_as(scene["instructor"])
    download(client, "/teach/registers", "csv", {"date_from": "2030-01-07"})
    auth.logout()
    login_as("organiser", full_name="Olu Organiser")
    download(client, "/organiser/registers", "pdf", {"course": str(scene["course"].id), "include_care_notes": "y"})

    page = text(client.get("/organiser/registers/exports"))

    assert exports_logged() == 2
    assert "2 exports, newest first" in page
    assert page.index("Olu Organiser") < page.index("Jo Teacher")
    assert "PDF sign-in sheets" in page and "Course: Tuesday babies" in page
    assert "From Mon 7 Jan 2030" in page and "Included" in page and "Left out" in page


def test_nav_links_lead_to_the_register_exports(client, login_as, scene):
    login_as("organiser")

    assert 'href="/organiser/registers"' in text(client.get("/organiser"))
    assert 'href="/teach/registers"' in text(client.get("/teach"))


def test_date_filters_are_local_days(client, login_as, scene):
    login_as("organiser")

    rows = csv_rows(
        download(client, "/organiser/registers", "csv", {"date_from": "2030-01-14", "date_to": "2030-01-14"})
    )

    assert [row[0] for row in rows[1:]] == [date(2030, 1, 14).isoformat()]

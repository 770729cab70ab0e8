"""Register exports without HTTP: which rows, what they say, each file format read back, formula injection and the audit log."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from instructor_portal.accounts.models import Role
from instructor_portal.attendance import export_filters, exports, makeups, register_files, register_rows
from instructor_portal.attendance.export_filters import RegisterFilters
from instructor_portal.attendance.services import mark_attendance
from instructor_portal.audit import AuditEntry
from instructor_portal.booking.models import BookingPlace, BookingStatus
from instructor_portal.catalogue.models import AgeUnit, SessionStatus, Track
from instructor_portal.extensions import db
from instructor_portal.timezones import local_date
from tests import factories
from tests.attendance.conftest import NOW as MAKEUP_NOW

#: 10:00 in London in winter, so local and UTC agree and dates read plainly.
MONDAY = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)
INJECTIONS = ['=HYPERLINK("http://x")', "+44 7700 900123", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"]


@pytest.fixture
def scene(app):
    """A family course of two sessions with two families (one session marked), and an adoptive course."""
    instructor = factories.make_user(role=Role.INSTRUCTOR, full_name="Jo Teacher")
    venue = factories.make_venue(name="Park Road Centre")
    course = factories.make_course(
        instructor=instructor, venue=venue, sessions=2, first_session=MONDAY, title="Tuesday babies"
    )
    amira = factories.make_user(full_name="Amira Khan", phone="07700 900111")
    layla = factories.make_child(
        amira, first_name="Layla", last_name="Khan", born=date(2029, 10, 1), care_notes="Reflux"
    )
    first = factories.make_booking(course, [layla])
    ben = factories.make_child(
        factories.make_user(full_name="Sam Lee"), first_name="Ben", last_name="Lee", born=date(2029, 11, 5)
    )
    factories.make_booking(course, [ben])
    mark_attendance(course.sessions[0], first.places[0].id, "observing", "Sleepy today", by=instructor)
    adoptive = factories.make_course(
        instructor=instructor,
        is_online=True,
        sessions=1,
        first_session=MONDAY + timedelta(days=2),
        title="Kinship group",
        track=Track.ADOPTIVE_FOSTER,
        age_unit=AgeUnit.MONTHS,
        age_min=0,
        age_max=84,
    )
    factories.make_booking(adoptive, [factories.make_child(first_name="Mia", last_name="Jones", born=date(2026, 1, 1))])
    organiser = factories.make_user(role=Role.ORGANISER, full_name="Olu Organiser")
    return {"instructor": instructor, "course": course, "adoptive": adoptive, "organiser": organiser, "venue": venue}


def lines(filters=None, *, by, care_notes=False):
    return list(register_rows.register_lines(filters or RegisterFilters(), by=by, care_notes=care_notes))


def read_csv(export) -> list[list[str]]:
    body = "".join(export.chunks)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def read_xlsx(export):
    return load_workbook(io.BytesIO(b"".join(export.chunks))).active


def pdf_text(export) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(b"".join(export.chunks))).pages]


# Rows


def test_one_row_per_session_and_family_in_session_then_booking_order(scene):
    rows = lines(by=scene["organiser"])

    assert [(heading.course, heading.day, line.child) for heading, line in rows] == [
        ("Tuesday babies", date(2030, 1, 7), "Layla Khan"),
        ("Tuesday babies", date(2030, 1, 7), "Ben Lee"),
        ("Kinship group", date(2030, 1, 9), "Mia J."),
        ("Tuesday babies", date(2030, 1, 14), "Layla Khan"),
        ("Tuesday babies", date(2030, 1, 14), "Ben Lee"),
    ]


def test_a_row_carries_the_session_family_and_mark(scene):
    heading, line = lines(by=scene["organiser"])[0]

    assert heading == register_rows.SessionHeading(
        day=date(2030, 1, 7),
        starts="10:00",
        ends="11:00",
        course="Tuesday babies",
        track="Family",
        venue="Park Road Centre",
        instructor="Jo Teacher",
    )
    assert line == register_rows.RegisterLine(
        child="Layla Khan",
        age="14 weeks",
        parent="Amira Khan",
        phone="07700 900111",
        status="Present, observing (practised on a doll)",
        note="Sleepy today",
        marked_by="Jo Teacher",
        makeup_from="",
        care_notes=None,
    )


def test_unmarked_rows_have_a_blank_status_and_online_courses_say_so(scene):
    heading, line = lines(RegisterFilters(course=scene["adoptive"]), by=scene["organiser"])[0]

    assert (heading.venue, line.status, line.note, line.marked_by) == ("Online", "", "", "")
    assert line.age == "4 years"


def test_corrected_age_is_shown_where_the_course_uses_it(scene):
    course = factories.make_course(sessions=1, first_session=MONDAY, uses_corrected_age=True, track=Track.PREMATURE)
    early = factories.make_child(first_name="Pip", born=date(2029, 10, 1), due=date(2029, 11, 26))
    factories.make_booking(course, [early])

    ((_, line),) = lines(RegisterFilters(course=course), by=scene["organiser"])

    assert line.age == "14 weeks (corrected 6 weeks)"


def test_care_notes_only_when_asked_for(scene):
    assert all(line.care_notes is None for _, line in lines(by=scene["organiser"]))
    with_notes = lines(RegisterFilters(course=scene["course"]), by=scene["organiser"], care_notes=True)
    assert [line.care_notes for _, line in with_notes][:2] == ["Reflux", ""]


def test_cancelled_sessions_and_bookings_not_confirmed_are_left_out(scene):
    course = scene["course"]
    course.sessions[1].status = SessionStatus.CANCELLED
    db.session.commit()
    factories.make_booking(course, status=BookingStatus.AWAITING_PAYMENT)
    factories.make_booking(course, status=BookingStatus.CANCELLED)

    assert len(lines(RegisterFilters(course=course), by=scene["organiser"])) == 2


def test_a_removed_child_stays_on_the_register_without_a_name(scene):
    place = db.session.scalars(
        db.select(BookingPlace).where(BookingPlace.course_id == scene["course"].id).order_by(BookingPlace.id)
    ).first()
    db.session.delete(place.child)
    db.session.commit()

    (_, line), *_ = lines(RegisterFilters(course=scene["course"]), by=scene["organiser"])

    assert (line.child, line.age) == ("Child removed", "")


def test_rows_read_in_small_batches_are_the_same_and_keep_their_session(scene, monkeypatch):
    whole = lines(by=scene["organiser"], care_notes=True)
    monkeypatch.setattr(register_rows, "BATCH", 1)

    batched = lines(by=scene["organiser"], care_notes=True)

    assert batched == whole
    assert batched[0][0] is batched[1][0]  # one session's heading, read in two batches, is one heading
    assert len(pdf_text(exports.export_registers(RegisterFilters(), "pdf", by=scene["organiser"]))) == 3


# Filters and scope


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (lambda s: RegisterFilters(date_from=date(2030, 1, 8)), 3),
        (lambda s: RegisterFilters(date_to=date(2030, 1, 7)), 2),
        (lambda s: RegisterFilters(date_from=date(2030, 1, 9), date_to=date(2030, 1, 9)), 1),
        (lambda s: RegisterFilters(course=s["adoptive"]), 1),
        (lambda s: RegisterFilters(instructor=s["instructor"]), 5),
        (lambda s: RegisterFilters(instructor=s["organiser"]), 0),
        (lambda s: RegisterFilters(venue=s["venue"]), 4),
        (lambda s: RegisterFilters(track=Track.ADOPTIVE_FOSTER), 1),
        (lambda s: RegisterFilters(track=Track.PREMATURE), 0),
    ],
)
def test_filters(scene, filters, expected):
    assert len(lines(filters(scene), by=scene["organiser"])) == expected
    assert register_rows.count_register_rows(filters(scene), by=scene["organiser"]).rows == expected


def test_count_gives_rows_and_sessions(scene):
    assert register_rows.count_register_rows(RegisterFilters(), by=scene["organiser"]) == register_rows.RegisterCount(
        rows=5, sessions=3
    )


def test_an_instructor_exports_only_their_own_courses(scene):
    other = factories.make_course(sessions=1, first_session=MONDAY)
    factories.make_booking(other)

    assert len(lines(by=scene["instructor"])) == 5
    assert len(lines(by=scene["organiser"])) == 6
    with pytest.raises(export_filters.RegisterExportError, match="Choose a course from the list") as refused:
        exports.export_registers(RegisterFilters(course=other), "csv", by=scene["instructor"])
    assert refused.value.field == "course"
    assert (
        db.session.scalar(
            db.select(db.func.count()).select_from(AuditEntry).where(AuditEntry.action == exports.EXPORT_ACTION)
        )
        == 0
    )


def test_register_courses_are_everyones_for_organisers_and_ones_own_for_instructors(scene):
    factories.make_course(title="Someone else's")

    assert {course.title for course in export_filters.register_courses(scene["instructor"])} == {
        "Tuesday babies",
        "Kinship group",
    }
    assert len(export_filters.register_courses(scene["organiser"])) == 3


def test_filters_in_words():
    assert RegisterFilters().describe() == "Every session"
    assert (
        RegisterFilters(date_from=date(2030, 1, 7), track=Track.PREMATURE).describe()
        == "From Mon 7 Jan 2030; Track: Premature babies"
    )


# Files read back


def test_csv_has_a_header_and_a_row_per_family(scene):
    rows = read_csv(exports.export_registers(RegisterFilters(course=scene["course"]), "csv", by=scene["organiser"]))

    assert rows[0] == register_files.HEADER
    assert rows[1] == [
        "2030-01-07",
        "10:00",
        "Tuesday babies",
        "Family",
        "Park Road Centre",
        "Jo Teacher",
        "Layla Khan",
        "14 weeks",
        "Amira Khan",
        "07700 900111",
        "Present, observing (practised on a doll)",
        "Sleepy today",
        "Jo Teacher",
        "",
    ]
    assert len(rows) == 5


def test_csv_with_care_notes_adds_the_column(scene):
    rows = read_csv(
        exports.export_registers(RegisterFilters(course=scene["course"]), "csv", by=scene["organiser"], care_notes=True)
    )

    assert rows[0][-1] == "Care notes"
    assert rows[1][-1] == "Reflux"


def test_adoptive_courses_export_first_name_and_initial_only(scene):
    rows = read_csv(exports.export_registers(RegisterFilters(course=scene["adoptive"]), "csv", by=scene["organiser"]))

    assert rows[1][6] == "Mia J."
    assert "Jones" not in "".join(",".join(row) for row in rows)


def test_xlsx_has_a_bold_frozen_header_real_dates_and_widths(scene):
    sheet = read_xlsx(exports.export_registers(RegisterFilters(), "xlsx", by=scene["organiser"], care_notes=True))

    assert [cell.value for cell in sheet[1]] == [*register_files.HEADER, "Care notes"]
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    day = sheet["A2"]
    assert day.is_date and day.value.date() == date(2030, 1, 7) and day.number_format == "dd/mm/yyyy"
    assert [sheet.cell(row=2, column=column).value for column in (3, 7, 9, 15)] == [
        "Tuesday babies",
        "Layla Khan",
        "Amira Khan",
        "Reflux",
    ]
    assert sheet["D4"].value == "Adoptive, foster and kinship families"
    assert sheet["G4"].value == "Mia J."
    assert sheet.column_dimensions["C"].width == 32
    assert sheet.max_row == 6


def test_pdf_has_a_sign_in_sheet_per_session(scene):
    pages = pdf_text(exports.export_registers(RegisterFilters(), "pdf", by=scene["organiser"]))

    assert len(pages) == 3
    first = pages[0]
    for text in (
        "Tuesday babies",
        "Mon 7 Jan 2030, 10:00 to 11:00",
        "Venue: Park Road Centre",
        "Instructor: Jo Teacher",
        "Child",
        "Parent or carer",
        "Here",
        "Signature",
        "Layla",
        "Amira Khan",
        "Ben",
        "Sam Lee",
    ):
        assert text in first
    assert "Reflux" not in first
    assert "Venue: Online" in pages[1] and "Mia J." in pages[1] and "Jones" not in pages[1]


def test_pdf_care_notes_only_when_asked_for(scene):
    pages = pdf_text(
        exports.export_registers(RegisterFilters(course=scene["course"]), "pdf", by=scene["organiser"], care_notes=True)
    )

    assert "Care notes" in pages[0] and "Reflux" in pages[0]


def test_a_long_register_continues_on_another_page(scene):
    course = factories.make_course(sessions=1, first_session=MONDAY, title="Big drop-in")
    for _ in range(30):
        factories.make_booking(course)

    pages = pdf_text(exports.export_registers(RegisterFilters(course=course), "pdf", by=scene["organiser"]))

    assert len(pages) == 2
    assert "Big drop-in (continued)" in pages[1] and "Signature" in pages[1]


def test_pdf_cuts_long_text_to_one_line_of_its_column(scene):
    course = factories.make_course(sessions=1, first_session=MONDAY)
    factories.make_booking(
        course, [factories.make_child(first_name="Rosie", care_notes="Line one\nline two " + "x" * 5000)]
    )

    (page,) = pdf_text(
        exports.export_registers(RegisterFilters(course=course), "pdf", by=scene["organiser"], care_notes=True)
    )

    assert "Line one line two" in page and "…" in page and "x" * 100 not in page


def test_pdf_prints_names_in_any_alphabet(scene):
    course = factories.make_course(sessions=1, first_session=MONDAY)
    factories.make_booking(course, [factories.make_child(first_name="Łucja", last_name="Ødegård")])

    assert (
        "Łucja" in pdf_text(exports.export_registers(RegisterFilters(course=course), "pdf", by=scene["organiser"]))[0]
    )


def test_pdf_refuses_more_sessions_than_a_printout_holds(scene, monkeypatch):
    monkeypatch.setattr(exports, "PDF_MAX_SESSIONS", 2)

    with pytest.raises(export_filters.RegisterExportError, match="match 3 sessions"):
        exports.export_registers(RegisterFilters(), "pdf", by=scene["organiser"])
    exports.export_registers(RegisterFilters(), "csv", by=scene["organiser"])


# An export with no rows


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_an_export_with_no_rows_has_only_the_header(scene, fmt):
    export = exports.export_registers(RegisterFilters(track=Track.PREMATURE), fmt, by=scene["organiser"])

    if fmt == "csv":
        assert read_csv(export) == [register_files.HEADER]
    elif fmt == "xlsx":
        sheet = read_xlsx(export)
        assert sheet.max_row == 1 and sheet["A1"].value == "Date"
    else:
        (page,) = pdf_text(export)
        assert "No register rows match these filters." in page


# Formula injection


@pytest.fixture
def typed_formulas(app):
    """A course where every field a person typed starts with one of the formula prefixes."""
    organiser = factories.make_user(role=Role.ORGANISER)
    instructor = factories.make_user(role=Role.INSTRUCTOR, full_name=INJECTIONS[0])
    course = factories.make_course(
        instructor=instructor,
        venue=factories.make_venue(name=INJECTIONS[4]),
        sessions=1,
        first_session=MONDAY,
        title=INJECTIONS[2],
    )
    parent = factories.make_user(full_name=INJECTIONS[3], phone="+44 7700 900123")
    booking = factories.make_booking(
        course, [factories.make_child(parent, first_name="=1+2", last_name="", care_notes=INJECTIONS[5])]
    )
    mark_attendance(course.sessions[0], booking.places[0].id, "present", "=1+2", by=instructor)
    return organiser


def test_csv_neutralises_every_typed_cell(typed_formulas):
    rows = read_csv(exports.export_registers(RegisterFilters(), "csv", by=typed_formulas, care_notes=True))

    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Course"] == "'-2+3"
    assert row["Venue"] == "'\t=1+1"
    assert row["Instructor"] == '\'=HYPERLINK("http://x")'
    assert row["Child"] == "'=1+2"
    assert row["Parent or carer"] == "'@SUM(A1)"
    assert row["Phone"] == "'+44 7700 900123"
    assert row["Note"] == "'=1+2"
    assert row["Marked by"] == '\'=HYPERLINK("http://x")'
    assert row["Care notes"] == "'\r=1+1"
    assert not any(value.startswith(("=", "+", "-", "@", "\t", "\r")) for value in rows[1])


def test_xlsx_stores_typed_cells_as_text_never_formulas(typed_formulas):
    sheet = read_xlsx(exports.export_registers(RegisterFilters(), "xlsx", by=typed_formulas, care_notes=True))

    header = [cell.value for cell in sheet[1]]
    cells = {title: cell for title, cell in zip(header, sheet[2], strict=True)}
    expected = {
        "Course": "-2+3",
        "Venue": "\t=1+1",
        "Instructor": INJECTIONS[0],
        "Child": "=1+2",
        "Parent or carer": "@SUM(A1)",
        "Phone": "+44 7700 900123",
        "Note": "=1+2",
        "Marked by": INJECTIONS[0],
        "Care notes": "\r=1+1",
    }
    for title, typed in expected.items():
        assert cells[title].data_type == "s", title
        # XML reads a carriage return back as a line feed; either way the cell is text.
        assert cells[title].value == typed.replace("\r", "\n"), title
        assert cells[title].quotePrefix, title


def test_xlsx_keeps_error_codes_as_text_and_drops_characters_excel_cannot_hold(scene):
    course = factories.make_course(sessions=1, first_session=MONDAY, title="#N/A")
    factories.make_booking(course, [factories.make_child(first_name="Bad\x0bchar", last_name="")])

    sheet = read_xlsx(exports.export_registers(RegisterFilters(course=course), "xlsx", by=scene["organiser"]))

    assert (sheet["C2"].value, sheet["C2"].data_type) == ("#N/A", "s")
    assert sheet["G2"].value == "Badchar"


# Audit


def test_every_export_is_audit_logged_before_the_file_is_made(scene):
    filters = RegisterFilters(date_from=date(2030, 1, 7), course=scene["course"])

    exports.export_registers(filters, "xlsx", by=scene["organiser"], care_notes=True)

    entry = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "registers.exported")).one()
    assert entry.actor_id == scene["organiser"].id
    assert entry.data == {
        "format": "xlsx",
        "filters": f"From Mon 7 Jan 2030; Course: Tuesday babies (#{scene['course'].id})",
        "rows": 4,
        "care_notes": True,
    }


def test_the_export_log_lists_exports_newest_first_with_who_made_them(scene):
    exports.export_registers(RegisterFilters(), "csv", by=scene["instructor"])
    exports.export_registers(RegisterFilters(track=Track.FAMILY), "pdf", by=scene["organiser"], care_notes=True)

    page = exports.register_export_log()

    assert page.total == 2
    latest, earlier = page.items
    assert (latest.by, latest.format, latest.filters, latest.rows, latest.care_notes) == (
        "Olu Organiser",
        "PDF sign-in sheets",
        "Track: Family",
        4,
        True,
    )
    assert (earlier.by, earlier.format, earlier.filters, earlier.rows, earlier.care_notes) == (
        "Jo Teacher",
        "CSV",
        "Every session",
        5,
        False,
    )


# --- Make-ups -----------------------------------------------------------------------------------


def test_a_family_there_for_a_make_up_is_on_that_sessions_export_and_says_from_where(makeup_scene):
    scene = makeup_scene
    organiser = factories.make_user(role=Role.ORGANISER)
    offered = makeups.offer_makeup(scene.missed, scene.place, scene.target, by=scene.instructor, now=MAKEUP_NOW)
    filters = RegisterFilters(course=scene.other)
    assert register_rows.count_register_rows(filters, by=organiser).rows == 0  # an offer holds no place yet

    makeups.accept_makeup(offered, by=scene.booking.parent, now=MAKEUP_NOW)
    mark_attendance(scene.target, scene.place.id, "present", by=organiser, now=MAKEUP_NOW)

    rows = read_csv(exports.export_registers(filters, "csv", by=organiser))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert len(rows) == 2
    assert (row["Child"], row["Attendance"], row["Make-up from"]) == ("Layla Khan", "Present", "Tuesday babies")
    assert row["Date"] == local_date(scene.target.starts_at, "Europe/London").isoformat()
    assert register_rows.count_register_rows(filters, by=organiser).rows == 1
    assert any(
        "Layla Khan (make-up)" in page for page in pdf_text(exports.export_registers(filters, "pdf", by=organiser))
    )
    # The course the family missed still lists them at its own sessions, with no make-up there.
    own = read_csv(exports.export_registers(RegisterFilters(course=scene.course), "csv", by=organiser))
    assert {tuple(line[6:7] + line[-1:]) for line in own[1:]} == {("Layla Khan", "")}

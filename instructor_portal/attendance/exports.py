"""Register exports: every family at every session in a range, as CSV, Excel or printable sign-in sheets, each audit-logged.

Rows are streamed from one query, a batch at a time, so a large range never sits in memory
whole: the CSV is written as it is read, and the Excel file is built in openpyxl's
write-only mode in a temporary file that is then streamed out.
"""

from __future__ import annotations

import csv
import heapq
import io
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from operator import itemgetter
from datetime import date, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import IO, Any, NamedTuple

from flask import current_app
from fpdf import FPDF
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import Select, and_, bindparam, distinct, func, null, select, type_coerce, union_all
from sqlalchemy.types import NullType
from sqlalchemy.orm import aliased, selectinload

from instructor_portal import audit
from instructor_portal.accounts.models import Child, Role, User
from instructor_portal.attendance.models import AttendanceMark, Makeup, MakeupStatus
from instructor_portal.attendance.services import removed_child
from instructor_portal.audit import AuditEntry
from instructor_portal.booking.models import Booking, BookingPlace, BookingStatus
from instructor_portal.booking.services import describe_child_age, roster_name
from instructor_portal.catalogue.models import AgeUnit, Course, CourseSession, SessionStatus, Track, Venue
from instructor_portal.catalogue.services import Page, page_bounds
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db
from instructor_portal.organiser.services import get_organisation
from instructor_portal.spreadsheets import looks_like_formula, spreadsheet_safe
from instructor_portal.templating import format_date
from instructor_portal.timezones import local_to_utc, to_local

EXPORT_ACTION = "registers.exported"
#: What each export format is called on the page and in the audit log, its file's media type and ending.
FORMATS = {
    "csv": ("CSV", "text/csv; charset=utf-8"),
    "xlsx": ("Excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pdf": ("PDF sign-in sheets", "application/pdf"),
}
HEADER = [
    "Date", "Start time", "Course", "Track", "Venue", "Instructor", "Child", "Age", "Parent or carer", "Phone",
    "Attendance", "Note", "Marked by", "Make-up from",
]
CARE_NOTES_HEADER = "Care notes"
#: Excel column widths, in characters, in the order of HEADER then CARE_NOTES_HEADER.
XLSX_WIDTHS = [12, 10, 32, 22, 26, 22, 20, 24, 24, 16, 30, 36, 22, 32, 40]
#: Rows fetched from the database at a time; also the CSV's chunk.
BATCH = 1000
#: Bytes of a built Excel file sent at a time.
FILE_CHUNK = 64 * 1024
#: The most sessions one PDF holds: sign-in sheets are printed a few at a time, and the PDF is built in memory.
PDF_MAX_SESSIONS = 500
NO_ROWS = "No register rows match these filters; the file will contain only the header."


class RegisterExportError(DomainError):
    """A register export could not be made from these filters."""


@dataclass(frozen=True)
class RegisterFilters:
    """Which sessions' registers to export; dates are local days, both ends included."""

    date_from: date | None = None
    date_to: date | None = None
    course: Course | None = None
    instructor: User | None = None
    venue: Venue | None = None
    track: Track | None = None

    def describe(self) -> str:
        """Say the filters in words for the audit log, such as "From Mon 2 Mar 2026; course: Baby massage"."""
        parts = []
        if self.date_from:
            parts.append(f"From {format_date(self.date_from)}")
        if self.date_to:
            parts.append(f"To {format_date(self.date_to)}")
        if self.course:
            parts.append(f"Course: {self.course.title} (#{self.course.id})")
        if self.instructor:
            parts.append(f"Instructor: {self.instructor.full_name}")
        if self.venue:
            parts.append(f"Venue: {self.venue.name}")
        if self.track:
            parts.append(f"Track: {self.track.label}")
        return "; ".join(parts) or "Every session"


@dataclass(frozen=True)
class RegisterCount:
    rows: int
    sessions: int


@dataclass(frozen=True)
class RegisterExport:
    """A file ready to send: its name, media type and content, a chunk at a time."""

    filename: str
    mimetype: str
    chunks: Iterator[str] | Iterator[bytes]


class SessionHeading(NamedTuple):
    """What a register says about its session, worked out once per session."""

    day: date
    starts: str
    ends: str
    course: str
    track: str
    venue: str
    instructor: str


class RegisterLine(NamedTuple):
    """One family's line on a session's register, as exported."""

    child: str
    age: str
    parent: str
    phone: str
    status: str
    note: str
    marked_by: str
    #: The course a family is making up a session of; empty for the course's own families.
    makeup_from: str
    #: None unless the person exporting asked for care notes.
    care_notes: str | None


class _CourseFacts(NamedTuple):
    """The columns of a course that children's names and ages on its register depend on."""

    track: Track
    age_unit: AgeUnit
    uses_corrected_age: bool


class _ChildFacts(NamedTuple):
    """The columns of a child that names and ages need, with the model's own rules for them."""

    first_name: str
    last_name: str
    date_of_birth: date | None
    due_date: date | None
    gestation_weeks: int | None

    full_name = property(Child.full_name.fget)
    private_name = property(Child.private_name.fget)
    expected_date = property(Child.expected_date.fget)


def _scoped_conditions(filters: RegisterFilters, by: User) -> list:
    conditions = []
    if by.role != Role.ORGANISER:
        conditions.append(Course.instructor_id == by.id)
    tz = get_organisation().timezone
    if filters.date_from:
        conditions.append(CourseSession.starts_at >= local_to_utc(filters.date_from, clock_time(0), tz))
    if filters.date_to:
        conditions.append(CourseSession.starts_at < local_to_utc(filters.date_to + timedelta(days=1), clock_time(0), tz))
    if filters.course:
        conditions.append(Course.id == filters.course.id)
    if filters.instructor:
        conditions.append(Course.instructor_id == filters.instructor.id)
    if filters.venue:
        conditions.append(Course.venue_id == filters.venue.id)
    if filters.track:
        conditions.append(Course.track == filters.track)
    return conditions


def _register_selects(filters: RegisterFilters, *, by: User, care_notes: bool = False) -> tuple[Select, Select]:
    """Select one row per scheduled session and family on its register, only the columns exported: booked families, then make-ups.

    A session's register holds the live places on its course's confirmed bookings and the
    families there for a make-up (with the course they are making up). This is the one
    place that decides who is on an exported register: counting, the files and the
    sign-in sheets all read it. ``by`` limits an instructor to their own courses. What a
    row shares with its session is looked up once per session (``_session_headings``);
    the column before the care notes only orders the rows.
    """
    parent, marker, own_course = aliased(User), aliased(User), aliased(Course)

    def rows(makeup_from) -> Select:
        columns = [
            # A removed child's record leaves its initial on the place, read here in the first name's stead.
            CourseSession.id.label("session_id"), BookingPlace.child_id, func.coalesce(Child.first_name, BookingPlace.child_initial),
            Child.last_name,
            Child.date_of_birth, Child.due_date, Child.gestation_weeks, parent.full_name.label("parent"), parent.phone,
            AttendanceMark.status, AttendanceMark.note, marker.full_name.label("marked_by"), makeup_from.label("makeup_from"),
            # As the database gives it: only compared, so not worth converting on every row.
            type_coerce(CourseSession.starts_at, NullType()).label("starts_at"),
        ]
        if care_notes:
            columns.append(Child.care_notes)
        return select(*columns).select_from(CourseSession).join(Course, Course.id == CourseSession.course_id)

    def on_register(query: Select) -> Select:
        return (
            query.join(Booking, Booking.id == BookingPlace.booking_id)
            .join(parent, parent.id == Booking.parent_id)
            .outerjoin(Child, Child.id == BookingPlace.child_id)
            .outerjoin(AttendanceMark, and_(AttendanceMark.place_id == BookingPlace.id, AttendanceMark.session_id == CourseSession.id))
            .outerjoin(marker, marker.id == AttendanceMark.marked_by_id)
            .where(
                CourseSession.status == SessionStatus.SCHEDULED,
                BookingPlace.live,
                Booking.status == BookingStatus.CONFIRMED,
                *_scoped_conditions(filters, by),
            )
        )

    booked = on_register(rows(null()).join(BookingPlace, BookingPlace.course_id == Course.id))
    makeups = on_register(
        rows(own_course.title)
        .join(Makeup, and_(Makeup.session_id == CourseSession.id, Makeup.status == MakeupStatus.ACCEPTED))
        .join(BookingPlace, BookingPlace.id == Makeup.place_id)
        .join(own_course, own_course.id == BookingPlace.course_id)
    )
    return booked, makeups


#: How each part of a register export is ordered: by session start, then booking.
ROW_ORDER = (CourseSession.starts_at, CourseSession.id, Booking.created_at, BookingPlace.id)


def _headings_query() -> Select:
    """Select what a register says about each session whose id is in the ``ids`` parameter."""
    instructor = aliased(User)
    return (
        select(
            CourseSession.id, CourseSession.starts_at, CourseSession.ends_at, Course.title, Course.track, Course.age_unit,
            Course.uses_corrected_age, Venue.name, instructor.full_name,
        )
        .join(Course, Course.id == CourseSession.course_id)
        .join(instructor, instructor.id == Course.instructor_id)
        .outerjoin(Venue, Venue.id == Course.venue_id)
        .where(CourseSession.id.in_(bindparam("ids", expanding=True)))
    )


def _session_headings(query: Select, session_ids: Iterable[int], tz: str) -> dict[int, tuple[SessionHeading, _CourseFacts]]:
    """Work out the heading and course facts of each of the sessions, with ``_headings_query``'s query built once per export."""
    rows = db.session.execute(query, {"ids": list(session_ids)})
    headings = {}
    for session_id, starts_at, ends_at, title, track, age_unit, uses_corrected_age, venue, instructor_name in rows:
        starts = to_local(starts_at, tz)
        heading = SessionHeading(
            day=starts.date(), starts=f"{starts:%H:%M}", ends=f"{to_local(ends_at, tz):%H:%M}", course=title,
            track=track.label, venue=venue or "Online", instructor=instructor_name,
        )
        headings[session_id] = (heading, _CourseFacts(track, age_unit, uses_corrected_age))
    return headings


def register_courses(by: User) -> list[Course]:
    """List the courses whose registers ``by`` may export (an organiser: every course), by title."""
    query = select(Course).options(selectinload(Course.sessions)).order_by(Course.title, Course.id)
    if by.role != Role.ORGANISER:
        query = query.where(Course.instructor_id == by.id)
    return list(db.session.scalars(query))


def _check_scope(filters: RegisterFilters, by: User) -> None:
    """Refuse an instructor a course or an instructor filter beyond their own courses, as if it did not exist."""
    if by.role == Role.ORGANISER:
        return
    if filters.course is not None and filters.course.instructor_id != by.id:
        raise RegisterExportError("Choose a course from the list.", field="course")
    if filters.instructor is not None and filters.instructor.id != by.id:
        raise RegisterExportError("Choose an instructor from the list.", field="instructor")


def count_register_rows(filters: RegisterFilters, *, by: User) -> RegisterCount:
    """Count the register rows and the sessions they fall in that an export with these filters would hold."""
    _check_scope(filters, by)
    rows = union_all(*_register_selects(filters, by=by)).subquery()
    total, sessions = db.session.execute(select(func.count(), func.count(distinct(rows.c.session_id)))).one()
    return RegisterCount(rows=total, sessions=sessions)


def register_lines(filters: RegisterFilters, *, by: User, care_notes: bool = False) -> Iterator[tuple[SessionHeading, RegisterLine]]:
    """Yield each session's heading and each family's line, by session start then booking, a batch at a time.

    Children are named in full, by first name and last initial on adoptive and foster courses; ages are on the
    session's day, corrected where the course uses it, as on the register itself. Everything
    read from ``filters``, ``by`` and the settings is read now: a streamed file's lines are
    written after the request's database session has ended, when those objects can no longer load.
    """
    organisation = get_organisation()
    settings = organisation.timezone, organisation.corrected_age_cutoff_months
    parts = [part.order_by(*ROW_ORDER).execution_options(yield_per=BATCH)
             for part in _register_selects(filters, by=by, care_notes=care_notes)]
    return _register_lines(parts, *settings, care_notes=care_notes)


def _register_lines(parts: list[Select], tz: str, cutoff: int, *, care_notes: bool) -> Iterator[tuple[SessionHeading, RegisterLine]]:
    # Each part comes sorted from the database and the two are merged here, each session's
    # make-ups after its own families: sorting their union in the database costs far more.
    connection = db.session.connection()
    rows = heapq.merge(*(connection.execute(part) for part in parts), key=itemgetter(13, 0))
    headings_query = _headings_query()
    headings: dict[int, tuple[SessionHeading, _CourseFacts]] = {}
    while partition := list(islice(rows, BATCH)):
        # Look up this batch's sessions once; the last one may carry on from the batch before.
        wanted = {row[0] for row in partition}
        headings = {key: value for key, value in headings.items() if key in wanted}
        headings |= _session_headings(headings_query, wanted - headings.keys(), tz)
        # Unpacking each row as a tuple, rather than reading it by name, keeps the loop cheap.
        for (session_id, child_id, first_name, last_name, date_of_birth, due_date, gestation_weeks, parent, phone, status, note,
             marked_by, makeup_from, _starts_at, *notes) in partition:
            heading, course = headings[session_id]
            if child_id is None:
                child, age = removed_child(first_name), ""
            else:
                facts = _ChildFacts(first_name, last_name, date_of_birth, due_date, gestation_weeks)
                child = roster_name(course, facts)
                age = describe_child_age(course, facts, on=heading.day, cutoff_months=cutoff)
            # Positional: this runs once a row, and keywords cost a noticeable share of the export.
            yield heading, RegisterLine(
                child, age, parent, phone or "", status.label if status else "", note or "", marked_by or "",
                makeup_from or "", (notes[0] or "") if care_notes else None,
            )


def _session_cells(heading: SessionHeading) -> tuple[Any, ...]:
    """Return the columns a row takes from its session."""
    return heading.day, heading.starts, heading.course, heading.track, heading.venue, heading.instructor


def _family_columns(care_notes: bool) -> slice:
    """Choose the columns a row takes from its family's line: every one, or all but the care notes."""
    return slice(None) if care_notes else slice(-1)


def _header(care_notes: bool) -> list[str]:
    return [*HEADER, CARE_NOTES_HEADER] if care_notes else HEADER


# --- CSV -----------------------------------------------------------------------------------------


def _csv_chunks(lines: Iterable[tuple[SessionHeading, RegisterLine]], care_notes: bool) -> Iterator[str]:
    """Write the rows as CSV, a batch at a time, starting with a byte-order mark so Excel reads UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(_header(care_notes))
    family = _family_columns(care_notes)
    batch, current, session_cells = 0, None, []
    for heading, line in lines:
        if heading is not current:  # the session's cells are written out once, not once a row
            current = heading
            day, *texts = _session_cells(heading)
            session_cells = [day.isoformat(), *map(spreadsheet_safe, texts)]
        writer.writerow([*session_cells, *map(spreadsheet_safe, line[family])])
        batch += 1
        if batch == BATCH:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            batch = 0
    yield buffer.getvalue()


# --- Excel ---------------------------------------------------------------------------------------


def _xlsx_text(sheet: WriteOnlyWorksheet, value: str) -> str | WriteOnlyCell:
    """Make typed text an Excel cell that is always text: one that looks like a formula or an error is typed as text explicitly."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not (looks_like_formula(value) or value in ERROR_CODES):
        return value
    cell = WriteOnlyCell(sheet, value)
    # openpyxl would store "=..." as a formula and "#N/A" as an error; the quote prefix
    # keeps it text even when someone edits the cell in Excel or LibreOffice.
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def _write_xlsx(lines: Iterable[tuple[SessionHeading, RegisterLine]], care_notes: bool, file: IO[bytes]) -> None:
    """Write the workbook in write-only mode, with a bold frozen header, real dates and set column widths."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Registers")
    header = _header(care_notes)
    for index, width in enumerate(XLSX_WIDTHS[: len(header)], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    heading_cells = []
    for title in header:
        cell = WriteOnlyCell(sheet, title)
        cell.font = bold
        heading_cells.append(cell)
    sheet.append(heading_cells)
    family = _family_columns(care_notes)
    for heading, line in lines:
        day, *rest = (*_session_cells(heading), *line[family])
        day_cell = WriteOnlyCell(sheet, day)
        day_cell.number_format = "dd/mm/yyyy"
        sheet.append([day_cell, *(_xlsx_text(sheet, value) for value in rest)])
    workbook.save(file)


def _xlsx_chunks(lines: Iterable[tuple[SessionHeading, RegisterLine]], care_notes: bool) -> Iterator[bytes]:
    """Build the workbook in a temporary file (so memory stays bounded), then read it out a chunk at a time."""
    with tempfile.TemporaryFile() as file:
        _write_xlsx(lines, care_notes, file)
        file.seek(0)
        while chunk := file.read(FILE_CHUNK):
            yield chunk


# --- PDF sign-in sheets --------------------------------------------------------------------------


class _SignInSheets(FPDF):
    """A4 portrait sign-in sheets: a heading per session, then a row per family to tick and sign."""

    ROW = 9

    def __init__(self, care_notes: bool):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        fonts = Path(current_app.static_folder) / "fonts"
        self.add_font("DejaVu", "", fonts / "DejaVuSans.ttf")
        self.add_font("DejaVu", "B", fonts / "DejaVuSans-Bold.ttf")
        self.set_auto_page_break(auto=True, margin=15)
        self.care_notes = care_notes
        # Child, parent or carer, [care notes,] tick box, signature: 180 mm across.
        self.columns = [("Child", 40), ("Parent or carer", 45), ("Care notes", 40), ("Here", 15), ("Signature", 40)]
        if not care_notes:
            self.columns = [("Child", 50), ("Parent or carer", 60), ("Here", 15), ("Signature", 55)]

    def start_session(self, heading: SessionHeading, *, continued: bool = False) -> None:
        """Start a page with the session's course, date, venue and instructor, then the table's header."""
        self.add_page()
        self.set_font("DejaVu", "B", 16)
        self.multi_cell(0, 8, heading.course + (" (continued)" if continued else ""), new_x="LMARGIN", new_y="NEXT")
        self.set_font("DejaVu", "", 11)
        for label, value in (
            ("Date", f"{format_date(heading.day)}, {heading.starts} to {heading.ends}"),
            ("Venue", heading.venue),
            ("Instructor", heading.instructor),
        ):
            self.multi_cell(0, 6, f"{label}: {value}", new_x="LMARGIN", new_y="NEXT")
        self.ln(4)
        self.set_font("DejaVu", "B", 10)
        for title, width in self.columns:
            self.cell(width, self.ROW, title, border=1)
        self.ln(self.ROW)
        self.set_font("DejaVu", "", 10)

    def family_row(self, heading: SessionHeading, line: RegisterLine) -> None:
        """Add the family's row with an empty box to tick and room to sign, on a new page when this one is full."""
        if self.will_page_break(self.ROW):
            self.start_session(heading, continued=True)
        child = f"{line.child} (make-up)" if line.makeup_from else line.child
        values = {"Child": child, "Parent or carer": line.parent, "Care notes": line.care_notes or "", "Here": "", "Signature": ""}
        for title, width in self.columns:
            x, y = self.get_x(), self.get_y()
            self.cell(width, self.ROW, _fit(self, values[title], width), border=1)
            if title == "Here":
                self.rect(x + (width - 5) / 2, y + (self.ROW - 5) / 2, 5, 5)
        self.ln(self.ROW)


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """Put text on one line, shortened with an ellipsis so it fits its column."""
    text, room = " ".join(text.split()), width - 2
    full = pdf.get_string_width(text)
    if full <= room:
        return text
    text = text[: int(len(text) * room / full) + 1]  # about the right length, so long notes are cut quickly
    while text and pdf.get_string_width(text + "…") > room:
        text = text[:-1]
    return text + "…"


def _pdf_chunks(lines: Iterable[tuple[SessionHeading, RegisterLine]], care_notes: bool) -> Iterator[bytes]:
    """Lay out a sign-in sheet per session (more pages for a long one) and yield the finished PDF."""
    pdf = _SignInSheets(care_notes)
    pdf.set_title("Register sign-in sheets")
    current = None
    for heading, line in lines:
        if heading is not current:
            pdf.start_session(heading)
            current = heading
        pdf.family_row(heading, line)
    if current is None:
        pdf.add_page()
        pdf.set_font("DejaVu", "B", 16)
        pdf.cell(0, 8, "Register sign-in sheets", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 11)
        pdf.cell(0, 8, "No register rows match these filters.")
    yield bytes(pdf.output())


# --- Export and its log --------------------------------------------------------------------------


def export_registers(filters: RegisterFilters, fmt: str, *, by: User, care_notes: bool = False) -> RegisterExport:
    """Audit-log the export (who, format, filters in words, rows, care notes), commit, then return the file to send.

    The file is written as its chunks are read, so the query runs while it streams. Every text cell a user typed is neutralised against formula injection: prefixed with an
    apostrophe in CSV, stored as text with a quote prefix in Excel.
    """
    if fmt not in FORMATS:
        raise RegisterExportError("Choose CSV, Excel or PDF.")
    if care_notes and by.role != Role.ORGANISER:
        # Special-category data leaves the app only in an organiser's hands, and every time in the export log.
        raise RegisterExportError("Only organisers can export care notes. Download the registers without them.")
    count = count_register_rows(filters, by=by)
    if fmt == "pdf" and count.sessions > PDF_MAX_SESSIONS:
        raise RegisterExportError(
            f"These filters match {count.sessions:,} sessions; a PDF holds the sign-in sheets of up to {PDF_MAX_SESSIONS}. "
            "Choose a shorter date range or one course, or download CSV or Excel."
        )
    audit.record(by, EXPORT_ACTION, by, format=fmt, filters=filters.describe(), rows=count.rows, care_notes=care_notes)
    db.session.commit()
    lines = register_lines(filters, by=by, care_notes=care_notes)
    writer = {"csv": _csv_chunks, "xlsx": _xlsx_chunks, "pdf": _pdf_chunks}[fmt]
    return RegisterExport(filename=f"registers.{fmt}", mimetype=FORMATS[fmt][1], chunks=writer(lines, care_notes))


@dataclass(frozen=True)
class ExportLogEntry:
    """One register export as organisers read it in the log."""

    entry: AuditEntry
    by: str

    @property
    def format(self) -> str:
        fmt = self.entry.data.get("format", "")
        return FORMATS[fmt][0] if fmt in FORMATS else fmt

    @property
    def filters(self) -> str:
        return self.entry.data.get("filters", "")

    @property
    def rows(self) -> int:
        return self.entry.data.get("rows", 0)

    @property
    def care_notes(self) -> bool:
        return bool(self.entry.data.get("care_notes"))


def register_export_log(*, page: int = 1, per_page: int = 50) -> Page[ExportLogEntry]:
    """Return one page of the register exports, newest first, with who made each."""
    exports = select(AuditEntry).where(AuditEntry.action == EXPORT_ACTION)
    total = db.session.scalar(select(func.count()).select_from(exports.subquery()))
    number, pages = page_bounds(page, total, per_page)
    rows = db.session.execute(
        select(AuditEntry, User.full_name)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .where(AuditEntry.action == EXPORT_ACTION)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(per_page)
        .offset((number - 1) * per_page)
    ).all()
    return Page(
        items=[ExportLogEntry(entry, name or "Account deleted") for entry, name in rows], number=number, pages=pages, total=total
    )

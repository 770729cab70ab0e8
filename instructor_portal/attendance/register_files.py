"""The files an export is written as: CSV, Excel and printable PDF sign-in sheets, each a chunk at a time.

Every text cell a user typed is neutralised against formula injection: prefixed with an
apostrophe in CSV, stored as text with a quote prefix in Excel. The CSV is written as its
lines are read; the Excel file is built in openpyxl's write-only mode in a temporary file
that is then streamed out.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from flask import current_app
from fpdf import FPDF
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from instructor_portal.attendance.register_rows import BATCH, RegisterLine, SessionHeading
from instructor_portal.spreadsheets import looks_like_formula, spreadsheet_safe
from instructor_portal.templating import format_date

#: What each export format is called on the page and in the audit log, its file's media type and ending.
FORMATS = {
    "csv": ("CSV", "text/csv; charset=utf-8"),
    "xlsx": ("Excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pdf": ("PDF sign-in sheets", "application/pdf"),
}
HEADER = [
    "Date",
    "Start time",
    "Course",
    "Track",
    "Venue",
    "Instructor",
    "Child",
    "Age",
    "Parent or carer",
    "Phone",
    "Attendance",
    "Note",
    "Marked by",
    "Make-up from",
]
CARE_NOTES_HEADER = "Care notes"
#: Excel column widths, in characters, in the order of HEADER then CARE_NOTES_HEADER.
XLSX_WIDTHS = [12, 10, 32, 22, 26, 22, 20, 24, 24, 16, 30, 36, 22, 32, 40]
#: Bytes of a built Excel file sent at a time.
FILE_CHUNK = 64 * 1024


def register_file(
    fmt: str, lines: Iterable[tuple[SessionHeading, RegisterLine]], care_notes: bool
) -> Iterator[str] | Iterator[bytes]:
    """Write the lines as a file in one of FORMATS, yielding it a chunk at a time as it is read."""
    return {"csv": _csv_chunks, "xlsx": _xlsx_chunks, "pdf": _pdf_chunks}[fmt](lines, care_notes)


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


def add_site_font(pdf: FPDF) -> None:
    """Give a PDF the DejaVu font (plain and bold) the app's PDFs use, which has every character families type."""
    fonts = Path(current_app.static_folder) / "fonts"
    pdf.add_font("DejaVu", "", fonts / "DejaVuSans.ttf")
    pdf.add_font("DejaVu", "B", fonts / "DejaVuSans-Bold.ttf")


class _SignInSheets(FPDF):
    """A4 portrait sign-in sheets: a heading per session, then a row per family to tick and sign."""

    ROW = 9

    def __init__(self, care_notes: bool):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        add_site_font(self)
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
        values = {
            "Child": child,
            "Parent or carer": line.parent,
            "Care notes": line.care_notes or "",
            "Here": "",
            "Signature": "",
        }
        for title, width in self.columns:
            x, y = self.get_x(), self.get_y()
            self.cell(width, self.ROW, fit_text(self, values[title], width), border=1)
            if title == "Here":
                self.rect(x + (width - 5) / 2, y + (self.ROW - 5) / 2, 5, 5)
        self.ln(self.ROW)


def fit_text(pdf: FPDF, text: str, width: float) -> str:
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

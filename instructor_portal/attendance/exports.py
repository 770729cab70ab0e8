"""Exporting registers: each export audit-logged before its file is made, and the log organisers read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, select

from instructor_portal import audit
from instructor_portal.accounts.models import Role, User
from instructor_portal.attendance.export_filters import RegisterExportError, RegisterFilters
from instructor_portal.attendance.register_files import FORMATS, register_file
from instructor_portal.attendance.register_rows import count_register_rows, register_lines
from instructor_portal.audit import AuditEntry
from instructor_portal.extensions import db
from instructor_portal.pagination import Page, page_bounds

EXPORT_ACTION = "registers.exported"
#: The most sessions one PDF holds: sign-in sheets are printed a few at a time, and the PDF is built in memory.
PDF_MAX_SESSIONS = 500


@dataclass(frozen=True)
class RegisterExport:
    """A file ready to send: its name, media type and content, a chunk at a time."""

    filename: str
    mimetype: str
    chunks: Iterator[str] | Iterator[bytes]


def export_registers(filters: RegisterFilters, fmt: str, *, by: User, care_notes: bool = False) -> RegisterExport:
    """Audit-log the export (who, format, filters in words, rows, care notes), commit, then return the file to send.

    The file is written as its chunks are read, so the query runs while it streams.
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
    chunks = register_file(fmt, register_lines(filters, by=by, care_notes=care_notes), care_notes)
    return RegisterExport(filename=f"registers.{fmt}", mimetype=FORMATS[fmt][1], chunks=chunks)


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
        items=[ExportLogEntry(entry, name or "Account deleted") for entry, name in rows],
        number=number,
        pages=pages,
        total=total,
    )

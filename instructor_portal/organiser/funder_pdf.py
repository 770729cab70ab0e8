"""The funder's report laid out as an A4 PDF: the organisation, the figures, the courses and, if asked for, the children."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fpdf import FPDF

from instructor_portal.attendance.register_files import add_site_font, fit_text
from instructor_portal.clock import utcnow
from instructor_portal.templating import format_date

if TYPE_CHECKING:
    from instructor_portal.organiser.funder_report import FunderPlace, FunderReport

COMPLETION_RULE = (
    "A place is complete when the child came to at least all but one of the course's sessions (N-1 of N, and "
    "always at least one), make-up sessions included. Only places on courses whose last session is over are "
    "counted, so a course still running does not lower the rate."
)
ROW = 7


class _FunderPdf(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        add_site_font(self)
        self.set_auto_page_break(auto=True, margin=15)
        self.add_page()

    def heading(self, text: str, size: int = 13) -> None:
        self.ln(3)
        self.set_font("DejaVu", "B", size)
        self.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
        self.set_font("DejaVu", "", 10)

    def line(self, text: str) -> None:
        self.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")

    def table(self, columns: list[tuple[str, float]], rows: list[tuple[str, ...]]) -> None:
        """Draw a bordered table, repeating its header on each new page."""

        def header() -> None:
            self.set_font("DejaVu", "B", 9)
            for title, width in columns:
                self.cell(width, ROW, title, border=1)
            self.ln(ROW)
            self.set_font("DejaVu", "", 9)

        header()
        for row in rows:
            if self.will_page_break(ROW):
                self.add_page()
                header()
            for value, (_, width) in zip(row, columns, strict=True):
                self.cell(width, ROW, fit_text(self, value, width), border=1)
            self.ln(ROW)


def _course_rows(places: list[FunderPlace]) -> list[tuple[str, ...]]:
    """One row per course: its places, funded places, sessions attended and completions."""
    courses: dict[tuple, list[FunderPlace]] = {}
    for place in places:
        courses.setdefault((place.starts, place.course), []).append(place)
    return [
        (
            title,
            format_date(starts),
            str(len(group)),
            str(sum(p.funded for p in group)),
            str(sum(p.attended for p in group)),
            f"{sum(p.completed for p in group)} of {len(group)}" if group[0].finished else "Still running",
        )
        for (starts, title), group in sorted(courses.items())
    ]


def funder_pdf(report: FunderReport) -> bytes:
    """Lay out the report; the evaluation section appears only once there are results to show."""
    pdf = _FunderPdf()
    pdf.set_title(f"Funder's report: {report.referrer}")
    pdf.set_author(report.organisation)
    pdf.set_font("DejaVu", "B", 16)
    pdf.multi_cell(0, 9, f"{report.organisation}: funder's report", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    pdf.line(f"Referrer: {report.referrer}")
    pdf.line(f"Courses starting {format_date(report.date_from)} to {format_date(report.date_to)}")
    pdf.line(f"Made on {format_date(utcnow())}")

    pdf.heading("Summary")
    rate = "no finished courses yet" if report.completion_rate is None else f"{report.completion_rate:g}%"
    for label, value in (
        ("Families referred", report.families),
        ("Places referred", len(report.places)),
        ("Places funded", report.places_funded),
        ("Sessions attended", report.sessions_attended),
        ("Completion rate", f"{rate} ({report.completed} of {report.finished} places on finished courses)"),
    ):
        pdf.line(f"{label}: {value}")
    pdf.set_font("DejaVu", "", 9)
    pdf.line(f"How completion is counted: {COMPLETION_RULE}")

    pdf.heading("Courses")
    if report.places:
        columns = [("Course", 62), ("Starts", 28), ("Places", 16), ("Funded", 16), ("Attended", 20), ("Completed", 38)]
        pdf.table(columns, _course_rows(report.places))
    else:
        pdf.line("No families came with this referrer's vouchers to courses starting in this period.")

    if report.places and report.places[0].child is not None:
        pdf.heading("Children")
        pdf.table(
            [("Child", 50), ("Course", 70), ("Came", 30), ("Completed", 30)],
            [
                (
                    place.child,
                    place.course,
                    f"{place.attended} of {place.sessions}",
                    ("Yes" if place.completed else "No") if place.finished else "Still running",
                )
                for place in report.places
            ],
        )

    if report.evaluations:
        pdf.heading("Evaluation results")
        pdf.line("Parents' anonymous answers, from 1 (not at all) to 5 (very much).")
        pdf.table(
            [("Question", 120), ("Answers", 30), ("Average", 30)],
            [(result.question, str(result.responses), f"{result.average:.1f}") for result in report.evaluations],
        )
    return bytes(pdf.output())

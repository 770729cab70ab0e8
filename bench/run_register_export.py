"""Measure the register CSV export against plain csv.writer over the same rows, and its peak memory.

Fills a throw-away SQLite database with register rows (by default 250 courses x 10 sessions
x 40 families = 100,000, about half of them marked), then times, best of three:

- the export: ``attendance.exports.export_registers(..., "csv")`` consumed in full;
- the baseline: one plain SELECT of the same rows and columns, run through the database
  driver, every row written with ``csv.writer``;

and prints rows, seconds, the ratio and the export's peak memory (tracemalloc, in a
separate run because tracing slows Python down), then the same for the Excel export,
once. The target is a ratio of 2 or less, in
memory that does not grow with the rows: compare the peak at --courses 25 and 250.

    .venv/bin/python bench/run_register_export.py [--courses 250] [--sessions 10] [--families 40]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from instructor_portal import create_app  # noqa: E402
from instructor_portal.accounts.models import Child, Role, User  # noqa: E402
from instructor_portal.attendance import exports, register_rows  # noqa: E402
from instructor_portal.attendance.export_filters import RegisterFilters  # noqa: E402
from instructor_portal.attendance.models import AttendanceMark, AttendanceStatus  # noqa: E402
from instructor_portal.booking.models import Booking, BookingPlace, BookingStatus  # noqa: E402
from instructor_portal.catalogue.models import Course, CourseSession, CourseStatus, Track, Venue  # noqa: E402
from instructor_portal.extensions import db  # noqa: E402

#: The baseline: every column the export shows, fetched as stored, in the export's order.
PLAIN_SELECT = """
SELECT s.starts_at, s.ends_at, c.title, c.track, v.name, i.full_name, ch.first_name, ch.last_name, ch.date_of_birth,
       p.full_name, p.phone, m.status, m.note, mb.full_name
FROM course_sessions s
JOIN courses c ON c.id = s.course_id
JOIN users i ON i.id = c.instructor_id
LEFT JOIN venues v ON v.id = c.venue_id
JOIN booking_places bp ON bp.course_id = c.id
JOIN bookings b ON b.id = bp.booking_id
JOIN users p ON p.id = b.parent_id
LEFT JOIN children ch ON ch.id = bp.child_id
LEFT JOIN attendance_marks m ON m.place_id = bp.id AND m.session_id = s.id
LEFT JOIN users mb ON mb.id = m.marked_by_id
WHERE s.status = 'scheduled' AND bp.live AND b.status = 'confirmed'
ORDER BY s.starts_at, s.id, b.created_at, bp.id
"""
TRACKS = [Track.FAMILY, Track.PREMATURE, Track.ADOPTIVE_FOSTER, Track.FAMILY, Track.WORKSHOP]
STATUSES = list(AttendanceStatus)


class Sink:
    """A file that keeps only a count of what is written, so both sides pay for writing and nothing else."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, text: str) -> int:
        self.size += len(text)
        return len(text)


def fill(courses: int, sessions: int, families: int) -> None:
    """Insert the organisation's courses, sessions, families, bookings and marks in bulk."""
    now = datetime.now(UTC)
    start = datetime(2030, 1, 7, 9, 30, tzinfo=UTC)
    instructors = [
        {"id": n + 1, "email": f"instructor{n}@example.org", "full_name": f"Instructor {n}", "role": Role.INSTRUCTOR}
        for n in range(8)
    ]
    db.session.execute(insert(User), instructors)
    db.session.execute(
        insert(Venue),
        [
            {
                "id": n + 1,
                "name": f"Children's Centre {n}",
                "address": f"{n} Park Road",
                "town": "Bristol",
                "postcode": "BS6 5AB",
            }
            for n in range(12)
        ],
    )
    users, children, bookings, places, course_rows, session_rows, marks = [], [], [], [], [], [], []
    user_id = len(instructors)
    for c in range(courses):
        course_id = c + 1
        course_rows.append(
            {
                "id": course_id,
                "instructor_id": c % len(instructors) + 1,
                "venue_id": None if c % 10 == 9 else c % 12 + 1,
                "is_online": c % 10 == 9,
                "title": f"Baby massage {c}",
                "track": TRACKS[c % len(TRACKS)],
                "status": CourseStatus.PUBLISHED,
                "places": families,
                "uses_corrected_age": c % 5 == 1,
            }
        )
        for s in range(sessions):
            begins = start + timedelta(days=c % 60, weeks=s, minutes=30 * (c % 4))
            session_rows.append(
                {
                    "id": c * sessions + s + 1,
                    "course_id": course_id,
                    "starts_at": begins,
                    "ends_at": begins + timedelta(hours=1),
                }
            )
        for f in range(families):
            user_id += 1
            place_id = c * families + f + 1
            users.append(
                {
                    "id": user_id,
                    "email": f"parent{user_id}@example.org",
                    "full_name": f"Parent {user_id} Smith",
                    "phone": f"07700 {user_id:06d}",
                    "role": Role.PARENT,
                }
            )
            children.append(
                {
                    "id": place_id,
                    "parent_id": user_id,
                    "first_name": f"Baby{place_id}",
                    "last_name": "Jones",
                    "date_of_birth": date(2029, 10, 1) - timedelta(days=place_id % 90),
                    "gestation_weeks": 32 if f % 7 == 0 else None,
                    "care_notes": "Reflux; prefers the left side" if f % 5 == 0 else "",
                }
            )
            bookings.append(
                {
                    "id": place_id,
                    "reference": f"B{place_id:08d}",
                    "course_id": course_id,
                    "parent_id": user_id,
                    "status": BookingStatus.CONFIRMED,
                    "amount_pence": 4500,
                    "currency": "GBP",
                    "terms_accepted_at": now,
                    "confirmed_at": now,
                    "created_at": now + timedelta(seconds=place_id),
                }
            )
            places.append({"id": place_id, "booking_id": place_id, "course_id": course_id, "child_id": place_id})
            for s in range(sessions // 2):  # the first half of each course's sessions are marked
                marks.append(
                    {
                        "place_id": place_id,
                        "session_id": c * sessions + s + 1,
                        "status": STATUSES[(f + s) % len(STATUSES)],
                        "note": "Sleepy" if f % 9 == 0 else "",
                        "marked_by_id": c % len(instructors) + 1,
                        "marked_at": now,
                    }
                )
    for model, rows in (
        (User, users),
        (Course, course_rows),
        (CourseSession, session_rows),
        (Child, children),
        (Booking, bookings),
        (BookingPlace, places),
        (AttendanceMark, marks),
    ):
        for at in range(0, len(rows), 5000):
            db.session.execute(insert(model), rows[at : at + 5000])
    db.session.commit()


def best_of(runs: int, work: Callable[[], int]) -> tuple[float, int]:
    """Run ``work`` ``runs`` times; return the fastest time and what it returned."""
    best, result = float("inf"), 0
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def traced_peak(work: Callable[[], int]) -> int:
    """Run ``work`` once under tracemalloc and return the most memory it held at once, in bytes."""
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--courses", type=int, default=250)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--families", type=int, default=40)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'portal.sqlite'}"})
    try:
        with app.app_context():
            upgrade()
            fill(args.courses, args.sessions, args.families)
            organiser = User(email="organiser@example.org", full_name="Olu Organiser", role=Role.ORGANISER)
            db.session.add(organiser)
            db.session.commit()
            filters = RegisterFilters()

            def export(fmt: str = "csv") -> int:
                return sum(len(chunk) for chunk in exports.export_registers(filters, fmt, by=organiser).chunks)

            def baseline() -> int:
                sink = Sink()
                writer = csv.writer(sink)
                connection = db.engine.raw_connection()
                try:
                    cursor = connection.cursor()
                    cursor.execute(PLAIN_SELECT)
                    rows = 0
                    while batch := cursor.fetchmany(register_rows.BATCH):
                        writer.writerows(batch)
                        rows += len(batch)
                finally:
                    connection.close()
                return rows

            rows = register_rows.count_register_rows(filters, by=organiser).rows
            baseline_seconds, baseline_rows = best_of(3, baseline)
            export_seconds, _ = best_of(3, export)
            assert baseline_rows == rows, (baseline_rows, rows)

            peak = traced_peak(export)
            xlsx_seconds, xlsx_bytes = best_of(1, lambda: export("xlsx"))
            xlsx_peak = traced_peak(lambda: export("xlsx"))
            db.engine.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"{'what':<44} {'rows':>9} {'seconds':>9}")
    print(f"{'plain SELECT + csv.writer':<44} {baseline_rows:>9,} {baseline_seconds:>9.3f}")
    print(f"{'register export, CSV, consumed in full':<44} {rows:>9,} {export_seconds:>9.3f}")
    print(f"ratio export / plain: {export_seconds / baseline_seconds:.2f} (target 2 or less)")
    print(f"export peak memory: {peak / 2**20:.1f} MiB (tracemalloc)")
    print(
        f"Excel export, for comparison: {xlsx_seconds:.3f} s, {xlsx_bytes / 2**20:.1f} MiB file, peak memory {xlsx_peak / 2**20:.1f} MiB"
    )


if __name__ == "__main__":
    main()

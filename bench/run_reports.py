"""Time the organiser's reports at 1,000 courses: the report service, and the whole page with its charts.

Fills a throw-away SQLite database (or BENCH_DATABASE_URL, for PostgreSQL) in bulk with
courses of five sessions, each with families booked and paying, half the sessions marked,
some families referred with vouchers, waiting lists and make-ups, all starting within one
year; then times, best of three:

- ``reports.build_report``: every section's query and the tables built from them;
- the page: the reports view in a request as a signed-in organiser, charts drawn and rendered;
- one CSV download (the attendance of each session, the largest);

and prints the SQL statements each cost, which must not grow with the courses.

    .venv/bin/python bench/run_reports.py [--courses 1000] [--families 8]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import g  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, insert  # noqa: E402

from instructor_portal import create_app  # noqa: E402
from instructor_portal.accounts.models import Child, Role, User  # noqa: E402
from instructor_portal.attendance.models import AttendanceMark, AttendanceStatus, Makeup, MakeupStatus  # noqa: E402
from instructor_portal.booking.models import (  # noqa: E402
    Booking,
    BookingPlace,
    BookingStatus,
    PaymentMethod,
    Voucher,
    VoucherKind,
    VoucherRedemption,
)
from instructor_portal.catalogue.models import Course, CourseSession, CourseStatus, Track, Venue  # noqa: E402
from instructor_portal.extensions import db  # noqa: E402
from instructor_portal.organiser import report_pages, report_scope, reports  # noqa: E402
from instructor_portal.organiser.report_tables import table_csv  # noqa: E402
from instructor_portal.payments.models import Payment, PaymentStatus  # noqa: E402
from instructor_portal.waitlist.models import EntryStatus, WaitlistEntry  # noqa: E402

TRACKS = [Track.FAMILY, Track.PREMATURE, Track.ADOPTIVE_FOSTER, Track.FAMILY, Track.WORKSHOP]
STATUSES = list(AttendanceStatus)
SESSIONS = 5


def fill(courses: int, families: int, *, today: date) -> None:
    """Insert the courses, sessions, families, bookings, payments, marks, referrals, waiting lists and make-ups."""
    now = datetime.now(UTC)
    first = datetime.combine(today - timedelta(days=300), datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)
    instructors = [
        {"id": n + 1, "email": f"instructor{n}@example.org", "full_name": f"Instructor {n}", "role": Role.INSTRUCTOR}
        for n in range(8)
    ]
    organiser = {"id": 9, "email": "organiser@example.org", "full_name": "Organiser", "role": Role.ORGANISER}
    organiser.update(totp_secret="JBSWY3DPEHPK3PXP", totp_enabled_at=now)
    db.session.execute(insert(User), [*instructors, organiser])
    venues = [
        {"id": n + 1, "name": f"Centre {n}", "address": f"{n} Park Road", "town": "Bristol", "postcode": "BS6 5AB"}
        for n in range(12)
    ]
    db.session.execute(insert(Venue), venues)
    vouchers = [
        {"id": 1, "code": "NEONATAL", "kind": VoucherKind.FUNDED, "value": 0, "referrer": "Neonatal outreach team"},
        {"id": 2, "code": "HV10", "kind": VoucherKind.PERCENT, "value": 10, "referrer": "Health visitors"},
    ]
    db.session.execute(insert(Voucher), vouchers)
    rows: dict[type, list[dict]] = {
        model: []
        for model in (User, Course, CourseSession, Child, Booking, BookingPlace, Payment, AttendanceMark)
        + (VoucherRedemption, WaitlistEntry, Makeup)
    }
    parents = courses * families // 2  # so about half the families come back for a second course
    rows[User] = [
        {"id": 100 + n, "email": f"parent{n}@example.org", "full_name": f"Parent {n}", "role": Role.PARENT}
        for n in range(parents)
    ]
    for c in range(courses):
        course_id = c + 1
        rows[Course].append(
            {
                "id": course_id,
                "instructor_id": c % 8 + 1,
                "venue_id": c % 12 + 1,
                "title": f"Baby massage {c}",
                "track": TRACKS[c % len(TRACKS)],
                "status": CourseStatus.PUBLISHED,
                "places": families + 2,
                "price_pence": 4500,
            }
        )
        begins = first + timedelta(hours=7 * c)  # about 1,000 courses over 300 days
        for s in range(SESSIONS):
            at = begins + timedelta(weeks=s)
            rows[CourseSession].append(
                {
                    "id": c * SESSIONS + s + 1,
                    "course_id": course_id,
                    "starts_at": at,
                    "ends_at": at + timedelta(hours=1),
                }
            )
        for f in range(families):
            place_id = c * families + f + 1
            parent_id = 100 + (place_id * 7919) % parents
            rows[Child].append(
                {"id": place_id, "parent_id": parent_id, "first_name": f"Baby{place_id}", "last_name": "Jones"}
                | {"date_of_birth": today - timedelta(weeks=12)}
            )
            method = [PaymentMethod.CARD, PaymentMethod.BANK_TRANSFER, PaymentMethod.PAY_AT_VENUE][f % 3]
            paid = 0 if method == PaymentMethod.PAY_AT_VENUE else 4500
            rows[Booking].append(
                {
                    "id": place_id,
                    "reference": f"B{place_id:08d}",
                    "course_id": course_id,
                    "parent_id": parent_id,
                    "status": BookingStatus.CONFIRMED,
                    "payment_method": method,
                    "amount_pence": 4500,
                    "amount_paid_pence": paid,
                    "currency": "GBP",
                    "terms_accepted_at": now,
                    "confirmed_at": now,
                }
            )
            rows[BookingPlace].append({"id": place_id, "booking_id": place_id, "course_id": course_id})
            rows[BookingPlace][-1]["child_id"] = place_id
            if paid:
                rows[Payment].append(
                    {
                        "booking_id": place_id,
                        "method": method,
                        "status": PaymentStatus.SUCCEEDED,
                        "amount_pence": paid,
                        "currency": "GBP",
                        "succeeded_at": now,
                    }
                )
            if f % 4 == 0:
                rows[VoucherRedemption].append({"voucher_id": 1 + f % 2, "booking_id": place_id, "discount_pence": 450})
            for s in range(SESSIONS // 2 + 1):
                rows[AttendanceMark].append(
                    {
                        "place_id": place_id,
                        "session_id": c * SESSIONS + s + 1,
                        "status": STATUSES[(f + s) % len(STATUSES)],
                        "marked_at": now,
                    }
                )
            if f == 0:
                rows[Makeup].append(
                    {
                        "place_id": place_id,
                        "missed_session_id": c * SESSIONS + 1,
                        "session_id": ((c + 1) % courses) * SESSIONS + 2,
                        "status": MakeupStatus.ACCEPTED if c % 2 else MakeupStatus.OFFERED,
                        "offered_at": now,
                    }
                )
        for w, status in enumerate((EntryStatus.WAITING, EntryStatus.BOOKED, EntryStatus.LAPSED)):
            rows[WaitlistEntry].append(
                {
                    "course_id": course_id,
                    "parent_id": 100 + (course_id * 31 + w) % parents,
                    "places": 1,
                    "status": status,
                    "offers_made": 0 if status == EntryStatus.WAITING else 1,
                }
            )
    for model, values in rows.items():
        for at in range(0, len(values), 5000):
            db.session.execute(insert(model), values[at : at + 5000])
    db.session.commit()


def timed(runs: int, work: Callable[[], object]) -> tuple[float, int]:
    """Run ``work`` ``runs`` times; return the fastest time and the SQL statements one run cost."""
    best, statements = float("inf"), []

    def record(*_args) -> None:
        statements.append(1)

    for _ in range(runs):
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", record)
        started = time.perf_counter()
        try:
            work()
        finally:
            best = min(best, time.perf_counter() - started)
            event.remove(db.engine, "before_cursor_execute", record)
    return best, len(statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--courses", type=int, default=1000)
    parser.add_argument("--families", type=int, default=8)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="portal-reports-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'portal.sqlite'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    try:
        with app.app_context():
            upgrade()
            today = datetime.now(UTC).date()
            fill(args.courses, args.families, today=today)
            filters = report_scope.ReportFilters(today - timedelta(days=365), today + timedelta(days=91))
            organiser = db.session.get(User, 9)

            def page() -> None:
                with app.test_request_context("/organiser/reports"):
                    g._login_user = organiser  # signed in, as Flask-Login keeps the user for a request
                    body, status = report_pages.reports_page()
                    assert status == 200 and "Fill rate" in body

            if os.environ.get("BENCH_SECTIONS"):  # where the time goes, section by section
                scope = report_scope.Scope(filters, now=datetime.now(UTC))
                for section in reports.SECTIONS:
                    print(f"  {section.__name__}: {timed(1, lambda s=section: s(scope))[0] * 1000:.0f} ms")
            for label, work in (
                ("report service (every section)", lambda: reports.build_report(filters)),
                ("reports page, charts drawn", page),
                (
                    "CSV, attendance of each session",
                    lambda: table_csv(reports.report_file("attendance-sessions", filters)),
                ),
            ):
                seconds, statements = timed(3, work)
                print(f"{label}: {seconds * 1000:.0f} ms, {statements} SQL statements ({args.courses} courses)")
            db.session.remove()
            db.engine.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

"""The reports' numbers, checked against a small scene worked out by hand, and their cost in queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event

from instructor_portal.accounts.models import Child, Role
from instructor_portal.attendance.models import AttendanceMark, AttendanceStatus, Makeup, MakeupStatus
from instructor_portal.booking.models import (
    Booking,
    BookingPlace,
    BookingStatus,
    PaymentMethod,
    VoucherKind,
    VoucherRedemption,
)
from instructor_portal.catalogue.models import Course, CourseSession, CourseStatus, Track
from instructor_portal.extensions import db
from instructor_portal.organisation import get_organisation
from instructor_portal.organiser import report_scope, reports
from instructor_portal.organiser.report_tables import table_csv
from instructor_portal.payments.models import RefundStatus
from instructor_portal.waitlist.models import EntryStatus, WaitlistEntry
from tests import factories

NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.date()
FROM, TO = TODAY - timedelta(days=60), TODAY + timedelta(days=30)


def days_ago(days: int) -> datetime:
    return (NOW - timedelta(days=days)).replace(hour=10, minute=0, second=0)


def mark(place, session, status: AttendanceStatus) -> None:
    db.session.add(AttendanceMark(place=place, session=session, status=status, marked_at=session.starts_at))
    db.session.commit()


def redeem(booking, voucher, discount_pence: int) -> None:
    db.session.add(VoucherRedemption(voucher=voucher, booking=booking, discount_pence=discount_pence))
    db.session.commit()


def wait(course, *, places: int = 1, status: EntryStatus = EntryStatus.WAITING, offers: int = 0) -> None:
    offered = {"offer_expires_at": NOW + timedelta(hours=5)} if status == EntryStatus.OFFERED else {}
    db.session.add(
        WaitlistEntry(
            course=course, parent=factories.make_user(), places=places, status=status, offers_made=offers, **offered
        )
    )
    db.session.commit()


def makeup(place, missed, session, status: MakeupStatus) -> None:
    db.session.add(Makeup(place=place, missed_session=missed, session=session, status=status, offered_at=NOW))
    db.session.commit()


@pytest.fixture
def scene(app):
    """Two courses in range (A family, B premature), plus a cancelled, a draft and an earlier course that do not count.

    Course A (8 places): P1 books two children by card (paid 90.00, refunded 45.00); P2 one at the venue (owes
    45.00) and came before on course E; P4 one held for payment; P3's booking was cancelled.
    Course B (4 places): P5 a place funded by the neonatal team; P6 10% off through the newsletter, paid 27.00
    by bank transfer with 10.00 to be refunded, and came before on course E.
    """
    first, second = factories.make_user(role=Role.INSTRUCTOR), factories.make_user(role=Role.INSTRUCTOR)
    hall, hospital = factories.make_venue(name="Hall"), factories.make_venue(name="Hospital")
    a = factories.make_course(
        title="A", instructor=first, venue=hall, places=8, price_pence=4500, first_session=days_ago(40)
    )
    b = factories.make_course(
        title="B",
        instructor=second,
        venue=hospital,
        places=4,
        price_pence=3000,
        track=Track.PREMATURE,
        first_session=days_ago(10),
    )
    factories.make_course(title="Cancelled", status=CourseStatus.CANCELLED, first_session=days_ago(20))
    factories.make_course(title="Draft", status=CourseStatus.DRAFT, first_session=days_ago(20))
    e = factories.make_course(title="E", places=8, first_session=days_ago(700))
    p1, p2, p3, p4, p5, p6 = (factories.make_user() for _ in range(6))
    a1 = factories.make_booking(
        a,
        [factories.make_child(p1), factories.make_child(p1)],
        payment_method=PaymentMethod.CARD,
        amount_paid_pence=4500,
        amount_refunded_pence=4500,
    )
    card = factories.make_payment(a1, method=PaymentMethod.CARD, amount_pence=9000)
    factories.make_refund(card, amount_pence=4500)
    a2 = factories.make_booking(a, [factories.make_child(p2)], payment_method=PaymentMethod.PAY_AT_VENUE)
    factories.make_booking(a, [factories.make_child(p3)], status=BookingStatus.CANCELLED)
    a4 = factories.make_booking(a, [factories.make_child(p4)], status=BookingStatus.AWAITING_PAYMENT)
    factories.make_booking(e, [factories.make_child(p2)])
    earlier = factories.make_booking(e, [factories.make_child(p6)])
    factories.make_payment(earlier, method=PaymentMethod.CARD, amount_pence=5000)  # outside the range

    neonatal = factories.make_voucher(kind=VoucherKind.FUNDED, value=0, referrer="Neonatal outreach team")
    newsletter = factories.make_voucher(referrer="Children's centre newsletter")
    unnamed = factories.make_voucher(code="NOBODY")
    redeem(a1, unnamed, 900)
    b5 = factories.make_booking(b, [factories.make_child(p5)], payment_method=PaymentMethod.FUNDED)
    b6 = factories.make_booking(b, [factories.make_child(p6)], payment_method=PaymentMethod.BANK_TRANSFER)
    b5.amount_pence, b5.discount_pence = 0, 3000
    b6.amount_pence, b6.discount_pence, b6.amount_paid_pence = 2700, 300, 2700
    db.session.commit()
    redeem(b5, neonatal, 3000)
    redeem(b6, newsletter, 300)
    bank = factories.make_payment(b6, method=PaymentMethod.BANK_TRANSFER, amount_pence=2700)
    factories.make_refund(bank, amount_pence=1000, status=RefundStatus.PENDING)

    s1, s2 = a.sessions[0], a.sessions[1]
    mark(a1.places[0], s1, AttendanceStatus.PRESENT)
    mark(a1.places[1], s1, AttendanceStatus.OBSERVING)
    mark(a2.places[0], s1, AttendanceStatus.LATE)
    mark(a4.places[0], s1, AttendanceStatus.ABSENT_UNWELL)
    mark(a1.places[0], s2, AttendanceStatus.ABSENT_IMMUNISED)
    mark(a1.places[1], s2, AttendanceStatus.PRESENT)
    mark(a2.places[0], s2, AttendanceStatus.ABSENT_OTHER)
    mark(b5.places[0], b.sessions[0], AttendanceStatus.PRESENT)
    mark(b6.places[0], b.sessions[0], AttendanceStatus.ABSENT_UNWELL)

    wait(a, places=2)
    wait(a, status=EntryStatus.OFFERED, offers=1)
    wait(a, status=EntryStatus.BOOKED, offers=1)
    wait(a, status=EntryStatus.LAPSED, offers=1)
    wait(a, status=EntryStatus.DECLINED, offers=1)
    wait(e, places=3)  # outside the range

    makeup(a2.places[0], s2, b.sessions[1], MakeupStatus.ACCEPTED)
    makeup(a1.places[0], s2, b.sessions[1], MakeupStatus.DECLINED)
    makeup(a4.places[0], s1, b.sessions[2], MakeupStatus.OFFERED)
    return {"a": a, "b": b, "first": first, "hospital": hospital}


def report(**filters) -> dict[str, report_scope.Section]:
    sections = reports.build_report(report_scope.ReportFilters(FROM, TO, **filters), now=NOW)
    return {section.key: section for section in sections}


def rows(section: report_scope.Section, name: str | None = None) -> list[tuple]:
    return section.files[name or section.key].rows


def by_title(table_rows: list[tuple]) -> dict[str, tuple]:
    return {row[0]: row for row in table_rows}


def test_fill_rate_counts_live_places_on_courses_not_cancelled(scene):
    fill = by_title(rows(report()["fill-rate"]))
    assert set(fill) == {"A", "B"}
    # Title, starts, instructor, venue, places, booked, rate.
    assert fill["A"][4:] == (8, 4, 50.0)
    assert fill["B"][4:] == (4, 2, 50.0)
    assert fill["A"][3] == "Hall" and fill["B"][1] == days_ago(10).date()
    summary = report()["fill-rate"].summary
    assert sum(summary.column("Places")) == 12 and sum(summary.column("Booked")) == 6
    assert sum(summary.column("Courses")) == 2


def test_attendance_breaks_out_the_baby_led_statuses_per_session_and_course(scene):
    section = report()["attendance"]
    per_course = by_title(rows(section, "attendance-courses"))
    # Sessions marked; present, late, observing, unwell, immunised, absent other; came, marked, rate.
    assert per_course["A"][4:] == (2, 2, 1, 1, 1, 1, 1, 4, 7, 57.1)
    assert per_course["B"][4:] == (1, 1, 0, 0, 1, 0, 0, 1, 2, 50.0)
    sessions = rows(section, "attendance-sessions")
    assert [(row[0], row[-3:]) for row in sessions] == [("A", (3, 4, 75.0)), ("A", (1, 3, 33.3)), ("B", (1, 2, 50.0))]
    assert sum(section.summary.column("Marked")) == 9


def test_revenue_by_method_counts_paid_refunded_refunds_owed_and_owed(scene):
    revenue = by_title(rows(report()["revenue"]))
    # Paid, refunded, refunds owed, owed by families, kept.
    assert revenue["Card"][1:] == (9000, 4500, 0, 0, 4500)
    assert revenue["Bank transfer"][1:] == (2700, 0, 1000, 0, 2700)
    assert revenue["Pay at the first session"][1:] == (0, 0, 0, 4500, 0)
    assert set(revenue) == {"Card", "Bank transfer", "Pay at the first session"}


def test_referrals_group_places_by_the_vouchers_referrer(scene):
    referrals = by_title(rows(report()["referrals"]))
    # Families, places referred, places funded, value funded.
    assert referrals == {
        "Children's centre newsletter": ("Children's centre newsletter", 1, 1, 0, 0),
        "Neonatal outreach team": ("Neonatal outreach team", 1, 1, 1, 3000),
    }


def test_waiting_list_demand_counts_open_entries_and_offers(scene):
    waiting = by_title(rows(report()["waiting-list"]))
    # Families waiting, places waiting, offers made, taken, lapsed, declined.
    assert waiting == {"A": (*waiting["A"][:4], 2, 3, 4, 1, 1, 1)}


def test_makeups_count_those_offered_to_each_courses_families(scene):
    assert by_title(rows(report()["make-ups"]))["A"][4:] == (3, 1, 1, 1)
    assert "B" not in by_title(rows(report()["make-ups"]))


def test_families_who_booked_an_earlier_course_are_returning(scene):
    families = by_title(rows(report()["families"]))
    assert families["A"][4:] == (2, 1)
    assert families["B"][4:] == (1, 1)


def test_filters_narrow_every_section_to_the_chosen_courses(scene):
    premature = report(track=Track.PREMATURE)
    assert list(by_title(rows(premature["fill-rate"]))) == ["B"]
    assert rows(premature["waiting-list"]) == [] and rows(premature["make-ups"]) == []
    assert set(by_title(rows(premature["revenue"]))) == {"Bank transfer"}
    assert list(by_title(rows(report(instructor=scene["first"])["fill-rate"]))) == ["A"]
    assert list(by_title(rows(report(venue=scene["hospital"])["families"]))) == ["B"]


def test_a_range_before_any_course_shows_empty_sections(scene):
    sections = reports.build_report(report_scope.ReportFilters(date(2001, 1, 1), date(2001, 12, 31)), now=NOW)
    assert all(not section.summary.rows for section in sections)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (date(2027, 3, 2), date(2027, 3, 1), 'The "To" date must be on or after the "From" date.'),
        (date(2020, 1, 1), date(2025, 1, 2), "Choose a range of 5 years or less."),
    ],
)
def test_an_impossible_range_is_refused_with_a_clear_message(start, end, message):
    with pytest.raises(report_scope.ReportError) as refused:
        report_scope.ReportFilters(start, end)
    assert refused.value.message == message and refused.value.field == "date_to"


def test_five_years_to_the_day_is_allowed_even_from_a_leap_day():
    report_scope.ReportFilters(date(2020, 1, 1), date(2025, 1, 1))
    report_scope.ReportFilters(date(2024, 2, 29), date(2029, 2, 28))


def test_csv_files_keep_typed_text_from_running_as_a_formula(app):
    course = factories.make_course(title='=HYPERLINK("http://evil.example")', first_session=days_ago(5))
    factories.make_booking(course)
    text = table_csv(reports.report_file("fill-rate", report_scope.ReportFilters(FROM, TO), now=NOW))
    header, line = text.splitlines()
    assert header == "Course,Starts,Instructor,Venue,Places,Booked,Fill rate"
    assert line.startswith('"\'=HYPERLINK(""http://evil.example"")",')
    assert line.endswith(",8,1,12.5")


def test_money_in_csv_is_in_pounds(scene):
    text = table_csv(reports.report_file("revenue", report_scope.ReportFilters(FROM, TO), now=NOW))
    assert "Card,90.00,45.00,0.00,0.00,45.00" in text.splitlines()


def _statements_for_report() -> int:
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    db.session.expire_all()
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        reports.build_report(report_scope.ReportFilters(FROM, TO), now=NOW)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len(statements)


def _add_courses(number: int) -> None:
    """Add courses, each with a booking, a mark and a family waiting, in one commit (the factories commit each row)."""
    venue, instructor = factories.make_venue(), factories.make_user(role=Role.INSTRUCTOR)
    parent = factories.make_user()
    for n in range(number):
        starts = days_ago(n % 50)
        course = Course(instructor=instructor, venue=venue, title=f"Course {n}", track=Track.FAMILY, places=8)
        course.status = CourseStatus.PUBLISHED
        course.sessions = [CourseSession(starts_at=starts, ends_at=starts + timedelta(hours=1))]
        db.session.add(course)
        db.session.flush()
        child = Child(parent=parent, first_name="Baby", last_name=str(n), date_of_birth=TODAY - timedelta(weeks=12))
        place = BookingPlace(course_id=course.id, child=child)
        booking = Booking(
            reference=f"Q{n:06d}{number}",
            course=course,
            parent=parent,
            status=BookingStatus.CONFIRMED,
            amount_pence=0,
            currency="GBP",
            terms_accepted_at=NOW,
            places=[place],
        )
        mark = AttendanceMark(place=place, session=course.sessions[0], status=AttendanceStatus.PRESENT, marked_at=NOW)
        entry = WaitlistEntry(course=course, parent=parent, places=1, status=EntryStatus.WAITING)
        db.session.add_all([booking, mark, entry])
    db.session.commit()


def test_the_report_costs_the_same_queries_for_10_courses_as_for_200(app):
    get_organisation()  # read once per request; counted here only in the first report otherwise
    _add_courses(10)
    few = _statements_for_report()
    _add_courses(190)
    assert _statements_for_report() == few
    assert few <= 12


def test_the_demo_datas_figures(runner):
    """Worked out from instructor_portal/demo.py: eight published courses, the draft left out."""
    runner.invoke(args=["seed-demo"])
    sections = {s.key: s for s in reports.build_report(report_scope.ReportFilters(*report_scope.default_range()))}
    fill = sections["fill-rate"].summary
    assert (sum(fill.column("Courses")), sum(fill.column("Places")), sum(fill.column("Booked"))) == (8, 57, 8)
    assert by_title(rows(sections["fill-rate"]))["Baby Massage for Families (Tuesday mornings)"][4:] == (8, 1, 12.5)
    # The Friday course's first two sessions: Maya present then late, Noah observing then recently immunised.
    (friday,) = rows(sections["attendance"], "attendance-courses")
    assert friday[4:] == (2, 1, 1, 1, 0, 1, 0, 3, 4, 75.0)
    revenue = by_title(rows(sections["revenue"]))
    assert revenue["Bank transfer"][1:] == (16500, 0, 0, 0, 16500)
    assert revenue["Pay at the first session"][1:] == (0, 0, 0, 9000, 0)
    assert rows(sections["referrals"]) == []  # no demo booking used a referral code
    (waiting,) = rows(sections["waiting-list"])
    assert waiting[4:] == (1, 1, 0, 0, 0, 0)
    (makeup_row,) = rows(sections["make-ups"])
    assert makeup_row[4:] == (1, 0, 0, 1)
    families = sections["families"].summary
    # The demo parent came to the Friday course first, so returns for two later ones.
    assert (sum(families.column("New families")), sum(families.column("Returning families"))) == (3, 2)

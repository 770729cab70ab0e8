"""The organiser's reports: how full courses were, who came, the money, referrals, waiting lists, make-ups and families.

Every section covers the courses that start in the chosen range of local days (drafts left
out), narrowed by instructor, venue and track, and costs one grouped query however many
courses there are; the months its chart draws are added up from those rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import case, distinct, func, literal_column, select, union_all

from instructor_portal.attendance.models import AttendanceMark, AttendanceStatus, Makeup, MakeupStatus
from instructor_portal.booking.capacity import holds_places
from instructor_portal.booking.models import (
    Booking,
    BookingPlace,
    BookingStatus,
    PaymentMethod,
    Voucher,
    VoucherKind,
    VoucherRedemption,
)
from instructor_portal.catalogue.models import CourseSession, CourseStatus
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.organiser.report_scope import COURSE_COLUMNS, ReportFilters, Scope, Section, course_starts
from instructor_portal.organiser.report_tables import Column, Kind, Table, by_month, rate
from instructor_portal.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from instructor_portal.timezones import to_local
from instructor_portal.waitlist.models import OPEN_STATUSES, EntryStatus, WaitlistEntry

#: The register's statuses in the order the tables and charts show them.
STATUSES = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.LATE,
    AttendanceStatus.OBSERVING,
    AttendanceStatus.ABSENT_UNWELL,
    AttendanceStatus.ABSENT_IMMUNISED,
    AttendanceStatus.ABSENT_OTHER,
)
STATUS_LABELS = ("Present", "Late", "Observing", "Unwell", "Immunised", "Absent other")
#: Refunds recorded but not yet given back: waiting to be sent, or refused by Stripe and flagged.
OWED_REFUNDS = (RefundStatus.PENDING, RefundStatus.FAILED)


def _count_where(condition, value=1):
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


# --- The sections ------------------------------------------------------------------------------


def fill_rates(scope: Scope) -> Section:
    """Places booked against places on each course that was not cancelled."""
    booked = dict(
        db.session.execute(
            select(BookingPlace.course_id, func.count(BookingPlace.id))
            .join(Booking, Booking.id == BookingPlace.booking_id)
            .where(BookingPlace.course_id.in_(scope.ids()), BookingPlace.live, holds_places(scope.now))
            .group_by(BookingPlace.course_id)
        ).all()
    )
    running = [course for course in scope.courses.values() if course.status != CourseStatus.CANCELLED]
    counts = (Column("Places"), Column("Booked"))
    per_course = Table(
        (*COURSE_COLUMNS, *counts, Column("Fill rate", Kind.PERCENT)),
        [(*c.label, c.places, booked.get(c.id, 0), rate(booked.get(c.id, 0), c.places)) for c in running],
        title="Each course",
    )
    summary = by_month(
        ((c.starts, (1, c.places, booked.get(c.id, 0))) for c in running),
        (Column("Month", Kind.TEXT), Column("Courses"), *counts, Column("Fill rate", Kind.PERCENT)),
        derive=lambda totals: (rate(totals[2], totals[1]),),
    )
    return Section(
        "fill-rate",
        "Fill rate",
        "Places booked (confirmed or held for payment) out of the places on each course; cancelled courses are left out.",
        summary,
        ("Places", "Booked"),
        {"fill-rate": per_course},
    )


def attendance(scope: Scope) -> Section:
    """The register's marks at each session of the courses, by status, and the share who came."""
    # One row per session with a count for each status, so a thousand courses' marks come back as few rows.
    rows = db.session.execute(
        select(
            CourseSession.id,
            CourseSession.course_id,
            CourseSession.starts_at,
            *(_count_where(AttendanceMark.status == status) for status in STATUSES),
        )
        .join(AttendanceMark, AttendanceMark.session_id == CourseSession.id)
        .where(CourseSession.course_id.in_(scope.ids()))
        .group_by(CourseSession.id, CourseSession.course_id, CourseSession.starts_at)
        .order_by(CourseSession.starts_at, CourseSession.id)
    ).all()
    sessions = {row[0]: (row[1], row[2], [int(n) for n in row[3:]]) for row in rows}
    status_columns = tuple(Column(label) for label in STATUS_LABELS)
    totals = (Column("Came"), Column("Marked"), Column("Attendance rate", Kind.PERCENT))

    def with_rate(counts) -> tuple:
        came = sum(n for status, n in zip(STATUSES, counts, strict=True) if status.attended)
        return (*counts, came, sum(counts), rate(came, sum(counts)))

    courses = scope.courses
    per_session = Table(
        (Column("Course", Kind.TEXT), Column("Session", Kind.DATE), *status_columns, *totals),
        [
            (courses[course_id].title, to_local(starts_at, scope.tz).date(), *with_rate(counts))
            for course_id, starts_at, counts in sessions.values()
        ],
        title="Each session",
    )
    by_course: dict[int, list[int]] = {}
    for course_id, _, counts in sessions.values():
        course = by_course.setdefault(course_id, [0] * (len(STATUSES) + 1))
        course[0] += 1
        for index, value in enumerate(counts):
            course[index + 1] += value
    per_course = Table(
        (*COURSE_COLUMNS, Column("Sessions marked"), *status_columns, *totals),
        [
            (*c.label, by_course[c.id][0], *with_rate(by_course[c.id][1:]))
            for c in courses.values()
            if c.id in by_course
        ],
        title="Each course",
    )
    summary = by_month(
        ((to_local(starts_at, scope.tz), counts) for _, starts_at, counts in sessions.values()),
        (Column("Month", Kind.TEXT), *status_columns, *totals),
        derive=lambda counts: with_rate(counts)[len(STATUSES) :],
    )
    return Section(
        "attendance",
        "Attendance",
        "Each family's mark on the register at each session, by the month the session fell in. Present, late and "
        "observing (the parent practised on a doll while the baby was not ready) count as coming; unwell, recently "
        "immunised and other absences do not. Families making up a session are counted where they came.",
        summary,
        STATUS_LABELS,
        {"attendance-courses": per_course, "attendance-sessions": per_session},
        stacked=True,
    )


def revenue(scope: Scope) -> Section:
    """Money on the courses' bookings by payment method: paid, refunded, refunds owed, and still owed by families."""
    in_scope = Booking.course_id.in_(scope.ids())
    paid = (
        select(Payment.method.label("method"), literal_column("'paid'").label("kind"), func.sum(Payment.amount_pence))
        .join(Booking, Booking.id == Payment.booking_id)
        .where(in_scope, Payment.status == PaymentStatus.SUCCEEDED)
        .group_by(Payment.method)
    )
    refunded = (
        select(
            Payment.method,
            case((Refund.status == RefundStatus.SUCCEEDED, "refunded"), else_="refund_owed"),
            func.sum(Refund.amount_pence),
        )
        .join(Payment, Payment.id == Refund.payment_id)
        .join(Booking, Booking.id == Payment.booking_id)
        .where(in_scope, Refund.status.in_((RefundStatus.SUCCEEDED, *OWED_REFUNDS)))
        .group_by(Payment.method, Refund.status)
    )
    due = Booking.amount_pence - Booking.amount_paid_pence - Booking.amount_refunded_pence
    owed = (
        select(Booking.payment_method, literal_column("'owed'"), func.sum(due))
        .where(in_scope, Booking.status == BookingStatus.CONFIRMED, Booking.payment_method.is_not(None), due > 0)
        .group_by(Booking.payment_method)
    )
    money: dict[PaymentMethod, dict[str, int]] = {}
    for method, kind, pence in db.session.execute(union_all(paid, refunded, owed)):
        totals = money.setdefault(PaymentMethod(method), {})
        totals[kind] = totals.get(kind, 0) + int(pence)
    kinds = ("paid", "refunded", "refund_owed", "owed")
    table = Table(
        (
            Column("Method", Kind.TEXT),
            Column("Paid", Kind.MONEY),
            Column("Refunded", Kind.MONEY),
            Column("Refunds owed", Kind.MONEY),
            Column("Owed by families", Kind.MONEY),
            Column("Kept", Kind.MONEY),
        ),
        [
            (
                method.label,
                *(money[method].get(k, 0) for k in kinds),
                money[method].get("paid", 0) - money[method].get("refunded", 0),
            )
            for method in PaymentMethod
            if method in money
        ],
    )
    return Section(
        "revenue",
        "Revenue",
        "Money on the bookings for these courses, by how families pay. Paid is money received; kept is paid less "
        "refunded. Refunds owed are recorded but not yet back with the family (waiting to be sent, or refused by "
        "Stripe and flagged). Owed by families is what confirmed bookings still have to pay.",
        table,
        ("Paid", "Refunded", "Refunds owed", "Owed by families"),
        {"revenue": table},
    )


def referrals(scope: Scope) -> Section:
    """Families and places that came with a referrer's voucher, and the places the referrer funded."""
    # Each booking's places are counted by a lookup on its own rows rather than a join to a count of every
    # booking's, which PostgreSQL can plan as a loop over them all.
    places = (
        select(func.count(BookingPlace.id))
        .where(BookingPlace.booking_id == Booking.id, BookingPlace.live)
        .correlate(Booking)
        .scalar_subquery()
    )
    used = (
        select(
            Voucher.referrer,
            Booking.parent_id,
            (Voucher.kind == VoucherKind.FUNDED).label("funded"),
            VoucherRedemption.discount_pence,
            places.label("places"),
        )
        .select_from(VoucherRedemption)
        .join(Voucher, Voucher.id == VoucherRedemption.voucher_id)
        .join(Booking, Booking.id == VoucherRedemption.booking_id)
        .where(Booking.course_id.in_(scope.ids()), holds_places(scope.now), Voucher.referrer != "")
        .subquery("used")
    )
    rows = db.session.execute(
        select(
            used.c.referrer,
            func.count(distinct(used.c.parent_id)),
            func.sum(used.c.places),
            _count_where(used.c.funded, used.c.places),
            _count_where(used.c.funded, used.c.discount_pence),
        )
        .group_by(used.c.referrer)
        .order_by(used.c.referrer)
    ).all()
    table = Table(
        (
            Column("Referrer", Kind.TEXT),
            Column("Families"),
            Column("Places referred"),
            Column("Places funded"),
            Column("Value funded", Kind.MONEY),
        ),
        [tuple(row) for row in rows],
    )
    return Section(
        "referrals",
        "Funded and referred places",
        "Bookings made with a voucher that names who referred the family; funded places are paid for by the referrer.",
        table,
        ("Places referred", "Places funded"),
        {"referrals": table},
        horizontal=True,
    )


def waiting_lists(scope: Scope) -> Section:
    """Families and places waiting on each course's list, and the offers made, taken and left to lapse."""
    open_entry = WaitlistEntry.status.in_(OPEN_STATUSES)
    rows = db.session.execute(
        select(
            WaitlistEntry.course_id,
            _count_where(open_entry),
            _count_where(open_entry, WaitlistEntry.places),
            func.sum(WaitlistEntry.offers_made),
            _count_where(WaitlistEntry.status == EntryStatus.BOOKED),
            _count_where(WaitlistEntry.status == EntryStatus.LAPSED),
            _count_where(WaitlistEntry.status == EntryStatus.DECLINED),
        )
        .where(WaitlistEntry.course_id.in_(scope.ids()))
        .group_by(WaitlistEntry.course_id)
    ).all()
    return _per_course_section(
        scope,
        {row[0]: tuple(int(n) for n in row[1:]) for row in rows},
        key="waiting-list",
        title="Waiting lists",
        explanation="Families on each course's waiting list now (waiting, or holding an offer) and the places they "
        "need, and the offers made so far: taken up, left to lapse, or declined.",
        counts=("Families waiting", "Places waiting", "Offers made", "Taken", "Lapsed", "Declined"),
        chart=("Families waiting", "Offers made", "Taken", "Lapsed"),
    )


def makeups(scope: Scope) -> Section:
    """Make-up sessions offered to families on each course, and what they did with them."""
    rows = db.session.execute(
        select(
            BookingPlace.course_id,
            func.count(Makeup.id),
            _count_where(Makeup.status == MakeupStatus.ACCEPTED),
            _count_where(Makeup.status == MakeupStatus.DECLINED),
            _count_where(Makeup.status == MakeupStatus.OFFERED),
        )
        .join(BookingPlace, BookingPlace.id == Makeup.place_id)
        .where(BookingPlace.course_id.in_(scope.ids()))
        .group_by(BookingPlace.course_id)
    ).all()
    return _per_course_section(
        scope,
        {row[0]: tuple(int(n) for n in row[1:]) for row in rows},
        key="make-ups",
        title="Make-ups",
        explanation="Make-up sessions offered to families who missed a session of these courses: taken (accepted), "
        "declined, or still waiting for an answer; offers withdrawn or cancelled count only as offered.",
        counts=("Offered", "Taken", "Declined", "Awaiting answer"),
        chart=("Offered", "Taken"),
    )


def families(scope: Scope) -> Section:
    """Families booked on each course who are new, and those returning from an earlier course."""
    # One pass over the bookings: each family's first confirmed course comes from a window over its bookings,
    # not a join of two aggregates, which PostgreSQL can plan as a loop over every family.
    starts = course_starts()
    booked = (
        select(
            Booking.course_id,
            Booking.parent_id,
            starts.c.starts_at,
            holds_places(scope.now).label("holds"),
            func.min(case((Booking.status == BookingStatus.CONFIRMED, starts.c.starts_at)))
            .over(partition_by=Booking.parent_id)
            .label("first_start"),
        )
        .join(starts, starts.c.course_id == Booking.course_id)
        .subquery("booked")
    )
    returning = case((booked.c.first_start < booked.c.starts_at, booked.c.parent_id))
    rows = db.session.execute(
        select(booked.c.course_id, func.count(distinct(booked.c.parent_id)), func.count(distinct(returning)))
        .where(booked.c.course_id.in_(scope.ids()), booked.c.holds)
        .group_by(booked.c.course_id)
    ).all()
    return _per_course_section(
        scope,
        {course_id: (total - back, back) for course_id, total, back in rows},
        key="families",
        title="New and returning families",
        explanation="Families booked on each course: returning families had a confirmed booking on a course that "
        "started earlier; the rest are new.",
        counts=("New families", "Returning families"),
        chart=("New families", "Returning families"),
        stacked=True,
    )


def _per_course_section(
    scope: Scope,
    values: dict[int, tuple[int, ...]],
    *,
    key: str,
    title: str,
    explanation: str,
    counts: tuple[str, ...],
    chart: tuple[str, ...],
    stacked: bool = False,
) -> Section:
    """A section of counts for each course that has any, charted by the month each course started."""
    columns = tuple(Column(label) for label in counts)
    lines = [course for course in scope.courses.values() if course.id in values]
    per_course = Table((*COURSE_COLUMNS, *columns), [(*c.label, *values[c.id]) for c in lines], title="Each course")
    summary = by_month(((c.starts, values[c.id]) for c in lines), (Column("Month", Kind.TEXT), *columns))
    return Section(key, title, explanation, summary, chart, {key: per_course}, stacked=stacked)


SECTIONS: tuple[Callable[[Scope], Section], ...] = (
    fill_rates,
    attendance,
    revenue,
    referrals,
    waiting_lists,
    makeups,
    families,
)
#: Each CSV download by name, and the section that makes it.
FILES: dict[str, Callable[[Scope], Section]] = {
    "fill-rate": fill_rates,
    "attendance-courses": attendance,
    "attendance-sessions": attendance,
    "revenue": revenue,
    "referrals": referrals,
    "waiting-list": waiting_lists,
    "make-ups": makeups,
    "families": families,
}


def build_report(filters: ReportFilters, *, now: datetime | None = None) -> list[Section]:
    """Every section of the report for the courses ``filters`` choose."""
    scope = Scope(filters, now=now or utcnow())
    return [section(scope) for section in SECTIONS]


def report_file(name: str, filters: ReportFilters, *, now: datetime | None = None) -> Table:
    """The rows of one CSV download, by its name in FILES."""
    return FILES[name](Scope(filters, now=now or utcnow())).files[name]

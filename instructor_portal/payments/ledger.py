"""The organiser's ledger: every payment and refund, filtered and totalled, a page at a time or as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, false, func, literal_column, select, union_all
from sqlalchemy.orm import joinedload

from instructor_portal import audit
from instructor_portal.accounts.models import User
from instructor_portal.booking.models import Booking, PaymentMethod
from instructor_portal.catalogue.models import Course
from instructor_portal.extensions import db
from instructor_portal.money import to_pounds
from instructor_portal.organisation import get_organisation
from instructor_portal.pagination import Page, page_bounds
from instructor_portal.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from instructor_portal.spreadsheets import spreadsheet_safe
from instructor_portal.timezones import local_to_utc, to_local

#: The methods that move money; free and funded places never make a payment.
LEDGER_METHODS = (PaymentMethod.CARD, PaymentMethod.PAY_AT_VENUE, PaymentMethod.BANK_TRANSFER)
CSV_HEADER = [
    "Date",
    "Type",
    "Booking",
    "Course",
    "Parent or carer",
    "Method",
    "Status",
    "Amount",
    "Currency",
    "Received on",
    "Reason or note",
    "By",
    "Stripe id",
]
#: Rows loaded at a time while streaming the CSV.
CSV_BATCH = 200

# When a payment counts in the ledger: when the money arrived, else when it was started.
_PAYMENT_AT = func.coalesce(Payment.succeeded_at, Payment.created_at)


@dataclass(frozen=True)
class LedgerFilters:
    """What the organiser narrowed the ledger to; dates are local days, both ends included."""

    date_from: date | None = None
    date_to: date | None = None
    #: A PaymentStatus value; refunds match on the statuses they share with payments.
    status: str | None = None
    method: PaymentMethod | None = None
    course_id: int | None = None


@dataclass(frozen=True)
class LedgerEntry:
    """One line of the ledger: a payment, or a refund of one."""

    payment: Payment
    refund: Refund | None = None

    @property
    def kind(self) -> str:
        return "Refund" if self.refund else "Payment"

    @property
    def at(self) -> datetime:
        return self.refund.created_at if self.refund else self.payment.succeeded_at or self.payment.created_at

    @property
    def status(self) -> PaymentStatus | RefundStatus:
        return self.refund.status if self.refund else self.payment.status

    @property
    def amount_pence(self) -> int:
        return self.refund.amount_pence if self.refund else self.payment.amount_pence

    @property
    def text(self) -> str:
        return self.refund.reason if self.refund else self.payment.note

    @property
    def by(self) -> User | None:
        return self.refund.requested_by if self.refund else self.payment.recorded_by

    @property
    def stripe_id(self) -> str:
        if self.refund:
            return self.refund.stripe_refund_id or ""
        return self.payment.stripe_payment_intent_id or self.payment.stripe_checkout_session_id or ""


@dataclass(frozen=True)
class LedgerTotals:
    """Succeeded money in the filtered ledger: received less refunded is net."""

    received_pence: int
    refunded_pence: int

    @property
    def net_pence(self) -> int:
        return self.received_pence - self.refunded_pence


def _conditions(filters: LedgerFilters) -> tuple[list[ColumnElement[bool]], list[ColumnElement[bool]]]:
    """The filters as WHERE clauses for payments and for refunds (which take their payment's method and course)."""
    shared: list[ColumnElement[bool]] = []
    if filters.method:
        shared.append(Payment.method == filters.method)
    if filters.course_id:
        shared.append(Booking.course_id == filters.course_id)
    payments, refunds = list(shared), list(shared)
    tz = get_organisation().timezone
    if filters.date_from:
        start = local_to_utc(filters.date_from, time(0), tz)
        payments.append(_PAYMENT_AT >= start)
        refunds.append(Refund.created_at >= start)
    if filters.date_to:
        end = local_to_utc(filters.date_to + timedelta(days=1), time(0), tz)
        payments.append(_PAYMENT_AT < end)
        refunds.append(Refund.created_at < end)
    if filters.status:
        payments.append(Payment.status == PaymentStatus(filters.status))
        shared_status = filters.status in {status.value for status in RefundStatus}
        refunds.append(Refund.status == RefundStatus(filters.status) if shared_status else false())
    return payments, refunds


def _ledger(filters: LedgerFilters):
    """Payments and refunds as one list of (kind, id, at) rows, for counting, ordering and paging together."""
    payment_where, refund_where = _conditions(filters)
    payments = (
        select(literal_column("'payment'").label("kind"), Payment.id.label("id"), _PAYMENT_AT.label("at"))
        .join(Booking, Booking.id == Payment.booking_id)
        .where(*payment_where)
    )
    refunds = (
        select(literal_column("'refund'").label("kind"), Refund.id.label("id"), Refund.created_at.label("at"))
        .join(Payment, Payment.id == Refund.payment_id)
        .join(Booking, Booking.id == Payment.booking_id)
        .where(*refund_where)
    )
    return union_all(payments, refunds).subquery("ledger")


def _ordered(ledger) -> Select:
    return select(ledger.c.kind, ledger.c.id).order_by(ledger.c.at.desc(), ledger.c.kind, ledger.c.id.desc())


def _entries(rows: Sequence) -> list[LedgerEntry]:
    """Load the payments and refunds named by ``rows`` with what a line shows, in the rows' order."""
    payment_ids = [row.id for row in rows if row.kind == "payment"]
    refund_ids = [row.id for row in rows if row.kind == "refund"]
    details = (
        joinedload(Payment.booking).joinedload(Booking.course),
        joinedload(Payment.booking).joinedload(Booking.parent),
        joinedload(Payment.recorded_by),
    )
    payments = {
        p.id: p for p in db.session.scalars(select(Payment).where(Payment.id.in_(payment_ids)).options(*details))
    }
    refunds = {
        r.id: r
        for r in db.session.scalars(
            select(Refund)
            .where(Refund.id.in_(refund_ids))
            .options(
                joinedload(Refund.requested_by), *(joinedload(Refund.payment).options(option) for option in details)
            )
        )
    }
    return [
        LedgerEntry(payments[row.id])
        if row.kind == "payment"
        else LedgerEntry(refunds[row.id].payment, refunds[row.id])
        for row in rows
    ]


def ledger_page(filters: LedgerFilters, *, page: int = 1, per_page: int = 50) -> Page[LedgerEntry]:
    """Return one page of the filtered ledger, newest first."""
    ledger = _ledger(filters)
    total = db.session.scalar(select(func.count()).select_from(ledger))
    number, pages = page_bounds(page, total, per_page)
    rows = db.session.execute(_ordered(ledger).limit(per_page).offset((number - 1) * per_page)).all()
    return Page(items=_entries(rows), number=number, pages=pages, total=total)


def ledger_totals(filters: LedgerFilters) -> LedgerTotals:
    """Add up the succeeded payments and refunds in the filtered ledger."""
    payment_where, refund_where = _conditions(filters)
    received = db.session.scalar(
        select(func.coalesce(func.sum(Payment.amount_pence), 0))
        .join(Booking, Booking.id == Payment.booking_id)
        .where(*payment_where, Payment.status == PaymentStatus.SUCCEEDED)
    )
    refunded = db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount_pence), 0))
        .join(Payment, Payment.id == Refund.payment_id)
        .join(Booking, Booking.id == Payment.booking_id)
        .where(*refund_where, Refund.status == RefundStatus.SUCCEEDED)
    )
    return LedgerTotals(received_pence=received, refunded_pence=refunded)


def ledger_courses() -> list[Course]:
    """List the courses that have any payment, for the ledger's course filter."""
    with_payments = select(Booking.course_id).join(Payment, Payment.booking_id == Booking.id)
    return list(
        db.session.scalars(select(Course).where(Course.id.in_(with_payments)).order_by(Course.title, Course.id))
    )


def _pounds(pence: int) -> str:
    return f"{to_pounds(pence):.2f}"


def _csv_row(entry: LedgerEntry, tz: str) -> list[str]:
    payment, booking = entry.payment, entry.payment.booking
    return [
        to_local(entry.at, tz).isoformat(timespec="seconds"),
        entry.kind,
        booking.reference,
        spreadsheet_safe(booking.course.title),
        spreadsheet_safe(booking.parent.full_name),
        payment.method.label,
        entry.status.value,
        _pounds(entry.amount_pence),
        payment.currency,
        payment.received_on.isoformat() if payment.received_on and not entry.refund else "",
        spreadsheet_safe(entry.text or ""),
        spreadsheet_safe(entry.by.full_name) if entry.by else "",
        entry.stripe_id,
    ]


def export_ledger_csv(filters: LedgerFilters, *, by: User) -> Iterator[str]:
    """Audit-log the export, then return the filtered ledger as CSV text, a batch of lines at a time.

    Typed text (course titles, names, reasons, notes) is neutralised against formula
    injection; amounts are decimal pounds and dates ISO 8601 in the organisation's time zone.
    """
    audit.record(
        by, "payments.exported", by, filters={key: str(value) for key, value in asdict(filters).items() if value}
    )
    db.session.commit()
    ids = db.session.execute(_ordered(_ledger(filters))).all()
    tz = get_organisation().timezone

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_HEADER)
        for start in range(0, len(ids), CSV_BATCH):
            writer.writerows(_csv_row(entry, tz) for entry in _entries(ids[start : start + CSV_BATCH]))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    return lines()

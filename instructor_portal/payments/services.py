"""Payments recorded by staff (at the venue, by bank transfer) and a booking's money as its pages show it.

Every path that changes a payment holds its booking's lock (booking.holds.lock_booking),
so a webhook, the family's return from Stripe and reconciliation can run at once and still
apply a payment once. Card Checkout lives in ``checkout.py``, Stripe's events in
``stripe_events.py``, refunds in ``refunds.py`` and the organiser's flags in ``flags.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from instructor_portal import audit
from instructor_portal.accounts.models import User
from instructor_portal.booking import holds as booking_holds
from instructor_portal.booking.models import Booking, BookingStatus, PaymentMethod
from instructor_portal.clock import utcnow
from instructor_portal.db import MAX_ID
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db
from instructor_portal.locks import unit_of_work
from instructor_portal.money import format_money
from instructor_portal.payments.emails import send_receipt
from instructor_portal.payments.models import Payment, PaymentStatus, Refund, RefundStatus


class PaymentError(DomainError):
    """A payment or refund could not be made; the message says why, for the person who asked."""


def settle_booking_total(booking: Booking) -> None:
    """Keep the booking's totals equal to its payments: paid less refunded, and refunded."""
    payments = db.session.scalars(
        select(Payment).where(Payment.booking_id == booking.id, Payment.status == PaymentStatus.SUCCEEDED)
    ).all()
    booking.amount_refunded_pence = sum(p.amount_refunded_pence for p in payments)
    booking.amount_paid_pence = sum(p.amount_pence for p in payments) - booking.amount_refunded_pence


#
# A refund is recorded as owed in the transaction that decides it, and made at Stripe only
# after that commits (send_owed_refunds), so a slow Stripe holds no lock and a crash in
# between leaves an owed refund that reconcile-payments makes later, under the same key.


def record_offline_payment(
    booking: Booking,
    *,
    by: User,
    amount_pence: int,
    method: PaymentMethod,
    received_on: date,
    note: str = "",
    request_key: str | None = None,
) -> Payment:
    """Mark money received at the venue or by bank transfer; the same ``request_key`` twice records once."""
    if method not in (PaymentMethod.PAY_AT_VENUE, PaymentMethod.BANK_TRANSFER):
        raise PaymentError("Choose cash or card at the venue, or bank transfer.", field="method")
    if amount_pence <= 0:
        raise PaymentError("Enter the amount received.", field="amount")
    if received_on > utcnow().date() + timedelta(days=1):
        raise PaymentError("The date received cannot be in the future.", field="received_on")
    with unit_of_work():
        booking_holds.lock_booking(booking)
        existing = (
            db.session.scalars(select(Payment).where(Payment.request_key == request_key)).first()
            if request_key
            else None
        )
        if existing is not None:
            return existing
        if booking.status != BookingStatus.CONFIRMED:
            raise PaymentError("Only confirmed bookings can be marked as paid.")
        if amount_pence > booking.amount_due_pence:
            raise PaymentError(
                f"Only {format_money(booking.amount_due_pence, booking.currency)} is due on this booking.",
                field="amount",
            )
        payment = Payment(
            booking=booking,
            method=method,
            status=PaymentStatus.SUCCEEDED,
            amount_pence=amount_pence,
            currency=booking.currency,
            received_on=received_on,
            recorded_by=by,
            note=note.strip(),
            succeeded_at=utcnow(),
            request_key=request_key,
        )
        db.session.add(payment)
        db.session.flush()
        settle_booking_total(booking)
        send_receipt(payment)
        audit.record(
            by, "payment.recorded", payment, booking_id=booking.id, amount_pence=amount_pence, method=method.value
        )
    return payment


#: What a family is shown: money that moved or failed, not Checkout pages they opened and left.
FAMILY_VISIBLE_STATUSES = (PaymentStatus.PROCESSING, PaymentStatus.SUCCEEDED, PaymentStatus.FAILED)


@dataclass(frozen=True)
class BookingMoney:
    """A booking's payments and their refunds, each oldest first."""

    payments: list[Payment]
    refunds: list[Refund]


@dataclass(frozen=True)
class Refundable:
    """A payment with what can still be refunded of it (refunds under way count as spent)."""

    payment: Payment
    left_pence: int


def pending_refunds(payment: Payment) -> int:
    """Sum the refunds of a payment that are owed or under way."""
    return db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount_pence), 0)).where(
            Refund.payment_id == payment.id, Refund.status == RefundStatus.PENDING
        )
    )


def booking_money(booking: Booking, *, for_family: bool = False) -> BookingMoney:
    """List a booking's payments and refunds; ``for_family`` leaves out Checkout pages opened and never paid."""
    query = (
        select(Payment)
        .where(Payment.booking_id == booking.id)
        .options(selectinload(Payment.refunds).selectinload(Refund.requested_by), selectinload(Payment.recorded_by))
        .order_by(Payment.created_at, Payment.id)
    )
    if for_family:
        query = query.where(Payment.status.in_(FAMILY_VISIBLE_STATUSES))
    payments = list(db.session.scalars(query))
    refunds = sorted(
        (refund for payment in payments for refund in payment.refunds),
        key=lambda refund: (refund.created_at, refund.id),
    )
    return BookingMoney(payments=payments, refunds=refunds)


def refundable_payments(booking: Booking) -> list[Refundable]:
    """Each payment on the booking that still has money to give back, with how much."""
    payments = db.session.scalars(
        select(Payment)
        .where(Payment.booking_id == booking.id, Payment.status == PaymentStatus.SUCCEEDED)
        .order_by(Payment.id)
    )
    left = [Refundable(payment, payment.refundable_pence - pending_refunds(payment)) for payment in payments]
    return [entry for entry in left if entry.left_pence > 0]


def get_booking_payment(booking: Booking, payment_id: int | None) -> Payment | None:
    """Return the booking's payment with this id, or None (also for another booking's payment)."""
    payment = db.session.get(Payment, payment_id) if payment_id and 0 < payment_id <= MAX_ID else None
    return payment if payment is not None and payment.booking_id == booking.id else None


def owes_money(booking: Booking) -> bool:
    """Say whether money can be marked as received: the booking is confirmed and something is still due."""
    return booking.status == BookingStatus.CONFIRMED and booking.amount_due_pence > 0

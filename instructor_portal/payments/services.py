"""Payments: refunds, offline payments, the booking pages' money and the organiser's flags.

Every path that changes a payment holds its booking's lock (booking.services.lock_booking),
so a webhook, the family's return from Stripe and reconciliation can run at once and still
apply a payment once. Card Checkout and Stripe's events live in ``checkout.py``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from instructor_portal import audit
from instructor_portal.accounts.models import Role, User
from instructor_portal.booking import services as booking_services
from instructor_portal.booking.models import Booking, BookingStatus, PaymentMethod
from instructor_portal.clock import utcnow
from instructor_portal.db import MAX_ID
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db
from instructor_portal.locks import unit_of_work
from instructor_portal.money import format_money
from instructor_portal.organiser.services import get_organisation
from instructor_portal.payments.models import FlagKind, Payment, PaymentFlag, PaymentStatus, Refund, RefundStatus
from instructor_portal.payments.stripe_gateway import GatewayError, GatewayUnavailable, gateway

log = logging.getLogger(__name__)

REFUND_STATUSES = {"succeeded": RefundStatus.SUCCEEDED, "pending": RefundStatus.PENDING, "requires_action": RefundStatus.PENDING}


class PaymentError(DomainError):
    """A payment or refund could not be made; the message says why, for the person who asked."""


def flag(kind: FlagKind, message: str, *, booking: Booking | None = None, payment: Payment | None = None) -> PaymentFlag:
    """Record something the organiser must look at; the caller commits."""
    entry = PaymentFlag(kind=kind, message=message, booking=booking, payment=payment)
    db.session.add(entry)
    return entry


def _money(pence: int, currency: str) -> str:
    return format_money(pence, currency)


def settle_booking_total(booking: Booking) -> None:
    """Keep the booking's totals equal to its payments: paid less refunded, and refunded."""
    payments = db.session.scalars(select(Payment).where(Payment.booking_id == booking.id, Payment.status == PaymentStatus.SUCCEEDED)).all()
    booking.amount_refunded_pence = sum(p.amount_refunded_pence for p in payments)
    booking.amount_paid_pence = sum(p.amount_pence for p in payments) - booking.amount_refunded_pence


# --- Refunds -------------------------------------------------------------------------------------
#
# A refund is recorded as owed in the transaction that decides it, and made at Stripe only
# after that commits (send_owed_refunds), so a slow Stripe holds no lock and a crash in
# between leaves an owed refund that reconcile-payments makes later, under the same key.


def can_refund(user: User, booking: Booking) -> bool:
    """Organisers refund any booking; instructors their own courses' when the organisation allows it."""
    if user.role == Role.ORGANISER:
        return True
    return user.role == Role.INSTRUCTOR and booking.course.instructor_id == user.id and get_organisation().allow_instructor_refunds


def refund_payment(payment: Payment, amount_pence: int, *, by: User, reason: str, request_key: str, now: datetime | None = None) -> Refund:
    """Refund part or all of a payment, at most what is left of it; the same ``request_key`` twice makes one refund."""
    now = now or utcnow()
    if not can_refund(by, payment.booking):
        raise PaymentError("You cannot refund this booking.")
    if not reason.strip():
        raise PaymentError("Say why you are refunding.", field="reason")
    if amount_pence <= 0:
        raise PaymentError("Enter an amount to refund.", field="amount")
    with unit_of_work():
        booking_services.lock_booking(payment.booking)
        refund = db.session.scalars(select(Refund).where(Refund.idempotency_key == request_key)).first()
        if refund is None:
            db.session.refresh(payment)
            left = payment.refundable_pence - pending_refunds(payment)
            if amount_pence > left:
                raise PaymentError(f"At most {_money(max(left, 0), payment.currency)} of this payment can still be refunded.", field="amount")
            refund = owe_refund(payment, amount_pence, by=by, reason=reason.strip(), key=request_key, now=now)
    send_owed_refunds(booking_id=payment.booking_id, now=now)
    db.session.refresh(refund)
    if refund.status == RefundStatus.FAILED:
        raise PaymentError(f"Stripe refused the refund: {refund.failure_message}")
    return refund


def pending_refunds(payment: Payment) -> int:
    """Sum the refunds of a payment that are owed or under way."""
    return db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount_pence), 0)).where(Refund.payment_id == payment.id, Refund.status == RefundStatus.PENDING)
    )


def owe_refund(payment: Payment, amount_pence: int, *, by: User | None, reason: str, key: str, now: datetime) -> Refund:
    """Record a refund as owed: offline money is settled at once (it goes back by hand), card money by send_owed_refunds.

    The caller holds the booking's lock and commits; ``key`` is the idempotency key Stripe gets.
    """
    refund = Refund(payment=payment, amount_pence=amount_pence, status=RefundStatus.PENDING, reason=reason, idempotency_key=key, requested_by=by)
    db.session.add(refund)
    db.session.flush()
    if payment.method != PaymentMethod.CARD:
        _refund_settled(refund, now=now)
    audit.record(by, "payment.refunded", payment, amount_pence=amount_pence, refund_id=refund.id, status=refund.status.value, reason=reason)
    return refund


def send_owed_refunds(*, booking_id: int | None = None, now: datetime | None = None) -> int:
    """Make at Stripe every card refund that is owed (one booking's, or all); return how many went through.

    Runs outside any transaction. A refund Stripe cannot be reached for stays owed, for the
    next run; one Stripe refuses is marked failed and flagged to the organiser.
    """
    now = now or utcnow()
    stripe = gateway()
    if stripe is None:
        return 0
    query = select(Refund.id).join(Payment).where(
        Refund.status == RefundStatus.PENDING, Refund.stripe_refund_id.is_(None), Payment.method == PaymentMethod.CARD
    )
    if booking_id is not None:
        query = query.where(Payment.booking_id == booking_id)
    ids = list(db.session.scalars(query.order_by(Refund.id)))
    return sum(_send_refund(stripe, refund_id, now=now) for refund_id in ids)


def _send_refund(stripe, refund_id: int, *, now: datetime) -> bool:
    refund = db.session.get(Refund, refund_id)
    payment = refund.payment
    request = dict(
        payment_intent=payment.stripe_payment_intent_id,
        amount_pence=refund.amount_pence,
        idempotency_key=refund.idempotency_key,
        metadata={"refund_id": str(refund.id), "booking_id": str(payment.booking_id)},
    )
    try:
        result = stripe.refund(**request)
    except GatewayUnavailable:
        log.warning("Refund %s not made yet: Stripe is not answering; it stays owed", refund_id, exc_info=True)
        return False
    except GatewayError as error:
        with unit_of_work():
            booking_services.lock_booking(payment.booking)
            db.session.refresh(refund)
            if refund.status == RefundStatus.PENDING:
                _refund_failed(refund, str(error))
        return False
    with unit_of_work():
        booking_services.lock_booking(payment.booking)
        db.session.refresh(refund)
        refund.stripe_refund_id = refund.stripe_refund_id or result["id"]
        if refund.status != RefundStatus.PENDING:  # a webhook for the same refund got here first
            return refund.status == RefundStatus.SUCCEEDED
        if REFUND_STATUSES.get(result["status"]) == RefundStatus.SUCCEEDED:
            _refund_settled(refund, now=now)
        elif result["status"] in ("failed", "canceled"):
            _refund_failed(refund, f"Stripe marked it {result['status']}.")
    return refund.status == RefundStatus.SUCCEEDED


def _refund_failed(refund: Refund, message: str) -> None:
    payment = refund.payment
    refund.status = RefundStatus.FAILED
    refund.failure_message = message
    flag(FlagKind.REFUND_FAILED, f"Refund of {_money(refund.amount_pence, payment.currency)} for booking {payment.booking.reference} failed: {message}",
         booking=payment.booking, payment=payment)


def _refund_settled(refund: Refund, *, now: datetime) -> None:
    payment = refund.payment
    refund.status = RefundStatus.SUCCEEDED
    payment.amount_refunded_pence += refund.amount_pence
    booking = payment.booking
    settle_booking_total(booking)
    # A booking that was paid in full and has had it all back is over; a partial
    # payment handed back (say, paid twice by mistake) leaves the place as it was.
    paid_in_full = db.session.scalar(
        select(func.coalesce(func.sum(Payment.amount_pence), 0)).where(Payment.booking_id == booking.id, Payment.status == PaymentStatus.SUCCEEDED)
    ) >= booking.amount_pence
    if paid_in_full and booking.amount_paid_pence == 0 and booking.status == BookingStatus.CONFIRMED:
        booking_services.cancel_refunded_booking(booking, by=refund.requested_by, reason=refund.reason, now=now)


def sync_refunds(payment: Payment, remote_refunds: list[dict[str, Any]], *, now: datetime) -> str:
    """Bring our refunds for a card payment in line with Stripe's list, whoever made them; the caller holds the booking's lock."""
    db.session.refresh(payment)
    outcome = "unchanged"
    for remote in remote_refunds:
        ours = db.session.scalars(select(Refund).where(Refund.stripe_refund_id == remote["id"])).first()
        if ours is None and (remote.get("metadata") or {}).get("refund_id", "").isdigit():
            ours = db.session.get(Refund, int(remote["metadata"]["refund_id"]))
            if ours is not None and ours.payment_id == payment.id:
                ours.stripe_refund_id = remote["id"]
            else:
                ours = None
        if ours is None:
            ours = Refund(payment=payment, amount_pence=remote["amount"], status=RefundStatus.PENDING,
                          reason="Refunded in Stripe, outside this app.", idempotency_key=f"stripe-{remote['id']}", stripe_refund_id=remote["id"])
            db.session.add(ours)
            flag(FlagKind.MISMATCH, f"A refund of {_money(remote['amount'], payment.currency)} for booking {payment.booking.reference} was made in Stripe, outside this app.", booking=payment.booking, payment=payment)
        target = REFUND_STATUSES.get(remote["status"], RefundStatus.FAILED)
        if ours.status == RefundStatus.PENDING and target == RefundStatus.SUCCEEDED:
            _refund_settled(ours, now=now)
            outcome = "refunded"
        elif ours.status == RefundStatus.PENDING and target == RefundStatus.FAILED:
            _refund_failed(ours, f"Refund {remote['id']} failed at Stripe.")
            outcome = "refund-failed"
    return outcome


# --- Offline payments ------------------------------------------------------------------------------


def record_offline_payment(
    booking: Booking, *, by: User, amount_pence: int, method: PaymentMethod, received_on: date, note: str = "",
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
        booking_services.lock_booking(booking)
        existing = db.session.scalars(select(Payment).where(Payment.request_key == request_key)).first() if request_key else None
        if existing is not None:
            return existing
        if booking.status != BookingStatus.CONFIRMED:
            raise PaymentError("Only confirmed bookings can be marked as paid.")
        if amount_pence > booking.amount_due_pence:
            raise PaymentError(f"Only {_money(booking.amount_due_pence, booking.currency)} is due on this booking.", field="amount")
        payment = Payment(
            booking=booking, method=method, status=PaymentStatus.SUCCEEDED, amount_pence=amount_pence, currency=booking.currency,
            received_on=received_on, recorded_by=by, note=note.strip(), succeeded_at=utcnow(), request_key=request_key,
        )
        db.session.add(payment)
        db.session.flush()
        settle_booking_total(booking)
        audit.record(by, "payment.recorded", payment, booking_id=booking.id, amount_pence=amount_pence, method=method.value)
    return payment


# --- Cancellations ------------------------------------------------------------------------------


def owe_cancellation_refunds(booking: Booking, *, by: User | None, now: datetime) -> list[Refund]:
    """Record as owed everything still paid on a booking cancelled in good time (or with its course); the caller holds its lock."""
    payments = db.session.scalars(select(Payment).where(Payment.booking_id == booking.id, Payment.status == PaymentStatus.SUCCEEDED)).all()
    return [
        owe_refund(payment, left, by=by, reason="Booking cancelled in good time.", key=f"cancel-{booking.id}-payment-{payment.id}", now=now)
        for payment in payments
        if (left := payment.refundable_pence - pending_refunds(payment)) > 0
    ]


def cancel_booking_and_refund(booking: Booking, *, by: User, reason: str = "", now: datetime | None = None) -> Booking:
    """Cancel a booking and, inside the course's refund window, refund what was paid, in one commit."""
    now = now or utcnow()
    with unit_of_work():
        booking_services.cancel_booking(booking, by=by, reason=reason, now=now)
        if booking.cancellation_refundable and booking.amount_paid_pence:
            owe_cancellation_refunds(booking, by=None, now=now)
    send_owed_refunds(booking_id=booking.id, now=now)
    return booking


# --- Reading for the booking pages -----------------------------------------------------------------

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
    refunds = sorted((refund for payment in payments for refund in payment.refunds), key=lambda refund: (refund.created_at, refund.id))
    return BookingMoney(payments=payments, refunds=refunds)


def refundable_payments(booking: Booking) -> list[Refundable]:
    """Each payment on the booking that still has money to give back, with how much."""
    payments = db.session.scalars(
        select(Payment).where(Payment.booking_id == booking.id, Payment.status == PaymentStatus.SUCCEEDED).order_by(Payment.id)
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


# --- Flags for the organiser -----------------------------------------------------------------------

FLAG_LABELS = {
    FlagKind.MISMATCH: "Does not match Stripe",
    FlagKind.LATE_PAYMENT_CONFIRMED: "Paid late, place confirmed",
    FlagKind.LATE_PAYMENT_REFUNDED: "Paid late, refunded",
    FlagKind.REFUND_FAILED: "Refund failed",
}


@dataclass(frozen=True)
class ResolvedFlag:
    """A flag that was dealt with, and who dealt with it."""

    flag: PaymentFlag
    resolved_by: User | None


def count_open_flags() -> int:
    """Count the flags nobody has resolved yet."""
    return db.session.scalar(select(func.count(PaymentFlag.id)).where(PaymentFlag.resolved_at.is_(None)))


def open_flags() -> list[PaymentFlag]:
    """List the flags still to look at, newest first."""
    return list(
        db.session.scalars(
            select(PaymentFlag)
            .where(PaymentFlag.resolved_at.is_(None))
            .options(selectinload(PaymentFlag.booking))
            .order_by(PaymentFlag.created_at.desc(), PaymentFlag.id.desc())
        )
    )


def resolved_flags(*, limit: int = 50) -> list[ResolvedFlag]:
    """List the most recently resolved flags with who resolved them."""
    rows = db.session.execute(
        select(PaymentFlag, User)
        .outerjoin(User, User.id == PaymentFlag.resolved_by_id)
        .where(PaymentFlag.resolved_at.is_not(None))
        .options(selectinload(PaymentFlag.booking))
        .order_by(PaymentFlag.resolved_at.desc(), PaymentFlag.id.desc())
        .limit(limit)
    )
    return [ResolvedFlag(flag, user) for flag, user in rows]


def resolve_flag(flag: PaymentFlag, *, by: User, now: datetime | None = None) -> PaymentFlag:
    """Mark a flag as dealt with; a second click (or a colleague's at the same moment) finds it already resolved."""
    now = now or utcnow()
    changed = db.session.execute(
        update(PaymentFlag)
        .where(PaymentFlag.id == flag.id, PaymentFlag.resolved_at.is_(None))
        .values(resolved_at=now, resolved_by_id=by.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        db.session.rollback()
        raise PaymentError("This has already been marked as resolved.")
    audit.record(by, "payment_flag.resolved", flag, kind=flag.kind.value, booking_id=flag.booking_id)
    db.session.commit()
    db.session.refresh(flag)
    return flag

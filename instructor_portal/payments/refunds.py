"""Refunds: made by staff, owed when a booking is cancelled, sent to Stripe with no transaction open and retried until settled."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from instructor_portal import audit
from instructor_portal.accounts.models import Role, User
from instructor_portal.booking import cancellation as booking_cancellation
from instructor_portal.booking import holds as booking_holds
from instructor_portal.booking.models import Booking, BookingStatus, PaymentMethod
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.locks import unit_of_work
from instructor_portal.money import format_money
from instructor_portal.organisation import get_organisation
from instructor_portal.payments.emails import tell_refund_made
from instructor_portal.payments.flags import flag
from instructor_portal.payments.models import FlagKind, Outcome, Payment, PaymentStatus, Refund, RefundStatus
from instructor_portal.payments.services import PaymentError, pending_refunds, settle_booking_total
from instructor_portal.payments.stripe_gateway import GatewayError, GatewayUnavailable, gateway

log = logging.getLogger(__name__)

REFUND_STATUSES = {
    "succeeded": RefundStatus.SUCCEEDED,
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
}


def can_refund(user: User, booking: Booking) -> bool:
    """Organisers refund any booking; instructors their own courses' when the organisation allows it."""
    if user.role == Role.ORGANISER:
        return True
    return (
        user.role == Role.INSTRUCTOR
        and booking.course.instructor_id == user.id
        and get_organisation().allow_instructor_refunds
    )


def refund_payment(
    payment: Payment, amount_pence: int, *, by: User, reason: str, request_key: str, now: datetime | None = None
) -> Refund:
    """Refund part or all of a payment, at most what is left of it; the same ``request_key`` twice makes one refund."""
    now = now or utcnow()
    if not can_refund(by, payment.booking):
        raise PaymentError("You cannot refund this booking.")
    if not reason.strip():
        raise PaymentError("Say why you are refunding.", field="reason")
    if amount_pence <= 0:
        raise PaymentError("Enter an amount to refund.", field="amount")
    with unit_of_work():
        booking_holds.lock_booking(payment.booking)
        refund = db.session.scalars(select(Refund).where(Refund.idempotency_key == request_key)).first()
        if refund is None:
            db.session.refresh(payment)
            left = payment.refundable_pence - pending_refunds(payment)
            if amount_pence > left:
                raise PaymentError(
                    f"At most {format_money(max(left, 0), payment.currency)} of this payment can still be refunded.",
                    field="amount",
                )
            refund = owe_refund(payment, amount_pence, by=by, reason=reason.strip(), key=request_key, now=now)
    send_owed_refunds(booking_id=payment.booking_id, now=now)
    db.session.refresh(refund)
    if refund.status == RefundStatus.FAILED:
        raise PaymentError(f"Stripe refused the refund: {refund.failure_message}")
    return refund


def owe_refund(payment: Payment, amount_pence: int, *, by: User | None, reason: str, key: str, now: datetime) -> Refund:
    """Record a refund as owed: offline money is settled at once (it goes back by hand), card money by send_owed_refunds.

    The caller holds the booking's lock and commits; ``key`` is the idempotency key Stripe gets.
    """
    refund = Refund(
        payment=payment,
        amount_pence=amount_pence,
        status=RefundStatus.PENDING,
        reason=reason,
        idempotency_key=key,
        requested_by=by,
    )
    db.session.add(refund)
    db.session.flush()
    if payment.method != PaymentMethod.CARD:
        _refund_settled(refund, now=now)
    audit.record(
        by,
        "payment.refunded",
        payment,
        amount_pence=amount_pence,
        refund_id=refund.id,
        status=refund.status.value,
        reason=reason,
    )
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
    query = (
        select(Refund.id)
        .join(Payment)
        .where(
            Refund.status == RefundStatus.PENDING,
            Refund.stripe_refund_id.is_(None),
            Payment.method == PaymentMethod.CARD,
        )
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
            booking_holds.lock_booking(payment.booking)
            db.session.refresh(refund)
            if refund.status == RefundStatus.PENDING:
                _refund_failed(refund, str(error))
        return False
    with unit_of_work():
        booking_holds.lock_booking(payment.booking)
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
    flag(
        FlagKind.REFUND_FAILED,
        f"Refund of {format_money(refund.amount_pence, payment.currency)} for booking {payment.booking.reference} failed: {message}",
        booking=payment.booking,
        payment=payment,
    )


def _refund_settled(refund: Refund, *, now: datetime) -> None:
    payment = refund.payment
    refund.status = RefundStatus.SUCCEEDED
    payment.amount_refunded_pence += refund.amount_pence
    booking = payment.booking
    settle_booking_total(booking)
    # A booking that was paid in full and has had it all back is over; a partial
    # payment handed back (say, paid twice by mistake) leaves the place as it was.
    paid_in_full = (
        db.session.scalar(
            select(func.coalesce(func.sum(Payment.amount_pence), 0)).where(
                Payment.booking_id == booking.id, Payment.status == PaymentStatus.SUCCEEDED
            )
        )
        >= booking.amount_pence
    )
    cancelled = False
    if paid_in_full and booking.amount_paid_pence == 0 and booking.status == BookingStatus.CONFIRMED:
        cancelled = booking_cancellation.cancel_refunded_booking(
            booking, by=refund.requested_by, reason=refund.reason, now=now
        )
    # The one place a refund becomes settled, under the booking's lock: the family hears of it once.
    tell_refund_made(refund, booking_cancelled=cancelled)


def sync_refunds(payment: Payment, remote_refunds: list[dict[str, Any]], *, now: datetime) -> Outcome:
    """Bring our refunds for a card payment in line with Stripe's list, whoever made them; the caller holds the booking's lock."""
    db.session.refresh(payment)
    outcome = Outcome.UNCHANGED
    for remote in remote_refunds:
        ours = db.session.scalars(select(Refund).where(Refund.stripe_refund_id == remote["id"])).first()
        if ours is None and (remote.get("metadata") or {}).get("refund_id", "").isdigit():
            ours = db.session.get(Refund, int(remote["metadata"]["refund_id"]))
            if ours is not None and ours.payment_id == payment.id:
                ours.stripe_refund_id = remote["id"]
            else:
                ours = None
        if ours is None:
            ours = Refund(
                payment=payment,
                amount_pence=remote["amount"],
                status=RefundStatus.PENDING,
                reason="Refunded directly in Stripe.",
                idempotency_key=f"stripe-{remote['id']}",
                stripe_refund_id=remote["id"],
            )
            db.session.add(ours)
            flag(
                FlagKind.MISMATCH,
                f"A refund of {format_money(remote['amount'], payment.currency)} for booking {payment.booking.reference} was made in Stripe, outside this app.",
                booking=payment.booking,
                payment=payment,
            )
        target = REFUND_STATUSES.get(remote["status"], RefundStatus.FAILED)
        if ours.status == RefundStatus.PENDING and target == RefundStatus.SUCCEEDED:
            _refund_settled(ours, now=now)
            outcome = Outcome.REFUNDED
        elif ours.status == RefundStatus.PENDING and target == RefundStatus.FAILED:
            _refund_failed(ours, f"Refund {remote['id']} failed at Stripe.")
            outcome = Outcome.REFUND_FAILED
    return outcome


def owe_cancellation_refunds(
    booking: Booking, *, by: User | None, now: datetime, reason: str = "Booking cancelled in good time."
) -> list[Refund]:
    """Record as owed everything still paid on a booking cancelled in good time (or with its course); the caller holds its lock.

    ``reason`` is what the family is told the refund is for.
    """
    payments = db.session.scalars(
        select(Payment).where(Payment.booking_id == booking.id, Payment.status == PaymentStatus.SUCCEEDED)
    ).all()
    return [
        owe_refund(payment, left, by=by, reason=reason, key=f"cancel-{booking.id}-payment-{payment.id}", now=now)
        for payment in payments
        if (left := payment.refundable_pence - pending_refunds(payment)) > 0
    ]


def cancel_booking_and_refund(booking: Booking, *, by: User, reason: str = "", now: datetime | None = None) -> Booking:
    """Cancel a booking and, inside the course's refund window, refund what was paid, in one commit."""
    now = now or utcnow()
    with unit_of_work():
        booking_cancellation.cancel_booking(booking, by=by, reason=reason, now=now)
        if booking.cancellation_refundable and booking.amount_paid_pence:
            owe_cancellation_refunds(booking, by=None, now=now)
    send_owed_refunds(booking_id=booking.id, now=now)
    return booking

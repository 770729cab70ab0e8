"""Payments: Checkout, fulfilment from Stripe's word, refunds, offline payments, reconciliation and flags.

Every path that changes a payment locks its booking row first, so a webhook, the family's
return from Stripe and the reconcile command can run at once and still apply a payment once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import selectinload

from instructor_portal import audit
from instructor_portal.accounts.models import Role, User
from instructor_portal.booking import services as booking_services
from instructor_portal.booking.models import Booking, BookingStatus, PaymentMethod
from instructor_portal.clock import utcnow
from instructor_portal.db import MAX_ID
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db
from instructor_portal.money import format_money
from instructor_portal.notifications.services import absolute_url
from instructor_portal.organiser.services import get_organisation
from instructor_portal.payments import states
from instructor_portal.payments.models import (
    FlagKind,
    Payment,
    PaymentFlag,
    PaymentStatus,
    Refund,
    RefundStatus,
    StripeEvent,
)
from instructor_portal.payments.stripe_gateway import GatewayError, GatewayUnavailable, gateway

#: Stripe will not let a Checkout Session expire sooner than 30 minutes after it is made.
CARD_HOLD = timedelta(minutes=31)
#: The Stripe events we act on; reconcile-payments asks Stripe for exactly these.
HANDLED_EVENTS = [
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "charge.refunded",
    "refund.created",
    "refund.updated",
    "refund.failed",
]
REFUND_STATUSES = {"succeeded": RefundStatus.SUCCEEDED, "pending": RefundStatus.PENDING, "requires_action": RefundStatus.PENDING}


class PaymentError(DomainError):
    """A payment or refund could not be made; the message says why, for the person who asked."""


def lock_booking(booking_id: int) -> None:
    """Make every other payment change for this booking wait until the current transaction ends."""
    db.session.execute(text("UPDATE bookings SET status = status WHERE id = :id"), {"id": booking_id})


def card_available() -> bool:
    return gateway() is not None


def flag(kind: FlagKind, message: str, *, booking: Booking | None = None, payment: Payment | None = None) -> PaymentFlag:
    """Record something the organiser must look at; the caller commits."""
    entry = PaymentFlag(kind=kind, message=message, booking=booking, payment=payment)
    db.session.add(entry)
    return entry


def _money(pence: int, currency: str) -> str:
    return format_money(pence, currency)


def _settle_booking_total(booking: Booking) -> None:
    """Keep the booking's totals equal to its payments: paid less refunded, and refunded."""
    payments = db.session.scalars(select(Payment).where(Payment.booking_id == booking.id, Payment.status == PaymentStatus.SUCCEEDED)).all()
    booking.amount_refunded_pence = sum(p.amount_refunded_pence for p in payments)
    booking.amount_paid_pence = sum(p.amount_pence for p in payments) - booking.amount_refunded_pence


# --- Checkout ----------------------------------------------------------------------------------


def start_checkout(booking: Booking, *, now: datetime | None = None) -> str:
    """Open (or reopen) the Stripe Checkout page for what the booking still owes; return its address.

    The amount comes from the booking, never from the request. A second click while a
    session is open gets the same session back.
    """
    now = now or utcnow()
    stripe = gateway()
    if stripe is None or not booking.course.price_pence:
        raise PaymentError("Card payment is not available for this course.")
    lock_booking(booking.id)
    db.session.refresh(booking)
    if booking.status == BookingStatus.CONFIRMED:
        raise PaymentError("This booking is already confirmed.")
    if booking.status == BookingStatus.CANCELLED:
        raise PaymentError("This booking was cancelled.")
    open_payment = db.session.scalars(
        select(Payment).where(
            Payment.booking_id == booking.id, Payment.status == PaymentStatus.PENDING, Payment.expires_at > now + timedelta(minutes=2)
        )
    ).first()
    try:
        if open_payment is not None:
            session = stripe.retrieve_checkout_session(open_payment.stripe_checkout_session_id)
            if session["status"] == "open":
                db.session.commit()
                return session["url"]
        if not booking_services.is_live(booking, now=now):
            booking_services.retake_places(booking, now=now)
            booking.status = BookingStatus.AWAITING_PAYMENT
            for place in booking.places:
                place.live = True
        booking.hold_expires_at = max(booking.hold_expires_at or now, now + CARD_HOLD)
        payment = Payment(
            booking=booking,
            method=PaymentMethod.CARD,
            status=PaymentStatus.PENDING,
            amount_pence=booking.amount_due_pence,
            currency=booking.currency,
            expires_at=booking.hold_expires_at,
        )
        db.session.add(payment)
        db.session.flush()
        places = len(booking.places)
        session = stripe.create_checkout_session(
            amount_pence=payment.amount_pence,
            currency=payment.currency,
            description=f"{booking.course.title}: {places} {'place' if places == 1 else 'places'}",
            reference=booking.reference,
            metadata={"booking_id": str(booking.id), "payment_id": str(payment.id), "reference": booking.reference},
            customer_email=booking.parent.email,
            success_url=absolute_url("payments.returned", booking_id=booking.id),
            cancel_url=absolute_url("payments.cancelled", booking_id=booking.id),
            expires_at=payment.expires_at,
            idempotency_key=f"checkout-payment-{payment.id}",
        )
    except (GatewayError, GatewayUnavailable):
        db.session.rollback()
        raise PaymentError("We could not start the card payment just now. Please try again in a minute.") from None
    except booking_services.BookingError:
        db.session.rollback()
        raise
    payment.stripe_checkout_session_id = session["id"]
    audit.record(booking.parent, "payment.checkout_started", payment, booking_id=booking.id, amount_pence=payment.amount_pence)
    db.session.commit()
    return session["url"]


def abandon_checkout(booking: Booking, *, now: datetime | None = None) -> None:
    """The family came back from Stripe without paying: expire the session and give the places back."""
    now = now or utcnow()
    stripe = gateway()
    payment = _latest_card_payment(booking)
    if stripe is None or payment is None or payment.status != PaymentStatus.PENDING:
        return
    try:
        try:
            session = stripe.expire_checkout_session(payment.stripe_checkout_session_id)
        except GatewayError:
            # Already completed or expired at Stripe: read what happened and apply that instead.
            session = stripe.retrieve_checkout_session(payment.stripe_checkout_session_id)
    except GatewayUnavailable:
        return  # Stripe cannot be reached: the hold simply runs out on its own
    apply_checkout_session(session, now=now)


def check_return(booking: Booking, *, now: datetime | None = None) -> str:
    """On the family's return from Stripe, read the session and apply it as a webhook would; return the outcome."""
    stripe = gateway()
    payment = _latest_card_payment(booking)
    if stripe is None or payment is None or payment.stripe_checkout_session_id is None:
        return "none"
    try:
        session = stripe.retrieve_checkout_session(payment.stripe_checkout_session_id)
    except (GatewayError, GatewayUnavailable):
        return "waiting"
    return apply_checkout_session(session, now=now or utcnow())


def _latest_card_payment(booking: Booking) -> Payment | None:
    return db.session.scalars(
        select(Payment).where(Payment.booking_id == booking.id, Payment.method == PaymentMethod.CARD).order_by(Payment.id.desc())
    ).first()


# --- Applying what Stripe says -------------------------------------------------------------------


def apply_checkout_session(session: dict[str, Any], *, now: datetime, failed: bool = False) -> str:
    """Bring our payment and booking in line with a Checkout Session as Stripe reports it now.

    Safe to call any number of times and in any order: the webhook, the success page and
    reconcile-payments all come here. ``failed`` marks a delayed payment that Stripe says failed.
    """
    outcome = _apply_session(session, now=now, failed=failed)
    db.session.commit()
    return outcome


def _apply_session(session: dict[str, Any], *, now: datetime, failed: bool) -> str:
    """The work of apply_checkout_session, inside the caller's transaction."""
    payment = db.session.scalars(select(Payment).where(Payment.stripe_checkout_session_id == session["id"])).first()
    if payment is None:
        flag(FlagKind.MISMATCH, f"Stripe Checkout Session {session['id']} (reference {session.get('client_reference_id')}) matches no payment here.")
        return "flagged"
    lock_booking(payment.booking_id)
    db.session.refresh(payment)
    booking = payment.booking
    db.session.refresh(booking)
    problem = _mismatch(payment, booking, session)
    if problem:
        if not db.session.scalars(select(PaymentFlag.id).where(PaymentFlag.payment_id == payment.id, PaymentFlag.kind == FlagKind.MISMATCH)).first():
            flag(FlagKind.MISMATCH, problem, booking=booking, payment=payment)
        return "flagged"
    outcome = "unchanged"
    try:
        if session["status"] == "complete" and session["payment_status"] in ("paid", "no_payment_required"):
            outcome = _payment_succeeded(payment, session.get("payment_intent"), now=now)
        elif session["status"] == "complete" and failed:
            states.move(payment, PaymentStatus.FAILED)
            booking_services.release_hold(booking)
            outcome = "failed"
        elif session["status"] == "complete":
            states.move(payment, PaymentStatus.PROCESSING)
            outcome = "processing"
        elif session["status"] == "expired":
            states.move(payment, PaymentStatus.EXPIRED)
            if not _other_open_payment(payment):
                booking_services.release_hold(booking)
            outcome = "expired"
    except (states.TransitionIgnored, states.InvalidTransition):
        outcome = "unchanged"
    return outcome


def _mismatch(payment: Payment, booking: Booking, session: dict[str, Any]) -> str | None:
    metadata = session.get("metadata") or {}
    if session.get("client_reference_id") != booking.reference or metadata.get("booking_id") != str(booking.id):
        return f"Stripe session {session['id']} names another booking ({session.get('client_reference_id')}); booking {booking.reference} was not confirmed."
    if session.get("amount_total") != payment.amount_pence or (session.get("currency") or "").lower() != payment.currency.lower():
        paid = _money(session.get("amount_total") or 0, session.get("currency") or payment.currency)
        return f"Stripe session {session['id']} is for {paid}, not {_money(payment.amount_pence, payment.currency)}; booking {booking.reference} was not confirmed."
    return None


def _other_open_payment(payment: Payment) -> bool:
    return db.session.scalars(
        select(Payment.id).where(Payment.booking_id == payment.booking_id, Payment.id != payment.id, Payment.status == PaymentStatus.PENDING)
    ).first() is not None


def _payment_succeeded(payment: Payment, payment_intent: str | None, *, now: datetime) -> str:
    states.move(payment, PaymentStatus.SUCCEEDED)
    payment.stripe_payment_intent_id = payment_intent
    payment.succeeded_at = now
    booking = payment.booking
    _settle_booking_total(booking)
    audit.record(None, "payment.succeeded", payment, booking_id=booking.id, amount_pence=payment.amount_pence)
    if booking.status == BookingStatus.CONFIRMED:
        return "paid"
    if booking.status == BookingStatus.AWAITING_PAYMENT and booking_services.is_live(booking, now=now):
        booking_services.confirm_booking(booking, PaymentMethod.CARD, now=now)
        return "confirmed"
    # The money came after the hold ran out (or after a cancellation): the same atomic
    # place-taking as any booking decides, and the organiser hears either way.
    if booking.status != BookingStatus.CANCELLED:
        try:
            booking_services.retake_places(booking, now=now)
        except booking_services.BookingError as error:
            reason = error.message
        else:
            booking_services.confirm_booking(booking, PaymentMethod.CARD, now=now)
            flag(FlagKind.LATE_PAYMENT_CONFIRMED, f"Booking {booking.reference} was paid after its hold ran out; a place was still free, so it is confirmed.", booking=booking, payment=payment)
            return "confirmed-late"
    else:
        reason = "The booking had been cancelled."
    booking_services.release_hold(booking)
    refund = _refund(payment, payment.amount_pence, by=None, reason=f"Paid after the hold ran out. {reason}", key=f"late-payment-{payment.id}", now=now)
    flag(
        FlagKind.LATE_PAYMENT_REFUNDED,
        f"Booking {booking.reference} was paid after its hold ran out and no place could be given ({reason}); "
        f"the payment was refunded{'' if refund.status != RefundStatus.FAILED else ' but the refund FAILED'}.",
        booking=booking,
        payment=payment,
    )
    return "refunded-late"


def apply_stripe_event(event: dict[str, Any], *, now: datetime | None = None) -> str:
    """Apply one Stripe event exactly once; a replay or duplicate changes nothing.

    The event id is recorded in the same transaction as its effect. Raises
    GatewayUnavailable when Stripe cannot be reached to re-read the state, so the event is
    not recorded and Stripe delivers it again later.
    """
    now = now or utcnow()
    if db.session.get(StripeEvent, event["id"]) is not None:
        return "duplicate"
    record = StripeEvent(id=event["id"], type=event["type"], outcome="ignored")
    db.session.add(record)
    try:
        db.session.flush()
    except IntegrityError:  # the same event, delivered twice at once, is being handled elsewhere
        db.session.rollback()
        return "duplicate"
    kind, obj = event["type"], event["data"]["object"]
    stripe = gateway()
    if stripe is None or kind not in HANDLED_EVENTS:
        db.session.commit()
        return "ignored"
    try:
        if kind.startswith("checkout.session."):
            # Events can arrive out of order: act on the session as it is now, not as it was.
            session = stripe.retrieve_checkout_session(obj["id"])
            outcome = _apply_session(session, now=now, failed=kind.endswith("async_payment_failed"))
        else:
            intent = obj.get("payment_intent")
            payment = db.session.scalars(select(Payment).where(Payment.stripe_payment_intent_id == intent)).first() if intent else None
            outcome = _sync_refunds(payment, now=now) if payment is not None else "ignored"
    except (GatewayUnavailable, OperationalError):
        db.session.rollback()  # nothing is recorded, so Stripe's retry applies it later
        raise
    # One commit: the event's id, its outcome and its effect land together or not at all.
    record.outcome = outcome[:20]
    db.session.commit()
    return outcome


# --- Refunds -------------------------------------------------------------------------------------


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
    lock_booking(payment.booking_id)
    existing = db.session.scalars(select(Refund).where(Refund.idempotency_key == request_key)).first()
    if existing is not None:
        db.session.commit()
        return existing
    db.session.refresh(payment)
    left = payment.refundable_pence - _pending_refunds(payment)
    if amount_pence > left:
        db.session.rollback()
        raise PaymentError(f"At most {_money(max(left, 0), payment.currency)} of this payment can still be refunded.", field="amount")
    refund = _refund(payment, amount_pence, by=by, reason=reason.strip(), key=request_key, now=now)
    db.session.commit()
    if refund.status == RefundStatus.FAILED:
        raise PaymentError(f"Stripe refused the refund: {refund.failure_message}")
    return refund


def _pending_refunds(payment: Payment) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount_pence), 0)).where(Refund.payment_id == payment.id, Refund.status == RefundStatus.PENDING)
    )


def _refund(payment: Payment, amount_pence: int, *, by: User | None, reason: str, key: str, now: datetime) -> Refund:
    """Record a refund and, for a card, make it at Stripe under ``key``; the caller commits."""
    refund = Refund(payment=payment, amount_pence=amount_pence, status=RefundStatus.PENDING, reason=reason, idempotency_key=key, requested_by=by)
    db.session.add(refund)
    db.session.flush()
    if payment.method != PaymentMethod.CARD:
        # Offline money goes back by hand; recording it is the refund.
        _refund_settled(refund, now=now)
    else:
        stripe = gateway()
        try:
            if stripe is None:
                raise GatewayUnavailable("Stripe is not configured")
            result = stripe.refund(
                payment_intent=payment.stripe_payment_intent_id,
                amount_pence=amount_pence,
                idempotency_key=key,
                metadata={"refund_id": str(refund.id), "booking_id": str(payment.booking_id)},
            )
        except GatewayError as error:
            refund.status = RefundStatus.FAILED
            refund.failure_message = str(error)
            flag(FlagKind.REFUND_FAILED, f"Refund of {_money(amount_pence, payment.currency)} for booking {payment.booking.reference} failed: {error}", booking=payment.booking, payment=payment)
        except GatewayUnavailable:
            pass  # stays pending; reconcile-payments retries it under the same key
        else:
            refund.stripe_refund_id = result["id"]
            if REFUND_STATUSES.get(result["status"]) == RefundStatus.SUCCEEDED:
                _refund_settled(refund, now=now)
            elif result["status"] in ("failed", "canceled"):
                refund.status = RefundStatus.FAILED
    audit.record(by, "payment.refunded", payment, amount_pence=amount_pence, refund_id=refund.id, status=refund.status.value, reason=reason)
    return refund


def _refund_settled(refund: Refund, *, now: datetime) -> None:
    payment = refund.payment
    refund.status = RefundStatus.SUCCEEDED
    payment.amount_refunded_pence += refund.amount_pence
    booking = payment.booking
    _settle_booking_total(booking)
    # A booking that was paid in full and has had it all back is over; a partial
    # payment handed back (say, paid twice by mistake) leaves the place as it was.
    paid_in_full = db.session.scalar(
        select(func.coalesce(func.sum(Payment.amount_pence), 0)).where(Payment.booking_id == booking.id, Payment.status == PaymentStatus.SUCCEEDED)
    ) >= booking.amount_pence
    if paid_in_full and booking.amount_paid_pence == 0 and booking.status == BookingStatus.CONFIRMED:
        booking_services.cancel_refunded_booking(booking, by=refund.requested_by, reason=refund.reason, now=now)


def _sync_refunds(payment: Payment, *, now: datetime) -> str:
    """Bring our refunds for a card payment in line with Stripe's list, whoever made them; the caller commits."""
    stripe = gateway()
    lock_booking(payment.booking_id)
    db.session.refresh(payment)
    outcome = "unchanged"
    for remote in stripe.list_refunds(payment_intent=payment.stripe_payment_intent_id):
        ours = db.session.scalars(select(Refund).where(Refund.stripe_refund_id == remote["id"])).first()
        if ours is None and (remote.get("metadata") or {}).get("refund_id"):
            ours = db.session.get(Refund, int(remote["metadata"]["refund_id"]))
            if ours is not None:
                ours.stripe_refund_id = remote["id"]
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
            ours.status = RefundStatus.FAILED
            flag(FlagKind.REFUND_FAILED, f"Refund {remote['id']} for booking {payment.booking.reference} failed at Stripe.", booking=payment.booking, payment=payment)
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
    lock_booking(booking.id)
    if request_key is not None:
        existing = db.session.scalars(select(Payment).where(Payment.request_key == request_key)).first()
        if existing is not None:
            db.session.commit()
            return existing
    db.session.refresh(booking)
    if booking.status != BookingStatus.CONFIRMED:
        db.session.rollback()
        raise PaymentError("Only confirmed bookings can be marked as paid.")
    if amount_pence > booking.amount_due_pence:
        db.session.rollback()
        raise PaymentError(f"Only {_money(booking.amount_due_pence, booking.currency)} is due on this booking.", field="amount")
    payment = Payment(
        booking=booking, method=method, status=PaymentStatus.SUCCEEDED, amount_pence=amount_pence, currency=booking.currency,
        received_on=received_on, recorded_by=by, note=note.strip(), succeeded_at=utcnow(), request_key=request_key,
    )
    db.session.add(payment)
    db.session.flush()
    _settle_booking_total(booking)
    audit.record(by, "payment.recorded", payment, booking_id=booking.id, amount_pence=amount_pence, method=method.value)
    db.session.commit()
    return payment


# --- Reconciliation --------------------------------------------------------------------------------


def reconcile_payments(*, now: datetime | None = None) -> dict[str, int]:
    """Catch up with whatever a missed webhook left behind; running it twice changes nothing."""
    now = now or utcnow()
    stripe = gateway()
    counts = {"sessions": 0, "events": 0, "refunds": 0}
    if stripe is None:
        return counts
    open_payments = db.session.scalars(
        select(Payment).where(Payment.method == PaymentMethod.CARD, Payment.status.in_([PaymentStatus.PENDING, PaymentStatus.PROCESSING]))
    ).all()
    for payment in open_payments:
        outcome = apply_checkout_session(stripe.retrieve_checkout_session(payment.stripe_checkout_session_id), now=now)
        counts["sessions"] += outcome not in ("unchanged", "processing")
    since = now - timedelta(days=current_app.config["STRIPE_RECONCILE_DAYS"])
    for event in stripe.recent_events(types=HANDLED_EVENTS, since=since):
        counts["events"] += apply_stripe_event(event, now=now) not in ("duplicate", "ignored", "unchanged")
    for refund in db.session.scalars(select(Refund).where(Refund.status == RefundStatus.PENDING, Refund.stripe_refund_id.is_(None))).all():
        lock_booking(refund.payment.booking_id)
        result = stripe.refund(
            payment_intent=refund.payment.stripe_payment_intent_id, amount_pence=refund.amount_pence,
            idempotency_key=refund.idempotency_key, metadata={"refund_id": str(refund.id), "booking_id": str(refund.payment.booking_id)},
        )
        refund.stripe_refund_id = result["id"]
        if REFUND_STATUSES.get(result["status"]) == RefundStatus.SUCCEEDED:
            _refund_settled(refund, now=now)
            counts["refunds"] += 1
        db.session.commit()
    return counts


# --- Cancellations ------------------------------------------------------------------------------


def refund_cancelled_booking(booking: Booking, *, by: User | None, now: datetime | None = None) -> list[Refund]:
    """Give back everything still paid on a booking cancelled inside its refund window (or with its course)."""
    now = now or utcnow()
    lock_booking(booking.id)
    payments = db.session.scalars(select(Payment).where(Payment.booking_id == booking.id, Payment.status == PaymentStatus.SUCCEEDED)).all()
    refunds = [
        _refund(payment, payment.refundable_pence - _pending_refunds(payment), by=by, reason="Booking cancelled in good time.", key=f"cancel-{booking.id}-payment-{payment.id}", now=now)
        for payment in payments
        if payment.refundable_pence - _pending_refunds(payment) > 0
    ]
    db.session.commit()
    return refunds


def cancel_booking_and_refund(booking: Booking, *, by: User, reason: str = "", now: datetime | None = None) -> Booking:
    """Cancel a booking and, inside the course's refund window, refund what was paid."""
    now = now or utcnow()
    booking_services.cancel_booking(booking, by=by, reason=reason, now=now)
    if booking.cancellation_refundable and booking.amount_paid_pence:
        refund_cancelled_booking(booking, by=None, now=now)
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
    left = [Refundable(payment, payment.refundable_pence - _pending_refunds(payment)) for payment in payments]
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

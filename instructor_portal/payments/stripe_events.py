"""Stripe's events, applied exactly once, and reconciliation for whatever a missed webhook or a lost answer left behind."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from instructor_portal.booking import holds as booking_holds
from instructor_portal.booking.models import PaymentMethod
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.locks import unit_of_work
from instructor_portal.payments import refunds, states
from instructor_portal.payments.checkout import apply_checkout_session, apply_session
from instructor_portal.payments.models import Outcome, Payment, PaymentStatus, StripeEvent
from instructor_portal.payments.stripe_gateway import GatewayError, GatewayUnavailable, gateway

log = logging.getLogger(__name__)

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


class _Duplicate(Exception):
    """The same event is being applied by another request at this moment."""


def apply_stripe_event(event: dict[str, Any], *, now: datetime | None = None) -> Outcome:
    """Apply one Stripe event exactly once; a replay or duplicate changes nothing.

    Stripe is asked for the object's current state first, outside any transaction; the
    event's id is then recorded in the same transaction as its effect. Raises
    GatewayUnavailable (or OperationalError) when it cannot be applied now, so nothing is
    recorded and Stripe delivers it again later.
    """
    now = now or utcnow()
    if db.session.get(StripeEvent, event["id"]) is not None:
        return Outcome.DUPLICATE
    stripe = gateway()
    kind, obj = event["type"], (event.get("data") or {}).get("object") or {}
    if stripe is None or kind not in HANDLED_EVENTS or not isinstance(obj.get("id"), str):
        return _record_event(event, lambda: (Outcome.IGNORED, None))
    if event.get("livemode") is not None and bool(event["livemode"]) != stripe.livemode:
        log.warning(
            "Stripe event %s is from %s mode, and our key is not; ignored",
            event["id"],
            "live" if event["livemode"] else "test",
        )
        return Outcome.IGNORED
    try:
        if kind.startswith("checkout.session."):
            # Events can arrive out of order: act on the session as it is now, not as it was.
            session = stripe.retrieve_checkout_session(obj["id"])
            return _record_event(
                event, lambda: apply_session(session, now=now, failed=kind.endswith("async_payment_failed")), now=now
            )
        intent = obj.get("payment_intent")
        payment = (
            db.session.scalars(select(Payment).where(Payment.stripe_payment_intent_id == intent)).first()
            if intent
            else None
        )
        if payment is None:
            return _record_event(event, lambda: (Outcome.IGNORED, None))
        remote = stripe.list_refunds(payment_intent=intent)
    except GatewayError as error:  # Stripe does not know the object: another account's, or long gone
        log.info("Stripe event %s names %s, which Stripe does not give us (%s); ignored", event["id"], obj["id"], error)
        return _record_event(event, lambda: (Outcome.IGNORED, None))

    def sync() -> tuple[str, int]:
        booking_holds.lock_booking(payment.booking)
        return refunds.sync_refunds(payment, remote, now=now), payment.booking_id

    return _record_event(event, sync, now=now)


def _record_event(event: dict[str, Any], apply, *, now: datetime | None = None) -> Outcome:
    """Record the event's id and run ``apply`` in one unit of work, then make any refund it left owed."""
    try:
        with unit_of_work():
            record = StripeEvent(id=event["id"], type=event["type"][:100], outcome=Outcome.IGNORED)
            db.session.add(record)
            try:
                db.session.flush()
            except IntegrityError:  # the same event, delivered twice at once, is being handled elsewhere
                raise _Duplicate from None
            outcome, booking_id = apply()
            record.outcome = Outcome(outcome)
    except _Duplicate:
        return Outcome.DUPLICATE
    if booking_id is not None:
        refunds.send_owed_refunds(booking_id=booking_id, now=now)
    return Outcome(outcome)


# --- Reconciliation --------------------------------------------------------------------------------


def reconcile_payments(*, now: datetime | None = None) -> dict[str, int]:
    """Catch up with whatever a missed webhook or a lost answer left behind; running it twice changes nothing.

    Each payment, event and refund is handled on its own, so one that fails (Stripe or the
    database busy) is counted and left for the next run without stopping the rest.
    """
    now = now or utcnow()
    stripe = gateway()
    counts = {"sessions": 0, "events": 0, "refunds": 0, "errors": 0}
    if stripe is None:
        return counts
    for payment_id, session_id in db.session.execute(
        select(Payment.id, Payment.stripe_checkout_session_id)
        .where(
            Payment.method == PaymentMethod.CARD, Payment.status.in_([PaymentStatus.PENDING, PaymentStatus.PROCESSING])
        )
        .order_by(Payment.id)
    ).all():
        try:
            if session_id is None:
                counts["sessions"] += _retire_lapsed_request(payment_id, now=now)
            else:
                outcome = apply_checkout_session(stripe.retrieve_checkout_session(session_id), now=now)
                counts["sessions"] += outcome not in (Outcome.UNCHANGED, Outcome.PROCESSING)
        except (GatewayError, GatewayUnavailable, OperationalError):
            log.warning("Payment %s not reconciled this time", payment_id, exc_info=True)
            counts["errors"] += 1
    try:
        events = list(
            stripe.recent_events(
                types=HANDLED_EVENTS, since=now - timedelta(days=current_app.config["STRIPE_RECONCILE_DAYS"])
            )
        )
    except (GatewayError, GatewayUnavailable):
        log.warning("Stripe's recent events could not be read this time", exc_info=True)
        events = []
        counts["errors"] += 1
    for event in events:
        try:
            counts["events"] += apply_stripe_event(event, now=now) not in (
                Outcome.DUPLICATE,
                Outcome.IGNORED,
                Outcome.UNCHANGED,
            )
        except (GatewayUnavailable, OperationalError):
            log.warning("Stripe event %s not applied this time", event.get("id"), exc_info=True)
            counts["errors"] += 1
    counts["refunds"] = refunds.send_owed_refunds(now=now)
    return counts


def _retire_lapsed_request(payment_id: int, *, now: datetime) -> bool:
    """Expire a payment whose Checkout request never got an answer, once its time is up; the session, if any, expired with it."""
    with unit_of_work():
        payment = db.session.get(Payment, payment_id)
        booking_holds.lock_booking(payment.booking)
        db.session.refresh(payment)
        if (
            payment.status != PaymentStatus.PENDING
            or payment.stripe_checkout_session_id is not None
            or payment.expires_at > now
        ):
            return False
        states.move(payment, PaymentStatus.EXPIRED)
        return True

"""Card payment by Stripe Checkout: open the page for a held booking, and apply what Stripe says of it.

No call to Stripe runs inside a database transaction. Each path decides under the
booking's lock and commits, calls Stripe, then records the answer in a second short
transaction, so a slow or silent Stripe holds no lock. The request that opens a Checkout
Session carries an idempotency key stored on the payment before it is sent, so asking
again after a lost answer gets the same session, never a second one for the same hold.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from instructor_portal import audit
from instructor_portal.booking import holds as booking_holds
from instructor_portal.booking import services as booking_services
from instructor_portal.booking.models import Booking, BookingStatus, PaymentMethod
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.locks import unit_of_work
from instructor_portal.money import format_money
from instructor_portal.notifications.services import absolute_url
from instructor_portal.organisation import get_organisation
from instructor_portal.payments import refunds, services, states
from instructor_portal.payments.emails import send_receipt
from instructor_portal.payments.flags import flag
from instructor_portal.payments.models import LATE_PAYMENT_KEY, FlagKind, Outcome, Payment, PaymentFlag, PaymentStatus
from instructor_portal.payments.services import PaymentError
from instructor_portal.payments.stripe_gateway import GatewayError, GatewayUnavailable, StripeGateway, gateway
from instructor_portal.timezones import to_local

log = logging.getLogger(__name__)

#: Stripe will not let a Checkout Session expire sooner than 30 minutes after it is made.
CARD_HOLD = timedelta(minutes=31)
#: An open session with less time than this left is replaced rather than handed out again.
REUSE_MARGIN = timedelta(minutes=2)
#: Delayed methods (Bacs, SEPA) take days to settle; the places stay held meanwhile.
DELAYED_PAYMENT_HOLD = timedelta(days=14)


class CardUnavailable(PaymentError):
    """Stripe did not answer; the places stay held, and the family is told until when."""


def card_available() -> bool:
    return gateway() is not None


# --- Opening Checkout -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    """What to ask Stripe next about a booking's card payment, decided under the booking's lock."""

    #: "retire" a session about to run out, "reuse" an open one, or "create" the payment's session.
    action: str
    payment_id: int
    session_id: str | None = None
    request: dict[str, Any] | None = None


def start_checkout(booking: Booking, *, now: datetime | None = None) -> str:
    """Open (or reopen) the Stripe Checkout page for what the booking still owes; return its address.

    The amount comes from the booking, never from the request. At most one Checkout Session
    is open for a hold: a second click, or a retry after Stripe's answer was lost, gets the
    same one. Raises CardUnavailable, saying how long the places are held, when Stripe does not answer.
    """
    now = now or utcnow()
    stripe = gateway()
    if stripe is None or not booking.course.price_pence:
        raise PaymentError("Card payment is not available for this course.")
    # At most: retire a session about to run out, retire a request Stripe refused, open one, hand it out.
    for _ in range(4):
        step = _next_step(booking, now=now)
        try:
            if step.action == "create":
                session = stripe.create_checkout_session(**step.request)
                _record_session(step.payment_id, session)
            elif step.action == "reuse":
                session = stripe.retrieve_checkout_session(step.session_id)
            else:
                session = _expire_session(stripe, step.session_id)
        except GatewayUnavailable:
            raise _card_unavailable(booking) from None
        except GatewayError:
            _retire_request(step.payment_id)
            continue
        if (
            step.action != "retire"
            and session["status"] == "open"
            and session["expires_at"] > (now + REUSE_MARGIN).timestamp()
        ):
            return session["url"]
        apply_checkout_session(session, now=now)  # it ran out, or was paid meanwhile: record that, then look again
    raise PaymentError("We could not start the card payment just now. Please try again in a minute.")


def _next_step(booking: Booking, *, now: datetime) -> _Step:
    with unit_of_work():
        booking_holds.lock_booking(booking)
        if booking.status == BookingStatus.CONFIRMED:
            raise PaymentError("This booking is already confirmed.")
        if booking.status == BookingStatus.CANCELLED:
            raise PaymentError("This booking was cancelled.")
        pending = db.session.scalars(
            select(Payment)
            .where(
                Payment.booking_id == booking.id,
                Payment.method == PaymentMethod.CARD,
                Payment.status == PaymentStatus.PENDING,
            )
            .order_by(Payment.id.desc())
        ).all()
        opened = [payment for payment in pending if payment.stripe_checkout_session_id]
        fresh = [payment for payment in opened if payment.expires_at > now + REUSE_MARGIN]
        stale = [payment for payment in opened if payment not in fresh]
        requested = [payment for payment in pending if not payment.stripe_checkout_session_id]
        if stale:
            if not fresh and not requested:
                _request_payment(booking, now=now)  # first, so the places stay held while the old session closes
            return _Step("retire", stale[0].id, session_id=stale[0].stripe_checkout_session_id)
        if fresh:
            return _Step("reuse", fresh[0].id, session_id=fresh[0].stripe_checkout_session_id)
        payment = requested[0] if requested else _request_payment(booking, now=now)
        # A payment with a key and no session yet: asking again with the same key and the same
        # request gets the session its first request made, if Stripe made one.
        places = len(booking.places)
        request = dict(
            amount_pence=payment.amount_pence,
            currency=payment.currency,
            description=f"{booking.course.title}: {places} {'place' if places == 1 else 'places'}",
            reference=booking.reference,
            metadata={"booking_id": str(booking.id), "payment_id": str(payment.id), "reference": booking.reference},
            customer_email=booking.parent.email,
            success_url=absolute_url("payments.returned", booking_id=booking.id),
            cancel_url=absolute_url("payments.cancelled", booking_id=booking.id),
            expires_at=payment.expires_at,
            idempotency_key=payment.checkout_key,
        )
        return _Step("create", payment.id, request=request)


def _request_payment(booking: Booking, *, now: datetime) -> Payment:
    """Hold the places for a card payment (taking them again if the hold lapsed) and record the payment, with its key."""
    booking_holds.hold_for_payment(booking, until=now + CARD_HOLD, now=now)
    payment = Payment(
        booking=booking,
        method=PaymentMethod.CARD,
        status=PaymentStatus.PENDING,
        amount_pence=booking.amount_due_pence,
        currency=booking.currency,
        expires_at=now + CARD_HOLD,
        checkout_key=secrets.token_urlsafe(32),
    )
    db.session.add(payment)
    db.session.flush()
    return payment


def _record_session(payment_id: int, session: dict[str, Any]) -> None:
    with unit_of_work():
        payment = db.session.get(Payment, payment_id)
        booking_holds.lock_booking(payment.booking)
        db.session.refresh(payment)
        if payment.stripe_checkout_session_id is None:
            payment.stripe_checkout_session_id = session["id"]
            audit.record(
                payment.booking.parent,
                "payment.checkout_started",
                payment,
                booking_id=payment.booking_id,
                amount_pence=payment.amount_pence,
            )


def _expire_session(stripe: StripeGateway, session_id: str) -> dict[str, Any]:
    """Close a Checkout Session at Stripe and return it; one already completed or expired is returned as it is."""
    try:
        return stripe.expire_checkout_session(session_id)
    except GatewayError:
        return stripe.retrieve_checkout_session(session_id)


def _retire_request(payment_id: int) -> None:
    """Give up on a payment whose Checkout request Stripe refused; a refused request opened no session."""
    with unit_of_work():
        payment = db.session.get(Payment, payment_id)
        booking_holds.lock_booking(payment.booking)
        db.session.refresh(payment)
        if payment.status == PaymentStatus.PENDING:
            states.move(payment, PaymentStatus.EXPIRED)


def _card_unavailable(booking: Booking) -> CardUnavailable:
    db.session.refresh(booking)
    places = "your place is" if len(booking.places) == 1 else "your places are"
    if booking.status == BookingStatus.AWAITING_PAYMENT and booking.hold_expires_at:
        until = to_local(booking.hold_expires_at, get_organisation().timezone)
        held = f"{places.capitalize()} held until {until:%H:%M}"
    else:
        held = f"{places.capitalize()} not held"
    return CardUnavailable(
        f"Card payments are not answering just now. {held}; please try again in a minute, or choose another way to pay."
    )


def abandon_checkout(booking: Booking, *, now: datetime | None = None) -> None:
    """The family came back from Stripe without paying: expire the session and give the places back."""
    stripe = gateway()
    payment = _latest_card_payment(booking)
    if (
        stripe is None
        or payment is None
        or payment.status != PaymentStatus.PENDING
        or payment.stripe_checkout_session_id is None
    ):
        return
    try:
        session = _expire_session(stripe, payment.stripe_checkout_session_id)
    except (GatewayError, GatewayUnavailable):
        return  # Stripe cannot be asked: the hold simply runs out on its own
    apply_checkout_session(session, now=now or utcnow())


def check_return(booking: Booking, *, now: datetime | None = None) -> Outcome:
    """On the family's return from Stripe, read the session and apply it as a webhook would; return the outcome."""
    stripe = gateway()
    payment = _latest_card_payment(booking)
    if stripe is None or payment is None or payment.stripe_checkout_session_id is None:
        return Outcome.NONE
    try:
        session = stripe.retrieve_checkout_session(payment.stripe_checkout_session_id)
    except (GatewayError, GatewayUnavailable):
        return Outcome.WAITING
    return apply_checkout_session(session, now=now or utcnow())


def _latest_card_payment(booking: Booking) -> Payment | None:
    return db.session.scalars(
        select(Payment)
        .where(Payment.booking_id == booking.id, Payment.method == PaymentMethod.CARD)
        .order_by(Payment.id.desc())
    ).first()


# --- Applying what Stripe says -------------------------------------------------------------------


def apply_checkout_session(session: dict[str, Any], *, now: datetime, failed: bool = False) -> Outcome:
    """Bring our payment and booking in line with a Checkout Session as Stripe reports it now.

    Safe to call any number of times and in any order: the webhook, the success page and
    reconcile-payments all come here. ``failed`` marks a delayed payment that Stripe says failed.
    """
    with unit_of_work():
        outcome, booking_id = apply_session(session, now=now, failed=failed)
    if booking_id is not None:
        refunds.send_owed_refunds(booking_id=booking_id, now=now)
    return outcome


def _find_payment(session: dict[str, Any]) -> Payment | None:
    """Our payment for a Checkout Session, also one whose session id was never recorded because Stripe's answer was lost."""
    payment = db.session.scalars(select(Payment).where(Payment.stripe_checkout_session_id == session["id"])).first()
    if payment is not None:
        return payment
    metadata = session.get("metadata") or {}
    payment_id = metadata.get("payment_id", "")
    payment = db.session.get(Payment, int(payment_id)) if payment_id.isdigit() and len(payment_id) < 10 else None
    if (
        payment is None
        or payment.stripe_checkout_session_id is not None
        or str(payment.booking_id) != metadata.get("booking_id")
    ):
        return None
    return payment


def apply_session(session: dict[str, Any], *, now: datetime, failed: bool) -> tuple[Outcome, int | None]:
    """The work of apply_checkout_session, inside the caller's unit of work; also says which booking it touched."""
    payment = _find_payment(session)
    if payment is None:
        log.info(
            "Stripe Checkout Session %s (reference %s) is not one of ours; ignored",
            session["id"],
            session.get("client_reference_id"),
        )
        return Outcome.IGNORED, None
    booking = payment.booking
    booking_holds.lock_booking(booking)
    db.session.refresh(payment)
    if payment.stripe_checkout_session_id is None:
        payment.stripe_checkout_session_id = session["id"]
    problem = _mismatch(payment, booking, session)
    if problem:
        if not db.session.scalars(
            select(PaymentFlag.id).where(PaymentFlag.payment_id == payment.id, PaymentFlag.kind == FlagKind.MISMATCH)
        ).first():
            flag(FlagKind.MISMATCH, problem, booking=booking, payment=payment)
        return Outcome.FLAGGED, booking.id
    try:
        if session["status"] == "complete" and session["payment_status"] in ("paid", "no_payment_required"):
            return _payment_succeeded(payment, session.get("payment_intent"), now=now), booking.id
        if session["status"] == "complete" and failed:
            states.move(payment, PaymentStatus.FAILED)
            # Told also when the places had lapsed meanwhile: the family is waiting on this payment either way.
            if not _other_open_payment(payment) and booking.status in (
                BookingStatus.AWAITING_PAYMENT,
                BookingStatus.EXPIRED,
            ):
                booking_holds.release_hold(booking)
                booking_holds.tell_payment_failed(booking)
            return Outcome.FAILED, booking.id
        if session["status"] == "complete":
            states.move(payment, PaymentStatus.PROCESSING)
            _keep_places_while_processing(booking, now=now)
            return Outcome.PROCESSING, booking.id
        if session["status"] == "expired":
            states.move(payment, PaymentStatus.EXPIRED)
            if not _other_open_payment(payment):
                booking_holds.release_hold(booking)
            return Outcome.EXPIRED, booking.id
    except (states.TransitionIgnored, states.InvalidTransition):
        pass
    return Outcome.UNCHANGED, booking.id


def _keep_places_while_processing(booking: Booking, *, now: datetime) -> None:
    if booking.status == BookingStatus.CONFIRMED:
        return
    try:
        booking_holds.hold_for_payment(booking, until=now + DELAYED_PAYMENT_HOLD, now=now)
    except booking_services.BookingError as error:
        # The money may still come; when it does, the late-payment rules decide.
        log.info(
            "Booking %s is paying by a delayed method but its places could not be kept: %s",
            booking.reference,
            error.message,
        )


def _mismatch(payment: Payment, booking: Booking, session: dict[str, Any]) -> str | None:
    metadata = session.get("metadata") or {}
    if session.get("client_reference_id") != booking.reference or metadata.get("booking_id") != str(booking.id):
        return f"Stripe session {session['id']} names another booking ({session.get('client_reference_id')}); booking {booking.reference} was not confirmed."
    if (
        session.get("amount_total") != payment.amount_pence
        or (session.get("currency") or "").lower() != payment.currency.lower()
    ):
        paid = format_money(session.get("amount_total") or 0, session.get("currency") or payment.currency)
        return f"Stripe session {session['id']} is for {paid}, not {format_money(payment.amount_pence, payment.currency)}; booking {booking.reference} was not confirmed."
    return None


def _other_open_payment(payment: Payment) -> bool:
    return (
        db.session.scalars(
            select(Payment.id).where(
                Payment.booking_id == payment.booking_id,
                Payment.id != payment.id,
                Payment.status == PaymentStatus.PENDING,
            )
        ).first()
        is not None
    )


def _payment_succeeded(payment: Payment, payment_intent: str | None, *, now: datetime) -> Outcome:
    states.move(payment, PaymentStatus.SUCCEEDED)
    payment.stripe_payment_intent_id = payment_intent
    payment.succeeded_at = now
    booking = payment.booking
    services.settle_booking_total(booking)
    audit.record(None, "payment.succeeded", payment, booking_id=booking.id, amount_pence=payment.amount_pence)
    # Payments tell the booking that the money arrived; the booking decides what that means.
    try:
        taken = booking_holds.take_payment(booking, PaymentMethod.CARD, now=now)
    except booking_services.BookingError as error:
        booking_holds.release_hold(booking)
        refunds.owe_refund(
            payment,
            payment.amount_pence,
            by=None,
            reason=f"Paid after the hold ran out. {error.message}",
            key=LATE_PAYMENT_KEY.format(payment_id=payment.id),
            now=now,
        )
        flag(
            FlagKind.LATE_PAYMENT_REFUNDED,
            f"Booking {booking.reference} was paid after its hold ran out and no place could be given ({error.message}); "
            "the payment is being refunded in full.",
            booking=booking,
            payment=payment,
        )
        return Outcome.REFUNDED_LATE  # the refund's email tells the family; no receipt for money going back
    send_receipt(payment)
    if taken == booking_holds.PaidOutcome.CONFIRMED_LATE:
        flag(
            FlagKind.LATE_PAYMENT_CONFIRMED,
            f"Booking {booking.reference} was paid after its hold ran out; a place was still free, so it is confirmed.",
            booking=booking,
            payment=payment,
        )
        return Outcome.CONFIRMED_LATE
    return Outcome.PAID if taken == booking_holds.PaidOutcome.ALREADY_CONFIRMED else Outcome.CONFIRMED

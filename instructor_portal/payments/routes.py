"""Card payment pages (back from Stripe) and Stripe's webhook."""

import logging

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import OperationalError

from instructor_portal.booking import services as booking_services
from instructor_portal.booking.models import BookingStatus
from instructor_portal.extensions import csrf, db
from instructor_portal.payments import services
from instructor_portal.payments.stripe_gateway import BadSignature, GatewayUnavailable, gateway
from instructor_portal.permissions import parent_required

bp = Blueprint("payments", __name__)
log = logging.getLogger(__name__)


def _own_booking(booking_id: int):
    return booking_services.get_parent_booking(current_user, booking_id) or abort(404)


@bp.get("/bookings/<int:booking_id>/paid")
@parent_required
def returned(booking_id: int):
    """Welcome the family back from Stripe, confirming the place as soon as Stripe says it is paid."""
    booking = _own_booking(booking_id)
    outcome = services.check_return(booking)
    db.session.refresh(booking)
    if booking.status == BookingStatus.CONFIRMED:
        flash("Thank you: your payment has gone through and your place is confirmed.", "success")
        return redirect(url_for("booking.my_booking", booking_id=booking.id))
    return render_template("payments/returned.html", booking=booking, outcome=outcome)


@bp.get("/bookings/<int:booking_id>/payment-cancelled")
@parent_required
def cancelled(booking_id: int):
    """The family went back from Stripe without paying: release the places they held."""
    booking = _own_booking(booking_id)
    try:
        services.abandon_checkout(booking)
    except GatewayUnavailable:
        db.session.rollback()  # the hold simply runs out on its own
    db.session.refresh(booking)
    if booking.status == BookingStatus.CONFIRMED:
        return redirect(url_for("booking.my_booking", booking_id=booking.id))
    return render_template("payments/cancelled.html", booking=booking)


@bp.post("/stripe/webhook")
@csrf.exempt
def webhook():
    """Apply a signed Stripe event once; 2xx unless trying again later could help."""
    stripe = gateway()
    if stripe is None:
        return jsonify(error="Stripe is not configured"), 404
    try:
        event = stripe.verify_webhook(request.get_data(), request.headers.get("Stripe-Signature", ""))
    except BadSignature as error:
        return jsonify(error=str(error)), 400
    try:
        outcome = services.apply_stripe_event(event)
    except (GatewayUnavailable, OperationalError):
        db.session.rollback()
        log.warning("Stripe event %s not applied yet; Stripe will retry", event.get("id"), exc_info=True)
        return jsonify(error="temporarily unavailable"), 503
    return jsonify(received=True, outcome=outcome)

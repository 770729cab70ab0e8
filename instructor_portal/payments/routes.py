"""Card payment pages (back from Stripe), Stripe's webhook, staff money pages and the organiser's ledger."""

import logging

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy.exc import OperationalError

from instructor_portal.booking import rules as booking_rules
from instructor_portal.booking.models import Booking, BookingStatus
from instructor_portal.clock import utcnow
from instructor_portal.db import get_or_404
from instructor_portal.extensions import csrf
from instructor_portal.forms import form_status, show_domain_error
from instructor_portal.money import format_money
from instructor_portal.payments import checkout, ledger, refunds, services, stripe_events
from instructor_portal.payments import flags as payment_flags
from instructor_portal.payments.forms import LedgerFilterForm, RecordPaymentForm, RefundForm
from instructor_portal.payments.models import PaymentFlag, Refund, RefundStatus
from instructor_portal.payments.stripe_gateway import BadSignature, GatewayUnavailable, gateway
from instructor_portal.permissions import get_managed, get_own, instructor_required, organiser_required, parent_required

bp = Blueprint("payments", __name__)
log = logging.getLogger(__name__)
#: Seconds Stripe is asked to wait before delivering an event again that could not be applied yet.
WEBHOOK_RETRY_AFTER = 30


@bp.get("/bookings/<int:booking_id>/paid")
@parent_required
def returned(booking_id: int):
    """Welcome the family back from Stripe, confirming the place as soon as Stripe says it is paid."""
    booking = get_own(Booking, booking_id)
    outcome = checkout.check_return(booking)
    if booking.status == BookingStatus.CONFIRMED:
        flash("Thank you: your payment has gone through and your place is confirmed.", "success")
        return redirect(url_for("booking.my_booking", booking_id=booking.id))
    return render_template("payments/returned.html", booking=booking, outcome=outcome)


@bp.route("/bookings/<int:booking_id>/payment-cancelled", methods=["GET", "POST"])
@parent_required
def cancelled(booking_id: int):
    """The family came back from Stripe without paying: offer to pay again, or to let the places go (a POST, never a link)."""
    booking = get_own(Booking, booking_id)
    released = False
    if request.method == "POST":
        checkout.abandon_checkout(booking)
        released = booking.status != BookingStatus.AWAITING_PAYMENT
    if booking.status == BookingStatus.CONFIRMED:
        return redirect(url_for("booking.my_booking", booking_id=booking.id))
    return render_template(
        "payments/cancelled.html", booking=booking, released=released, live=booking_rules.is_live(booking, now=utcnow())
    )


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
        log.warning("Stripe webhook refused (%s) from %s: %s", error.reason, request.remote_addr, error)
        return jsonify(error=str(error), reason=error.reason), 400
    try:
        outcome = stripe_events.apply_stripe_event(event)
    except (GatewayUnavailable, OperationalError):
        log.warning("Stripe event %s not applied yet; Stripe will retry", event["id"], exc_info=True)
        return jsonify(error="temporarily unavailable"), 503, {"Retry-After": str(WEBHOOK_RETRY_AFTER)}
    return jsonify(received=True, outcome=outcome)


# --- Staff: one booking's money ---------------------------------------------------------------


def _booking_page(
    booking: Booking, *, payment_form: RecordPaymentForm | None = None, refund_form: RefundForm | None = None
):
    refundable = services.refundable_payments(booking)
    if refund_form is None and refundable and refunds.can_refund(current_user, booking):
        refund_form = RefundForm.for_payments(refundable)
    if payment_form is None and services.owes_money(booking):
        payment_form = RecordPaymentForm.for_booking(booking)
    return render_template(
        "payments/manage_booking.html",
        booking=booking,
        money=services.booking_money(booking),
        payment_form=payment_form,
        refund_form=refund_form,
        refundable_pence=sum(entry.left_pence for entry in refundable),
    ), form_status()


def _back_to(booking: Booking, message: str, category: str = "success"):
    flash(message, category)
    return redirect(url_for("payments.manage_booking", booking_id=booking.id))


@bp.get("/teach/bookings/<int:booking_id>")
@instructor_required
def manage_booking(booking_id: int):
    """Show a booking's money to its course's instructor or an organiser, with forms to record a payment or refund."""
    return _booking_page(get_managed(Booking, booking_id))


@bp.post("/teach/bookings/<int:booking_id>/payments")
@instructor_required
def record_payment(booking_id: int):
    """Mark money received at the first session or by bank transfer against the booking."""
    booking = get_managed(Booking, booking_id)
    form = RecordPaymentForm()
    if form.validate():
        try:
            payment = services.record_offline_payment(
                booking, by=current_user, request_key=form.idempotency_key, **form.payment_fields()
            )
        except services.PaymentError as error:
            show_domain_error(form, error)
        else:
            return _back_to(booking, f"{format_money(payment.amount_pence, payment.currency)} recorded as received.")
    return _booking_page(booking, payment_form=form)


@bp.post("/teach/bookings/<int:booking_id>/refunds")
@instructor_required
def refund(booking_id: int):
    """Refund part or all of one of the booking's payments; sending the same form twice makes one refund."""
    booking = get_managed(Booking, booking_id)
    if not refunds.can_refund(current_user, booking):
        abort(403)
    form = RefundForm(refundable=services.refundable_payments(booking))
    if form.validate():
        payment = services.get_booking_payment(booking, form.payment.data)
        if payment is None:
            form.payment.errors.append("Choose a payment from the list.")
        else:
            try:
                made = refunds.refund_payment(
                    payment,
                    form.amount_pence,
                    by=current_user,
                    reason=form.reason.data,
                    request_key=form.idempotency_key,
                )
            except services.PaymentError as error:
                show_domain_error(form, error)
            else:
                return _refunded(booking, made)
    form.new_key()  # nothing was refunded, or Stripe refused: sending the form again is a new request
    return _booking_page(booking, refund_form=form)


def _refunded(booking: Booking, refund: Refund):
    amount = format_money(refund.amount_pence, refund.payment.currency)
    if refund.status == RefundStatus.FAILED:
        return _back_to(booking, f"The refund of {amount} failed: {refund.failure_message}", "error")
    if refund.status == RefundStatus.PENDING and refund.stripe_refund_id is None:
        return _back_to(
            booking,
            f"Refund of {amount} recorded. Stripe is not answering just now, so it will be made automatically as soon as Stripe is back.",
        )
    if refund.status == RefundStatus.PENDING:
        return _back_to(booking, f"Refund of {amount} requested; it shows as done once Stripe confirms it.")
    return _back_to(booking, f"{amount} refunded.")


# --- Organiser: every payment and refund, and what needs attention -------------------------------


def _ledger_form() -> LedgerFilterForm:
    form = LedgerFilterForm(request.args, courses=ledger.ledger_courses())
    form.validate()
    return form


@bp.get("/organiser/payments")
@organiser_required
def organiser_payments():
    """List every payment and refund, newest first, with the filters' totals, a page at a time."""
    form = _ledger_form()
    filters = form.filters()
    page = ledger.ledger_page(
        filters, page=request.args.get("page", 1, type=int), per_page=current_app.config["PAYMENTS_PAGE_SIZE"]
    )
    return render_template(
        "payments/organiser_payments.html",
        form=form,
        page=page,
        totals=ledger.ledger_totals(filters),
        query=form.query_args(),
    )


@bp.get("/organiser/payments.csv")
@organiser_required
def organiser_payments_csv():
    """Download the filtered payments and refunds as a CSV file, streamed."""
    lines = ledger.export_ledger_csv(_ledger_form().filters(), by=current_user)
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="payments.csv"'},
    )


@bp.get("/organiser/payments/flags")
@organiser_required
def flags():
    """List the payment problems still to look at, newest first, then those already resolved."""
    return render_template(
        "payments/flags.html",
        open_flags=payment_flags.open_flags(),
        resolved=payment_flags.resolved_flags(),
        labels=payment_flags.FLAG_LABELS,
    )


@bp.post("/organiser/payments/flags/<int:flag_id>/resolve")
@organiser_required
def resolve_flag(flag_id: int):
    """Mark a payment problem as dealt with, recording who and when."""
    try:
        payment_flags.resolve_flag(get_or_404(PaymentFlag, flag_id), by=current_user)
    except services.PaymentError as error:
        flash(error.message, "info")
    else:
        flash("Marked as resolved.", "success")
    return redirect(url_for("payments.flags"))

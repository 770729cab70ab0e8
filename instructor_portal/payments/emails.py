"""The emails a family gets about money: a receipt for each payment received, and word of each refund made.

Each is queued in the transaction that records the money as moved, under the booking's
lock, and only on the change of status itself (a payment becoming succeeded, a refund
becoming settled), so a webhook delivered twice or reconciliation run again never sends
it twice, and a refund that failed is told only once it is finally made.
"""

from __future__ import annotations

from instructor_portal.booking.emails import email_booking
from instructor_portal.booking.models import PaymentMethod
from instructor_portal.money import format_money
from instructor_portal.payments.models import Payment, Refund

#: How a receipt names the way a payment was made.
PAID_BY = {
    PaymentMethod.CARD: "Card",
    PaymentMethod.PAY_AT_VENUE: "At the venue",
    PaymentMethod.BANK_TRANSFER: "Bank transfer",
}

#: When refunded money reaches the family, by the way it was paid.
REFUND_ARRIVES = {
    PaymentMethod.CARD: "Card refunds usually take 5-10 working days to reach your card.",
    PaymentMethod.PAY_AT_VENUE: "You paid at the venue, so we pay it back to you by hand, in cash or by bank "
    "transfer; we will be in touch if we need your bank details.",
    PaymentMethod.BANK_TRANSFER: "You paid by bank transfer, so we pay it back by bank transfer to the account "
    "you paid from.",
}


def send_receipt(payment: Payment) -> None:
    """Email the family a receipt for a payment received; the caller commits."""
    booking = payment.booking
    email_booking(
        booking,
        "payment_receipt",
        f"Receipt for {format_money(payment.amount_pence, payment.currency)}: {booking.course.title}",
        calendar=False,
        payment=payment,
        paid_on=payment.received_on or payment.succeeded_at,
        paid_by=PAID_BY[payment.method],
    )


def tell_refund_made(refund: Refund, *, booking_cancelled: bool) -> None:
    """Email the family that a refund was made: how much, why and when it reaches them; the caller commits.

    ``booking_cancelled`` says the refund cancelled the booking, which the same email tells,
    with a calendar file that takes the sessions out of the family's calendar.
    """
    payment = refund.payment
    booking = payment.booking
    amount = format_money(refund.amount_pence, payment.currency)
    email_booking(
        booking,
        "refund_made",
        f"Refund of {amount}: {booking.course.title}",
        cancelled=True,
        calendar=booking_cancelled,
        refund=refund,
        payment=payment,
        booking_cancelled=booking_cancelled,
        late_payment=refund.for_late_payment,
        arrives=REFUND_ARRIVES[payment.method],
    )

"""Payments, refunds and vouchers, and the Stripe events already applied."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from instructor_portal.booking.models import PaymentMethod
from instructor_portal.clock import utcnow
from instructor_portal.db import TimestampMixin, str_enum
from instructor_portal.extensions import db

if TYPE_CHECKING:
    from instructor_portal.accounts.models import User
    from instructor_portal.booking.models import Booking


class PaymentStatus(StrEnum):
    #: A Checkout Session is open, or being opened; the family may be paying now.
    PENDING = "pending"
    #: Stripe completed the session but a delayed method (Bacs, SEPA) has not settled yet.
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    #: The session expired or the family went back without paying.
    EXPIRED = "expired"


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class FlagKind(StrEnum):
    """Things an organiser must look at; the app never settles them silently."""

    MISMATCH = "mismatch"
    LATE_PAYMENT_CONFIRMED = "late_payment_confirmed"
    LATE_PAYMENT_REFUNDED = "late_payment_refunded"
    REFUND_FAILED = "refund_failed"


class Outcome(StrEnum):
    """What applying Stripe's word did; stored on each Stripe event and shown on the return page."""

    NONE = "none"
    WAITING = "waiting"
    UNCHANGED = "unchanged"
    PROCESSING = "processing"
    CONFIRMED = "confirmed"
    CONFIRMED_LATE = "confirmed-late"
    #: Paid, and the booking was confirmed already.
    PAID = "paid"
    REFUNDED_LATE = "refunded-late"
    FAILED = "failed"
    EXPIRED = "expired"
    FLAGGED = "flagged"
    IGNORED = "ignored"
    DUPLICATE = "duplicate"
    REFUNDED = "refunded"
    REFUND_FAILED = "refund-failed"


class Payment(TimestampMixin, db.Model):
    """Money for one booking, by one method; card payments carry their Stripe ids."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        CheckConstraint(
            "amount_refunded_pence >= 0 AND amount_refunded_pence <= amount_pence", name="refunds_within_amount"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    method: Mapped[PaymentMethod] = mapped_column(str_enum(PaymentMethod, "payment_method"))
    status: Mapped[PaymentStatus] = mapped_column(str_enum(PaymentStatus, "payment_status"), index=True)
    amount_pence: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    amount_refunded_pence: Mapped[int] = mapped_column(default=0)
    stripe_checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    #: The idempotency key of the request that opens its Checkout Session, stored before the
    #: request is sent: asking again after a lost answer gets the same session, never a second.
    checkout_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    #: When the Checkout Session stops accepting payment (card payments).
    expires_at: Mapped[datetime | None]
    succeeded_at: Mapped[datetime | None]
    #: For payments marked as received by hand: the day the money arrived and who recorded it.
    received_on: Mapped[date | None]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    #: The one-time key of the form that recorded it, so sending that form twice records once.
    request_key: Mapped[str | None] = mapped_column(String(120), unique=True)

    booking: Mapped[Booking] = relationship()
    recorded_by: Mapped[User | None] = relationship()
    refunds: Mapped[list[Refund]] = relationship(back_populates="payment", order_by="Refund.id")

    def __repr__(self) -> str:
        return f"<Payment {self.id} booking={self.booking_id} {self.method} {self.status} {self.amount_pence}>"

    @property
    def refundable_pence(self) -> int:
        return self.amount_pence - self.amount_refunded_pence if self.status == PaymentStatus.SUCCEEDED else 0


#: The idempotency key of the refund of a payment that arrived after its hold ran out and found no place.
LATE_PAYMENT_KEY = "late-payment-{payment_id}"


class Refund(TimestampMixin, db.Model):
    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount_pence > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    amount_pence: Mapped[int]
    status: Mapped[RefundStatus] = mapped_column(str_enum(RefundStatus, "refund_status"))
    reason: Mapped[str] = mapped_column(Text)
    #: Sent to Stripe, and unique here, so a double click or a retry makes one refund.
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    stripe_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    #: None for refunds the app made itself (a late payment with no place, a cancellation in time).
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    failure_message: Mapped[str | None] = mapped_column(Text)

    payment: Mapped[Payment] = relationship(back_populates="refunds")
    requested_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Refund {self.id} payment={self.payment_id} {self.amount_pence} {self.status}>"

    @property
    def for_late_payment(self) -> bool:
        return self.idempotency_key == LATE_PAYMENT_KEY.format(payment_id=self.payment_id)


class StripeEvent(db.Model):
    """A Stripe event already handled, recorded in the same transaction as its effect."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    #: What handling it did: applied, ignored, or flagged for the organiser.
    outcome: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<StripeEvent {self.id} {self.type} {self.outcome}>"


class PaymentFlag(db.Model):
    """Something about money the organiser should look at."""

    __tablename__ = "payment_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[FlagKind] = mapped_column(str_enum(FlagKind, "flag_kind"), index=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    booking: Mapped[Booking | None] = relationship()
    payment: Mapped[Payment | None] = relationship()

    def __repr__(self) -> str:
        return f"<PaymentFlag {self.id} {self.kind}>"

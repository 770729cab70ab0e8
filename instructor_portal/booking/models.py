"""Bookings: a family's places on a course, held while awaiting payment, then confirmed; and the vouchers that discount or fund them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from instructor_portal.catalogue.models import Track
from instructor_portal.clock import utcnow
from instructor_portal.db import TimestampMixin, str_enum
from instructor_portal.extensions import db

if TYPE_CHECKING:
    from instructor_portal.accounts.models import Child, User
    from instructor_portal.catalogue.models import Course


class BookingStatus(StrEnum):
    #: Places held until ``hold_expires_at`` while the family pays.
    AWAITING_PAYMENT = "awaiting_payment"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    #: The hold ran out before payment; the places went back to the pool.
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class PaymentMethod(StrEnum):
    FREE = "free"
    CARD = "card"
    PAY_AT_VENUE = "pay_at_venue"
    BANK_TRANSFER = "bank_transfer"
    #: Paid for by a referrer through a voucher (health visitor, neonatal outreach, children's centre).
    FUNDED = "funded"

    @property
    def label(self) -> str:
        return PAYMENT_METHOD_LABELS[self]


PAYMENT_METHOD_LABELS = {
    PaymentMethod.FREE: "Free place",
    PaymentMethod.CARD: "Card",
    PaymentMethod.PAY_AT_VENUE: "Pay at the first session",
    PaymentMethod.BANK_TRANSFER: "Bank transfer",
    PaymentMethod.FUNDED: "Funded place",
}


class Booking(TimestampMixin, db.Model):
    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("amount_pence >= 0", name="amount_not_negative"),
        CheckConstraint("amount_paid_pence >= 0", name="paid_not_negative"),
        CheckConstraint("amount_refunded_pence >= 0", name="refunded_not_negative"),
        CheckConstraint("discount_pence >= 0", name="discount_not_negative"),
        CheckConstraint("status != 'awaiting_payment' OR hold_expires_at IS NOT NULL", name="hold_has_expiry"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short code families quote, e.g. on a bank transfer.
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[BookingStatus] = mapped_column(str_enum(BookingStatus, "booking_status"), index=True)
    payment_method: Mapped[PaymentMethod | None] = mapped_column(str_enum(PaymentMethod, "payment_method"))
    #: Total for every place on the booking after discounts, in minor units.
    amount_pence: Mapped[int]
    #: Sibling and voucher discounts taken off the list price; list price = amount + discount.
    discount_pence: Mapped[int] = mapped_column(default=0, server_default="0")
    #: What the family has paid and still has with us: payments less refunds.
    amount_paid_pence: Mapped[int] = mapped_column(default=0)
    #: Money given back; a refund lowers what is owed, it never re-opens it.
    amount_refunded_pence: Mapped[int] = mapped_column(default=0, server_default="0")
    currency: Mapped[str] = mapped_column(String(3))
    hold_expires_at: Mapped[datetime | None] = mapped_column(index=True)
    terms_accepted_at: Mapped[datetime]
    #: The parent confirmed the baby's medical team says the baby is stable enough for massage.
    medical_clearance: Mapped[bool] = mapped_column(default=False)
    photo_consent: Mapped[bool] = mapped_column(default=False)
    confirmed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    #: Whether the cancellation fell inside the course's refund window.
    cancellation_refundable: Mapped[bool | None]

    course: Mapped[Course] = relationship()
    parent: Mapped[User] = relationship(foreign_keys=[parent_id])
    cancelled_by: Mapped[User | None] = relationship(foreign_keys=[cancelled_by_id])
    places: Mapped[list[BookingPlace]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="BookingPlace.id"
    )

    def __repr__(self) -> str:
        return f"<Booking {self.reference} course={self.course_id} {self.status}>"

    @property
    def amount_due_pence(self) -> int:
        return max(self.amount_pence - self.amount_paid_pence - self.amount_refunded_pence, 0)

    @property
    def children(self) -> list[Child]:
        return [place.child for place in self.places if place.child is not None]


class BookingPlace(db.Model):
    """One child's place on a course."""

    __tablename__ = "booking_places"
    __table_args__ = (
        # A child holds at most one live place on a course; cancelled places do not count.
        Index(
            "uq_booking_places_live_child",
            "course_id",
            "child_id",
            unique=True,
            sqlite_where=text("live"),
            postgresql_where=text("live"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    #: Copied from the booking so the database itself can refuse a second live place.
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    #: None once the child's record was removed (by the family after the course, or by the retention purge).
    child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id", ondelete="SET NULL"), index=True)
    #: The child's first initial, kept when the record is removed, so registers still count and tell places apart.
    child_initial: Mapped[str | None] = mapped_column(String(4))
    #: True while the booking is held or confirmed.
    live: Mapped[bool] = mapped_column(default=True)

    booking: Mapped[Booking] = relationship(back_populates="places")
    child: Mapped[Child | None] = relationship()

    def __repr__(self) -> str:
        return f"<BookingPlace booking={self.booking_id} child={self.child_id} live={self.live}>"


class VoucherKind(StrEnum):
    PERCENT = "percent"
    FIXED = "fixed"
    #: The whole price is paid for by the referrer; the booking never goes near Stripe.
    FUNDED = "funded"


class Voucher(TimestampMixin, db.Model):
    """A code for a discount or a funded place, often from a referrer."""

    __tablename__ = "vouchers"
    __table_args__ = (
        CheckConstraint("kind != 'percent' OR (value > 0 AND value <= 100)", name="percent_in_range"),
        CheckConstraint("kind != 'fixed' OR value > 0", name="fixed_positive"),
        CheckConstraint("max_uses IS NULL OR max_uses > 0", name="max_uses_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Upper-case, as families are told to type it.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[VoucherKind] = mapped_column(str_enum(VoucherKind, "voucher_kind"))
    #: Percent off (1-100), or pence off for a fixed discount; unused for funded places.
    value: Mapped[int] = mapped_column(default=0)
    #: How many bookings may use it; None for no limit.
    max_uses: Mapped[int | None]
    expires_at: Mapped[datetime | None]
    #: Restrictions: only this course, only this track; None for any.
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"), index=True)
    track: Mapped[Track | None] = mapped_column(str_enum(Track, "voucher_track"))
    #: Who referred the family, e.g. "Health visitor team, Southmead".
    referrer: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    course: Mapped[Course | None] = relationship()

    def __repr__(self) -> str:
        return f"<Voucher {self.code} {self.kind} {self.value}>"


class VoucherRedemption(db.Model):
    __tablename__ = "voucher_redemptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(ForeignKey("vouchers.id"), index=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), unique=True)
    discount_pence: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    voucher: Mapped[Voucher] = relationship()
    booking: Mapped[Booking] = relationship()

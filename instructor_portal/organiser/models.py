"""Organisation-wide settings, kept in one row that organisers edit, and families' requests to be erased."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from instructor_portal.clock import utcnow
from instructor_portal.db import TimestampMixin
from instructor_portal.extensions import db

if TYPE_CHECKING:
    from instructor_portal.accounts.models import User


#: The settings a new organisation starts with.
DEFAULTS = {
    "name": "Instructor Portal",
    "contact_email": "",
    "contact_phone": "",
    "currency": "GBP",
    "timezone": "Europe/London",
    "default_cancellation_notice_days": 7,
    "bank_transfer_details": "",
    "hold_minutes": 15,
    "makeup_cap": 2,
    "retention_months": 24,
    "corrected_age_cutoff_months": 24,
    "allow_instructor_refunds": False,
}


class Organisation(TimestampMixin, db.Model):
    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint("hold_minutes > 0", name="hold_positive"),
        CheckConstraint("makeup_cap >= 0", name="makeup_cap_not_negative"),
        CheckConstraint("retention_months > 0", name="retention_positive"),
        CheckConstraint("corrected_age_cutoff_months > 0", name="cutoff_positive"),
        CheckConstraint("default_cancellation_notice_days >= 0", name="notice_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), default=DEFAULTS["name"])
    contact_email: Mapped[str] = mapped_column(String(254), default=DEFAULTS["contact_email"])
    contact_phone: Mapped[str] = mapped_column(String(40), default=DEFAULTS["contact_phone"])
    #: ISO 4217 code for prices and payments.
    currency: Mapped[str] = mapped_column(String(3), default=DEFAULTS["currency"])
    #: IANA zone in which times are entered and shown.
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULTS["timezone"])
    default_cancellation_notice_days: Mapped[int] = mapped_column(default=DEFAULTS["default_cancellation_notice_days"])
    bank_transfer_details: Mapped[str] = mapped_column(Text, default=DEFAULTS["bank_transfer_details"])
    #: How long a place is held while a booking awaits payment.
    hold_minutes: Mapped[int] = mapped_column(default=DEFAULTS["hold_minutes"])
    #: Make-up sessions a family may take per booking.
    makeup_cap: Mapped[int] = mapped_column(default=DEFAULTS["makeup_cap"])
    #: Months after a course ends before its children's records are purged.
    retention_months: Mapped[int] = mapped_column(default=DEFAULTS["retention_months"])
    #: Corrected age is used only for children younger than this.
    corrected_age_cutoff_months: Mapped[int] = mapped_column(default=DEFAULTS["corrected_age_cutoff_months"])
    #: Instructors may refund bookings on their own courses, not only organisers.
    allow_instructor_refunds: Mapped[bool] = mapped_column(default=DEFAULTS["allow_instructor_refunds"], server_default=sa_false())

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r}>"


class ErasureRequest(db.Model):
    """A parent's request to have their account and their family's data erased, until an organiser carries it out."""

    __tablename__ = "erasure_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: What the parent wrote, if anything; erased with them.
    note: Mapped[str] = mapped_column(Text, default="")
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])

    def __repr__(self) -> str:
        return f"<ErasureRequest {self.id} user={self.user_id} done={self.completed_at is not None}>"

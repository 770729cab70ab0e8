"""The organisation and its settings, in one row that organisers edit: a fact every feature reads, so it sits below them all."""

from __future__ import annotations

from datetime import date, datetime, time

from flask import g
from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from instructor_portal.clock import utcnow
from instructor_portal.db import TimestampMixin
from instructor_portal.extensions import db
from instructor_portal.timezones import local_date

#: The settings a new organisation starts with.
DEFAULTS = {
    "name": "Instructor Portal",
    "contact_email": "",
    "contact_phone": "",
    "postal_address": "",
    "currency": "GBP",
    "timezone": "Europe/London",
    "default_cancellation_notice_days": 7,
    "bank_transfer_details": "",
    "hold_minutes": 15,
    "makeup_cap": 2,
    "retention_months": 24,
    "corrected_age_cutoff_months": 24,
    "allow_instructor_refunds": False,
    "waitlist_offer_hours": 24,
    "reminder_day_before_at": time(18, 0),
    "reminder_morning_at": time(7, 30),
}


class Organisation(TimestampMixin, db.Model):
    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint("hold_minutes > 0", name="hold_positive"),
        CheckConstraint("makeup_cap >= 0", name="makeup_cap_not_negative"),
        CheckConstraint("retention_months > 0", name="retention_positive"),
        CheckConstraint("corrected_age_cutoff_months > 0", name="cutoff_positive"),
        CheckConstraint("default_cancellation_notice_days >= 0", name="notice_not_negative"),
        CheckConstraint("waitlist_offer_hours > 0", name="offer_hours_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), default=DEFAULTS["name"])
    contact_email: Mapped[str] = mapped_column(String(254), default=DEFAULTS["contact_email"])
    contact_phone: Mapped[str] = mapped_column(String(40), default=DEFAULTS["contact_phone"])
    #: Printed on receipts and at the foot of emails when set; lines as the organiser typed them.
    postal_address: Mapped[str] = mapped_column(Text, default=DEFAULTS["postal_address"], server_default="")
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
    allow_instructor_refunds: Mapped[bool] = mapped_column(
        default=DEFAULTS["allow_instructor_refunds"], server_default=sa_false()
    )

    #: How long a waiting-list offer holds its places (shortened when the first session is close).
    waitlist_offer_hours: Mapped[int] = mapped_column(default=DEFAULTS["waitlist_offer_hours"], server_default="24")

    #: Local times of the session reminders: the day before, and the morning of the session (with the check-in).
    reminder_day_before_at: Mapped[time] = mapped_column(
        default=DEFAULTS["reminder_day_before_at"], server_default="18:00:00"
    )
    reminder_morning_at: Mapped[time] = mapped_column(
        default=DEFAULTS["reminder_morning_at"], server_default="07:30:00"
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r}>"


def get_organisation() -> Organisation:
    """Return the organisation's settings (cached for the request); defaults until an organiser saves them."""
    if "organisation" not in g:
        g.organisation = saved_organisation() or Organisation(**DEFAULTS)
    return g.organisation


def saved_organisation() -> Organisation | None:
    """The organisation's row, or None before an organiser first saves the settings."""
    return db.session.scalars(db.select(Organisation).order_by(Organisation.id).limit(1)).first()


def local_today(now: datetime | None = None) -> date:
    """Return today's date in the organisation's time zone."""
    return local_date(now or utcnow(), get_organisation().timezone)

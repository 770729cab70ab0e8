"""Reminders sent before sessions, families who turned them off, and the morning check-in's answers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from instructor_portal.clock import utcnow
from instructor_portal.db import str_enum
from instructor_portal.extensions import db

if TYPE_CHECKING:
    from instructor_portal.booking.models import Booking
    from instructor_portal.catalogue.models import CourseSession


class ReminderKind(StrEnum):
    #: The evening before the session.
    DAY_BEFORE = "day_before"
    #: The morning of the session, with the check-in.
    MORNING = "morning"


class SentReminder(db.Model):
    """One reminder of one kind sent to one family for one session; the unique key makes it once only.

    The family is its booking, also for a family coming as a make-up (their booking on their own
    course). Keyed on the session, not its time: a session moved after its reminder gets no
    second one of that kind, since the move's own email already gave the new time.
    """

    __tablename__ = "sent_reminders"
    __table_args__ = (UniqueConstraint("session_id", "booking_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("course_sessions.id", ondelete="CASCADE"))
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ReminderKind] = mapped_column(str_enum(ReminderKind, "reminder_kind"))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<SentReminder session={self.session_id} booking={self.booking_id} {self.kind}>"


class ReminderOptOut(db.Model):
    """A booking whose family turned reminders off; no row means they get them."""

    __tablename__ = "reminder_opt_outs"

    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<ReminderOptOut booking={self.booking_id}>"


class CheckInAnswer(StrEnum):
    COMING = "coming"
    UNWELL = "unwell"
    IMMUNISED = "immunised"
    LATE = "late"

    @property
    def label(self) -> str:
        """The words on the button in the email."""
        return CHECK_IN_LABELS[self][0]

    @property
    def said(self) -> str:
        """The word the register shows after "said:"."""
        return CHECK_IN_LABELS[self][1]

    @property
    def is_absence(self) -> bool:
        return self in (CheckInAnswer.UNWELL, CheckInAnswer.IMMUNISED)


CHECK_IN_LABELS = {
    CheckInAnswer.COMING: ("See you there", "coming"),
    CheckInAnswer.UNWELL: ("Baby is unwell today", "unwell"),
    CheckInAnswer.IMMUNISED: ("Recently immunised, staying home", "immunised"),
    CheckInAnswer.LATE: ("Running late", "late"),
}


class CheckIn(db.Model):
    """A family's answer to the morning check-in for one session: what the register expects of them, never a mark."""

    __tablename__ = "check_ins"
    __table_args__ = (UniqueConstraint("session_id", "booking_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("course_sessions.id", ondelete="CASCADE"))
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    answer: Mapped[CheckInAnswer] = mapped_column(str_enum(CheckInAnswer, "check_in_answer"))
    answered_at: Mapped[datetime]

    session: Mapped[CourseSession] = relationship()
    booking: Mapped[Booking] = relationship()

    def __repr__(self) -> str:
        return f"<CheckIn session={self.session_id} booking={self.booking_id} {self.answer}>"

"""Attendance marks for each place at each session, and every change made to them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from instructor_portal.db import str_enum
from instructor_portal.extensions import db

if TYPE_CHECKING:
    from instructor_portal.accounts.models import User
    from instructor_portal.booking.models import BookingPlace
    from instructor_portal.catalogue.models import CourseSession


class AttendanceStatus(StrEnum):
    PRESENT = "present"
    #: The baby was not ready, so the parent practised the strokes on a doll.
    OBSERVING = "observing"
    LATE = "late"
    ABSENT_UNWELL = "absent_unwell"
    ABSENT_IMMUNISED = "absent_immunised"
    ABSENT_OTHER = "absent_other"

    @property
    def label(self) -> str:
        return ATTENDANCE_LABELS[self][0]

    @property
    def short(self) -> str:
        return ATTENDANCE_LABELS[self][1]

    @property
    def attended(self) -> bool:
        return self in (AttendanceStatus.PRESENT, AttendanceStatus.OBSERVING, AttendanceStatus.LATE)


#: Each status's label on the register and its short form in the course grid.
ATTENDANCE_LABELS = {
    AttendanceStatus.PRESENT: ("Present", "P"),
    AttendanceStatus.OBSERVING: ("Present, observing (practised on a doll)", "O"),
    AttendanceStatus.LATE: ("Late", "L"),
    AttendanceStatus.ABSENT_UNWELL: ("Absent: unwell", "AU"),
    AttendanceStatus.ABSENT_IMMUNISED: ("Absent: recently immunised", "AI"),
    AttendanceStatus.ABSENT_OTHER: ("Absent: other", "A"),
}

NOTE_MAX = 500


class AttendanceMark(db.Model):
    """Whether one place was at one session, as last marked."""

    __tablename__ = "attendance_marks"
    __table_args__ = (UniqueConstraint("place_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Indexed by the unique (place, session) pair, which leads with it.
    place_id: Mapped[int] = mapped_column(ForeignKey("booking_places.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("course_sessions.id", ondelete="CASCADE"), index=True)
    status: Mapped[AttendanceStatus] = mapped_column(str_enum(AttendanceStatus, "attendance_status"))
    note: Mapped[str] = mapped_column(String(NOTE_MAX), default="")
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    marked_at: Mapped[datetime]

    place: Mapped[BookingPlace] = relationship()
    session: Mapped[CourseSession] = relationship()
    marked_by: Mapped[User | None] = relationship()
    changes: Mapped[list[AttendanceChange]] = relationship(
        back_populates="mark", cascade="all, delete-orphan", order_by="AttendanceChange.id"
    )

    def __repr__(self) -> str:
        return f"<AttendanceMark place={self.place_id} session={self.session_id} {self.status}>"


class AttendanceChange(db.Model):
    """One change to a mark, kept so the register shows who changed what and when."""

    __tablename__ = "attendance_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    mark_id: Mapped[int] = mapped_column(ForeignKey("attendance_marks.id", ondelete="CASCADE"), index=True)
    #: None for the first mark at that session.
    from_status: Mapped[AttendanceStatus | None] = mapped_column(str_enum(AttendanceStatus, "attendance_from_status"))
    to_status: Mapped[AttendanceStatus] = mapped_column(str_enum(AttendanceStatus, "attendance_to_status"))
    from_note: Mapped[str] = mapped_column(String(NOTE_MAX), default="")
    to_note: Mapped[str] = mapped_column(String(NOTE_MAX), default="")
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime]

    mark: Mapped[AttendanceMark] = relationship(back_populates="changes")
    changed_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<AttendanceChange mark={self.mark_id} {self.from_status} -> {self.to_status}>"

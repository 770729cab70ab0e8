"""Attendance marks for each place at each session, and every change made to them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
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


class MakeupStatus(StrEnum):
    #: The instructor offered it; the family has not answered yet.
    OFFERED = "offered"
    #: The family took it: it holds a place at that session.
    ACCEPTED = "accepted"
    DECLINED = "declined"
    #: The instructor took the offer back.
    WITHDRAWN = "withdrawn"
    #: The booking, the session or its course was cancelled.
    CANCELLED = "cancelled"

    @property
    def is_live(self) -> bool:
        return self in LIVE_MAKEUP_STATUSES


LIVE_MAKEUP_STATUSES = (MakeupStatus.OFFERED, MakeupStatus.ACCEPTED)


class Makeup(db.Model):
    """A family's chance to make up a missed session at the matching session of another course."""

    __tablename__ = "makeups"
    __table_args__ = (
        # A place has at most one live make-up for each session it missed.
        Index(
            "uq_makeups_live_missed_session",
            "place_id",
            "missed_session_id",
            unique=True,
            sqlite_where=text("status IN ('offered', 'accepted')"),
            postgresql_where=text("status IN ('offered', 'accepted')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The family's place on its own course; the make-up's mark is kept against it.
    place_id: Mapped[int] = mapped_column(ForeignKey("booking_places.id", ondelete="CASCADE"), index=True)
    missed_session_id: Mapped[int] = mapped_column(ForeignKey("course_sessions.id", ondelete="CASCADE"), index=True)
    #: The session on the other course that the family comes to instead.
    session_id: Mapped[int] = mapped_column(ForeignKey("course_sessions.id", ondelete="CASCADE"), index=True)
    status: Mapped[MakeupStatus] = mapped_column(str_enum(MakeupStatus, "makeup_status"))
    offered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    offered_at: Mapped[datetime]
    #: When the family accepted or declined.
    responded_at: Mapped[datetime | None]

    place: Mapped[BookingPlace] = relationship()
    missed_session: Mapped[CourseSession] = relationship(foreign_keys=[missed_session_id])
    session: Mapped[CourseSession] = relationship(foreign_keys=[session_id])
    offered_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Makeup place={self.place_id} missed={self.missed_session_id} session={self.session_id} {self.status}>"

"""Venues, courses and their sessions: what families browse and book."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from instructor_portal.db import TimestampMixin, str_enum
from instructor_portal.extensions import db

if TYPE_CHECKING:
    from instructor_portal.accounts.models import Child, User


class Track(StrEnum):
    FAMILY = "family"
    PREMATURE = "premature"
    ADOPTIVE_FOSTER = "adoptive_foster"
    ANTENATAL = "antenatal"
    WORKSHOP = "workshop"

    @property
    def label(self) -> str:
        return TRACK_LABELS[self]


TRACK_LABELS = {
    Track.FAMILY: "Family",
    Track.PREMATURE: "Premature babies",
    Track.ADOPTIVE_FOSTER: "Adoptive, foster and kinship families",
    Track.ANTENATAL: "Antenatal",
    Track.WORKSHOP: "Workshop or drop-in",
}


class CourseStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class AgeUnit(StrEnum):
    WEEKS = "weeks"
    MONTHS = "months"


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Venue(TimestampMixin, db.Model):
    """A place where courses meet, with what parents ask before they come."""

    __tablename__ = "venues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(255))
    town: Mapped[str] = mapped_column(String(80), index=True)
    #: Upper-case with one space ("BS6 5AB"), as Royal Mail writes it.
    postcode: Mapped[str] = mapped_column(String(10), index=True)
    step_free_access: Mapped[bool] = mapped_column(default=False)
    pram_parking: Mapped[bool] = mapped_column(default=False)
    baby_changing: Mapped[bool] = mapped_column(default=False)
    #: Nearest bus stop, parking, how to find the room.
    travel_notes: Mapped[str] = mapped_column(Text, default="")
    #: Retired venues stay on old courses but cannot be chosen for new ones.
    active: Mapped[bool] = mapped_column(default=True)

    courses: Mapped[list[Course]] = relationship(back_populates="venue")

    def __repr__(self) -> str:
        return f"<Venue {self.id} {self.name}>"


class Course(TimestampMixin, db.Model):
    """A series of one or more sessions that a family books as a whole."""

    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint("places > 0", name="places_positive"),
        CheckConstraint("price_pence >= 0", name="price_not_negative"),
        CheckConstraint("age_min IS NULL OR age_min >= 0", name="age_min_not_negative"),
        CheckConstraint("age_min IS NULL OR age_max IS NULL OR age_min <= age_max", name="age_range_ordered"),
        CheckConstraint("cancellation_notice_days >= 0", name="notice_not_negative"),
        CheckConstraint("min_places IS NULL OR (min_places > 0 AND min_places <= places)", name="minimum_in_range"),
        CheckConstraint("decision_days >= 0", name="decision_days_not_negative"),
        CheckConstraint("sibling_discount_percent BETWEEN 0 AND 100", name="sibling_discount_in_range"),
        CheckConstraint("is_online OR venue_id IS NOT NULL", name="has_venue_or_online"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instructor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venues.id"), index=True)
    is_online: Mapped[bool] = mapped_column(default=False)
    #: Shown only to families with a place, never on public pages.
    online_link: Mapped[str | None] = mapped_column(String(500))
    title: Mapped[str] = mapped_column(String(120))
    #: Markdown source; rendered and sanitised for display.
    description: Mapped[str] = mapped_column(Text, default="")
    what_to_bring: Mapped[str] = mapped_column(Text, default="")
    track: Mapped[Track] = mapped_column(str_enum(Track, "track"), index=True)
    status: Mapped[CourseStatus] = mapped_column(
        str_enum(CourseStatus, "course_status"), default=CourseStatus.DRAFT, index=True
    )
    places: Mapped[int]
    #: Price of one place in minor units (pence); 0 means free.
    price_pence: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    age_unit: Mapped[AgeUnit] = mapped_column(str_enum(AgeUnit, "age_unit"), default=AgeUnit.WEEKS)
    #: Youngest and oldest age, in ``age_unit``, at the first session; None means no bound.
    age_min: Mapped[int | None]
    age_max: Mapped[int | None]
    #: Judge a baby born early by age from the due date rather than the birth date.
    uses_corrected_age: Mapped[bool] = mapped_column(default=False)
    #: None means open as soon as published / until the first session starts.
    booking_opens_at: Mapped[datetime | None]
    booking_closes_at: Mapped[datetime | None]
    #: Days before the first session up to which a cancellation is refundable.
    cancellation_notice_days: Mapped[int] = mapped_column(default=7)
    #: Families may choose to pay at the first session or by bank transfer.
    allows_offline_payment: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    #: Percent off each place after the first when siblings or twins book together; 0 for none.
    sibling_discount_percent: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Fewest places booked for the course to run; None for no minimum.
    min_places: Mapped[int | None]
    #: Days before the first session when a course below its minimum is cancelled.
    decision_days: Mapped[int] = mapped_column(default=3, server_default="3")
    #: The instructor chose to run the course whatever the numbers (who and when are in the audit log).
    run_anyway_at: Mapped[datetime | None]
    #: When the instructor was warned that the course was below its minimum, so they are warned once.
    minimum_warned_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancellation_reason: Mapped[str | None] = mapped_column(Text)

    instructor: Mapped[User] = relationship(back_populates="courses")
    venue: Mapped[Venue | None] = relationship(back_populates="courses")
    sessions: Mapped[list[CourseSession]] = relationship(
        back_populates="course", cascade="all, delete-orphan", order_by="CourseSession.starts_at"
    )

    def __repr__(self) -> str:
        return f"<Course {self.id} {self.title!r} {self.status}>"

    @property
    def is_free(self) -> bool:
        return self.price_pence == 0

    @property
    def scheduled_sessions(self) -> list[CourseSession]:
        return [s for s in self.sessions if s.status == SessionStatus.SCHEDULED]


class CourseSession(TimestampMixin, db.Model):
    """One meeting of a course."""

    __tablename__ = "course_sessions"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    status: Mapped[SessionStatus] = mapped_column(
        str_enum(SessionStatus, "session_status"), default=SessionStatus.SCHEDULED
    )
    #: A short word for families, such as why it moved or was cancelled.
    note: Mapped[str] = mapped_column(String(255), default="")

    course: Mapped[Course] = relationship(back_populates="sessions")

    def __repr__(self) -> str:
        return f"<CourseSession {self.id} course={self.course_id} {self.starts_at:%Y-%m-%d %H:%M}>"


class CatalogueVersion(db.Model):
    """A counter that goes up whenever what the public catalogue shows may have changed.

    Public pages are cached under the current number, so a commit that touches courses,
    sessions, venues, places, make-ups or instructors makes every cached page stale at once.
    """

    __tablename__ = "catalogue_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=0)


def staff_name(course: Course, child: Child, *, full: bool) -> str:
    """How staff name a child on a course's roster, register or export.

    First name and last initial on adoptive and foster courses, whose children's identities are
    kept private; otherwise in full (rosters, exports) or by first name (the register). Course and
    child may be any rows with their fields, such as an export's named tuples.
    """
    if course.track == Track.ADOPTIVE_FOSTER:
        return child.private_name
    return child.full_name if full else child.first_name

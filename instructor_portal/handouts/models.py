"""Handouts and the stored files behind them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from instructor_portal.db import TimestampMixin, str_enum
from instructor_portal.extensions import db
from instructor_portal.uploads import StoredFile

if TYPE_CHECKING:
    from instructor_portal.accounts.models import User
    from instructor_portal.catalogue.models import Course, CourseSession

TITLE_MAX = 120
DESCRIPTION_MAX = 500


class ReleaseRule(StrEnum):
    #: As soon as the family's place is confirmed.
    ON_BOOKING = "on_booking"
    #: From the start of ``release_session`` (week 3's sequence appears on week 3).
    SESSION_START = "session_start"
    #: Once the course's last session has ended.
    AFTER_COURSE = "after_course"

    @property
    def label(self) -> str:
        return RELEASE_RULE_LABELS[self]


RELEASE_RULE_LABELS = {
    ReleaseRule.ON_BOOKING: "As soon as the family has a confirmed place",
    ReleaseRule.SESSION_START: "From the start of a session",
    ReleaseRule.AFTER_COURSE: "After the course ends",
}


class Handout(TimestampMixin, db.Model):
    """A file for families on a course, or (with no course) a standard one in the organisers' library."""

    __tablename__ = "handouts"
    __table_args__ = (
        CheckConstraint(
            "release_rule != 'session_start' OR release_session_id IS NOT NULL", name="session_rule_has_session"
        ),
        CheckConstraint(
            "course_id IS NOT NULL OR (session_id IS NULL AND release_session_id IS NULL)",
            name="library_has_no_sessions",
        ),
        CheckConstraint("download_count >= 0", name="download_count_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None for an item in the organisers' library.
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    #: The one session it belongs to, when it is not for the whole course.
    session_id: Mapped[int | None] = mapped_column(ForeignKey("course_sessions.id"))
    #: The library handout it was attached from, if any.
    source_id: Mapped[int | None] = mapped_column(ForeignKey("handouts.id", ondelete="SET NULL"), index=True)
    #: The current version; replacing the file moves this, so links keep working.
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"), index=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    description: Mapped[str] = mapped_column(String(DESCRIPTION_MAX), default="")
    #: The uploaded file's name, cleaned, for display only; storage never uses it.
    original_filename: Mapped[str] = mapped_column(String(255))
    release_rule: Mapped[ReleaseRule] = mapped_column(
        str_enum(ReleaseRule, "release_rule"), default=ReleaseRule.ON_BOOKING
    )
    release_session_id: Mapped[int | None] = mapped_column(ForeignKey("course_sessions.id"))
    retired_at: Mapped[datetime | None]
    #: Downloads by families; staff looking at it do not count.
    download_count: Mapped[int] = mapped_column(default=0, server_default="0")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    course: Mapped[Course | None] = relationship()
    session: Mapped[CourseSession | None] = relationship(foreign_keys=[session_id])
    release_session: Mapped[CourseSession | None] = relationship(foreign_keys=[release_session_id])
    source: Mapped[Handout | None] = relationship(remote_side=[id])
    stored_file: Mapped[StoredFile] = relationship()
    uploaded_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Handout {self.id} {self.title!r} course={self.course_id}>"

    @property
    def is_library_item(self) -> bool:
        return self.course_id is None

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None

"""A person's private calendar feed: the address a calendar app subscribes to, kept only as a hash."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from instructor_portal.clock import utcnow
from instructor_portal.extensions import db

if TYPE_CHECKING:
    from instructor_portal.accounts.models import User


class CalendarFeed(db.Model):
    """One person's feed; turning it off deletes the row, so its address answers 404 at once."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (CheckConstraint("length(secret_hash) = 64", name="secret_hash_is_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    #: sha256 (hex) of the secret in the feed's address; the secret itself is shown once and never kept,
    #: so a copy of the database gives nobody a working address.
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: When the current address was made (first made, or last renewed).
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<CalendarFeed {self.id} user={self.user_id}>"

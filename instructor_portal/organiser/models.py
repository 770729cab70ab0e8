"""Families' requests to be erased, kept until an organiser carries them out."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from instructor_portal.clock import utcnow
from instructor_portal.extensions import db

if TYPE_CHECKING:
    from instructor_portal.accounts.models import User


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

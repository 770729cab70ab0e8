"""Waiting-list entries: one family's wait for places on a course, for one or more of their children."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from instructor_portal.clock import utcnow
from instructor_portal.db import TimestampMixin, str_enum
from instructor_portal.extensions import db

if TYPE_CHECKING:
    from instructor_portal.accounts.models import Child, User
    from instructor_portal.booking.models import Booking
    from instructor_portal.catalogue.models import Course


class EntryStatus(StrEnum):
    WAITING = "waiting"
    #: Places are held for the family until the offer expires.
    OFFERED = "offered"
    #: The family took the offer: the booking holds the places now.
    BOOKED = "booked"
    #: The family said no to an offer, or let it lapse.
    DECLINED = "declined"
    LAPSED = "lapsed"
    LEFT = "left"
    #: Taken off by staff, or closed because the course was cancelled or a child grew out of its ages.
    REMOVED = "removed"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return ENTRY_LABELS[self]


ENTRY_LABELS = {
    EntryStatus.WAITING: "Waiting",
    EntryStatus.OFFERED: "Offered a place",
    EntryStatus.BOOKED: "Booked",
    EntryStatus.DECLINED: "Declined the offer",
    EntryStatus.LAPSED: "Offer lapsed",
    EntryStatus.LEFT: "Left the list",
    EntryStatus.REMOVED: "Removed by staff",
    EntryStatus.CLOSED: "Closed",
}
#: An entry still on the list: waiting its turn, or holding an offer.
OPEN_STATUSES = frozenset({EntryStatus.WAITING, EntryStatus.OFFERED})

waitlist_children = Table(
    "waitlist_children",
    db.metadata,
    Column("entry_id", ForeignKey("waitlist_entries.id", ondelete="CASCADE"), primary_key=True),
    Column("child_id", ForeignKey("children.id", ondelete="CASCADE"), primary_key=True),
)


class WaitlistEntry(TimestampMixin, db.Model):
    """A family waiting for ``places`` places on a course: twins or siblings are one entry needing two."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        CheckConstraint("places > 0", name="places_positive"),
        CheckConstraint("status != 'offered' OR offer_expires_at IS NOT NULL", name="offer_has_expiry"),
        # A family has at most one open entry on a course.
        Index(
            "uq_waitlist_entries_open_parent",
            "course_id",
            "parent_id",
            unique=True,
            sqlite_where=text("status IN ('waiting', 'offered')"),
            postgresql_where=text("status IN ('waiting', 'offered')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    places: Mapped[int]
    status: Mapped[EntryStatus] = mapped_column(str_enum(EntryStatus, "waitlist_status"), index=True)
    #: Order on the list: the time of joining, which staff may change to move an entry.
    queued_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    offered_at: Mapped[datetime | None]
    offer_expires_at: Mapped[datetime | None] = mapped_column(index=True)
    offers_made: Mapped[int] = mapped_column(default=0)
    #: Why the entry closed, in words the family was sent.
    closed_reason: Mapped[str | None] = mapped_column(String(300))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))

    course: Mapped[Course] = relationship()
    parent: Mapped[User] = relationship()
    children: Mapped[list[Child]] = relationship(secondary=waitlist_children, order_by="Child.id")
    booking: Mapped[Booking | None] = relationship()

    def __repr__(self) -> str:
        return f"<WaitlistEntry {self.id} course={self.course_id} {self.places} {self.status}>"

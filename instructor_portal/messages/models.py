"""A message written to the families on a course or one session, kept with who it went to and each email's fate."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail, OutboxStatus

if TYPE_CHECKING:
    from instructor_portal.accounts.models import User
    from instructor_portal.catalogue.models import Course, CourseSession


class Delivery(StrEnum):
    """What became of one family's copy of a message, as its sender sees it."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    #: The email itself is gone: the family's data was erased.
    REMOVED = "removed"

    @property
    def label(self) -> str:
        return self.value.capitalize()


DELIVERY_BY_OUTBOX = {
    OutboxStatus.PENDING: Delivery.QUEUED,
    OutboxStatus.SENT: Delivery.SENT,
    OutboxStatus.FAILED: Delivery.FAILED,
}


class GroupMessage(db.Model):
    __tablename__ = "group_messages"
    __table_args__ = (
        CheckConstraint("body != ''", name="body_not_empty"),
        CheckConstraint("subject != ''", name="subject_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    #: The one session whose register it went to; None for every family on the course.
    session_id: Mapped[int | None] = mapped_column(ForeignKey("course_sessions.id"), index=True)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    #: Where families' replies go: the sender's address when it was sent.
    reply_to: Mapped[str] = mapped_column(String(254))
    #: The preview's one-time key, so a second click on Send (or a resent form) sends nothing twice.
    send_key: Mapped[str] = mapped_column(String(32), unique=True)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    course: Mapped[Course] = relationship()
    session: Mapped[CourseSession | None] = relationship()
    sender: Mapped[User | None] = relationship()
    recipients: Mapped[list[MessageRecipient]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="MessageRecipient.id"
    )

    def __repr__(self) -> str:
        return f"<GroupMessage {self.id} course={self.course_id} session={self.session_id}>"

    @property
    def deliveries(self) -> Counter[Delivery]:
        """How many copies are queued, sent, failed or removed."""
        return Counter(recipient.delivery for recipient in self.recipients)


class MessageRecipient(db.Model):
    """One family a group message went to, with the outbox email that carries it."""

    __tablename__ = "group_message_recipients"
    #: One copy for each family; it also finds a message's recipients.
    __table_args__ = (UniqueConstraint("message_id", "parent_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("group_messages.id", ondelete="CASCADE"))
    parent_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: None once the email was deleted with the family's data.
    outbox_email_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_emails.id", ondelete="SET NULL"), index=True)

    message: Mapped[GroupMessage] = relationship(back_populates="recipients")
    parent: Mapped[User] = relationship()
    outbox_email: Mapped[OutboxEmail | None] = relationship()

    def __repr__(self) -> str:
        return f"<MessageRecipient message={self.message_id} parent={self.parent_id}>"

    @property
    def delivery(self) -> Delivery:
        email = self.outbox_email
        return Delivery.REMOVED if email is None else DELIVERY_BY_OUTBOX[email.status]

"""Instructors' credentials, and the evaluations families give at the end of a course."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from instructor_portal.clock import utcnow
from instructor_portal.db import TimestampMixin, str_enum
from instructor_portal.extensions import db

if TYPE_CHECKING:
    from instructor_portal.accounts.models import User
    from instructor_portal.booking.models import Booking
    from instructor_portal.uploads import StoredFile


class CredentialKind(StrEnum):
    CIMI = "cimi"
    INSURANCE = "insurance"
    DBS = "dbs"
    FIRST_AID = "first_aid"

    @property
    def label(self) -> str:
        return CREDENTIAL_LABELS[self]


CREDENTIAL_LABELS = {
    CredentialKind.CIMI: "CIMI certificate",
    CredentialKind.INSURANCE: "Insurance",
    CredentialKind.DBS: "DBS / safeguarding check",
    CredentialKind.FIRST_AID: "First aid",
}


class Credential(TimestampMixin, db.Model):
    """An instructor's current certificate, insurance or check of one kind; earlier ones live on in the audit log."""

    __tablename__ = "instructor_credentials"
    __table_args__ = (
        UniqueConstraint("instructor_id", "kind"),
        CheckConstraint(
            "expires_on IS NULL OR issued_on IS NULL OR expires_on > issued_on", name="expires_after_issue"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instructor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[CredentialKind] = mapped_column(str_enum(CredentialKind, "credential_kind"))
    #: When certified, the policy started or the check or course was done.
    issued_on: Mapped[date | None]
    #: The last day it is valid; None for one that does not expire (a CIMI certificate).
    expires_on: Mapped[date | None] = mapped_column(index=True)
    #: Certificate or policy number.
    reference: Mapped[str] = mapped_column(String(60), default="")
    #: The insurer, or who ran the check or the first-aid course.
    provider: Mapped[str] = mapped_column(String(120), default="")
    document_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id", ondelete="SET NULL"))
    #: The expiry date the 30-day alert went out for, so each expiry date is announced once.
    alerted_for: Mapped[date | None]

    instructor: Mapped[User] = relationship()
    document: Mapped[StoredFile | None] = relationship()

    def __repr__(self) -> str:
        return f"<Credential {self.id} {self.kind} instructor={self.instructor_id} expires={self.expires_on}>"


class EvaluationQuestion(db.Model):
    """A 1-5 question families are asked; a reworded question is a new row, so earlier answers keep the words they answered."""

    __tablename__ = "evaluation_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(200))
    #: Order on the form, smallest first.
    position: Mapped[int] = mapped_column(default=0)
    #: When it stopped being asked (reworded or removed); None while it is asked.
    retired_at: Mapped[datetime | None]
    #: The question this one rewords, so results can say what it replaced.
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("evaluation_questions.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<EvaluationQuestion {self.id} {self.text!r}>"


class Evaluation(db.Model):
    """The evaluation sent to one booking's family when the course ended; answered at most once."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), unique=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    comment: Mapped[str] = mapped_column(Text, default="")
    #: The family agreed that the comment may be quoted without their name.
    may_quote: Mapped[bool] = mapped_column(default=False)

    booking: Mapped[Booking] = relationship()
    answers: Mapped[list[EvaluationAnswer]] = relationship(back_populates="evaluation", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Evaluation {self.id} booking={self.booking_id} answered={self.answered_at is not None}>"


class EvaluationAnswer(db.Model):
    __tablename__ = "evaluation_answers"
    __table_args__ = (
        UniqueConstraint("evaluation_id", "question_id"),
        CheckConstraint("score BETWEEN 1 AND 5", name="score_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("evaluation_questions.id"), index=True)
    score: Mapped[int]

    evaluation: Mapped[Evaluation] = relationship(back_populates="answers")
    question: Mapped[EvaluationQuestion] = relationship()

    def __repr__(self) -> str:
        return f"<EvaluationAnswer {self.id} question={self.question_id} score={self.score}>"

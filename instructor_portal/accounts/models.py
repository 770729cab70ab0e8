"""People who sign in: parents and carers, instructors and organisers."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from instructor_portal.clock import utcnow
from instructor_portal.db import TimestampMixin, str_enum
from instructor_portal.extensions import db

if TYPE_CHECKING:
    from instructor_portal.catalogue.models import Course
    from instructor_portal.uploads import StoredFile


class Role(StrEnum):
    PARENT = "parent"
    INSTRUCTOR = "instructor"
    ORGANISER = "organiser"

    @property
    def label(self) -> str:
        return {"parent": "Parent or carer", "instructor": "Instructor", "organiser": "Organiser"}[self.value]


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Always stored lower-cased so look-ups and the unique index ignore case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(40))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"), index=True)
    #: Argon2id hash; None for an invited instructor or organiser who has not set a password yet.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    #: Switched off by an organiser to stop someone signing in without deleting their history.
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]
    #: When the person followed a link sent to their address; a parent signs in only once it is set.
    email_verified_at: Mapped[datetime | None]
    #: Two-step sign-in (accounts.two_step): the authenticator app's shared secret, when it was set up, and the
    #: last 30-second step whose code was used, so a code overheard cannot be used again.
    totp_secret: Mapped[str | None] = mapped_column(String(32))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]

    profile: Mapped[InstructorProfile | None] = relationship(
        back_populates="user", cascade="all, delete-orphan", uselist=False
    )
    courses: Mapped[list[Course]] = relationship(back_populates="instructor")
    children: Mapped[list[Child]] = relationship(
        back_populates="parent", cascade="all, delete-orphan", order_by="Child.id"
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"

    @property
    def is_active(self) -> bool:
        return self.active

    #: The sign-in (accounts.sign_ins) this request came with; its token is what the cookies carry. Not a column.
    sign_in_token = None
    # One person is one row: compare by identity, not Flask-Login's get_id (which names a sign-in).
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    def get_id(self) -> str:
        # Flask-Login keeps this in the session and the remember-me cookie: a server-side
        # sign-in, so ending it there ends every copy of either cookie.
        if self.sign_in_token is None:
            raise RuntimeError("start a sign-in (accounts.sign_ins.start_sign_in) before signing the user in")
        return self.sign_in_token

    @property
    def first_name(self) -> str:
        return self.full_name.split()[0] if self.full_name.strip() else self.full_name

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    @property
    def has_two_step(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def needs_two_step(self) -> bool:
        """Staff see families' details, so they must sign in with two steps; for parents it is a choice."""
        return self.role in (Role.INSTRUCTOR, Role.ORGANISER)


class RecoveryCode(db.Model):
    """A one-time code to sign in with when the authenticator app is lost; only its hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<RecoveryCode {self.id} user={self.user_id} used={self.used_at is not None}>"


class SignIn(db.Model):
    """One signed-in browser. Its cookies carry only this row's token, so ending the row ends every copy of them."""

    __tablename__ = "sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: Whether "keep me signed in" was ticked, which decides how long it may last.
    remember: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    #: Set at sign-out, a password change or being switched off; the row is then refused.
    ended_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<SignIn {self.id} user={self.user_id} ended={self.ended_at is not None}>"


class InstructorProfile(db.Model):
    """What families see of an instructor in the public directory."""

    __tablename__ = "instructor_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    bio: Mapped[str] = mapped_column(Text, default="")
    #: Where they teach, in their own words ("North Bristol and online").
    area: Mapped[str] = mapped_column(String(120), default="")
    #: For example "CIMI (International Association of Infant Massage)".
    qualifications: Mapped[str] = mapped_column(String(200), default="")
    #: Shown in the public directory.
    listed: Mapped[bool] = mapped_column(default=True)
    photo_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(back_populates="profile")
    photo: Mapped[StoredFile | None] = relationship()

    def __repr__(self) -> str:
        return f"<InstructorProfile {self.user_id}>"


#: What a parent agrees to before care notes are kept. A change of wording is a new version.
CARE_NOTES_CONSENT_VERSION = "2026-12-01"
CARE_NOTES_CONSENT = (
    "I agree to these notes about my child's health being kept so my child can be looked after safely in class. "
    "Only the instructor of a course my child is booked on and the organiser can see them. "
    "I can withdraw this at any time, which deletes the notes."
)

#: A full-term pregnancy, from which weeks born early are counted.
FULL_TERM_WEEKS = 40


class Child(TimestampMixin, db.Model):
    """A baby or child in a parent's family; an unborn baby has only a due date."""

    __tablename__ = "children"
    __table_args__ = (
        CheckConstraint("date_of_birth IS NOT NULL OR due_date IS NOT NULL", name="born_or_due"),
        CheckConstraint("gestation_weeks IS NULL OR gestation_weeks BETWEEN 22 AND 42", name="gestation_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    first_name: Mapped[str] = mapped_column(String(60))
    last_name: Mapped[str] = mapped_column(String(60))
    #: None while the baby is not yet born (antenatal courses).
    date_of_birth: Mapped[date | None]
    #: The expected due date: for a baby born early (so corrected age can be worked out), or for one not yet born.
    due_date: Mapped[date | None]
    #: Weeks of pregnancy at birth, when the parent knows that rather than the due date.
    gestation_weeks: Mapped[int | None]
    #: Medical or other considerations (special-category data): kept only with the parent's consent, and seen only
    #: by the instructor of a course the child is booked on and by organisers (CARE_NOTES_CONSENT says so).
    care_notes: Mapped[str] = mapped_column(Text, default="")
    #: When the parent agreed to the notes being kept, and which wording (CARE_NOTES_CONSENT_VERSION) they agreed to.
    care_notes_consent_at: Mapped[datetime | None]
    care_notes_consent_version: Mapped[str | None] = mapped_column(String(20))
    #: How the carer is related, only if the family chooses to say (adoptive, foster, kinship).
    relationship_to_carer: Mapped[str] = mapped_column(String(60), default="")

    parent: Mapped[User] = relationship(back_populates="children")

    def __repr__(self) -> str:
        return f"<Child {self.id} parent={self.parent_id}>"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def private_name(self) -> str:
        """First name and last initial, for adoptive and foster registers."""
        return f"{self.first_name} {self.last_name[:1]}.".strip() if self.last_name else self.first_name

    @property
    def expected_date(self) -> date | None:
        """The due date, given or worked out from the gestation at birth."""
        if self.due_date is not None:
            return self.due_date
        if self.date_of_birth is not None and self.gestation_weeks is not None:
            return self.date_of_birth + timedelta(weeks=FULL_TERM_WEEKS - self.gestation_weeks)
        return None

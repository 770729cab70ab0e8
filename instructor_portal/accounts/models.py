"""People who sign in: parents and carers, instructors and organisers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from instructor_portal.db import TimestampMixin, str_enum
from instructor_portal.extensions import db

if TYPE_CHECKING:
    from instructor_portal.catalogue.models import Course


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

    profile: Mapped[InstructorProfile | None] = relationship(
        back_populates="user", cascade="all, delete-orphan", uselist=False
    )
    courses: Mapped[list[Course]] = relationship(back_populates="instructor")

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        # The session carries a fingerprint of the password hash, so changing the
        # password signs out every other session.
        from instructor_portal.accounts.services import password_fingerprint

        return f"{self.id}:{password_fingerprint(self)}"

    @property
    def first_name(self) -> str:
        return self.full_name.split()[0] if self.full_name.strip() else self.full_name

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles


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

    user: Mapped[User] = relationship(back_populates="profile")

    def __repr__(self) -> str:
        return f"<InstructorProfile {self.user_id}>"

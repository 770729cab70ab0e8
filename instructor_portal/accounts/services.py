"""Accounts: sign-up, sign-in, passwords, invitations and password reset."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from instructor_portal import audit
from instructor_portal.accounts.models import InstructorProfile, Role, User
from instructor_portal.accounts.sign_ins import end_every_sign_in
from instructor_portal.audit import AuditEntry
from instructor_portal.clock import utcnow
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db
from instructor_portal.notifications.services import absolute_url, enqueue_email
from instructor_portal.organisation import get_organisation

MIN_PASSWORD_LENGTH = 10
#: Passwords that meet the length rule but appear at the top of every breach list.
COMMON_PASSWORDS = {
    "password12",
    "password123",
    "password1234",
    "1234567890",
    "12345678910",
    "qwertyuiop",
    "iloveyou123",
    "letmein123",
    "welcome123",
    "passw0rd123",
    "abcdefghij",
    "1q2w3e4r5t",
    "qwerty1234",
    "football123",
    "baby123456",
    "princess123",
    "sunshine123",
    "password!!",
}
PASSWORD_RESET = "password-reset"
INVITATION = "invitation"
EMAIL_CONFIRMATION = "email-confirmation"


class AccountError(DomainError):
    """A sign-up, sign-in or password rule was not met."""


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_cost: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)


def _current_hasher() -> PasswordHasher:
    config = current_app.config
    return _hasher(config["PASSWORD_HASH_TIME_COST"], config["PASSWORD_HASH_MEMORY_COST"])


def active_organisers(*, besides: int | None = None) -> list[User]:
    """Every organiser who can still sign in, but the one with id ``besides``, oldest first: those told of what needs deciding."""
    query = db.select(User).where(User.role == Role.ORGANISER, User.active).order_by(User.id)
    return list(db.session.scalars(query if besides is None else query.where(User.id != besides)))


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password_strength(password: str, *, email: str = "", name: str = "") -> None:
    """Raise AccountError with a plain reason when ``password`` is too weak to accept."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Use at least {MIN_PASSWORD_LENGTH} characters.", field="password")
    if len(password) > 200:
        raise AccountError("Use at most 200 characters.", field="password")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(lowered)) < 4:
        raise AccountError(
            "That password is too easy to guess. Try a short phrase of three or four words.", field="password"
        )
    local_part = normalise_email(email).split("@")[0]
    if (local_part and len(local_part) >= 4 and local_part in lowered) or (
        name and name.strip().lower().replace(" ", "") == lowered
    ):
        raise AccountError("Do not use your name or email address as your password.", field="password")


def set_password(user: User, password: str) -> None:
    """Hash and store ``password``; the caller commits."""
    check_password_strength(password, email=user.email, name=user.full_name)
    user.password_hash = _current_hasher().hash(password)


def password_fingerprint(user: User) -> str:
    """A short digest of the password hash: it changes whenever the password does."""
    return hashlib.sha256((user.password_hash or "unset").encode()).hexdigest()[:16]


def authenticate(email: str, password: str, *, now: datetime | None = None) -> User:
    """Return the user with these credentials or raise AccountError with one message for every failure."""
    user = db.session.scalars(db.select(User).where(User.email == normalise_email(email))).first()
    failure = AccountError("That email and password do not match an account.")
    if user is None or user.password_hash is None:
        # Hash anyway so response time does not reveal which emails have accounts.
        _current_hasher().hash(password)
        raise failure
    try:
        _current_hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise failure from None
    if not user.active:
        raise AccountError("This account has been switched off. Please contact the organiser.")
    if user.email_verified_at is None:
        _email_link(user, EMAIL_CONFIRMATION)
        db.session.commit()
        raise AccountError("Please confirm your email address first: we have just emailed you a new link to do so.")
    if _current_hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _current_hasher().hash(password)
    user.last_login_at = now or utcnow()
    db.session.commit()
    return user


def find_parent(email: str) -> User | None:
    """The parent or carer with this email address, if there is one."""
    return db.session.scalars(
        db.select(User).where(User.email == normalise_email(email), User.role == Role.PARENT)
    ).first()


def is_own_password(user: User, password: str) -> bool:
    """Check the signed-in person's password again, before something that cannot be undone."""
    try:
        return user.password_hash is not None and _current_hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _email_taken(email: str) -> bool:
    return db.session.scalars(db.select(User.id).where(User.email == email)).first() is not None


def sign_up_parent(
    *, full_name: str, email: str, password: str, phone: str | None = None, next_url: str | None = None
) -> None:
    """Start a parent's or carer's account and email a link to confirm the address.

    If the address has an account already, its owner is emailed instead, and the person
    signing up is told the same either way, so nobody can learn here who has an account.
    ``next_url`` (already checked to be ours) is where the confirmation link leads on to.
    """
    email = normalise_email(email)
    check_password_strength(password, email=email, name=full_name)
    existing = db.session.scalars(db.select(User).where(User.email == email)).first()
    link_values = {"next": next_url} if next_url else {}
    if existing is not None:
        _current_hasher().hash(password)  # as long as making an account takes
        enqueue_email(
            existing.email,
            "account_exists",
            subject=f"Your {get_organisation().name} account",
            user=existing,
            sent_because="someone tried to sign up with this email address",
            login_url=absolute_url("accounts.login", **link_values),
            reset_url=absolute_url("accounts.forgot_password"),
        )
        audit.record(None, "user.sign_up_for_existing_account", existing)
        db.session.commit()
        return
    user = User(full_name=full_name.strip(), email=email, phone=(phone or "").strip() or None, role=Role.PARENT)
    set_password(user, password)
    db.session.add(user)
    db.session.flush()
    _email_link(user, EMAIL_CONFIRMATION, **link_values)
    audit.record(user, "user.signed_up", user)
    db.session.commit()


def confirm_email(token: str, *, now: datetime | None = None) -> User:
    """Mark the address a confirmation link was sent to as confirmed; raise AccountError if the link cannot be used."""
    user = user_for_token(token, EMAIL_CONFIRMATION)
    if user.email_verified_at is not None:
        raise AccountError("Your email address is already confirmed. Please sign in.")
    user.email_verified_at = now or utcnow()
    audit.record(user, "user.email_confirmed", user)
    db.session.commit()
    return user


def invite_user(*, full_name: str, email: str, role: Role, invited_by: User | None) -> User:
    """Create an instructor or organiser without a password and email them a link to set one."""
    if role == Role.PARENT:
        raise AccountError("Parents and carers sign themselves up.")
    user = _add_invited_user(full_name=full_name, email=email, role=role, invited_by=invited_by)
    db.session.commit()
    return user


def invite_parent(*, full_name: str, email: str, phone: str | None, invited_by: User) -> User:
    """Make an account for a parent or carer whom staff book for, and email them a link to set a password; the caller commits."""
    return _add_invited_user(full_name=full_name, email=email, role=Role.PARENT, invited_by=invited_by, phone=phone)


def _add_invited_user(
    *, full_name: str, email: str, role: Role, invited_by: User | None, phone: str | None = None
) -> User:
    if not full_name.strip():
        raise AccountError("Enter their name.", field="full_name")
    email = normalise_email(email)
    if _email_taken(email):
        raise AccountError("Someone with this email already has an account.", field="email")
    user = User(full_name=full_name.strip(), email=email, role=role, phone=(phone or "").strip() or None)
    if role == Role.INSTRUCTOR:
        user.profile = InstructorProfile()
    db.session.add(user)
    audit.record(invited_by, "user.invited", user, role=role.value)
    _email_link(user, INVITATION)
    return user


def resend_invitation(user: User, *, sent_by: User | None) -> None:
    """Email a fresh set-password link to someone who has not set a password yet."""
    if user.password_hash is not None:
        raise AccountError(f"{user.full_name} has already set a password; they can reset it from the sign-in page.")
    audit.record(sent_by, "user.invitation_resent", user)
    _email_link(user, INVITATION)
    db.session.commit()


#: Emails that carry a set-password link: template, page the link opens, subject.
#: Each link email's template, the link's endpoint, its subject and why it is sent (for the footer).
_LINK_EMAILS = {
    INVITATION: (
        "invitation",
        "accounts.accept_invitation",
        "You have been invited to {organisation}",
        "{organisation} made an account for you",
    ),
    PASSWORD_RESET: (
        "password_reset",
        "accounts.reset_password",
        "Reset your {organisation} password",
        "someone asked to reset the password of your account",
    ),
    EMAIL_CONFIRMATION: (
        "confirm_email",
        "accounts.confirm_email",
        "Confirm your email to finish your {organisation} account",
        "this email address was used to sign up to {organisation}",
    ),
}
_TOKEN_MAX_AGES = {
    INVITATION: "INVITATION_MAX_AGE",
    PASSWORD_RESET: "PASSWORD_RESET_MAX_AGE",
    EMAIL_CONFIRMATION: "EMAIL_CONFIRMATION_MAX_AGE",
}


def _token_max_age(purpose: str) -> int:
    return current_app.config[_TOKEN_MAX_AGES[purpose]]


def _email_link(user: User, purpose: str, **link_values) -> None:
    template, endpoint, subject, because = _LINK_EMAILS[purpose]
    seconds = _token_max_age(purpose)
    organisation = get_organisation().name
    enqueue_email(
        user.email,
        template,
        subject=subject.format(organisation=organisation),
        user=user,
        sent_because=because.format(organisation=organisation),
        link=absolute_url(endpoint, token=make_token(user, purpose), **link_values),
        valid_for=f"{seconds // 86400} days" if seconds >= 2 * 86400 else f"{max(seconds // 60, 1)} minutes",
    )


def request_password_reset(email: str) -> None:
    """Email a reset link if the address has an account; say nothing either way to the requester."""
    user = db.session.scalars(db.select(User).where(User.email == normalise_email(email))).first()
    if user is None or not user.active:
        return
    _email_link(user, PASSWORD_RESET)
    db.session.commit()


#: However many sign-ins are refused, the account's owner hears of it at most once in this time.
SIGN_IN_WARNING_EVERY = timedelta(hours=1)


def warn_of_sign_in_attempts(email: str, *, now: datetime | None = None) -> None:
    """Tell an account's owner that signing in to it was paused after many wrong passwords (at most once an hour)."""
    now = now or utcnow()
    user = db.session.scalars(db.select(User).where(User.email == normalise_email(email))).first()
    if user is None:
        return
    recent = db.select(AuditEntry.id).where(
        AuditEntry.action == "user.sign_in_paused",
        AuditEntry.subject_type == "User",
        AuditEntry.subject_id == user.id,
        AuditEntry.created_at > now - SIGN_IN_WARNING_EVERY,
    )
    if db.session.scalars(recent).first() is not None:
        return
    enqueue_email(
        user.email,
        "sign_in_attempts",
        subject=f"Someone is trying to sign in to your {get_organisation().name} account",
        user=user,
        sent_because="someone tried many wrong passwords to sign in to your account",
        reset_url=absolute_url("accounts.forgot_password"),
    )
    audit.record(None, "user.sign_in_paused", user)
    db.session.commit()


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=purpose)


def make_token(user: User, purpose: str) -> str:
    """A signed token naming the user and their current password fingerprint, so it works only once."""
    return _serializer(purpose).dumps({"user": user.id, "fp": password_fingerprint(user)})


def user_for_token(token: str, purpose: str) -> User:
    """Return the user a valid token belongs to, or raise AccountError saying why it cannot be used."""
    try:
        data = _serializer(purpose).loads(token, max_age=_token_max_age(purpose))
    except SignatureExpired:
        raise AccountError("This link has expired. Please ask for a new one.") from None
    except BadSignature:
        raise AccountError("This link is not valid. Please check you copied all of it, or ask for a new one.") from None
    user = db.session.get(User, data.get("user")) if isinstance(data, dict) else None
    if user is None or not user.active or data.get("fp") != password_fingerprint(user):
        raise AccountError("This link has already been used. Please ask for a new one.")
    return user


def set_password_from_token(token: str, purpose: str, password: str) -> User:
    """Set a new password through an emailed link; the link stops working afterwards."""
    user = user_for_token(token, purpose)
    set_password(user, password)
    end_every_sign_in(user)  # a new password ends every sign-in, on every browser
    user.email_verified_at = user.email_verified_at or utcnow()  # the link reached this address
    audit.record(user, "user.password_set", user, via=purpose)
    db.session.commit()
    return user


# --- Family: the parent's children -----------------------------------------------------------

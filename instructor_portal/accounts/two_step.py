"""Two-step sign-in: a code from an authenticator app (TOTP), or a one-time recovery code.

Instructors and organisers set it up before they can see families' details; parents may.
The QR code is drawn here (segno), so the secret never leaves for a third-party service.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from time import time

import pyotp
import segno
from sqlalchemy import delete, select, update

from instructor_portal import audit
from instructor_portal.accounts.models import RecoveryCode, Role, User
from instructor_portal.accounts.sign_ins import end_every_sign_in
from instructor_portal.clock import utcnow
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db

RECOVERY_CODES = 10
#: How many 30-second steps either side of now a code may come from, for a phone's clock a little out.
CLOCK_DRIFT_STEPS = 1


class TwoStepError(DomainError):
    """A code was not right, or two-step sign-in could not be changed; the message says which."""


def start_setup(user: User) -> None:
    """Give the user a new secret for their authenticator app; two-step sign-in is on only once they confirm a code from it."""
    user.totp_secret = pyotp.random_base32()
    db.session.commit()


def setup_qr(user: User, secret: str, issuer: str) -> str:
    """The QR code an authenticator app scans, as a data: URL for an <img> (the page's policy allows no other source)."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)
    return segno.make(uri, error="m").png_data_uri(scale=5, border=2)


def _hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").replace(" ", "").lower().encode()).hexdigest()


def _matching_step(secret: str, code: str, now: float) -> int | None:
    totp = pyotp.TOTP(secret)
    step = int(now // totp.interval)
    for candidate in range(step - CLOCK_DRIFT_STEPS, step + CLOCK_DRIFT_STEPS + 1):
        if secrets.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def turn_on(user: User, secret: str, code: str, *, now: float | None = None) -> list[str]:
    """Turn two-step sign-in on once the app shows the right code for ``secret``; return the recovery codes, shown once."""
    code = "".join(code.split())
    step = _matching_step(secret, code, now or time()) if code.isdigit() else None
    if step is None:
        raise TwoStepError(
            "That code is not right. Check the app shows the account you just added, and type the 6 digits it shows now.",
            field="code",
        )
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = secret, utcnow(), step
    codes = _new_recovery_codes(user)
    audit.record(user, "user.two_step_on", user)
    db.session.commit()
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(code)) for code in codes)
    return codes


def check_code(user: User, code: str, *, now: float | None = None) -> bool:
    """Accept the app's current code once, or an unused recovery code once; commits what it uses up."""
    code = code.strip()
    if not user.has_two_step or not code:
        return False
    digits = "".join(code.split())
    if digits.isdigit() and len(digits) == 6:
        step = _matching_step(user.totp_secret, digits, now or time())
        if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
            return False  # wrong, or already used: an overheard code cannot be replayed
        # Conditional, so two requests with the same code at once cannot both pass.
        used = db.session.execute(
            update(User)
            .where(User.id == user.id, (User.totp_last_step.is_(None)) | (User.totp_last_step < step))
            .values(totp_last_step=step)
        ).rowcount
        db.session.commit()
        return bool(used)
    used = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(code), RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
    ).rowcount
    if used:
        audit.record(user, "user.recovery_code_used", user)
    db.session.commit()
    return bool(used)


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        select(db.func.count(RecoveryCode.id)).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with new ones (the old stop working); shown once."""
    codes = _new_recovery_codes(user)
    audit.record(user, "user.recovery_codes_renewed", user)
    db.session.commit()
    return codes


def turn_off(user: User, *, by: User, now: datetime | None = None) -> None:
    """Remove two-step sign-in (a parent who opted in, or an organiser resetting a colleague who lost their phone); audited.

    Staff must set it up again at their next sign-in; every sign-in of theirs ends now.
    """
    if by.id != user.id and by.role != Role.ORGANISER:
        raise TwoStepError("Only an organiser can reset someone else's two-step sign-in.")
    if by.id == user.id and user.needs_two_step:
        raise TwoStepError(
            "Instructors and organisers keep two-step sign-in on; ask another organiser to reset it if you lost your phone."
        )
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = None, None, None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    end_every_sign_in(user, now=now)
    audit.record(by, "user.two_step_reset" if by.id != user.id else "user.two_step_off", user)
    db.session.commit()

"""Signed-in browsers, recorded on the server: a cookie names a sign-in, and a sign-in that has ended is refused.

Flask-Login keeps the sign-in's token (``User.get_id``) in the session and, with "keep me
signed in", in the remember-me cookie. Signing out, a new password or being switched off
ends the sign-in here, so a copy of either cookie taken before that is worth nothing.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from instructor_portal.accounts.models import SignIn, User
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db


def start_sign_in(user: User, *, remember: bool = False, now: datetime | None = None) -> User:
    """Record a new sign-in for ``user`` and attach its token, ready for Flask-Login's login_user; commits."""
    now = now or utcnow()
    lifetime = (
        current_app.config["REMEMBER_COOKIE_DURATION"]
        if remember
        else timedelta(hours=current_app.config["SIGN_IN_HOURS"])
    )
    sign_in = SignIn(
        token=secrets.token_urlsafe(32), user_id=user.id, remember=remember, created_at=now, expires_at=now + lifetime
    )
    db.session.add(sign_in)
    db.session.commit()
    user.sign_in_token = sign_in.token
    return user


def load_user(token: str, *, now: datetime | None = None) -> User | None:
    """Flask-Login's loader: the user of a sign-in that has not ended or run out, if they may still sign in."""
    if not token or len(token) > 64:
        return None
    sign_in = db.session.scalars(select(SignIn).where(SignIn.token == token)).first()
    if (
        sign_in is None
        or sign_in.ended_at is not None
        or sign_in.expires_at <= (now or utcnow())
        or not sign_in.user.active
    ):
        return None
    user = sign_in.user
    user.sign_in_token = token
    return user


def end_sign_in(token: str | None, *, now: datetime | None = None) -> None:
    """End one sign-in (signing out); commits."""
    if token:
        db.session.execute(
            update(SignIn).where(SignIn.token == token, SignIn.ended_at.is_(None)).values(ended_at=now or utcnow())
        )
        db.session.commit()


def end_every_sign_in(user: User, *, now: datetime | None = None) -> int:
    """End all of the user's sign-ins, on every browser (a new password, switched off); the caller commits. Return how many."""
    return db.session.execute(
        update(SignIn).where(SignIn.user_id == user.id, SignIn.ended_at.is_(None)).values(ended_at=now or utcnow())
    ).rowcount

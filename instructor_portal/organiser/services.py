"""Organisation settings, venues and instructors, managed by organisers."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import available_timezones

from flask import g

from instructor_portal import audit
from instructor_portal.accounts.models import Role, User
from instructor_portal.catalogue.models import Course, CourseSession, CourseStatus, SessionStatus, Venue
from instructor_portal.clock import utcnow
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db
from instructor_portal.organiser.models import DEFAULTS, Organisation

VENUE_FIELDS = frozenset(
    {
        "name",
        "address",
        "town",
        "postcode",
        "step_free_access",
        "pram_parking",
        "baby_changing",
        "travel_notes",
        "active",
    }
)
STAFF_ROLES = (Role.INSTRUCTOR, Role.ORGANISER)
# Royal Mail's shapes: an outward code (A9, A99, AA9, AA99, A9A, AA9A) and an inward code (9AA).
_POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})")
_CURRENCY = re.compile(r"[A-Z]{3}")


class OrganiserError(DomainError):
    """A settings, venue or staff rule was not met."""


def get_organisation() -> Organisation:
    """Return the organisation's settings (cached for the request); defaults until an organiser saves them."""
    if "organisation" not in g:
        g.organisation = _saved_organisation() or Organisation(**DEFAULTS)
    return g.organisation


def _saved_organisation() -> Organisation | None:
    return db.session.scalars(db.select(Organisation).order_by(Organisation.id).limit(1)).first()


def update_settings(*, actor: User, **values: Any) -> Organisation:
    """Save the organisation's settings (keys of organiser.models.DEFAULTS), creating the row the first time."""
    unknown = values.keys() - DEFAULTS.keys()
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    if "currency" in values:
        values["currency"] = values["currency"].strip().upper()
        if not _CURRENCY.fullmatch(values["currency"]):
            raise OrganiserError("Enter the currency as a three-letter code, such as GBP.", field="currency")
    if "timezone" in values and values["timezone"] not in available_timezones():
        raise OrganiserError("Choose a time zone from the list, such as Europe/London.", field="timezone")
    organisation = _saved_organisation()
    if organisation is None:
        organisation = Organisation(**DEFAULTS)
        db.session.add(organisation)
    changed = sorted(name for name, value in values.items() if getattr(organisation, name) != value)
    for name in changed:
        setattr(organisation, name, values[name])
    audit.record(actor, "settings.updated", organisation, changed=changed)
    db.session.commit()
    g.organisation = organisation
    return organisation


def dashboard_counts(*, now: datetime | None = None) -> dict[str, int]:
    """Count courses by status, sessions in the coming week, and active instructors and venues."""
    now = now or utcnow()
    by_status = dict(db.session.execute(db.select(Course.status, db.func.count()).group_by(Course.status)).all())
    sessions_this_week = db.session.scalar(
        db.select(db.func.count())
        .select_from(CourseSession)
        .join(Course)
        .where(
            Course.status == CourseStatus.PUBLISHED,
            CourseSession.status == SessionStatus.SCHEDULED,
            CourseSession.starts_at > now,
            CourseSession.starts_at <= now + timedelta(days=7),
        )
    )
    return {
        **{status.value: by_status.get(status, 0) for status in CourseStatus},
        "sessions_this_week": sessions_this_week,
        "instructors": db.session.scalar(
            db.select(db.func.count()).select_from(User).where(User.role == Role.INSTRUCTOR, User.active.is_(True))
        ),
        "venues": db.session.scalar(db.select(db.func.count()).select_from(Venue).where(Venue.active.is_(True))),
    }


def list_venues() -> list[Venue]:
    """List every venue, those in use first, by name."""
    return list(db.session.scalars(db.select(Venue).order_by(Venue.active.desc(), Venue.name)))


def normalise_postcode(text: str) -> str:
    """Return a UK postcode upper-cased with one space ("bs65ab" -> "BS6 5AB"), or raise OrganiserError."""
    compact = re.sub(r"\s+", "", text).upper()
    match = _POSTCODE.fullmatch(compact)
    if not match:
        raise OrganiserError("Enter a UK postcode, such as BS6 5AB.", field="postcode")
    return f"{match[1]} {match[2]}"


def create_venue(*, actor: User, **fields: Any) -> Venue:
    """Add a venue where courses can meet (``fields`` are the keys of VENUE_FIELDS)."""
    venue = Venue(**_venue_values(fields))
    db.session.add(venue)
    audit.record(actor, "venue.created", venue)
    db.session.commit()
    return venue


def update_venue(venue: Venue, *, actor: User, **fields: Any) -> Venue:
    """Change a venue's details; retiring it keeps it on old courses but out of new ones."""
    values = _venue_values(fields)
    changed = sorted(name for name, value in values.items() if getattr(venue, name) != value)
    for name in changed:
        setattr(venue, name, values[name])
    audit.record(actor, "venue.updated", venue, changed=changed)
    db.session.commit()
    return venue


def _venue_values(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = fields.keys() - VENUE_FIELDS
    if unknown:
        raise TypeError(f"unknown venue fields: {', '.join(sorted(unknown))}")
    return {**fields, "postcode": normalise_postcode(fields["postcode"])} if "postcode" in fields else fields


def list_staff(*, active_only: bool = False) -> list[User]:
    """List instructors and organisers by name; ``active_only`` leaves out those switched off."""
    query = db.select(User).where(User.role.in_(STAFF_ROLES)).order_by(User.full_name, User.id)
    if active_only:
        query = query.where(User.active.is_(True))
    return list(db.session.scalars(query))


def set_user_active(user: User, *, active: bool, actor: User) -> User:
    """Switch an instructor's or organiser's sign-in on or off, keeping their courses and history."""
    if user.role not in STAFF_ROLES:
        raise OrganiserError("Only instructors' and organisers' accounts are managed here.")
    if user.id == actor.id and not active:
        raise OrganiserError("You cannot switch off your own account; ask another organiser.")
    if user.active != active:
        user.active = active
        audit.record(actor, "user.activated" if active else "user.deactivated", user)
        db.session.commit()
    return user

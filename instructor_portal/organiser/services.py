"""Organisation settings, venues and instructors, managed by organisers."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import available_timezones

from flask import g
from sqlalchemy.exc import IntegrityError

from instructor_portal import audit
from instructor_portal.accounts.models import Role, User
from instructor_portal.accounts.sign_ins import end_every_sign_in
from instructor_portal.booking.models import Voucher, VoucherKind
from instructor_portal.booking.pricing import normalise_code, voucher_uses
from instructor_portal.catalogue.models import Course, CourseSession, CourseStatus, SessionStatus, Venue
from instructor_portal.clock import utcnow
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db
from instructor_portal.organisation import DEFAULTS, Organisation, saved_organisation

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
#: Voucher fields a caller may set (see payments.models.Voucher), with the value a new voucher
#: starts with; the code and kind have none and must be given.
VOUCHER_FIELDS: dict[str, Any] = {
    "code": None,
    "kind": None,
    "value": 0,
    "max_uses": None,
    "expires_at": None,
    "course": None,
    "track": None,
    "referrer": "",
    "active": True,
}
CODE_TAKEN = "There is already a voucher with this code; choose another."
STAFF_ROLES = (Role.INSTRUCTOR, Role.ORGANISER)
# Royal Mail's shapes: an outward code (A9, A99, AA9, AA99, A9A, AA9A) and an inward code (9AA).
_POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})")
_CURRENCY = re.compile(r"[A-Z]{3}")
_VOUCHER_CODE = re.compile(r"[A-Z0-9-]{3,40}")


class OrganiserError(DomainError):
    """A settings, venue or staff rule was not met."""


def update_settings(*, actor: User, **values: Any) -> Organisation:
    """Save the organisation's settings (keys of organisation.DEFAULTS), creating the row the first time."""
    unknown = values.keys() - DEFAULTS.keys()
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    if "currency" in values:
        values["currency"] = values["currency"].strip().upper()
        if not _CURRENCY.fullmatch(values["currency"]):
            raise OrganiserError("Enter the currency as a three-letter code, such as GBP.", field="currency")
    if "timezone" in values and values["timezone"] not in available_timezones():
        raise OrganiserError("Choose a time zone from the list, such as Europe/London.", field="timezone")
    organisation = saved_organisation()
    if organisation is None:
        organisation = Organisation(**DEFAULTS)
        db.session.add(organisation)
    audit.record_changes(actor, "settings.updated", organisation, values)
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
    audit.record_changes(actor, "venue.updated", venue, values)
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
        if not active:
            end_every_sign_in(user)
        audit.record(actor, "user.activated" if active else "user.deactivated", user)
        db.session.commit()
    return user


# --- Vouchers ------------------------------------------------------------------------------------


def list_vouchers(*, now: datetime | None = None) -> list[tuple[Voucher, int]]:
    """List every voucher, newest first, with how many bookings holding places use it now."""
    uses = voucher_uses(Voucher.id, now or utcnow())
    return [
        (voucher, count) for voucher, count in db.session.execute(db.select(Voucher, uses).order_by(Voucher.id.desc()))
    ]


def voucher_course_options(voucher: Voucher | None = None) -> list[Course]:
    """Return the courses a voucher may be kept to: those not cancelled, plus the voucher's own."""
    courses = list(
        db.session.scalars(
            db.select(Course).where(Course.status != CourseStatus.CANCELLED).order_by(Course.title, Course.id)
        )
    )
    if voucher is not None and voucher.course is not None and voucher.course not in courses:
        courses.append(voucher.course)
    return courses


def create_voucher(*, actor: User, now: datetime | None = None, **fields: Any) -> Voucher:
    """Add a voucher code (``fields`` are keys of VOUCHER_FIELDS, ``value`` a percentage or pence); any expiry must be to come."""
    missing = {"code", "kind"} - fields.keys()
    if missing:
        raise TypeError(f"create_voucher() needs {', '.join(sorted(missing))}")
    values = _voucher_values({**VOUCHER_FIELDS, **fields}, current=None)
    if values["expires_at"] is not None and values["expires_at"] <= (now or utcnow()):
        raise OrganiserError("Choose an expiry date and time in the future.", field="expires_at")
    voucher = Voucher(created_by_id=actor.id, **values)
    db.session.add(voucher)
    _save_voucher(
        lambda: audit.record(
            actor, "voucher.created", voucher, code=voucher.code, kind=voucher.kind.value, value=voucher.value
        )
    )
    return voucher


def update_voucher(voucher: Voucher, *, actor: User, **fields: Any) -> Voucher:
    """Change the voucher's terms given (keys of VOUCHER_FIELDS); bookings already made keep their discount."""
    values = _voucher_values({name: getattr(voucher, name) for name in VOUCHER_FIELDS} | fields, current=voucher)
    _save_voucher(lambda: audit.record_changes(actor, "voucher.updated", voucher, values))
    return voucher


def _save_voucher(write_audit: Callable[[], object]) -> None:
    """Audit and commit a voucher; the audit entry's flush is where a code taken a moment ago shows."""
    try:
        write_audit()
        db.session.commit()
    except IntegrityError:  # another organiser saved the same code a moment ago
        db.session.rollback()
        raise OrganiserError(CODE_TAKEN, field="code") from None


def _voucher_values(fields: dict[str, Any], *, current: Voucher | None) -> dict[str, Any]:
    """Check a voucher's fields, alone and together, and return them tidied for the model."""
    unknown = fields.keys() - VOUCHER_FIELDS
    if unknown:
        raise TypeError(f"unknown voucher fields: {', '.join(sorted(unknown))}")
    values = {
        **fields,
        "code": normalise_code(fields["code"]),
        "kind": VoucherKind(fields["kind"]),
        "referrer": fields["referrer"].strip(),
    }
    if not _VOUCHER_CODE.fullmatch(values["code"]):
        raise OrganiserError("Use 3 to 40 letters, digits or dashes, such as SOUTHMEAD-HV.", field="code")
    taken = db.select(Voucher.id).where(db.func.upper(Voucher.code) == values["code"])
    if current is not None:
        taken = taken.where(Voucher.id != current.id)
    if db.session.scalars(taken).first() is not None:
        raise OrganiserError(CODE_TAKEN, field="code")
    kind, value = values["kind"], values["value"]
    if kind == VoucherKind.PERCENT and not (value is not None and 1 <= value <= 100):
        raise OrganiserError("Enter a percentage from 1 to 100.", field="percent")
    if kind == VoucherKind.FIXED and not (value is not None and value > 0):
        raise OrganiserError("Enter an amount more than 0.", field="amount")
    if kind == VoucherKind.FUNDED:
        values["value"] = 0
    if values["max_uses"] is not None and values["max_uses"] < 1:
        raise OrganiserError("Enter 1 or more, or leave it blank for no limit.", field="max_uses")
    if values["course"] is not None and values["track"] is not None:
        raise OrganiserError("Keep the code to one course or to one track, not both.", field="track")
    if len(values["referrer"]) > 200:
        raise OrganiserError("Keep who referred the family to 200 characters.", field="referrer")
    return values

"""Which booking status may follow which: every change of a booking's status goes through here.

A status change is made under the booking's lock (``move``) or by one UPDATE that names the
status it expects (``expire_lapsed``), so no two writers can overwrite each other; either
way each place's ``live`` flag moves with its booking.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from instructor_portal import locks
from instructor_portal.booking.models import Booking, BookingPlace, BookingStatus
from instructor_portal.catalogue.models import Course
from instructor_portal.extensions import db

B = BookingStatus
TRANSITIONS: dict[BookingStatus, frozenset[BookingStatus]] = {
    B.AWAITING_PAYMENT: frozenset({B.CONFIRMED, B.EXPIRED, B.CANCELLED}),
    # A lapsed hold comes back through capacity: paid late, chosen offline late, or a new Checkout.
    B.EXPIRED: frozenset({B.AWAITING_PAYMENT, B.CONFIRMED}),
    B.CONFIRMED: frozenset({B.CANCELLED}),
    B.CANCELLED: frozenset(),
}
#: The statuses whose places count against the course (a held one only until its hold runs out).
HOLDS_PLACES = frozenset({B.AWAITING_PAYMENT, B.CONFIRMED})


class TransitionIgnored(Exception):
    """The booking is already in that status: a replay or a second click."""


class InvalidTransition(Exception):
    """The change makes no sense from the booking's current status."""


def move(booking: Booking, target: BookingStatus) -> None:
    """Change the booking's status if the table allows it, and its places with it; the caller holds its lock and commits."""
    if not locks.holds(booking):
        raise RuntimeError(f"booking {booking.reference} changes status only under its lock")
    if booking.status == target:
        raise TransitionIgnored(f"booking {booking.reference} is already {target}")
    if target not in TRANSITIONS[booking.status]:
        raise InvalidTransition(f"booking {booking.reference} cannot go from {booking.status} to {target}")
    booking.status = target
    _set_places_live([booking.id], target in HOLDS_PLACES)


def expire_lapsed(course_id: int, *, now: datetime) -> list[int]:
    """Expire the course's held bookings whose time is up and free their places; return their ids. The caller holds the course's lock."""
    if not locks.holds((Course, course_id)):
        raise RuntimeError(f"holds on course {course_id} expire only under the course's lock")
    lapsed = (Booking.course_id == course_id, Booking.status == B.AWAITING_PAYMENT, Booking.hold_expires_at <= now)
    if db.session.scalar(select(Booking.id).where(*lapsed).limit(1)) is None:
        return []  # the usual case, and no write: on SQLite a write would hold the whole database
    # The UPDATE names the status and expiry it expects, so a booking confirmed a moment ago is left alone.
    expired = db.session.scalars(
        update(Booking)
        .where(*lapsed)
        .values(status=B.EXPIRED)
        .returning(Booking.id)
        .execution_options(synchronize_session="fetch")
    ).all()
    if expired:
        _set_places_live(expired, False)
    return list(expired)


def _set_places_live(booking_ids: list[int], live: bool) -> None:
    # One UPDATE by booking, so the flags are right in the database even where the session's copies are stale.
    db.session.execute(
        update(BookingPlace)
        .where(BookingPlace.booking_id.in_(booking_ids))
        .values(live=live)
        .execution_options(synchronize_session="fetch")
    )

"""Cache the public catalogue pages for visitors, and know exactly when a cached page goes stale.

A page is stored under the catalogue version (catalogue_versions, bumped in the same
transaction as any change to what the catalogue shows) and kept only until the next moment
at which time alone changes it: a hold running out frees a place, a session starting ends
"upcoming", a booking window opening or closing, or the local date turning over.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from itertools import chain

from flask import current_app, request, session
from flask_login import current_user
from redis.exceptions import RedisError
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import ORMExecuteState, Session

from instructor_portal.accounts.models import InstructorProfile, User
from instructor_portal.attendance.models import Makeup
from instructor_portal.booking.models import Booking, BookingPlace, BookingStatus
from instructor_portal.catalogue.models import CatalogueVersion, Course, CourseSession, SessionStatus, Venue
from instructor_portal.clock import utcnow
from instructor_portal.extensions import cache, db
from instructor_portal.organisation import Organisation, get_organisation
from instructor_portal.teaching.models import Credential
from instructor_portal.timezones import next_local_midnight
from instructor_portal.waitlist.models import EntryStatus, WaitlistEntry

log = logging.getLogger(__name__)

#: Everything a catalogue page shows comes from these; a change to any of them bumps the version.
SHOWN_IN_CATALOGUE: tuple[type, ...] = (
    Course,
    CourseSession,
    Venue,
    Booking,
    BookingPlace,
    Makeup,
    User,
    InstructorProfile,
    Organisation,
    WaitlistEntry,
    Credential,
)
#: The session.info key that marks a transaction as having touched the catalogue.
CHANGED = "catalogue_changed"


def _note_flushed_changes(session: Session, _flush_context, _instances) -> None:
    if any(isinstance(obj, SHOWN_IN_CATALOGUE) for obj in chain(session.new, session.dirty, session.deleted)):
        session.info[CHANGED] = True


def _note_bulk_changes(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and state.bind_mapper is not None:
        if issubclass(state.bind_mapper.class_, SHOWN_IN_CATALOGUE):
            state.session.info[CHANGED] = True


def _bump_version(session: Session) -> None:
    # The last write before the commit, so the row lock is held only while committing.
    session.flush()
    if session.info.pop(CHANGED, False):
        session.execute(update(CatalogueVersion).values(version=CatalogueVersion.version + 1))


def _forget_changes(session: Session, *_args) -> None:
    session.info.pop(CHANGED, None)


LISTENERS: list[tuple[str, Callable]] = [
    ("before_flush", _note_flushed_changes),
    ("do_orm_execute", _note_bulk_changes),
    ("before_commit", _bump_version),
    ("after_rollback", _forget_changes),
]


def watch_catalogue_changes() -> None:
    """Bump the catalogue version in every transaction that changes what the catalogue shows."""
    for name, listener in LISTENERS:
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)


VERSION = select(CatalogueVersion.version).where(CatalogueVersion.id == 1)


def catalogue_version() -> int | None:
    """Return the current catalogue version, or None when the counter row is missing."""
    # A bare connection costs a quarter of an ORM session round trip, and this runs on every hit.
    with db.engine.connect() as connection:
        return connection.scalar(VERSION)


def next_change_at(now: datetime, timezone: str) -> datetime:
    """Return the next moment the catalogue changes by time alone, at most CATALOGUE_CACHE_SECONDS away."""
    soonest = [
        select(func.min(Booking.hold_expires_at))
        .where(Booking.status == BookingStatus.AWAITING_PAYMENT, Booking.hold_expires_at > now)
        .scalar_subquery(),
        select(func.min(CourseSession.starts_at))
        .where(CourseSession.status == SessionStatus.SCHEDULED, CourseSession.starts_at > now)
        .scalar_subquery(),
        select(func.min(Course.booking_opens_at)).where(Course.booking_opens_at > now).scalar_subquery(),
        select(func.min(Course.booking_closes_at)).where(Course.booking_closes_at > now).scalar_subquery(),
        select(func.min(WaitlistEntry.offer_expires_at))
        .where(WaitlistEntry.status == EntryStatus.OFFERED, WaitlistEntry.offer_expires_at > now)
        .scalar_subquery(),
    ]
    moments = [moment for moment in db.session.execute(select(*soonest)).one() if moment is not None]
    latest = now + timedelta(seconds=current_app.config["CATALOGUE_CACHE_SECONDS"])
    return min([*moments, next_local_midnight(now, timezone), latest])


def _quietly(call, *args, **kwargs):
    """Use the cache if it answers; a cache server that is down only means pages are built afresh."""
    try:
        return call(*args, **kwargs)
    except (RedisError, OSError):
        log.warning("The page cache is not answering; serving pages without it", exc_info=True)
        return None


def cached_for_visitors(view):
    """Serve a public page to signed-out visitors from the cache while nothing it shows has changed."""

    @wraps(view)
    def cached_view(*args, **kwargs):
        # Signed-in people see their own navigation, flashed messages carry one reader's news, and a
        # baby's dates make the page one family's, so those are never cached and cost no version read.
        if current_user.is_authenticated or "_flashes" in session or "child_age" in session or request.method != "GET":
            return view(*args, **kwargs)
        version = catalogue_version()
        if version is None:
            return view(*args, **kwargs)
        now = utcnow()
        key = f"catalogue:{version}:{request.full_path}"
        stored = _quietly(cache.get, key)
        if stored is not None and stored[0] > now:
            return stored[1]
        page = view(*args, **kwargs)
        if isinstance(page, str):
            until = next_change_at(now, get_organisation().timezone)
            _quietly(cache.set, key, (until, page), timeout=max(1, math.ceil((until - now).total_seconds())))
        return page

    return cached_view

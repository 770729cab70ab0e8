"""Cache the public catalogue pages for visitors, and know exactly when a cached page goes stale.

A page is stored under the catalogue version (catalogue_versions, bumped in the same
transaction as any change to what the catalogue shows) and kept only until the next moment
at which time alone changes it: a hold running out frees a place, a session starting ends
"upcoming", a booking window opening or closing, or the local date turning over.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from itertools import chain

from flask import Flask, current_app, request, session
from flask_login import current_user
from redis.exceptions import RedisError
from sqlalchemy import create_engine, event, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.pool import NullPool
from werkzeug.http import http_date

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
#: Where the visitors' layer leaves the version it read, so a miss does not read it twice.
VERSION_IN_ENVIRON = "instructor_portal.catalogue_version"
READER = "catalogue_version_reader"


class VersionReader:
    """Reads the catalogue version in one round trip on a connection each thread keeps.

    Every cached page costs this read, so it skips what the app's pool does for everyone else:
    checking a connection out and in, pinging it first (a dropped connection is replaced and the
    read tried once more instead), and a transaction to end (the connection is in autocommit).
    """

    def __init__(self, url: str, options: dict):
        # Each connection is opened for a thread and kept, so a pool (and its sizes) would only limit the threads.
        options = {
            name: value for name, value in options.items() if not name.startswith("pool") and name != "max_overflow"
        }
        options.update(poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self.engine = create_engine(url, **options)
        self.sql = str(VERSION.compile(dialect=self.engine.dialect, compile_kwargs={"literal_binds": True}))
        self.local = threading.local()
        self.held: list = []
        self.lock = threading.Lock()

    def read(self) -> int | None:
        """The version, or None when the counter row is missing; raises SQLAlchemy's error if the database cannot answer."""
        try:
            return self._read()
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            return self._read()  # the database restarted since this connection last ran

    def _read(self) -> int | None:
        dbapi_error = self.engine.dialect.loaded_dbapi.Error
        connection = getattr(self.local, "connection", None)
        try:
            if connection is None:
                connection = self.local.connection = self.engine.raw_connection()
                with self.lock:
                    self.held.append(connection)
            cursor = connection.cursor()
            cursor.execute(self.sql)
            row = cursor.fetchone()
            cursor.close()
        except dbapi_error as error:
            lost = False
            if connection is not None:
                lost = self.engine.dialect.is_disconnect(error, connection.driver_connection, None)
                self._drop(connection)
            raise DBAPIError.instance(self.sql, None, error, dbapi_error, connection_invalidated=lost) from error
        return row[0] if row else None

    def _drop(self, connection) -> None:
        self.local.connection = None
        with self.lock:
            if connection in self.held:
                self.held.remove(connection)
        connection.invalidate()

    def close(self) -> None:
        """Give back every thread's connection and empty the pool, as the app's engine does when disposed."""
        with self.lock:
            held, self.held = self.held, []
        for connection in held:
            connection.close()
        self.local = threading.local()
        self.engine.dispose()


def version_reader(app: Flask) -> VersionReader:
    """The app's version reader, made once, and closed whenever the app's engine is disposed."""
    reader = app.extensions.get(READER)
    if reader is None:
        reader = app.extensions[READER] = VersionReader(
            app.config["SQLALCHEMY_DATABASE_URI"], app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        )
        with app.app_context():
            event.listen(db.engine, "engine_disposed", lambda _engine: reader.close())
    return reader


def catalogue_version() -> int | None:
    """Return the current catalogue version, or None when the counter row is missing."""
    return version_reader(current_app).read()


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


@dataclass(frozen=True)
class CachedPage:
    """A visitor's page as stored: good until ``until``, with the validators browsers revalidate against."""

    until: datetime
    body: bytes
    #: ETag, Last-Modified, Cache-Control and Vary, written once when the page is built.
    validators: tuple[tuple[str, str], ...]

    @classmethod
    def built(cls, body: bytes, *, now: datetime, until: datetime) -> CachedPage:
        etag = hashlib.blake2b(body, digest_size=16).hexdigest()
        # Browsers and proxies may keep the page but must ask each time (a 304 costs no body), and
        # someone with our cookies may be signed in, so their page is another.
        return cls(
            until,
            body,
            (
                ("ETag", f'"{etag}"'),
                ("Last-Modified", http_date(now)),
                ("Cache-Control", "public, no-cache"),
                ("Vary", "Cookie"),
            ),
        )


def page_key(version: int, environ) -> str:
    """The cache key of the page a request asks for, worked out from the WSGI environ alone, in front of Flask or in it."""
    path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
    return f"catalogue:{version}:{path}?{environ.get('QUERY_STRING', '')}"


def stored_page(store, key: str) -> CachedPage | None:
    """The page stored under ``key`` in the cache backend ``store``, or None (also when the cache is down)."""
    entry = _quietly(store.get, key)
    return entry if isinstance(entry, CachedPage) else None


def cached_for_visitors(view):
    """Serve a public page to signed-out visitors from the cache while nothing it shows has changed.

    Visitors with no cookie of ours are answered in front of Flask (visitor_pages.py) from the
    pages stored here; this covers the rest, such as a visitor whose browser kept a session cookie.
    """

    @wraps(view)
    def cached_view(*args, **kwargs):
        # Signed-in people see their own navigation, flashed messages carry one reader's news, and a
        # baby's dates make the page one family's, so those are never cached and cost no version read.
        if current_user.is_authenticated or "_flashes" in session or "child_age" in session or request.method != "GET":
            return view(*args, **kwargs)
        version = request.environ.get(VERSION_IN_ENVIRON)
        version = catalogue_version() if version is None else version
        if version is None:
            return view(*args, **kwargs)
        now = utcnow()
        key = page_key(version, request.environ)
        entry = stored_page(cache.cache, key)
        if entry is None or entry.until <= now:
            page = view(*args, **kwargs)
            if not isinstance(page, str):
                return page
            entry = CachedPage.built(page.encode(), now=now, until=next_change_at(now, get_organisation().timezone))
            timeout = max(1, math.ceil((entry.until - now).total_seconds()))
            _quietly(cache.set, key, entry, timeout=timeout)
        response = current_app.response_class(entry.body, content_type="text/html; charset=utf-8")
        response.headers.extend(entry.validators)
        return response.make_conditional(request)

    return cached_view

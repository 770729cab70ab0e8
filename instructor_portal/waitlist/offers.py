"""Offering freed places to the waiting list in turn, and families turning offers down.

An offer holds its places (``booking/capacity`` counts them as taken) until it is booked,
declined or lapses. Offers go strictly in order of joining: an entry that needs more places
than are free (twins waiting for two) keeps its place at the front, and is offered as soon
as enough places are free; families behind it are not offered places ahead of it. Staff can
still offer a place by hand. Every change is made under the course's lock, the same lock
every booking takes, so places offered and booked never exceed the course's places.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from instructor_portal import audit, locks
from instructor_portal.accounts.models import User
from instructor_portal.booking.capacity import places_taken, release_expired_holds
from instructor_portal.booking.rules import booking_closed_reason, first_session_start
from instructor_portal.booking.services import child_eligibility
from instructor_portal.catalogue.models import Course, CourseStatus
from instructor_portal.catalogue.services import CourseFilters, search_courses
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.locks import unit_of_work
from instructor_portal.notifications.services import absolute_url
from instructor_portal.organisation import get_organisation
from instructor_portal.timezones import local_date
from instructor_portal.waitlist.models import OPEN_STATUSES, EntryStatus, WaitlistEntry
from instructor_portal.waitlist.services import WaitlistError, queue, tell_family

log = logging.getLogger(__name__)

#: An offer made close to the first session lasts half the time left, but never less than this.
SHORTEST_OFFER = timedelta(hours=1)


def offer_expiry(course: Course, *, now: datetime) -> datetime:
    """When an offer made now lapses: the organisation's offer time, or half the time left before the first session if that is sooner."""
    expiry = now + timedelta(hours=get_organisation().waitlist_offer_hours)
    start = first_session_start(course)
    if start is not None:
        expiry = min(expiry, max(now + (start - now) / 2, now + SHORTEST_OFFER))
    return expiry


def free_places(course: Course, *, now: datetime) -> int:
    """Places nobody has booked, holds or has been offered; the caller holds the course's lock."""
    return course.places - db.session.scalar(select(places_taken(course.id, now, waiting=False)))


def offer_places(course: Course, *, now: datetime | None = None) -> list[WaitlistEntry]:
    """Bring the course's list up to date and offer free places to the next entries in order; return the new offers.

    Lapses offers whose time is up, closes entries whose children have grown out of the
    course's ages, and closes the list of a course that was cancelled or has started.
    Safe to run at any moment and from two workers: it runs under the course's lock.
    """
    now = now or utcnow()
    with unit_of_work():
        locks.lock(course)
        release_expired_holds(course, now=now)
        return _offer_in_order(course, now=now)


def _offer_in_order(course: Course, *, now: datetime) -> list[WaitlistEntry]:
    entries = queue(course)
    for entry in entries:
        if entry.status == EntryStatus.OFFERED and entry.offer_expires_at <= now:
            entry.status = EntryStatus.LAPSED
            tell_family(entry, "waitlist_lapsed", f"Your offered place has gone: {course.title}")
            audit.record(None, "waitlist.lapsed", entry)
    start = first_session_start(course)
    if course.status != CourseStatus.PUBLISHED or start is None or start <= now:
        for entry in entries:
            if entry.status in OPEN_STATUSES:
                _close(entry, "The course is no longer taking bookings, so its waiting list has closed.")
        return []
    waiting = [entry for entry in entries if entry.status == EntryStatus.WAITING]
    for entry in waiting:
        _close_if_aged_out(entry, start, now=now)
    if booking_closed_reason(course, now=now):
        return []  # the booking window has not opened yet (or has closed): places wait for it
    free = free_places(course, now=now)
    offered = []
    for entry in waiting:
        if entry.status != EntryStatus.WAITING:
            continue
        if entry.places > free:
            break  # it keeps its place at the front until enough places are free
        _make_offer(entry, now=now)
        free -= entry.places
        offered.append(entry)
    return offered


def _make_offer(entry: WaitlistEntry, *, now: datetime, by: User | None = None) -> None:
    expires = offer_expiry(entry.course, now=now)  # before the status changes: reading the sessions may flush
    entry.status, entry.offered_at, entry.offer_expires_at = EntryStatus.OFFERED, now, expires
    entry.offers_made += 1
    db.session.flush()  # the offer counts against the course's places from here on
    tell_family(
        entry,
        "waitlist_offer",
        f"A place is free for you: {entry.course.title}",
        offer_url=absolute_url("waitlist.offer", entry_id=entry.id),
    )
    audit.record(by, "waitlist.offered", entry, places=entry.places, expires_at=entry.offer_expires_at.isoformat())


def _close(entry: WaitlistEntry, reason: str, **context) -> None:
    entry.status = EntryStatus.CLOSED
    entry.closed_reason = reason
    tell_family(entry, "waitlist_closed", f"Waiting list closed: {entry.course.title}", reason=reason, **context)
    audit.record(None, "waitlist.closed", entry, reason=reason)


def _close_if_aged_out(entry: WaitlistEntry, start: datetime, *, now: datetime) -> None:
    """Close an entry whose child would no longer fit the course's ages at its first session, suggesting courses that do."""
    organisation = get_organisation()
    for child in entry.children:
        result = child_eligibility(
            entry.course, child, start, organisation.timezone, organisation.corrected_age_cutoff_months
        )
        if not result.eligible:
            suggestions = search_courses(
                CourseFilters(
                    track=entry.course.track,
                    born=child.date_of_birth or child.due_date,
                    due=child.expected_date if child.date_of_birth else None,
                    date_from=local_date(now, organisation.timezone),
                ),
                per_page=4,
                now=now,
            ).items
            _close(
                entry,
                f"{child.first_name} will be outside this course's ages by its first session: {result.reason}",
                suggestions=[listing for listing in suggestions if listing.course.id != entry.course_id],
            )
            return


def decline_offer(entry: WaitlistEntry, *, parent: User, now: datetime | None = None) -> list[WaitlistEntry]:
    """The family turns their offer down; the places go to the next families in order. Return the new offers."""
    now = now or utcnow()
    if entry.parent_id != parent.id:
        raise WaitlistError("This offer is not yours.")
    with unit_of_work():
        locks.lock(entry.course)
        if entry.status != EntryStatus.OFFERED:
            raise WaitlistError("This offer has already ended.")
        entry.status = EntryStatus.DECLINED
        audit.record(parent, "waitlist.declined", entry)
        db.session.flush()
        return _offer_in_order(entry.course, now=now)


def offer_by_hand(entry: WaitlistEntry, *, by: User, now: datetime | None = None) -> WaitlistEntry:
    """Staff offer free places to one family on the list, ahead of their turn."""
    now = now or utcnow()
    with unit_of_work():
        locks.lock(entry.course)
        if entry.status != EntryStatus.WAITING:
            raise WaitlistError("Only a family still waiting can be offered a place.")
        closed = booking_closed_reason(entry.course, now=now)
        if closed:
            raise WaitlistError(closed)
        free = free_places(entry.course, now=now)
        if entry.places > free:
            raise WaitlistError(
                f"This family needs {entry.places} places and {free} {'is' if free == 1 else 'are'} free."
            )
        _make_offer(entry, now=now, by=by)
    return entry


def sweep_waitlists(*, now: datetime | None = None) -> int:
    """Bring every open waiting list up to date, course by course; return how many offers were made."""
    now = now or utcnow()
    course_ids = db.session.scalars(
        select(WaitlistEntry.course_id).where(WaitlistEntry.status.in_(OPEN_STATUSES)).distinct()
    ).all()
    offered = 0
    for course_id in sorted(course_ids):
        try:
            offered += len(offer_places(db.session.get(Course, course_id), now=now))
        except OperationalError:  # the course is busy; the next sweep offers its places
            log.warning("Waiting list of course %s not swept this time", course_id, exc_info=True)
    return offered

"""Joining and leaving a course's waiting list, a family's place on it, and the staff's view of it.

The list is in order of joining (``queued_at``). Twins or siblings are one entry needing as
many places as children. Offers are made in ``offers.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from instructor_portal import audit, locks
from instructor_portal.accounts.models import Child, Role, User
from instructor_portal.booking import capacity
from instructor_portal.booking.rules import booking_closed_reason, first_session_start, last_session_end, places_left
from instructor_portal.booking.services import already_booked, booked_children, child_eligibility
from instructor_portal.catalogue.models import Course, CourseStatus
from instructor_portal.clock import utcnow
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db
from instructor_portal.locks import unit_of_work
from instructor_portal.notifications.services import absolute_url, enqueue_email
from instructor_portal.organisation import get_organisation
from instructor_portal.waitlist.models import OPEN_STATUSES, EntryStatus, WaitlistEntry


class WaitlistError(DomainError):
    """The waiting list cannot do what was asked; the message says why."""


def open_entry(parent: User, course: Course) -> WaitlistEntry | None:
    """The parent's entry still on the course's list (waiting or offered), if any."""
    return db.session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.course_id == course.id,
            WaitlistEntry.parent_id == parent.id,
            WaitlistEntry.status.in_(OPEN_STATUSES),
        )
    ).first()


def can_join(course: Course, *, now: datetime) -> str | None:
    """Why no family may join the course's list now, or None: a full course, or one whose booking has not opened yet."""
    if (
        course.booking_opens_at is not None
        and now < course.booking_opens_at
        and course.status == CourseStatus.PUBLISHED
    ):
        return None
    return booking_closed_reason(course, now=now)


def join_waitlist(parent: User, course: Course, children: list[Child], *, now: datetime | None = None) -> WaitlistEntry:
    """Put the family on the course's waiting list for these children, judged by the same age rules as booking."""
    now = now or utcnow()
    if parent.role != Role.PARENT:
        raise WaitlistError("Only parents and carers can join a waiting list.")
    refusal = can_join(course, now=now)
    if refusal:
        raise WaitlistError(refusal)
    window_open = course.booking_opens_at is None or now >= course.booking_opens_at
    if window_open and places_left(course, now=now) >= max(len(children), 1):
        raise WaitlistError("This course has places free, so you can book one now.")
    if not children:
        raise WaitlistError("Choose at least one child to join the waiting list for.", field="children")
    if len({child.id for child in children}) != len(children) or any(
        child.parent_id != parent.id for child in children
    ):
        raise WaitlistError("Choose children from your own family.", field="children")
    organisation = get_organisation()
    start = first_session_start(course)
    for child in children:
        result = child_eligibility(
            course, child, start, organisation.timezone, organisation.corrected_age_cutoff_months
        )
        if not result.eligible:
            raise WaitlistError(f"{child.first_name}: {result.reason}", field="children")
    booked = booked_children(course, children, now=now)
    if booked:
        raise WaitlistError(already_booked(booked), field="children")
    if open_entry(parent, course) is not None:
        raise WaitlistError("You are already on this course's waiting list.")
    entry = WaitlistEntry(
        course=course, parent=parent, places=len(children), status=EntryStatus.WAITING, queued_at=now, children=children
    )
    try:
        with unit_of_work():
            db.session.add(entry)
            audit.record(parent, "waitlist.joined", entry, course_id=course.id, places=len(children))
    except IntegrityError:  # the same family joined from another tab a moment ago
        raise WaitlistError("You are already on this course's waiting list.") from None
    return entry


def leave_waitlist(entry: WaitlistEntry, *, parent: User, now: datetime | None = None) -> WaitlistEntry:
    """Take the family off the list; an offer they held goes to the next family."""
    if entry.parent_id != parent.id:
        raise WaitlistError("This is not your waiting-list entry.")
    with unit_of_work():
        locks.lock(entry.course)
        if entry.status not in OPEN_STATUSES:
            raise WaitlistError("You are no longer on this waiting list.")
        entry.status = EntryStatus.LEFT
        audit.record(parent, "waitlist.left", entry)
    return entry


def position(entry: WaitlistEntry) -> int:
    """The entry's place in the queue, counting from 1, among entries still waiting or offered."""
    ahead = db.session.scalar(
        select(func.count(WaitlistEntry.id)).where(
            WaitlistEntry.course_id == entry.course_id,
            WaitlistEntry.status.in_(OPEN_STATUSES),
            (WaitlistEntry.queued_at < entry.queued_at)
            | ((WaitlistEntry.queued_at == entry.queued_at) & (WaitlistEntry.id < entry.id)),
        )
    )
    return ahead + 1


def queue(course: Course) -> list[WaitlistEntry]:
    """The course's open entries in the order they are offered places."""
    return list(
        db.session.scalars(
            select(WaitlistEntry)
            .where(WaitlistEntry.course_id == course.id, WaitlistEntry.status.in_(OPEN_STATUSES))
            .options(selectinload(WaitlistEntry.children), selectinload(WaitlistEntry.parent))
            .order_by(WaitlistEntry.queued_at, WaitlistEntry.id)
        )
    )


def waiting_count(course: Course) -> int:
    """How many families are on the course's list (waiting or holding an offer)."""
    return db.session.scalar(select(capacity.families_waiting(course.id)))


@dataclass(frozen=True)
class FamilyEntry:
    """One of a parent's entries as their account shows it."""

    entry: WaitlistEntry
    position: int | None


def family_entries(parent: User, *, now: datetime | None = None) -> list[FamilyEntry]:
    """The parent's entries on lists of courses still to finish, with their places in the queue."""
    now = now or utcnow()
    entries = db.session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.parent_id == parent.id)
        .options(selectinload(WaitlistEntry.course).selectinload(Course.sessions), selectinload(WaitlistEntry.children))
        .order_by(WaitlistEntry.queued_at.desc())
    ).all()
    shown = [entry for entry in entries if (last_session_end(entry.course) or now) >= now]
    return [FamilyEntry(entry, position(entry) if entry.status in OPEN_STATUSES else None) for entry in shown]


def remove_entry(entry: WaitlistEntry, *, by: User, message: str, now: datetime | None = None) -> WaitlistEntry:
    """Staff take an entry off the list with a message to the family; an offer it held goes to the next family."""
    message = message.strip()
    if not message:
        raise WaitlistError("Write a short message to the family saying why.", field="message")
    with unit_of_work():
        locks.lock(entry.course)
        if entry.status not in OPEN_STATUSES:
            raise WaitlistError("This family is no longer on the waiting list.")
        entry.status = EntryStatus.REMOVED
        entry.closed_reason = message[:300]
        tell_family(entry, "waitlist_removed", f"Waiting list: {entry.course.title}", message=message)
        audit.record(by, "waitlist.removed", entry, message=message)
    return entry


def move_entry(entry: WaitlistEntry, *, by: User, up: bool) -> WaitlistEntry:
    """Staff move an entry one place up or down the list, swapping it with its neighbour."""
    with unit_of_work():
        locks.lock(entry.course)
        entries = queue(entry.course)
        if entry not in entries:
            raise WaitlistError("This family is no longer on the waiting list.")
        here = entries.index(entry)
        there = here - 1 if up else here + 1
        if not 0 <= there < len(entries):
            raise WaitlistError(f"This family is already {'first' if up else 'last'} on the list.")
        other = entries[there]
        if entry.queued_at == other.queued_at:  # joined in the same instant: the id broke the tie
            entry.queued_at += timedelta(microseconds=-1 if up else 1)
        else:
            entry.queued_at, other.queued_at = other.queued_at, entry.queued_at
        audit.record(by, "waitlist.moved", entry, direction="up" if up else "down")
    return entry


def tell_family(entry: WaitlistEntry, template: str, subject: str, **context) -> None:
    """Email the family about their entry; the caller commits."""
    enqueue_email(
        entry.parent.email,
        template,
        subject=subject,
        entry=entry,
        course=entry.course,
        sent_because=f"you joined the waiting list for {entry.course.title}",
        waitlist_url=absolute_url("waitlist.my_waiting_lists"),
        classes_url=absolute_url("catalogue.classes"),
        **context,
    )

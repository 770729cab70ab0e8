"""Session reminders: when each is due, who gets it, sending each once only, and families turning them off.

Each family is emailed the evening before a session and on its morning, at the organisation's
local times. Safe to run at any moment and from two workers: a reminder is recorded in
``sent_reminders`` (unique per session, family and kind) in the same transaction that queues
it, so a second worker's record of it inserts nothing and it sends nothing. A worker that was
down sends only what is still of use: the day-before reminder until the morning one is due,
the morning one until the session starts, never anything for a session that has started.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import selectinload

from instructor_portal import audit
from instructor_portal.accounts.models import User
from instructor_portal.attendance.models import Makeup
from instructor_portal.attendance.services import accepted_makeup_at, on_register
from instructor_portal.booking.capacity import holds_places
from instructor_portal.booking.models import Booking, BookingPlace, BookingStatus
from instructor_portal.catalogue.models import Course, CourseSession, CourseStatus, SessionStatus
from instructor_portal.clock import utcnow
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db
from instructor_portal.locks import unit_of_work
from instructor_portal.organisation import Organisation, get_organisation
from instructor_portal.reminders.channels import Channel, EmailChannel
from instructor_portal.reminders.models import ReminderKind, ReminderOptOut, SentReminder
from instructor_portal.timezones import local_date, local_to_utc

log = logging.getLogger(__name__)

#: The earliest a reminder can fall due: the day before's local midnight is at most two days ahead.
LOOKAHEAD = timedelta(days=2)


class ReminderError(DomainError):
    """Reminders could not be changed for a booking."""


@dataclass(frozen=True)
class Reminder:
    """One reminder to one family for one session."""

    session: CourseSession
    booking: Booking
    kind: ReminderKind
    #: First names of the family's children coming to this session.
    children: tuple[str, ...]
    #: The family is booked on another course and comes to this session as a make-up.
    makeup: bool

    @property
    def confirmed(self) -> bool:
        """A confirmed place: only then the joining link and the check-in, not while a hold awaits payment."""
        return self.booking.status == BookingStatus.CONFIRMED

    @property
    def joining_link(self) -> str | None:
        course = self.session.course
        return course.online_link if course.is_online and self.confirmed else None


# --- When ---------------------------------------------------------------------------------------


def due_kind(starts_at: datetime, *, now: datetime, organisation: Organisation) -> ReminderKind | None:
    """The reminder due now for a session starting at ``starts_at``, or None: never once it has started."""
    if starts_at <= now:
        return None
    tz = organisation.timezone
    day = local_date(starts_at, tz)
    if now >= local_to_utc(day, organisation.reminder_morning_at, tz):
        return ReminderKind.MORNING
    # Until the morning one is due; a session starting before the morning time gets only this one.
    if now >= local_to_utc(day - timedelta(days=1), organisation.reminder_day_before_at, tz):
        return ReminderKind.DAY_BEFORE
    return None


# --- Who ----------------------------------------------------------------------------------------


def _still_to_remind(kind: ReminderKind, session: CourseSession):
    """Bookings whose family wants reminders and has not had this one yet; the query joins ``Booking``."""
    opted_out = exists().where(ReminderOptOut.booking_id == Booking.id)
    sent = exists().where(
        SentReminder.session_id == session.id, SentReminder.booking_id == Booking.id, SentReminder.kind == kind
    )
    return and_(~opted_out, ~sent)


def due_reminders(session: CourseSession, kind: ReminderKind, *, now: datetime) -> list[Reminder]:
    """The reminders of ``kind`` still to send for the session: its course's families with a place, and make-ups there."""
    loading = selectinload(BookingPlace.child), selectinload(BookingPlace.booking).selectinload(Booking.parent)
    wanted = _still_to_remind(kind, session)
    # A place held awaiting payment is reminded too (it is still theirs); a make-up only once confirmed.
    own = db.session.scalars(
        select(BookingPlace)
        .join(Booking, Booking.id == BookingPlace.booking_id)
        .where(BookingPlace.course_id == session.course_id, BookingPlace.live, holds_places(now), wanted)
        .options(*loading)
        .order_by(BookingPlace.booking_id, BookingPlace.id)
    ).all()
    made_up = db.session.scalars(
        select(BookingPlace)
        .join(Booking, Booking.id == BookingPlace.booking_id)
        .join(Makeup, and_(Makeup.place_id == BookingPlace.id, accepted_makeup_at(session)))
        .where(on_register(session), wanted)
        .options(*loading)
        .order_by(BookingPlace.booking_id, BookingPlace.id)
    ).all()
    families: dict[int, list[BookingPlace]] = {}
    for place in [*own, *made_up]:
        families.setdefault(place.booking_id, []).append(place)
    return [
        Reminder(
            session=session,
            booking=places[0].booking,
            kind=kind,
            children=tuple(place.child.first_name for place in places if place.child is not None),
            makeup=places[0].course_id != session.course_id,
        )
        for places in families.values()
    ]


# --- Sending ------------------------------------------------------------------------------------


def _record_sent(session: CourseSession, kind: ReminderKind, booking_ids: list[int], *, now: datetime) -> set[int]:
    """Record the reminders as sent and return the bookings whose record is new; the caller commits.

    A record another worker already wrote (or is writing: the insert waits for its commit) is
    skipped, so that worker alone sends it.
    """
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(SentReminder)
        .values([{"session_id": session.id, "booking_id": b, "kind": kind, "sent_at": now} for b in booking_ids])
        .on_conflict_do_nothing(index_elements=["session_id", "booking_id", "kind"])
        .returning(SentReminder.booking_id)
    )
    return set(db.session.scalars(statement))


def send_session_reminders(
    session: CourseSession, *, now: datetime | None = None, channel: Channel | None = None
) -> int:
    """Send the session's due reminders that were not sent yet, each once only; return how many."""
    now = now or utcnow()
    channel = channel or EmailChannel()
    with unit_of_work():
        if session.status != SessionStatus.SCHEDULED or session.course.status != CourseStatus.PUBLISHED:
            return 0
        kind = due_kind(session.starts_at, now=now, organisation=get_organisation())
        reminders = due_reminders(session, kind, now=now) if kind else []
        if not reminders:
            return 0
        new = _record_sent(session, kind, [reminder.booking.id for reminder in reminders], now=now)
        for reminder in reminders:
            if reminder.booking.id in new:
                channel.send(reminder)
    return len(new)


def send_due_reminders(*, now: datetime | None = None, channel: Channel | None = None) -> int:
    """Send every reminder due now, a session at a time; return how many were sent."""
    now = now or utcnow()
    session_ids = db.session.scalars(
        select(CourseSession.id)
        .join(Course, Course.id == CourseSession.course_id)
        .where(
            Course.status == CourseStatus.PUBLISHED,
            CourseSession.status == SessionStatus.SCHEDULED,
            CourseSession.starts_at > now,
            CourseSession.starts_at <= now + LOOKAHEAD,
        )
        .order_by(CourseSession.starts_at, CourseSession.id)
    ).all()
    sent = 0
    for session_id in session_ids:
        session = db.session.get(CourseSession, session_id)
        try:
            sent += send_session_reminders(session, now=now, channel=channel)
        except OperationalError:  # another worker holds its records too long; the next run sends them
            log.warning("Reminders for session %s not sent this time", session_id, exc_info=True)
    return sent


# --- Turning them off and on --------------------------------------------------------------------


def wants_reminders(booking: Booking) -> bool:
    return db.session.get(ReminderOptOut, booking.id) is None


def set_reminders(booking: Booking, *, wanted: bool, by: User) -> bool:
    """Turn the booking's reminders on or off, for its course and any make-ups; return whether it changed."""
    if booking.status in (BookingStatus.CANCELLED, BookingStatus.EXPIRED):
        raise ReminderError("This booking is no longer live, so it has no reminders to change.")
    try:
        with unit_of_work():
            opt_out = db.session.get(ReminderOptOut, booking.id)
            if wanted == (opt_out is None):
                return False
            if wanted:
                db.session.delete(opt_out)
            else:
                db.session.add(ReminderOptOut(booking_id=booking.id))
            audit.record(by, "reminders.turned_on" if wanted else "reminders.turned_off", booking)
    except IntegrityError:  # the same click twice at once: the first one turned them off
        return False
    return True

"""What a calendar feed holds: a family's booked sessions, or an instructor's teaching sessions.

Each feed is built in the same few queries however many bookings or courses it covers, and
holds nothing about any other family: a family's feed has only their own sessions, and an
instructor's has each session's numbers but no names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from instructor_portal.accounts.models import Role, User
from instructor_portal.attendance.models import Makeup, MakeupStatus
from instructor_portal.booking import capacity
from instructor_portal.booking.ical import SessionEvent, calendar_file, course_events, makeup_event
from instructor_portal.booking.models import Booking, BookingPlace, BookingStatus
from instructor_portal.calendar_feeds.models import CalendarFeed
from instructor_portal.catalogue.models import Course, CourseSession, CourseStatus
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.organisation import get_organisation

#: How far back a feed reaches: a year of classes, so the file stays small however long someone has been coming.
HISTORY = timedelta(days=365)
#: How often a subscribed calendar app is asked to look again.
REFRESH = timedelta(hours=1)


def feed_calendar(feed: CalendarFeed, *, now: datetime | None = None) -> bytes:
    """The feed's sessions as an iCalendar file: a parent's booked sessions, or the sessions a member of staff teaches."""
    now = now or utcnow()
    organisation = get_organisation()
    if feed.user.role == Role.PARENT:
        events, name = family_events(feed.user, now=now), f"{organisation.name}: my classes"
    else:
        events, name = teaching_events(feed.user, now=now), f"{organisation.name}: my teaching"
    return calendar_file(events, name=name, refresh=REFRESH)


def _recent_sessions(cutoff: datetime):
    return Course.sessions.any(CourseSession.ends_at >= cutoff)


def family_events(parent: User, *, now: datetime) -> list[SessionEvent]:
    """Every session of the parent's live bookings and booked make-ups; those of cancelled ones marked cancelled.

    A cancelled booking or make-up keeps its events, as CANCELLED with the same UIDs, so a
    calendar that showed them takes them off rather than keeping a stale copy. A hold that
    lapsed unpaid was never a place, so it is left out.
    """
    cutoff = now - HISTORY
    bookings = db.session.scalars(
        select(Booking)
        .where(
            Booking.parent_id == parent.id,
            or_(capacity.holds_places(now), Booking.status == BookingStatus.CANCELLED),
            Booking.course.has(_recent_sessions(cutoff)),
        )
        .options(
            selectinload(Booking.course).selectinload(Course.sessions),
            selectinload(Booking.course).selectinload(Course.venue),
        )
        .order_by(Booking.id)
    )
    events = [
        event
        for booking in bookings
        for event in course_events(
            booking.course, called_off=booking.status == BookingStatus.CANCELLED, called_off_at=booking.cancelled_at
        )
    ]
    makeups = db.session.scalars(
        select(Makeup)
        .join(BookingPlace, BookingPlace.id == Makeup.place_id)
        .join(Booking, Booking.id == BookingPlace.booking_id)
        .join(CourseSession, CourseSession.id == Makeup.session_id)
        .where(
            Booking.parent_id == parent.id,
            CourseSession.ends_at >= cutoff,
            or_(
                Makeup.status == MakeupStatus.ACCEPTED,
                # Only a make-up the family accepted has a response and then ends withdrawn or cancelled.
                and_(
                    Makeup.status.in_((MakeupStatus.WITHDRAWN, MakeupStatus.CANCELLED)),
                    Makeup.responded_at.is_not(None),
                ),
            ),
        )
        .options(selectinload(Makeup.session).selectinload(CourseSession.course).selectinload(Course.venue))
    )
    events += [makeup_event(makeup.session, called_off=makeup.status != MakeupStatus.ACCEPTED) for makeup in makeups]
    return _one_per_session(events)


def teaching_events(instructor: User, *, now: datetime) -> list[SessionEvent]:
    """Every session of the published or cancelled courses the person teaches, with the places booked and make-ups there."""
    cutoff = now - HISTORY
    courses = db.session.execute(
        select(Course, capacity.places_booked(Course.id, now))
        .where(Course.instructor_id == instructor.id, Course.status != CourseStatus.DRAFT, _recent_sessions(cutoff))
        .options(selectinload(Course.sessions), selectinload(Course.venue))
        .order_by(Course.id)
    ).all()
    makeups = dict(
        db.session.execute(
            select(Makeup.session_id, func.count(Makeup.id))
            .join(CourseSession, CourseSession.id == Makeup.session_id)
            .join(Course, Course.id == CourseSession.course_id)
            .where(
                Course.instructor_id == instructor.id,
                Makeup.status == MakeupStatus.ACCEPTED,
                CourseSession.ends_at >= cutoff,
            )
            .group_by(Makeup.session_id)
        ).all()
    )
    return _one_per_session(
        replace(event, details=_numbers(booked, course.places, makeups.get(event.session.id, 0)))
        for course, booked in courses
        for event in course_events(course)
    )


def _numbers(booked: int, places: int, makeups: int) -> str:
    """The session's numbers, which is all an instructor's feed says about the families."""
    numbers = f"{booked} of {places} places booked"
    if makeups:
        numbers += f", and {makeups} make-up {'family' if makeups == 1 else 'families'}"
    return numbers + "."


def _one_per_session(events: Iterable[SessionEvent]) -> list[SessionEvent]:
    """Each session once, soonest first, the event of a place still held winning over a cancelled one.

    A session can come twice: a cancelled booking and its rebooking, two bookings for two
    children, or a child's make-up at a sibling's course. One UID may appear only once.
    """
    chosen: dict[int, SessionEvent] = {}
    for event in events:
        held = chosen.get(event.session.id)
        if held is None or (held.called_off and not event.called_off):
            chosen[event.session.id] = event
    return sorted(chosen.values(), key=lambda event: (event.session.starts_at, event.session.id))

"""Course dates as iCalendar events, for confirmation emails, booking pages and calendar feeds.

One builder makes every event, so a session keeps the same UID, SEQUENCE and wording in every
file we send and in every feed: a calendar that has the event from one of them updates it in
place (or, cancelled, removes it) instead of adding a copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from icalendar import Calendar, Event, vDuration

from instructor_portal.catalogue.models import Course, CourseSession, CourseStatus, SessionStatus
from instructor_portal.organisation import get_organisation
from instructor_portal.timezones import to_local


@dataclass(frozen=True)
class SessionEvent:
    """One session as a calendar event, as the person it is for sees it."""

    #: The session's course, held here so the event keeps it however the rows were loaded.
    course: Course
    session: CourseSession
    summary: str
    #: Off for this person although the session may still run (their booking or make-up was cancelled).
    called_off: bool = False
    #: When it was called off for them, so the event's SEQUENCE goes up with the change.
    called_off_at: datetime | None = None
    #: Said after the session's own note, such as an instructor's numbers.
    details: str = ""

    @property
    def is_off(self) -> bool:
        return (
            self.called_off
            or self.session.status == SessionStatus.CANCELLED
            or self.course.status == CourseStatus.CANCELLED
        )

    @property
    def changed_at(self) -> datetime:
        """The last change anyone would see in the event: the session's, its course's cancellation, or this person's."""
        return max(
            moment
            for moment in (self.session.updated_at, self.course.cancelled_at, self.called_off_at)
            if moment is not None
        )


def course_events(
    course: Course, *, called_off: bool = False, called_off_at: datetime | None = None
) -> list[SessionEvent]:
    """Every session of ``course``, numbered as families know them ("2 of 5")."""
    total = len(course.sessions)
    return [
        SessionEvent(course, session, f"{course.title} ({number} of {total})", called_off, called_off_at)
        for number, session in enumerate(course.sessions, start=1)
    ]


def makeup_event(session: CourseSession, *, called_off: bool = False) -> SessionEvent:
    """The one session a family comes to as a make-up."""
    return SessionEvent(session.course, session, f"Make-up session: {session.course.title}", called_off)


def course_calendar(
    course: Course,
    *,
    cancelled: bool = False,
    cancelled_at: datetime | None = None,
    makeup_sessions: Iterable[CourseSession] = (),
) -> bytes:
    """Every session of ``course``, and the make-up sessions the family booked on other courses, in the organisation's time zone."""
    events = course_events(course, called_off=cancelled, called_off_at=cancelled_at)
    return calendar_file([*events, *(makeup_event(session) for session in makeup_sessions)], cancel=cancelled)


def makeup_calendar(session: CourseSession, *, cancelled: bool = False) -> bytes:
    """The one session a family comes to as a make-up, as an event in the organisation's time zone."""
    return calendar_file([makeup_event(session, called_off=cancelled)], cancel=cancelled)


def calendar_file(
    events: list[SessionEvent], *, cancel: bool = False, name: str = "", refresh: timedelta | None = None
) -> bytes:
    """The events as one iCalendar file; ``name`` and ``refresh`` are for a feed a calendar app subscribes to.

    ``cancel`` says the whole file calls its events off (METHOD:CANCEL), as an email about a
    cancelled booking does.
    """
    organisation = get_organisation()
    host = current_app.config["BASE_URL"].split("://", 1)[-1].split("/", 1)[0]
    calendar = Calendar()
    calendar.add("prodid", f"-//{organisation.name}//Instructor Portal//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancel else "PUBLISH")
    if name:
        calendar.add("name", name)
        calendar.add("x-wr-calname", name)
    if refresh is not None:
        # How often a subscribed app should look again (RFC 7986, and Outlook's older name for it).
        calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", vDuration(refresh))  # an unknown property is text unless told
    for item in events:
        calendar.add_component(_event(item, host=host, timezone=organisation.timezone))
    if events:
        # Describe the zone only around the sessions' dates, which keeps the file small.
        calendar.add_missing_timezones(
            first_date=(min(item.session.starts_at for item in events) - timedelta(days=366)).date(),
            last_date=(max(item.session.ends_at for item in events) + timedelta(days=366)).date(),
        )
    return calendar.to_ical()


def _event(item: SessionEvent, *, host: str, timezone: str) -> Event:
    session, course = item.session, item.course
    venue = course.venue
    where = (
        "Online"
        if course.is_online or venue is None
        else f"{venue.name}, {venue.address}, {venue.town} {venue.postcode}"
    )
    changed_at = item.changed_at
    event = Event()
    event.add("uid", f"course-{course.id}-session-{session.id}@{host}")
    event.add("summary", item.summary)
    event.add("dtstart", to_local(session.starts_at, timezone))
    event.add("dtend", to_local(session.ends_at, timezone))
    event.add("dtstamp", changed_at)
    event.add("location", where)
    event.add("sequence", int(changed_at.timestamp()))
    event.add("status", "CANCELLED" if item.is_off else "CONFIRMED")
    description = "\n".join(part for part in (session.note, item.details) if part)
    if description:
        event.add("description", description)
    return event

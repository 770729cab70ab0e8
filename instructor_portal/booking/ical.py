"""Course dates as an iCalendar file, for confirmation emails and booking pages."""

from datetime import timedelta

from flask import current_app
from icalendar import Calendar, Event

from instructor_portal.catalogue.models import Course, CourseSession, SessionStatus
from instructor_portal.organisation import get_organisation
from instructor_portal.timezones import to_local


def course_calendar(course: Course, *, cancelled: bool = False, makeup_sessions: list[CourseSession] = ()) -> bytes:
    """Every session of ``course``, and the make-up sessions the family booked on other courses, as events in the organisation's time zone."""
    total = len(course.sessions)
    return _calendar(
        [(session, f"{course.title} ({number} of {total})") for number, session in enumerate(course.sessions, start=1)]
        + [(session, _makeup_summary(session)) for session in makeup_sessions],
        cancelled=cancelled,
    )


def makeup_calendar(session: CourseSession, *, cancelled: bool = False) -> bytes:
    """The one session a family comes to as a make-up, as an event in the organisation's time zone."""
    return _calendar([(session, _makeup_summary(session))], cancelled=cancelled)


def _makeup_summary(session: CourseSession) -> str:
    return f"Make-up session: {session.course.title}"


def _calendar(events: list[tuple[CourseSession, str]], *, cancelled: bool) -> bytes:
    """Each session with its summary as an event.

    Each session keeps the same UID in every file we send, so a calendar that imported an
    earlier file updates the event (or, with ``cancelled``, removes it) instead of adding a copy.
    """
    organisation = get_organisation()
    host = current_app.config["BASE_URL"].split("://", 1)[-1].split("/", 1)[0]
    calendar = Calendar()
    calendar.add("prodid", f"-//{organisation.name}//Instructor Portal//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    for session, summary in events:
        course = session.course
        where = (
            "Online"
            if course.is_online or course.venue is None
            else f"{course.venue.name}, {course.venue.address}, {course.venue.town} {course.venue.postcode}"
        )
        event = Event()
        event.add("uid", f"course-{course.id}-session-{session.id}@{host}")
        event.add("summary", summary)
        event.add("dtstart", to_local(session.starts_at, organisation.timezone))
        event.add("dtend", to_local(session.ends_at, organisation.timezone))
        event.add("dtstamp", session.updated_at)
        event.add("location", where)
        event.add("sequence", int(session.updated_at.timestamp()))
        is_off = cancelled or session.status == SessionStatus.CANCELLED
        event.add("status", "CANCELLED" if is_off else "CONFIRMED")
        if session.note:
            event.add("description", session.note)
        calendar.add_component(event)
    if events:
        # Describe the zone only around the sessions' dates, which keeps the file small.
        calendar.add_missing_timezones(
            first_date=(min(session.starts_at for session, _ in events) - timedelta(days=366)).date(),
            last_date=(max(session.ends_at for session, _ in events) + timedelta(days=366)).date(),
        )
    return calendar.to_ical()

"""Courses and their sessions: create, edit, publish and cancel; schedule, move and cancel sessions.

Forms check each field on its own (present, a number, within its range). These services
check the rules that involve several fields, the course's state, the clock or safety, so
the rules hold whoever calls them. Times arrive as the organisation's wall-clock dates
and times and are stored in UTC, each date converted on its own so the clocks changing
never moves a session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from instructor_portal import audit, locks
from instructor_portal.accounts.models import Role, User
from instructor_portal.attendance.makeups import cancel_makeups_at, tell_makeup_families_of_move
from instructor_portal.booking.cancellation import cancel_course_bookings
from instructor_portal.booking.capacity import places_taken
from instructor_portal.booking.emails import tell_families_of_session_change
from instructor_portal.catalogue.models import AgeUnit, Course, CourseSession, CourseStatus, SessionStatus, Venue
from instructor_portal.clock import utcnow
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db
from instructor_portal.locks import unit_of_work
from instructor_portal.organisation import get_organisation
from instructor_portal.payments.refunds import owe_cancellation_refunds, send_owed_refunds
from instructor_portal.teaching.credentials import lapsed_insurance
from instructor_portal.templating import format_date
from instructor_portal.timezones import local_to_utc

#: How far ahead a session may be scheduled.
SCHEDULE_HORIZON = timedelta(days=3 * 365)
#: Course fields a caller may set, with the value a new course starts with; the required ones
#: start as None, and so does the cancellation notice, which then comes from the settings.
COURSE_FIELDS: dict[str, Any] = {
    "title": None,
    "track": None,
    "places": None,
    "description": "",
    "what_to_bring": "",
    "venue": None,
    "is_online": False,
    "online_link": None,
    "price_pence": 0,
    "sibling_discount_percent": 0,
    "age_unit": AgeUnit.WEEKS,
    "age_min": None,
    "age_max": None,
    "uses_corrected_age": False,
    "booking_opens_at": None,
    "booking_closes_at": None,
    "cancellation_notice_days": None,
    "allows_offline_payment": True,
    "min_places": None,
    "decision_days": 3,
}
REQUIRED_COURSE_FIELDS = frozenset({"title", "track", "places"})
TEACHING_ROLES = (Role.INSTRUCTOR, Role.ORGANISER)


class TeachingError(DomainError):
    """A course or session rule was not met."""


@dataclass(frozen=True)
class CourseSummary:
    """A course as a dashboard lists it."""

    course: Course
    next_session: CourseSession | None
    sessions_to_come: int


def list_courses(user: User, *, now: datetime | None = None) -> list[CourseSummary]:
    """List the courses ``user`` manages (an organiser: all), those with sessions still to come first."""
    now = now or utcnow()
    query = db.select(Course).options(
        selectinload(Course.sessions), selectinload(Course.venue), selectinload(Course.instructor)
    )
    if user.role != Role.ORGANISER:
        query = query.where(Course.instructor_id == user.id)
    running, rest = [], []
    for course in db.session.scalars(query):
        to_come = [s for s in course.scheduled_sessions if s.starts_at > now]
        summary = CourseSummary(course, min(to_come, key=_start) if to_come else None, len(to_come))
        (running if to_come and course.status != CourseStatus.CANCELLED else rest).append(summary)
    # Courses still running by their next session; then the rest, most recent first.
    running.sort(key=lambda summary: summary.next_session.starts_at)
    rest.sort(key=_latest_activity, reverse=True)
    return running + rest


def _start(session: CourseSession) -> datetime:
    return session.starts_at


def _latest_activity(summary: CourseSummary) -> datetime:
    sessions = summary.course.sessions
    return max(map(_start, sessions)) if sessions else summary.course.created_at


def venue_options(course: Course | None = None) -> list[Venue]:
    """Return the venues a course may meet at: the active ones, plus the course's own if since retired."""
    venues = list(db.session.scalars(db.select(Venue).where(Venue.active.is_(True)).order_by(Venue.name)))
    if course is not None and course.venue is not None and course.venue not in venues:
        venues.append(course.venue)
    return venues


def create_course(
    instructor: User, *, actor: User, weekly: dict | None = None, now: datetime | None = None, **fields: Any
) -> Course:
    """Create a draft course taught by ``instructor``, with a weekly series of sessions if ``weekly`` is given.

    ``fields`` are the keys of COURSE_FIELDS (``price_pence`` in pence, booking times
    aware); ``weekly`` holds the keyword arguments of :func:`add_weekly_sessions` but
    ``actor``. An instructor creates courses for themselves; an organiser for anyone who teaches.
    """
    _check_field_names(fields)
    missing = REQUIRED_COURSE_FIELDS - fields.keys()
    if missing:
        raise TypeError(f"create_course() needs {', '.join(sorted(missing))}")
    if actor.role != Role.ORGANISER and actor.id != instructor.id:
        raise TeachingError("You can only create courses that you teach yourself.", field="instructor")
    if instructor.role not in TEACHING_ROLES or not instructor.active:
        raise TeachingError("Choose an active instructor to teach the course.", field="instructor")
    organisation = get_organisation()
    values = {**COURSE_FIELDS, **fields}
    if values["cancellation_notice_days"] is None:
        values["cancellation_notice_days"] = organisation.default_cancellation_notice_days
    _check_course(values, current_venue=None, published=False)
    now = now or utcnow()
    times = _weekly_times(now=now, **weekly) if weekly else []
    course = Course(instructor=instructor, currency=organisation.currency, status=CourseStatus.DRAFT, **values)
    course.sessions = [CourseSession(starts_at=starts_at, ends_at=ends_at) for starts_at, ends_at in times]
    db.session.add(course)
    audit.record(actor, "course.created", course, instructor_id=instructor.id, sessions=len(times))
    db.session.commit()
    return course


def update_course(course: Course, *, actor: User, **fields: Any) -> Course:
    """Change the fields given (keys of COURSE_FIELDS) and leave the rest as they are."""
    _check_field_names(fields)
    _check_not_cancelled(course)
    values = {name: fields.get(name, getattr(course, name)) for name in COURSE_FIELDS}
    _check_course(values, current_venue=course.venue, published=course.status == CourseStatus.PUBLISHED)
    with unit_of_work():
        if values["places"] < course.places:
            # Locked first, so no booking can slip in between the count and the change.
            locks.lock(course)
            taken = db.session.scalar(select(places_taken(course.id, utcnow(), waiting=False)))
            if values["places"] < taken:
                raise TeachingError(
                    f"{taken} {'place is' if taken == 1 else 'places are'} already booked or held, so offer at least {taken}.",
                    field="places",
                )
        audit.record_changes(actor, "course.updated", course, {name: values[name] for name in fields})
    return course


def publish_course(course: Course, *, actor: User, now: datetime | None = None) -> Course:
    """Open a draft course to families; it needs a session still to come and somewhere to meet."""
    now = now or utcnow()
    if course.status == CourseStatus.PUBLISHED:
        raise TeachingError("This course is already published.")
    _check_not_cancelled(course)
    insurance = lapsed_insurance(course.instructor, now=now)
    if insurance is not None:
        whose = "Your" if actor.id == course.instructor_id else f"{course.instructor.full_name}'s"
        raise TeachingError(
            f"{whose} insurance expired on {format_date(insurance.expires_on)}, so new courses cannot be published. "
            "Record the renewed insurance under Credentials, then publish."
        )
    if not any(s.starts_at > now for s in course.scheduled_sessions):
        raise TeachingError("Add at least one session in the future before publishing the course.")
    if course.is_online and not course.online_link:
        raise TeachingError("Add the joining link before publishing an online course.")
    course.status = CourseStatus.PUBLISHED
    course.published_at = now
    audit.record(actor, "course.published", course)
    db.session.commit()
    return course


def cancel_course(course: Course, *, actor: User | None, reason: str, now: datetime | None = None) -> Course:
    """Cancel the whole course and every booking on it, telling each family and refunding what was paid, in one commit.

    ``actor`` is None when the course cancels itself for being short of its minimum number.
    """
    now = now or utcnow()
    with unit_of_work():
        locks.lock(course)
        _check_not_cancelled(course)  # again, now that nobody else can be cancelling it
        cancelled = cancel_course_bookings(course, by=actor, reason=reason.strip(), now=now)
        course.status = CourseStatus.CANCELLED
        course.cancelled_at = now
        course.cancellation_reason = reason.strip()
        for booking in cancelled:
            if booking.amount_paid_pence:
                owe_cancellation_refunds(booking, by=None, now=now, reason=f"{course.title} was cancelled.")
        makeups = cancel_makeups_at(course.sessions)
        audit.record(
            actor,
            "course.cancelled",
            course,
            reason=course.cancellation_reason,
            bookings_cancelled=len(cancelled),
            makeups_cancelled=makeups,
        )
    for booking in cancelled:
        if booking.amount_paid_pence:
            send_owed_refunds(booking_id=booking.id, now=now)
    return course


def add_weekly_sessions(
    course: Course,
    *,
    actor: User,
    first_day: date,
    start_time: time,
    minutes: int,
    weeks: int,
    tz: str,
    now: datetime | None = None,
) -> list[CourseSession]:
    """Add ``weeks`` sessions a week apart, each at ``start_time`` local time in zone ``tz``."""
    _check_not_cancelled(course)
    times = _weekly_times(
        first_day=first_day, start_time=start_time, minutes=minutes, weeks=weeks, tz=tz, now=now or utcnow()
    )
    for starts_at, ends_at in times:
        _check_no_clash(course, starts_at, ends_at, field="first_day")
    sessions = [CourseSession(starts_at=starts_at, ends_at=ends_at) for starts_at, ends_at in times]
    course.sessions.extend(sessions)
    audit.record(actor, "course.sessions_added", course, count=len(sessions))
    db.session.commit()
    return sessions


def add_session(
    course: Course,
    *,
    actor: User,
    day: date,
    start_time: time,
    minutes: int,
    tz: str,
    note: str = "",
    now: datetime | None = None,
) -> CourseSession:
    """Add one session on ``day`` at ``start_time`` local time in zone ``tz``."""
    _check_not_cancelled(course)
    starts_at, ends_at = _session_times(day, start_time, minutes, tz, now=now or utcnow(), field="day")
    _check_no_clash(course, starts_at, ends_at, field="day")
    session = CourseSession(starts_at=starts_at, ends_at=ends_at, note=note.strip())
    course.sessions.append(session)
    audit.record(actor, "session.added", session, course_id=course.id)
    db.session.commit()
    return session


def move_session(
    session: CourseSession,
    *,
    actor: User,
    day: date,
    start_time: time,
    minutes: int,
    tz: str,
    note: str,
    now: datetime | None = None,
) -> CourseSession:
    """Give a session still to come a new date, time or length, with a note telling families why."""
    now = now or utcnow()
    _check_can_change(session, now)
    starts_at, ends_at = _session_times(day, start_time, minutes, tz, now=now, field="day")
    _check_no_clash(session.course, starts_at, ends_at, field="day", ignore=session)
    moved_from = session.starts_at
    session.starts_at, session.ends_at, session.note = starts_at, ends_at, note.strip()
    told = tell_families_of_session_change(session, moved_from=moved_from)
    makeups_told = tell_makeup_families_of_move(session, moved_from=moved_from)
    audit.record(
        actor,
        "session.moved",
        session,
        moved_from=moved_from.isoformat(),
        moved_to=starts_at.isoformat(),
        families_told=told,
        makeup_families_told=makeups_told,
    )
    db.session.commit()
    return session


def update_session(session: CourseSession, *, actor: User, note: str) -> CourseSession:
    """Change the note families see beside a session, without moving it."""
    _check_not_cancelled(session.course)
    session.note = note.strip()
    audit.record(actor, "session.updated", session)
    db.session.commit()
    return session


def cancel_session(
    session: CourseSession, *, actor: User, note: str = "", now: datetime | None = None
) -> CourseSession:
    """Cancel one session still to come; the rest of the course goes ahead."""
    now = now or utcnow()
    _check_can_change(session, now)
    with unit_of_work():
        locks.lock(session.course)  # make-ups there are cancelled, so none may be accepted meanwhile
        session.status = SessionStatus.CANCELLED
        session.note = note.strip()
        told = tell_families_of_session_change(session)
        makeups = cancel_makeups_at([session])
        audit.record(
            actor, "session.cancelled", session, note=session.note, families_told=told, makeups_cancelled=makeups
        )
    return session


def _check_field_names(fields: dict) -> None:
    unknown = fields.keys() - COURSE_FIELDS.keys()
    if unknown:
        raise TypeError(f"unknown course fields: {', '.join(sorted(unknown))}")


def _check_course(values: dict, *, current_venue: Venue | None, published: bool) -> None:
    """Raise TeachingError for the first rule between fields that ``values`` breaks."""
    venue = values["venue"]
    if values["is_online"] and venue is not None:
        raise TeachingError("An online course does not meet at a venue; choose one or the other.", field="venue")
    if not values["is_online"] and venue is None:
        raise TeachingError("Choose a venue, or Online for a course that meets online.", field="venue")
    if venue is not None and not venue.active and venue is not current_venue:
        raise TeachingError(f"{venue.name} is no longer in use; choose another venue.", field="venue")
    link = values["online_link"]
    if link and not values["is_online"]:
        raise TeachingError(
            "Only an online course has a joining link; choose Online or clear the link.", field="online_link"
        )
    if link and not _is_https_address(link):
        raise TeachingError("Enter the joining link as a full secure address starting https://", field="online_link")
    if published and values["is_online"] and not link:
        raise TeachingError("A published online course needs its joining link.", field="online_link")
    if values["age_min"] is not None and values["age_max"] is not None and values["age_min"] > values["age_max"]:
        raise TeachingError("The youngest age must not be more than the oldest age.", field="age_max")
    if values["min_places"] is not None and values["min_places"] > values["places"]:
        raise TeachingError("The minimum to run cannot be more than the places on offer.", field="min_places")
    opens, closes = values["booking_opens_at"], values["booking_closes_at"]
    if opens is not None and closes is not None and closes <= opens:
        raise TeachingError("Booking must close after it opens.", field="booking_closes_at")


def _is_https_address(link: str) -> bool:
    try:
        parts = urlsplit(link)
    except ValueError:  # for example an unbalanced "[" in the host
        return False
    return parts.scheme == "https" and bool(parts.hostname) and " " not in link


def _check_not_cancelled(course: Course) -> None:
    if course.status == CourseStatus.CANCELLED:
        raise TeachingError("This course has been cancelled, so it cannot be changed.")


def _check_can_change(session: CourseSession, now: datetime) -> None:
    _check_not_cancelled(session.course)
    if session.status == SessionStatus.CANCELLED:
        raise TeachingError("This session has already been cancelled.")
    if session.starts_at <= now:
        raise TeachingError("This session has already started, so it cannot be changed.")


def _session_times(
    day: date, start_time: time, minutes: int, tz: str, *, now: datetime, field: str
) -> tuple[datetime, datetime]:
    """Turn a local date and time into UTC start and end, refusing times past or too far ahead."""
    # Compare dates first, so a far-off year is refused before any date sums could overflow.
    if day > (now + SCHEDULE_HORIZON).date():
        raise TeachingError("Sessions can be scheduled up to three years ahead.", field=field)
    if day < now.date() - timedelta(days=1):
        raise TeachingError("Choose a date and time in the future.", field=field)
    starts_at = local_to_utc(day, start_time, tz)
    if starts_at <= now:
        raise TeachingError("Choose a date and time in the future.", field=field)
    return starts_at, starts_at + timedelta(minutes=minutes)


def _weekly_times(
    *, first_day: date, start_time: time, minutes: int, weeks: int, tz: str, now: datetime
) -> list[tuple[datetime, datetime]]:
    """Start and end of each session in a weekly series, each at the same local wall-clock time."""
    return [
        _session_times(first_day + timedelta(weeks=week), start_time, minutes, tz, now=now, field="first_day")
        for week in range(weeks)
    ]


def _check_no_clash(
    course: Course, starts_at: datetime, ends_at: datetime, *, field: str, ignore: CourseSession | None = None
) -> None:
    for other in course.scheduled_sessions:
        if other is not ignore and other.starts_at < ends_at and starts_at < other.ends_at:
            raise TeachingError("The course already has a session at that time.", field=field)

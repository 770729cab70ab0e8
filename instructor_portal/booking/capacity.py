"""The one place that takes places on a course, atomically, on SQLite and PostgreSQL alike."""

from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from instructor_portal import locks
from instructor_portal.attendance.models import LIVE_MAKEUP_STATUSES, Makeup, MakeupStatus
from instructor_portal.booking import states
from instructor_portal.booking.models import Booking, BookingPlace, BookingStatus
from instructor_portal.catalogue.models import Course, CourseSession, SessionStatus
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db
from instructor_portal.waitlist.models import OPEN_STATUSES, EntryStatus, WaitlistEntry


class BookingError(DomainError):
    """A booking rule was not met; the message says which, in words fit for a parent."""


class CourseFull(BookingError):
    """Not enough places are left for this booking."""


class SessionFull(BookingError):
    """No place is left at the session for a make-up."""


def holds_places(now: datetime) -> ColumnElement[bool]:
    """True for a booking whose places count against the course: confirmed, or held and not yet expired."""
    return or_(
        Booking.status == BookingStatus.CONFIRMED,
        and_(Booking.status == BookingStatus.AWAITING_PAYMENT, Booking.hold_expires_at > now),
    )


def places_booked(course_id, now: datetime):
    """A scalar subquery counting the places held or confirmed on a course; ``course_id`` may be a column (correlated)."""
    return (
        select(func.count(BookingPlace.id))
        .join(Booking, Booking.id == BookingPlace.booking_id)
        .where(BookingPlace.course_id == course_id, BookingPlace.live, holds_places(now))
        .scalar_subquery()
    )


def places_offered(course_id, now: datetime):
    """A scalar subquery counting the places held for waiting-list offers still open on a course."""
    return (
        select(func.coalesce(func.sum(WaitlistEntry.places), 0))
        .where(
            WaitlistEntry.course_id == course_id,
            WaitlistEntry.status == EntryStatus.OFFERED,
            WaitlistEntry.offer_expires_at > now,
        )
        .scalar_subquery()
    )


def makeups_at(session_id: int):
    """A scalar subquery counting the make-ups accepted at one session."""
    return (
        select(func.count(Makeup.id))
        .where(Makeup.session_id == session_id, Makeup.status == MakeupStatus.ACCEPTED)
        .scalar_subquery()
    )


def _busiest_makeup_session(course_id, now: datetime):
    """A scalar subquery: the most make-ups accepted at any one of the course's sessions still to come, or NULL."""
    accepted = func.count(Makeup.id)
    return (
        select(accepted)
        .join(CourseSession, CourseSession.id == Makeup.session_id)
        .where(
            CourseSession.course_id == course_id,
            CourseSession.status == SessionStatus.SCHEDULED,
            CourseSession.starts_at > now,
            Makeup.status == MakeupStatus.ACCEPTED,
        )
        .group_by(Makeup.session_id)
        .order_by(accepted.desc())
        .limit(1)
        .scalar_subquery()
    )


def places_waited_for(course_id):
    """A scalar subquery counting the places families on the course's waiting list are waiting for (not yet offered)."""
    return (
        select(func.coalesce(func.sum(WaitlistEntry.places), 0))
        .where(WaitlistEntry.course_id == course_id, WaitlistEntry.status == EntryStatus.WAITING)
        .scalar_subquery()
    )


def families_waiting(course_id):
    """A scalar subquery counting the families on the course's waiting list (waiting, or holding an offer)."""
    return (
        select(func.count(WaitlistEntry.id))
        .where(WaitlistEntry.course_id == course_id, WaitlistEntry.status.in_(OPEN_STATUSES))
        .scalar_subquery()
    )


def places_taken(course_id, now: datetime, *, waiting: bool = True):
    """An expression counting the places a new booking cannot have; ``course_id`` may be a column (correlated).

    A booking needs a place at every session, so the places booked count, and so do places
    held for waiting-list offers and the busiest session still to come with families there
    for a make-up. A freed place belongs to the families already waiting for it, so with
    ``waiting`` their places count too: nobody books past the list. The list's own offers,
    and a family taking up an offer, count without them.
    """
    taken = (
        places_booked(course_id, now)
        + places_offered(course_id, now)
        + func.coalesce(_busiest_makeup_session(course_id, now), 0)
    )
    return taken + places_waited_for(course_id) if waiting else taken


def places_free_at(session: CourseSession, *, now: datetime) -> int:
    """How many more families the session has room for: the course's places less its bookings and make-ups there."""
    return session.course.places - db.session.scalar(
        select(places_booked(session.course_id, now) + places_offered(session.course_id, now) + makeups_at(session.id))
    )


def release_expired_holds(course: Course, *, now: datetime) -> int:
    """Lock the course and expire its held bookings whose time is up, freeing their places; return how many.

    The same code serves every new booking and the sweeper, so a hold lapses the same way
    whoever notices it first. The caller commits.
    """
    locks.lock(course)
    return len(states.expire_lapsed(course.id, now=now))


def take_places(course: Course, count: int, *, now: datetime, for_offer: bool = False) -> None:
    """Lock the course and check that ``count`` more places fit; raise CourseFull if not.

    Call it inside the service's unit of work before adding the booking's places; the lock
    holds until that transaction commits or rolls back.
    """
    release_expired_holds(course, now=now)
    left = course.places - db.session.scalar(select(places_taken(course.id, now, waiting=not for_offer)))
    if count > left:
        if left <= 0:
            raise CourseFull("Sorry, this course is now full.")
        raise CourseFull(f"Sorry, only {left} {'place is' if left == 1 else 'places are'} left on this course.")


def release_makeups(*where: ColumnElement[bool]) -> list[Makeup]:
    """Cancel the live make-ups matching ``where``, which frees any place they held; return them. The caller commits."""
    makeups = list(
        db.session.scalars(select(Makeup).where(Makeup.status.in_(LIVE_MAKEUP_STATUSES), *where).order_by(Makeup.id))
    )
    for makeup in makeups:
        makeup.status = MakeupStatus.CANCELLED
    return makeups


def take_makeup_place(session: CourseSession, *, now: datetime) -> None:
    """Lock the session's course and check that one more family fits at the session; raise SessionFull if not.

    Call it inside the service's unit of work before accepting the make-up; the lock holds
    until that transaction commits or rolls back.
    """
    release_expired_holds(session.course, now=now)
    if places_free_at(session, now=now) <= 0:
        raise SessionFull("Sorry, that session is now full.")

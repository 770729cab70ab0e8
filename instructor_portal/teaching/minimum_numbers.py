"""Minimum numbers to run: a course below its minimum at its decision day is cancelled, unless its instructor chose to run it.

The instructor (with a copy to each organiser) is emailed once, two days before the decision, while there is still time to
find families or decide to run anyway. At the decision the course is cancelled through
``cancel_course`` (families emailed, paid places refunded), and the waiting list's sweep
then closes its list. Safe to run at any moment and from two workers: a course is decided
under its lock, and a cancelled course is never decided again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload

from instructor_portal import audit, locks
from instructor_portal.accounts.models import User
from instructor_portal.accounts.services import active_organisers
from instructor_portal.booking.capacity import places_booked
from instructor_portal.booking.rules import first_session_start
from instructor_portal.catalogue.models import Course, CourseSession, CourseStatus, SessionStatus
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.locks import unit_of_work
from instructor_portal.notifications.services import absolute_url, enqueue_email
from instructor_portal.teaching.services import TeachingError, cancel_course

log = logging.getLogger(__name__)

#: How long before the decision the instructor is warned that the course is short of families.
WARNING_AHEAD = timedelta(days=2)


def decision_at(course: Course) -> datetime | None:
    """When a course with a minimum is decided: its decision days before the first session."""
    start = first_session_start(course)
    if course.min_places is None or start is None:
        return None
    return start - timedelta(days=course.decision_days)


def places_booked_now(course: Course, *, now: datetime) -> int:
    """Places confirmed or held on the course now."""
    return db.session.scalar(select(places_booked(course.id, now)))


def is_short(course: Course, *, now: datetime, booked: int | None = None) -> bool:
    """Whether the course has a minimum it does not reach (``booked`` places, counted if not given) and nobody chose to run it anyway."""
    if course.min_places is None or course.run_anyway_at is not None:
        return False
    return (places_booked_now(course, now=now) if booked is None else booked) < course.min_places


def check_minimum_numbers(*, now: datetime | None = None) -> dict[str, int]:
    """Warn instructors of courses short of their minimum, and cancel those short at their decision; return the counts."""
    now = now or utcnow()
    course_ids = db.session.scalars(
        select(Course.id).where(
            Course.status == CourseStatus.PUBLISHED, Course.min_places.is_not(None), Course.run_anyway_at.is_(None)
        )
    ).all()
    counts = {"warned": 0, "cancelled": 0}
    for course_id in sorted(course_ids):
        try:
            outcome = _decide(db.session.get(Course, course_id), now=now)
        except OperationalError:  # the course is busy; the next run decides it
            log.warning("Minimum numbers of course %s not checked this time", course_id, exc_info=True)
            continue
        if outcome:
            counts[outcome] += 1
    return counts


def _decide(course: Course, *, now: datetime) -> str | None:
    decide = decision_at(course)
    start = first_session_start(course)
    booked = places_booked_now(course, now=now)
    if decide is None or start <= now or not is_short(course, now=now, booked=booked):
        return None
    if now >= decide:
        reason = f"Fewer than {course.min_places} families had booked by {decide:%d %B}, so the course will not run."
        try:
            cancel_course(course, actor=None, reason=reason, now=now)
        except TeachingError:  # cancelled a moment ago by someone else
            return None
        return "cancelled"
    if now >= decide - WARNING_AHEAD and course.minimum_warned_at is None:
        with unit_of_work():
            locks.lock(course)
            if course.minimum_warned_at is not None:
                return None
            course.minimum_warned_at = now
            for recipient in _warned(course):
                enqueue_email(
                    recipient.email,
                    "minimum_warning",
                    subject=f"Not enough families yet: {course.title}",
                    sent_because=f"you teach {course.title}"
                    if recipient.id == course.instructor_id
                    else "you are an organiser, and organisers hear of courses short of their minimum",
                    recipient=recipient,
                    course=course,
                    booked=booked,
                    decide=decide,
                    course_url=absolute_url("teaching.course", course_id=course.id),
                )
            audit.record(None, "course.minimum_warned", course, booked=booked)
        return "warned"
    return None


def _warned(course: Course) -> list[User]:
    """The course's instructor, then every active organiser, who may decide for an instructor who is away."""
    return [course.instructor, *active_organisers(besides=course.instructor_id)]


@dataclass(frozen=True)
class MinimumWatch:
    """A course with a minimum still to be decided, as the organiser's overview shows it."""

    course: Course
    booked: int
    decide: datetime

    @property
    def short(self) -> bool:
        return self.course.run_anyway_at is None and self.booked < self.course.min_places


def minimum_watch(*, now: datetime | None = None) -> list[MinimumWatch]:
    """Every published course with a minimum whose first session is still ahead, soonest decision first, in one query."""
    now = now or utcnow()
    first_start = (
        select(func.min(CourseSession.starts_at))
        .where(CourseSession.course_id == Course.id, CourseSession.status == SessionStatus.SCHEDULED)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Course, places_booked(Course.id, now), first_start)
        .where(Course.status == CourseStatus.PUBLISHED, Course.min_places.is_not(None), first_start > now)
        .options(joinedload(Course.instructor))
    ).all()
    watch = [
        MinimumWatch(course, booked, start - timedelta(days=course.decision_days)) for course, booked, start in rows
    ]
    return sorted(watch, key=lambda row: (row.decide, row.course.id))


def run_anyway(course: Course, *, actor: User, now: datetime | None = None) -> Course:
    """The instructor decides to run the course whatever the numbers, so it is not cancelled for them."""
    now = now or utcnow()
    with unit_of_work():
        locks.lock(course)
        if course.status != CourseStatus.PUBLISHED:
            raise TeachingError("Only a published course can be run anyway.")
        if course.min_places is None:
            raise TeachingError("This course has no minimum number of places.")
        course.run_anyway_at = now
        audit.record(actor, "course.run_anyway", course, booked=places_booked_now(course, now=now))
    return course

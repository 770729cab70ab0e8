"""The morning check-in: families answer from the morning reminder, and the register and dashboard show what they said.

Each answer link carries a signed token naming the family (their booking, also when they come
as a make-up) and the session, so it works without signing in. An answer is one row per
family and session; it is what the register expects of them, never an attendance mark.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from instructor_portal import audit
from instructor_portal.accounts.models import Role, User
from instructor_portal.attendance.models import Makeup
from instructor_portal.attendance.services import on_register
from instructor_portal.booking.models import Booking, BookingPlace
from instructor_portal.catalogue.models import Course, CourseSession, CourseStatus, SessionStatus
from instructor_portal.clock import utcnow
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db
from instructor_portal.locks import unit_of_work
from instructor_portal.notifications.services import absolute_url
from instructor_portal.organisation import get_organisation, local_today
from instructor_portal.reminders.models import CheckIn, CheckInAnswer
from instructor_portal.timezones import local_to_utc, next_local_midnight

#: Keeps these tokens apart from every other signed value the app makes with the same key.
SALT = "reminders.check-in"


class CheckInError(DomainError):
    """A check-in link could not be used; ``status`` is the HTTP status its page answers with."""

    def __init__(self, message: str, *, status: int):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class CheckInRequest:
    """A check-in link that may be answered: the session, the family, and the answer chosen."""

    session: CourseSession
    booking: Booking
    answer: CheckInAnswer


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def check_in_token(session: CourseSession, booking: Booking) -> str:
    return _serializer().dumps([session.id, booking.id])


def check_in_links(session: CourseSession, booking: Booking) -> list[tuple[CheckInAnswer, str]]:
    """Each answer with the address of its one-tap link, for the morning reminder."""
    token = check_in_token(session, booking)
    return [
        (answer, absolute_url("reminders.check_in", session_id=session.id, answer=answer.value, token=token))
        for answer in CheckInAnswer
    ]


def _on_register(session: CourseSession, booking: Booking) -> bool:
    return (
        db.session.scalar(
            select(BookingPlace.id)
            .join(Booking, Booking.id == BookingPlace.booking_id)
            .where(BookingPlace.booking_id == booking.id, on_register(session))
            .limit(1)
        )
        is not None
    )


def _call_instructor(session: CourseSession) -> str:
    instructor = session.course.instructor
    return f" If anything changes, call {instructor.full_name} on {instructor.phone}." if instructor.phone else ""


def read_check_in(session_id: int, answer: str, token: str, *, now: datetime | None = None) -> CheckInRequest:
    """Check that the link may still be answered, changing nothing; raise CheckInError saying why not."""
    now = now or utcnow()
    try:
        chosen = CheckInAnswer(answer)
    except ValueError:
        raise CheckInError("That is not one of the answers. Please use a button in the email.", status=404) from None
    try:
        token_session_id, booking_id = _serializer().loads(token)
    except (BadSignature, TypeError, ValueError):
        raise CheckInError(
            "This link is not valid. Please check you copied all of it from the email.", status=400
        ) from None
    if token_session_id != session_id:
        raise CheckInError("This link is for a different session. Please use the email for this one.", status=400)
    session = db.session.get(CourseSession, session_id)
    booking = db.session.get(Booking, booking_id)
    if session is None or booking is None:
        raise CheckInError("This session or booking is no longer there, so there is nothing to answer.", status=410)
    if session.status == SessionStatus.CANCELLED or session.course.status == CourseStatus.CANCELLED:
        raise CheckInError("This session has been cancelled, so there is no need to answer.", status=410)
    if session.starts_at <= now:
        raise CheckInError(
            "This session has already started, so the check-in is closed." + _call_instructor(session), status=410
        )
    if not _on_register(session, booking):
        raise CheckInError("Your family no longer has a place at this session.", status=410)
    given = db.session.scalars(
        select(CheckIn).where(CheckIn.session_id == session.id, CheckIn.booking_id == booking.id)
    ).first()
    if given is not None:
        raise CheckInError(
            f"You have already answered for this session: “{given.answer.label}”." + _call_instructor(session),
            status=409,
        )
    return CheckInRequest(session, booking, chosen)


def answer_check_in(session_id: int, answer: str, token: str, *, now: datetime | None = None) -> CheckIn:
    """Record the family's answer for the session, once only; a second answer, even at the same moment, is refused."""
    now = now or utcnow()
    request = read_check_in(session_id, answer, token, now=now)
    check_in = CheckIn(session=request.session, booking=request.booking, answer=request.answer, answered_at=now)
    try:
        with unit_of_work():
            db.session.add(check_in)
            db.session.flush()  # the unique (session, family) row: a second answer stops here
            audit.record(
                request.booking.parent,
                "check_in.answered",
                check_in,
                session_id=session_id,
                answer=request.answer.value,
            )
    except IntegrityError:
        raise CheckInError(
            "You have already answered for this session." + _call_instructor(request.session), status=409
        ) from None
    return check_in


def register_answers(session: CourseSession) -> dict[int, CheckIn]:
    """What each family said for the session, by booking id, for its register."""
    return {
        check_in.booking_id: check_in
        for check_in in db.session.scalars(select(CheckIn).where(CheckIn.session_id == session.id))
    }


# --- The day's numbers on the instructor's dashboard ----------------------------------------------


@dataclass(frozen=True)
class ExpectedNumbers:
    """How many families are on a session's register, and what they said they would do."""

    session: CourseSession
    families: int
    answers: Counter[CheckInAnswer] = field(default_factory=Counter)

    @property
    def not_answered(self) -> int:
        return self.families - sum(self.answers.values())

    @property
    def summary(self) -> str:
        """Such as "8 booked: 5 coming, 1 unwell, 1 late, 1 not answered"."""
        if not self.families:
            return "No families booked"
        parts = [f"{self.answers[answer]} {answer.said}" for answer in CheckInAnswer if self.answers[answer]]
        if self.not_answered:
            parts.append(f"{self.not_answered} not answered")
        return f"{self.families} booked: {', '.join(parts)}"


def _register_families(session_ids: list[int]) -> set[tuple[int, int]]:
    """Each (session id, booking id) on the sessions' registers: their own courses' families and make-ups, in one query."""
    own = (
        select(CourseSession.id, BookingPlace.booking_id)
        .join(BookingPlace, BookingPlace.course_id == CourseSession.course_id)
        .join(Booking, Booking.id == BookingPlace.booking_id)
        .where(CourseSession.id.in_(session_ids), on_register(CourseSession))
    )
    made_up = (
        select(CourseSession.id, BookingPlace.booking_id)
        .join(Makeup, Makeup.session_id == CourseSession.id)
        .join(BookingPlace, BookingPlace.id == Makeup.place_id)
        .join(Booking, Booking.id == BookingPlace.booking_id)
        .where(CourseSession.id.in_(session_ids), on_register(CourseSession))
    )
    return {(session_id, booking_id) for session_id, booking_id in db.session.execute(union(own, made_up))}


def todays_numbers(user: User, *, now: datetime | None = None) -> list[ExpectedNumbers]:
    """Today's sessions the user teaches (an organiser: all of them), each with its expected numbers, in three queries."""
    now = now or utcnow()
    tz = get_organisation().timezone
    query = (
        select(CourseSession)
        .join(Course, Course.id == CourseSession.course_id)
        .where(
            Course.status == CourseStatus.PUBLISHED,
            CourseSession.status == SessionStatus.SCHEDULED,
            CourseSession.starts_at >= local_to_utc(local_today(now), time(0), tz),
            CourseSession.starts_at < next_local_midnight(now, tz),
        )
        .options(selectinload(CourseSession.course))
        .order_by(CourseSession.starts_at, CourseSession.id)
    )
    if user.role != Role.ORGANISER:
        query = query.where(Course.instructor_id == user.id)
    sessions = db.session.scalars(query).all()
    if not sessions:
        return []
    ids = [session.id for session in sessions]
    families = _register_families(ids)
    said = db.session.execute(
        select(CheckIn.session_id, CheckIn.booking_id, CheckIn.answer).where(CheckIn.session_id.in_(ids))
    ).all()
    answers: dict[int, Counter[CheckInAnswer]] = {session_id: Counter() for session_id in ids}
    for session_id, booking_id, answer in said:
        if (session_id, booking_id) in families:  # a family that cancelled since no longer counts
            answers[session_id][answer] += 1
    booked = Counter(session_id for session_id, _ in families)
    return [ExpectedNumbers(session, booked[session.id], answers[session.id]) for session in sessions]

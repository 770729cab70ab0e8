"""Make-up sessions: a family that missed a session comes to the matching session of another course on the same track.

The instructor offers one of the matching sessions with a free place, the family accepts
or declines it, and an accepted make-up holds one place at that one session, taken
atomically by ``booking.capacity`` like any booking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from instructor_portal import audit, locks
from instructor_portal.accounts.models import User
from instructor_portal.attendance.models import LIVE_MAKEUP_STATUSES, AttendanceMark, Makeup, MakeupStatus
from instructor_portal.booking import capacity
from instructor_portal.booking.emails import calendar_attachment
from instructor_portal.booking.ical import makeup_calendar
from instructor_portal.booking.models import Booking, BookingPlace, BookingStatus
from instructor_portal.booking.services import child_eligibility
from instructor_portal.catalogue.models import Course, CourseSession, CourseStatus, SessionStatus
from instructor_portal.clock import utcnow
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db
from instructor_portal.locks import unit_of_work
from instructor_portal.notifications.services import absolute_url, enqueue_email
from instructor_portal.organisation import get_organisation
from instructor_portal.reminders.models import CheckIn


class MakeupError(DomainError):
    """A make-up could not be offered, answered or withdrawn."""


@dataclass(frozen=True)
class MakeupOption:
    """A session a family could be offered as a make-up, with the places free there."""

    session: CourseSession
    places_free: int


# --- Reading ------------------------------------------------------------------------------


def _is_open(session: CourseSession) -> bool:
    return session.status == SessionStatus.SCHEDULED and session.course.status != CourseStatus.CANCELLED


def _count_makeups(booking_id: int, statuses: tuple[MakeupStatus, ...], *, excluding: Makeup | None = None) -> int:
    query = (
        select(func.count(Makeup.id))
        .join(BookingPlace, BookingPlace.id == Makeup.place_id)
        .where(BookingPlace.booking_id == booking_id, Makeup.status.in_(statuses))
    )
    if excluding is not None:
        query = query.where(Makeup.id != excluding.id)
    return db.session.scalar(query)


def _cap_reached(cap: int) -> str:
    if cap == 0:
        return "Make-up sessions are not offered at the moment."
    return f"This booking has had its {cap} make-up{'' if cap == 1 else 's'}."


def _missed(place: BookingPlace, session: CourseSession) -> bool:
    """Whether the family missed the session: marked absent, or not marked and said at the check-in they would stay home."""
    mark = db.session.scalars(
        select(AttendanceMark).where(AttendanceMark.place_id == place.id, AttendanceMark.session_id == session.id)
    ).first()
    if mark is not None:  # the instructor's mark decides, whatever the family said that morning
        return not mark.status.attended
    said = db.session.scalar(
        select(CheckIn.answer).where(CheckIn.session_id == session.id, CheckIn.booking_id == place.booking_id)
    )
    return said is not None and said.is_absence


def makeup_refusal(session: CourseSession, place: BookingPlace) -> str | None:
    """Why the family on ``place`` cannot be offered a make-up for the session, or None when they can."""
    if not _is_open(session):
        return "This session was cancelled, so there is nothing to make up."
    if not _missed(place, session):
        return "Make-ups are offered to families marked absent at the session, or who said they would stay home."
    if place_makeups(place, session, live_only=True):
        return "This family already has a make-up for this session. Withdraw it first to offer another."
    cap = get_organisation().makeup_cap
    if _count_makeups(place.booking_id, LIVE_MAKEUP_STATUSES) >= cap:
        return _cap_reached(cap)
    return None


def _matching_sessions(session: CourseSession, place: BookingPlace, *, now: datetime) -> list[CourseSession]:
    """The session in the same position on every other open course of the track, still to come, that the child may join."""
    own = session.course
    position = own.scheduled_sessions.index(session)
    organisation = get_organisation()
    child = place.child
    booked = (
        set(
            db.session.scalars(
                select(BookingPlace.course_id).where(BookingPlace.child_id == child.id, BookingPlace.live)
            )
        )
        if child
        else set()
    )
    courses = db.session.scalars(
        select(Course)
        .where(Course.track == own.track, Course.status == CourseStatus.PUBLISHED, Course.id != own.id)
        .options(selectinload(Course.sessions), selectinload(Course.venue))
    )
    matching = []
    for course in courses:
        scheduled = course.scheduled_sessions
        if position >= len(scheduled) or scheduled[position].starts_at <= now or course.id in booked:
            continue
        if (
            child is not None
            and not child_eligibility(
                course, child, scheduled[0].starts_at, organisation.timezone, organisation.corrected_age_cutoff_months
            ).eligible
        ):
            continue
        matching.append(scheduled[position])
    return sorted(matching, key=lambda match: match.starts_at)


def makeup_options(session: CourseSession, place: BookingPlace, *, now: datetime | None = None) -> list[MakeupOption]:
    """List the matching sessions of other courses on the same track that have a free place, soonest first."""
    now = now or utcnow()
    if makeup_refusal(session, place):
        return []
    options = [
        MakeupOption(match, capacity.places_free_at(match, now=now))
        for match in _matching_sessions(session, place, now=now)
    ]
    return [option for option in options if option.places_free > 0]


def place_makeups(place: BookingPlace, missed_session: CourseSession, *, live_only: bool = False) -> list[Makeup]:
    """The make-ups offered to the place for the missed session, newest first."""
    query = select(Makeup).where(Makeup.place_id == place.id, Makeup.missed_session_id == missed_session.id)
    if live_only:
        query = query.where(Makeup.status.in_(LIVE_MAKEUP_STATUSES))
    return list(db.session.scalars(query.order_by(Makeup.offered_at.desc(), Makeup.id.desc())))


def family_makeups(parent: User, *, booking: Booking | None = None) -> list[Makeup]:
    """The parent's live make-ups (on one booking, if given), soonest session first."""
    query = (
        select(Makeup)
        .join(BookingPlace, BookingPlace.id == Makeup.place_id)
        .join(Booking, Booking.id == BookingPlace.booking_id)
        .join(CourseSession, CourseSession.id == Makeup.session_id)
        .where(Booking.parent_id == parent.id, Makeup.status.in_(LIVE_MAKEUP_STATUSES))
        .options(
            selectinload(Makeup.session).selectinload(CourseSession.course).selectinload(Course.venue),
            selectinload(Makeup.place).selectinload(BookingPlace.child),
        )
        .order_by(CourseSession.starts_at, Makeup.id)
    )
    if booking is not None:
        query = query.where(Booking.id == booking.id)
    return list(db.session.scalars(query))


def is_family_makeup(parent: User, makeup: Makeup) -> bool:
    """Whether the make-up was offered to the parent's own family."""
    return makeup.place.booking.parent_id == parent.id


# --- Changing -------------------------------------------------------------------------------


def offer_makeup(
    session: CourseSession, place: BookingPlace, target: CourseSession, *, by: User, now: datetime | None = None
) -> Makeup:
    """Offer the family on ``place``, who missed ``session``, the matching ``target`` session of another course, and email them."""
    now = now or utcnow()
    with unit_of_work():
        # Offers for the course's families one at a time, so two offers at once cannot pass the cap together.
        locks.lock(session.course)
        refusal = makeup_refusal(session, place)
        if refusal:
            raise MakeupError(refusal)
        if target.course_id == session.course_id:
            raise MakeupError("Choose a session on another course: the family is already booked on this one.")
        if target.starts_at <= now:
            raise MakeupError("That session has already started; choose one still to come.")
        if target not in _matching_sessions(session, place, now=now):
            raise MakeupError("That session is not the matching session of another course on this track.")
        if capacity.places_free_at(target, now=now) <= 0:
            raise capacity.SessionFull("Sorry, that session is now full.")
        makeup = Makeup(
            place=place,
            missed_session=session,
            session=target,
            status=MakeupStatus.OFFERED,
            offered_by=by,
            offered_at=now,
        )
        db.session.add(makeup)
        _email_family(makeup, "makeup_offered", f"A make-up session for you: {target.course.title}")
        audit.record(
            by, "makeup.offered", makeup, place_id=place.id, missed_session_id=session.id, session_id=target.id
        )
    return makeup


def _lock_makeup(makeup: Makeup) -> None:
    """Lock the make-up session's course, then the family's booking, and read the make-up afresh; inside a unit of work."""
    locks.lock(makeup.session.course, makeup.place.booking)
    db.session.refresh(makeup)  # a second click, or the instructor, may have answered it while we waited


def withdraw_makeup(makeup: Makeup, *, by: User, now: datetime | None = None) -> Makeup:
    """Take back an offer, or a make-up already accepted, freeing its place; tell the family."""
    with unit_of_work():
        _lock_makeup(makeup)
        if not makeup.status.is_live:
            raise MakeupError("This make-up is no longer open, so there is nothing to withdraw.")
        was = makeup.status
        makeup.status = MakeupStatus.WITHDRAWN
        _email_family(
            makeup,
            "makeup_cancelled",
            f"Make-up session withdrawn: {makeup.session.course.title}",
            was_accepted=was == MakeupStatus.ACCEPTED,
            reason="Your instructor has withdrawn it.",
        )
        audit.record(by, "makeup.withdrawn", makeup, was=was.value)
    return makeup


def _check_offer_open(makeup: Makeup, *, now: datetime) -> None:
    if makeup.status != MakeupStatus.OFFERED:
        raise MakeupError("This offer is no longer open.")
    if makeup.place.booking.status != BookingStatus.CONFIRMED or not makeup.place.live:
        raise MakeupError("This booking is no longer confirmed, so the offer has closed.")
    if not _missed(makeup.place, makeup.missed_session):
        # The register was corrected after the offer: the family was there after all.
        raise MakeupError("This offer has closed: the register now shows your family at that session.")
    if not _is_open(makeup.session):
        raise MakeupError("That session has been cancelled.")
    if makeup.session.starts_at <= now:
        raise MakeupError("That session has already started.")


def accept_makeup(makeup: Makeup, *, by: User, now: datetime | None = None) -> Makeup:
    """Take the offered place at the make-up session atomically and email the family the session for their calendar."""
    now = now or utcnow()
    _check_offer_open(makeup, now=now)
    with unit_of_work():
        _lock_makeup(makeup)
        capacity.take_makeup_place(makeup.session, now=now)
        _check_offer_open(makeup, now=now)
        cap = get_organisation().makeup_cap
        if _count_makeups(makeup.place.booking_id, (MakeupStatus.ACCEPTED,), excluding=makeup) >= cap:
            raise MakeupError(_cap_reached(cap))
        makeup.status = MakeupStatus.ACCEPTED
        makeup.responded_at = now
        _email_family(makeup, "makeup_confirmed", f"Make-up session booked: {makeup.session.course.title}", attach=True)
        audit.record(by, "makeup.accepted", makeup, session_id=makeup.session_id)
    return makeup


def decline_makeup(makeup: Makeup, *, by: User, now: datetime | None = None) -> Makeup:
    """Turn down an offered make-up, so the instructor may offer another."""
    with unit_of_work():
        _lock_makeup(makeup)
        if makeup.status != MakeupStatus.OFFERED:
            raise MakeupError("This offer is no longer open.")
        makeup.status = MakeupStatus.DECLINED
        makeup.responded_at = now or utcnow()
        audit.record(by, "makeup.declined", makeup, session_id=makeup.session_id)
    return makeup


def cancel_makeups_at(sessions: list[CourseSession]) -> int:
    """Cancel the live make-ups at or for the cancelled sessions, freeing their places, and tell each family; the caller commits."""
    ids = [session.id for session in sessions]
    makeups = capacity.release_makeups(or_(Makeup.session_id.in_(ids), Makeup.missed_session_id.in_(ids)))
    for makeup in makeups:
        reason = (
            "That session has been cancelled."
            if makeup.session_id in ids
            else "The session it made up for has been cancelled, so it is no longer needed."
        )
        # Only an accepted make-up among the live ones has a response.
        _email_family(
            makeup,
            "makeup_cancelled",
            f"Make-up session cancelled: {makeup.session.course.title}",
            was_accepted=makeup.responded_at is not None,
            reason=reason,
        )
    return len(makeups)


def tell_makeup_families_of_move(session: CourseSession, *, moved_from: datetime) -> int:
    """Email each family with a make-up booked at the moved session its new time; the caller commits."""
    makeups = db.session.scalars(
        select(Makeup).where(Makeup.session_id == session.id, Makeup.status == MakeupStatus.ACCEPTED)
    ).all()
    for makeup in makeups:
        _email_family(
            makeup, "makeup_moved", f"Make-up session moved: {session.course.title}", attach=True, moved_from=moved_from
        )
    return len(makeups)


def _email_family(
    makeup: Makeup, template: str, subject: str, *, attach: bool = False, was_accepted: bool = False, **context
) -> None:
    """Queue an email about the make-up to the family, with the session for their calendar when it is booked or called off."""
    booking = makeup.place.booking
    email = enqueue_email(
        booking.parent.email,
        template,
        subject=subject,
        booking=booking,
        makeup=makeup,
        child_name=makeup.place.child.first_name if makeup.place.child else "your child",
        booking_url=absolute_url("booking.my_booking", booking_id=booking.id),
        was_accepted=was_accepted,
        **context,
    )
    if attach or was_accepted:
        email.attachments.append(
            calendar_attachment(
                f"makeup-{makeup.session_id}.ics", makeup_calendar(makeup.session, cancelled=was_accepted)
            )
        )

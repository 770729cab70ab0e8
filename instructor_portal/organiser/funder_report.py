"""A funder's report: what one referrer's families took part in over a period, downloaded as an audited PDF.

Completion rule: a place is complete when the child came to at least all but one of the
course's sessions (N-1 of N, and always at least one), make-ups included; only places on
courses whose last session is over are counted, so a course still running never lowers the rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select

from instructor_portal import audit
from instructor_portal.accounts.models import Child, User
from instructor_portal.attendance.models import AttendanceMark, AttendanceStatus
from instructor_portal.booking.capacity import holds_places
from instructor_portal.booking.models import Booking, BookingPlace, Voucher, VoucherKind, VoucherRedemption
from instructor_portal.catalogue.models import CourseSession, SessionStatus, staff_name
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.locks import unit_of_work
from instructor_portal.organisation import get_organisation
from instructor_portal.organiser.funder_pdf import funder_pdf
from instructor_portal.organiser.report_scope import ReportError, ReportFilters, Scope
from instructor_portal.organiser.report_tables import rate
from instructor_portal.teaching.evaluations import evaluation_results

AUDIT_ACTION = "reports.funder_report_downloaded"
ATTENDED = tuple(status for status in AttendanceStatus if status.attended)


@dataclass(frozen=True)
class EvaluationResult:
    """One question of the parents' evaluation, answered anonymously on a scale of 1 to 5."""

    question: str
    responses: int
    average: float


@dataclass(frozen=True)
class FunderPlace:
    """One referred child's place on a course; ``child`` is set only when names were asked for."""

    course: str
    starts: date
    funded: bool
    sessions: int
    attended: int
    finished: bool
    child: str | None = None

    @property
    def completed(self) -> bool:
        return self.finished and self.attended >= max(self.sessions - 1, 1)


@dataclass(frozen=True)
class FunderReport:
    organisation: str
    referrer: str
    date_from: date
    date_to: date
    families: int
    places: list[FunderPlace]
    #: Parents' evaluation results for the courses the referred families came to; none until families have answered.
    evaluations: tuple[EvaluationResult, ...] = field(default=())

    @property
    def places_funded(self) -> int:
        return sum(place.funded for place in self.places)

    @property
    def sessions_attended(self) -> int:
        return sum(place.attended for place in self.places)

    @property
    def finished(self) -> int:
        return sum(place.finished for place in self.places)

    @property
    def completed(self) -> int:
        return sum(place.completed for place in self.places)

    @property
    def completion_rate(self) -> float | None:
        return rate(self.completed, self.finished)


def list_referrers() -> list[str]:
    """Every referrer named on a voucher, for the funder's report to choose from."""
    return list(
        db.session.scalars(select(Voucher.referrer).where(Voucher.referrer != "").distinct().order_by(Voucher.referrer))
    )


def build_funder_report(
    referrer: str, date_from: date, date_to: date, *, names: bool = False, now: datetime | None = None
) -> FunderReport:
    """Gather the referrer's families, places and attendance on the courses starting in the period."""
    now = now or utcnow()
    if referrer not in list_referrers():
        raise ReportError("Choose a referrer from the list.", field="referrer")
    scope = Scope(ReportFilters(date_from, date_to), now=now)
    rows = db.session.execute(
        select(BookingPlace.id, BookingPlace.course_id, Booking.parent_id, Voucher.kind, Child)
        .select_from(VoucherRedemption)
        .join(Voucher, Voucher.id == VoucherRedemption.voucher_id)
        .join(Booking, Booking.id == VoucherRedemption.booking_id)
        .join(BookingPlace, BookingPlace.booking_id == Booking.id)
        .outerjoin(Child, Child.id == BookingPlace.child_id)
        .where(Voucher.referrer == referrer, Booking.course_id.in_(scope.ids()), BookingPlace.live, holds_places(now))
        .order_by(BookingPlace.id)
    ).all()
    place_ids = [row.id for row in rows]
    attended = dict(
        db.session.execute(
            select(AttendanceMark.place_id, func.count(AttendanceMark.id))
            .where(AttendanceMark.place_id.in_(place_ids), AttendanceMark.status.in_(ATTENDED))
            .group_by(AttendanceMark.place_id)
        ).all()
    )
    sessions = {
        course_id: (held, last_end)
        for course_id, held, last_end in db.session.execute(
            select(CourseSession.course_id, func.count(CourseSession.id), func.max(CourseSession.ends_at))
            .where(CourseSession.course_id.in_(scope.ids()), CourseSession.status == SessionStatus.SCHEDULED)
            .group_by(CourseSession.course_id)
        )
    }
    courses = scope.courses
    places = []
    for place_id, course_id, _, kind, child in rows:
        course, (held, last_end) = courses[course_id], sessions.get(course_id, (0, None))
        places.append(
            FunderPlace(
                course=course.title,
                starts=course.starts.date(),
                funded=kind == VoucherKind.FUNDED,
                sessions=held,
                attended=attended.get(place_id, 0),
                finished=last_end is not None and last_end <= now,
                child=_child_name(course, child) if names else None,
            )
        )
    return FunderReport(
        organisation=get_organisation().name,
        referrer=referrer,
        date_from=date_from,
        date_to=date_to,
        families=len({row.parent_id for row in rows}),
        places=places,
        evaluations=_evaluations({row.course_id for row in rows}),
    )


def _evaluations(course_ids: set[int]) -> tuple[EvaluationResult, ...]:
    """The anonymous evaluation scores of the courses the referred families came to (every family's answers on them)."""
    if not course_ids:
        return ()
    results = evaluation_results(course_ids=course_ids)
    return tuple(
        EvaluationResult(question.text, score.responses, score.average)
        for question in results.questions
        if (score := results.overall.scores.get(question.id)) is not None
    )


def _child_name(course, child: Child | None) -> str:
    # The adoptive and foster courses' privacy rule holds here too: a first name and initial only.
    return staff_name(course, child, full=True) if child is not None else "Record removed"


def download_funder_report(
    referrer: str, date_from: date, date_to: date, *, by: User, names: bool, now: datetime | None = None
) -> bytes:
    """Audit the download (who, which referrer and period, whether children's names went out), then make the PDF."""
    report = build_funder_report(referrer, date_from, date_to, names=names, now=now)
    with unit_of_work():
        audit.record(
            by,
            AUDIT_ACTION,
            by,
            referrer=referrer,
            date_from=date_from.isoformat(),
            date_to=date_to.isoformat(),
            children_names=names,
            places=len(report.places),
        )
    return funder_pdf(report)

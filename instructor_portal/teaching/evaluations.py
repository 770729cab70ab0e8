"""Families' evaluations at the end of a course: the questions, the emails, the answers and the results.

After a course's last session each family with a confirmed place is emailed once a signed
link to a short form: a few 1-5 questions the organisers edit, a comment and whether it may
be quoted without their name. One answer per booking, within EVALUATION_WINDOW of the end.
A question reworded is a new question, so every answer keeps the words it answered.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import joinedload

from instructor_portal import audit
from instructor_portal.accounts.models import User
from instructor_portal.booking.models import Booking, BookingPlace, BookingStatus
from instructor_portal.catalogue.models import Course, CourseSession, CourseStatus, SessionStatus
from instructor_portal.clock import utcnow
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db
from instructor_portal.notifications.services import absolute_url, enqueue_email
from instructor_portal.organisation import get_organisation
from instructor_portal.teaching.models import Evaluation, EvaluationAnswer, EvaluationQuestion
from instructor_portal.timezones import local_to_utc

log = logging.getLogger(__name__)

#: How long after the last session a family can still answer.
EVALUATION_WINDOW = timedelta(days=60)
SCORES = range(1, 6)
QUESTION_MIN, QUESTION_MAX = 5, 200
COMMENT_MAX = 2000
#: Asked until an organiser changes them.
DEFAULT_QUESTIONS = (
    "How confident do you feel reading your baby's cues?",
    "How close do you feel to your baby after the course?",
    "How relaxed did you feel in the sessions?",
)
#: The itsdangerous salt: a link signed for anything else never opens an evaluation.
SALT = "course-evaluation"


class EvaluationError(DomainError):
    """An evaluation or a question could not be saved; ``status`` is the HTTP status for the page that says so."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 422):
        super().__init__(message, field=field)
        self.status = status


# --- The questions ----------------------------------------------------------------------------------


def asked_questions() -> list[EvaluationQuestion]:
    """The questions families are asked now, in order; the first time any are needed, the defaults are saved."""
    query = select(EvaluationQuestion).where(EvaluationQuestion.retired_at.is_(None))
    questions = list(db.session.scalars(query.order_by(EvaluationQuestion.position, EvaluationQuestion.id)))
    if not questions and not db.session.scalar(select(exists().where(EvaluationQuestion.id.is_not(None)))):
        questions = [EvaluationQuestion(text=text, position=n) for n, text in enumerate(DEFAULT_QUESTIONS, 1)]
        db.session.add_all(questions)
        db.session.commit()
    return questions


def _question_text(text: str) -> str:
    text = " ".join((text or "").split())
    if len(text) < QUESTION_MIN:
        raise EvaluationError("Write the question families answer from 1 to 5.", field="text")
    if len(text) > QUESTION_MAX:
        raise EvaluationError(f"Keep the question to {QUESTION_MAX} characters or fewer.", field="text")
    return text


def add_question(text: str, *, actor: User) -> EvaluationQuestion:
    """Ask families one more question, after the others."""
    text = _question_text(text)
    last = db.session.scalar(select(func.max(EvaluationQuestion.position))) or 0
    question = EvaluationQuestion(text=text, position=last + 1)
    db.session.add(question)
    audit.record(actor, "evaluation_question.added", question, text=text)
    db.session.commit()
    return question


def _check_asked(question: EvaluationQuestion) -> None:
    if question.retired_at is not None:
        raise EvaluationError("This question is no longer asked, so it cannot be changed.", field="text")


def reword_question(question: EvaluationQuestion, text: str, *, actor: User, now: datetime | None = None):
    """Ask a question in new words from now on; answers given so far stay with the words they answered."""
    _check_asked(question)
    text = _question_text(text)
    if text == question.text:
        return question
    question.retired_at = now or utcnow()
    reworded = EvaluationQuestion(text=text, position=question.position, replaces_id=question.id)
    db.session.add(reworded)
    audit.record(actor, "evaluation_question.reworded", reworded, previous=question.text, text=text)
    db.session.commit()
    return reworded


def retire_question(question: EvaluationQuestion, *, actor: User, now: datetime | None = None) -> None:
    """Stop asking a question; its answers stay in the results."""
    _check_asked(question)
    if len(asked_questions()) <= 1:
        raise EvaluationError("Families must be asked at least one question. Add another before removing this one.")
    question.retired_at = now or utcnow()
    audit.record(actor, "evaluation_question.retired", question, text=question.text)
    db.session.commit()


def get_question(question_id: int) -> EvaluationQuestion | None:
    return db.session.get(EvaluationQuestion, question_id) if 0 < question_id else None


# --- Sending ------------------------------------------------------------------------------------


def _course_end():
    return (
        select(CourseSession.course_id, func.max(CourseSession.ends_at).label("ended_at"))
        .where(CourseSession.status == SessionStatus.SCHEDULED)
        .group_by(CourseSession.course_id)
        .subquery("course_end")
    )


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def evaluation_link(evaluation: Evaluation) -> str:
    return absolute_url("evaluations.answer", token=_serializer().dumps({"evaluation": evaluation.id}))


def send_evaluations(*, now: datetime | None = None) -> int:
    """Email an evaluation to each family with a confirmed place on a course that has ended, once per booking; return how many.

    Safe beside a second worker: the evaluation row (one per booking, unique) is written
    first, so the second worker's copy fails and sends nothing.
    """
    now = now or utcnow()
    ended = _course_end()
    live_place = exists().where(BookingPlace.booking_id == Booking.id, BookingPlace.live)
    sent_already = exists().where(Evaluation.booking_id == Booking.id)
    due = db.session.execute(
        select(Booking.id, Booking.course_id, ended.c.ended_at)
        .join(Course, Course.id == Booking.course_id)
        .join(ended, ended.c.course_id == Course.id)
        .where(
            Course.status == CourseStatus.PUBLISHED,
            ended.c.ended_at <= now,
            ended.c.ended_at > now - EVALUATION_WINDOW,
            Booking.status == BookingStatus.CONFIRMED,
            live_place,
            ~sent_already,
        )
        .order_by(Booking.id)
    ).all()
    db.session.rollback()  # end the read, so each booking's own transaction starts with its write
    if due:
        asked_questions()  # the defaults exist before the first family opens the form
    sent = 0
    for booking_id, course_id, ended_at in due:
        try:
            sent += _send(booking_id, course_id, answer_by=ended_at + EVALUATION_WINDOW, now=now)
        except OperationalError:  # busy; the next run sends it
            db.session.rollback()
            log.warning("Evaluation for booking %s not sent this time", booking_id, exc_info=True)
    return sent


def _send(booking_id: int, course_id: int, *, answer_by: datetime, now: datetime) -> int:
    evaluation = Evaluation(booking_id=booking_id, course_id=course_id, sent_at=now)
    db.session.add(evaluation)
    try:
        db.session.flush()
    except IntegrityError:  # another worker sent this one a moment ago
        db.session.rollback()
        return 0
    booking = db.session.scalars(
        select(Booking).where(Booking.id == booking_id).options(joinedload(Booking.parent), joinedload(Booking.course))
    ).one()
    enqueue_email(
        booking.parent.email,
        "evaluation_request",
        subject=f"How was {booking.course.title}?",
        sent_because=f"your family came to {booking.course.title}",
        parent=booking.parent,
        course=booking.course,
        answer_by=answer_by,
        link=evaluation_link(evaluation),
    )
    db.session.commit()
    return 1


# --- Answering ----------------------------------------------------------------------------------


def open_evaluation(token: str, *, now: datetime | None = None) -> Evaluation:
    """The evaluation a link opens, or EvaluationError (with its page's status) for a forged link, one answered, or one too late."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        data = None
    evaluation_id = data.get("evaluation") if isinstance(data, dict) else None
    evaluation = db.session.get(Evaluation, evaluation_id) if isinstance(evaluation_id, int) else None
    if evaluation is None:
        raise EvaluationError(
            "This link is not one of ours. Please check you copied all of it from the email.", status=404
        )
    if evaluation.answered_at is not None:
        raise EvaluationError("Thank you: this evaluation has already been answered.", status=409)
    ended = db.session.scalar(
        select(func.max(CourseSession.ends_at)).where(
            CourseSession.course_id == evaluation.course_id, CourseSession.status == SessionStatus.SCHEDULED
        )
    )
    if ended is None or (now or utcnow()) > ended + EVALUATION_WINDOW:
        raise EvaluationError(
            f"Sorry, this evaluation has closed: it could be answered for {EVALUATION_WINDOW.days} days after the course.",
            status=410,
        )
    return evaluation


def answer_evaluation(
    token: str,
    *,
    scores: dict[int, int | None],
    comment: str = "",
    may_quote: bool = False,
    now: datetime | None = None,
) -> Evaluation:
    """Save a family's answers, once: ``scores`` maps each asked question's id to a score from 1 to 5."""
    now = now or utcnow()
    evaluation = open_evaluation(token, now=now)
    questions = asked_questions()
    if set(scores) - {question.id for question in questions}:
        raise EvaluationError("The questions changed while you were answering. Please answer the ones below.")
    for question in questions:
        if scores.get(question.id) not in SCORES:
            raise EvaluationError("Choose a number from 1 to 5.", field=f"q{question.id}")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise EvaluationError(f"Keep your comment to {COMMENT_MAX} characters or fewer.", field="comment")
    claimed = db.session.execute(
        update(Evaluation)
        .where(Evaluation.id == evaluation.id, Evaluation.answered_at.is_(None))
        .values(answered_at=now, comment=comment, may_quote=may_quote and bool(comment))
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:  # answered in another tab a moment ago
        db.session.rollback()
        raise EvaluationError("Thank you: this evaluation has already been answered.", status=409)
    db.session.add_all(
        EvaluationAnswer(evaluation_id=evaluation.id, question_id=question.id, score=scores[question.id])
        for question in questions
    )
    db.session.commit()
    db.session.refresh(evaluation)
    return evaluation


# --- Results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    responses: int
    average: float


@dataclass(frozen=True)
class GroupResults:
    """One course's or one instructor's results: evaluations sent and answered, and each question's score."""

    sent: int
    answered: int
    scores: dict[int, Score]


@dataclass(frozen=True)
class Comment:
    """A family's comment, never with their name; ``may_quote`` when they agreed to its being quoted."""

    text: str
    course: Course
    answered_at: datetime
    may_quote: bool


@dataclass
class EvaluationResults:
    #: Every question answered in the selection (reworded ones under their old words), then those asked but unanswered.
    questions: list[EvaluationQuestion] = field(default_factory=list)
    overall: GroupResults = field(default_factory=lambda: GroupResults(0, 0, {}))
    courses: list[tuple[Course, GroupResults]] = field(default_factory=list)
    instructors: list[tuple[User, GroupResults]] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)

    @property
    def quotes(self) -> list[Comment]:
        """The comments families agreed may be quoted anonymously, for reports and funders."""
        return [comment for comment in self.comments if comment.may_quote]


def _selection(
    course_ids, instructor_id: int | None, date_from: date | None, date_to: date | None
) -> list[ColumnElement[bool]]:
    """Evaluations of these courses and instructor, sent between these local dates (both included)."""
    tz = get_organisation().timezone
    where: list[ColumnElement[bool]] = []
    if course_ids is not None:
        where.append(Evaluation.course_id.in_(list(course_ids)))
    if instructor_id is not None:
        where.append(Course.instructor_id == instructor_id)
    if date_from is not None:
        where.append(Evaluation.sent_at >= local_to_utc(date_from, time.min, tz))
    if date_to is not None:
        where.append(Evaluation.sent_at < local_to_utc(date_to + timedelta(days=1), time.min, tz))
    return where


def _grouped(counted: Select, scored: Select, column) -> dict[Any, GroupResults]:
    """The counts and scores of the selection grouped by ``column``; with None, one group (keyed None) for all of it."""
    if column is not None:
        counted, scored = counted.add_columns(column).group_by(column), scored.add_columns(column).group_by(column)
    groups: dict[Any, dict] = defaultdict(lambda: {"sent": 0, "answered": 0, "scores": {}})
    for sent, answers, *key in db.session.execute(counted):
        groups[key[0] if key else None].update(sent=sent, answered=answers)
    for responses, average, question_id, *key in db.session.execute(scored):
        groups[key[0] if key else None]["scores"][question_id] = Score(responses, round(float(average), 2))
    return {key: GroupResults(**values) for key, values in groups.items()}


def evaluation_results(
    *, course_ids=None, instructor_id: int | None = None, date_from: date | None = None, date_to: date | None = None
) -> EvaluationResults:
    """Per-question response counts and average scores overall, per course and per instructor, and the comments.

    A fixed number of grouped queries whatever the number of courses. ``course_ids`` (any
    iterable) and ``instructor_id`` narrow the selection; the dates are the organisation's
    local days on which the evaluations were sent.
    """
    where = _selection(course_ids, instructor_id, date_from, date_to)
    answered = and_(Evaluation.answered_at.is_not(None), *where)
    scored = (
        select(func.count(EvaluationAnswer.id), func.avg(EvaluationAnswer.score), EvaluationAnswer.question_id)
        .join(Evaluation, Evaluation.id == EvaluationAnswer.evaluation_id)
        .join(Course, Course.id == Evaluation.course_id)
        .where(*where)
        .group_by(EvaluationAnswer.question_id)
    )
    counted = (
        select(func.count(Evaluation.id), func.count(Evaluation.answered_at))
        .join(Course, Course.id == Evaluation.course_id)
        .where(*where)
    )
    by_group = {
        name: _grouped(counted, scored, column)
        for name, column in (("overall", None), ("course", Evaluation.course_id), ("instructor", Course.instructor_id))
    }
    overall = by_group["overall"].get(None, GroupResults(0, 0, {}))
    answered_ids = set(overall.scores)
    questions = db.session.scalars(
        select(EvaluationQuestion)
        .where(or_(EvaluationQuestion.id.in_(answered_ids), EvaluationQuestion.retired_at.is_(None)))
        .order_by(EvaluationQuestion.retired_at.is_not(None), EvaluationQuestion.position, EvaluationQuestion.id)
    ).all()
    courses = db.session.scalars(
        select(Course).where(Course.id.in_(by_group["course"])).options(joinedload(Course.sessions))
    ).unique()
    instructors = db.session.scalars(select(User).where(User.id.in_(by_group["instructor"])).order_by(User.full_name))
    comments = db.session.execute(
        select(Evaluation.comment, Evaluation.answered_at, Evaluation.may_quote, Course)
        .join(Course, Course.id == Evaluation.course_id)
        .where(answered, Evaluation.comment != "")
        .order_by(Evaluation.answered_at.desc())
    ).all()
    return EvaluationResults(
        questions=list(questions),
        overall=overall,
        courses=sorted(
            ((course, by_group["course"][course.id]) for course in courses),
            key=lambda pair: pair[0].sessions[-1].ends_at if pair[0].sessions else pair[0].created_at,
            reverse=True,
        ),
        instructors=[(user, by_group["instructor"][user.id]) for user in instructors],
        comments=[Comment(text, course, at, quote) for text, at, quote, course in comments],
    )

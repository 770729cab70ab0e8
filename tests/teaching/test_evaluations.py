"""Families' evaluations: emailed once after the last session, answered once through a signed link, results per course and instructor."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeSerializer

from instructor_portal.accounts.models import Role
from instructor_portal.booking.models import BookingStatus
from instructor_portal.catalogue.models import CourseStatus
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from instructor_portal.teaching import evaluations
from instructor_portal.teaching.models import Evaluation, EvaluationAnswer, EvaluationQuestion
from tests import factories
from tests.conftest import count, post_form, race, text

#: The first of five weekly sessions, five weeks ago, so the last ended about a week ago (pages read the real clock).
START = (datetime.now(UTC) - timedelta(days=35)).replace(hour=10, minute=0, second=0, microsecond=0)
ENDED = START + timedelta(weeks=4, hours=1)


@pytest.fixture
def course(app):
    """A five-week course that has ended, with two confirmed families, a cancelled one and one whose hold lapsed."""
    instructor = factories.make_user(role=Role.INSTRUCTOR, full_name="Hannah Okafor")
    course = factories.make_course(instructor=instructor, first_session=START, title="Spring baby massage")
    for status in (BookingStatus.CONFIRMED, BookingStatus.CONFIRMED, BookingStatus.CANCELLED, BookingStatus.EXPIRED):
        factories.make_booking(
            course, status=status, hold_expires_at=START if status == BookingStatus.EXPIRED else None
        )
    return course


def link_in(email: OutboxEmail) -> str:
    return re.search(r"http://\S+/evaluations/(\S+)", email.body_text).group(1)


def sent_tokens() -> list[str]:
    # In the order they were sent, which is the order of the bookings.
    emails = db.session.scalars(
        db.select(OutboxEmail).where(OutboxEmail.subject.like("How was%")).order_by(OutboxEmail.id)
    ).all()
    return [link_in(email) for email in emails]


def answer_all(token: str, score: int = 4, *, now=None, **kwargs):
    scores = {question.id: score for question in evaluations.asked_questions()}
    return evaluations.answer_evaluation(token, scores=scores, now=now or ENDED + timedelta(days=1), **kwargs)


# --- Sending -------------------------------------------------------------------------------------


def test_families_with_a_confirmed_place_are_emailed_once_after_the_last_session(course):
    assert evaluations.send_evaluations(now=ENDED - timedelta(minutes=1)) == 0
    assert evaluations.send_evaluations(now=ENDED + timedelta(minutes=15)) == 2
    assert evaluations.send_evaluations(now=ENDED + timedelta(minutes=30)) == 0
    emails = db.session.scalars(db.select(OutboxEmail).order_by(OutboxEmail.id)).all()
    assert [email.subject for email in emails] == ["How was Spring baby massage?"] * 2
    assert "do not need to sign in" in emails[0].body_text and "/evaluations/" in emails[0].body_html
    # The defaults are what families are asked until an organiser changes them.
    assert [question.text for question in evaluations.asked_questions()] == list(evaluations.DEFAULT_QUESTIONS)


def test_cancelled_courses_and_courses_long_over_get_no_evaluation(course):
    other = factories.make_course(first_session=START, status=CourseStatus.CANCELLED)
    factories.make_booking(other)
    assert evaluations.send_evaluations(now=ENDED + evaluations.EVALUATION_WINDOW + timedelta(hours=1)) == 0
    assert count(Evaluation) == 0


def test_two_workers_at_once_send_each_family_one_evaluation(app, racing_app, course):
    outcomes = race(racing_app, lambda: evaluations.send_evaluations(now=ENDED + timedelta(hours=1)), [(), ()])
    assert sum(int(outcome) for outcome in outcomes.elements()) == 2, outcomes
    db.session.expire_all()
    assert count(Evaluation) == 2 and count(OutboxEmail) == 2


# --- Answering -----------------------------------------------------------------------------------


def test_an_answer_is_saved_once_and_a_second_is_refused(course):
    evaluations.send_evaluations(now=ENDED)
    token = sent_tokens()[0]
    answered = answer_all(token, 5, comment="  Lovely calm sessions.  ", may_quote=True)
    assert (answered.comment, answered.may_quote) == ("Lovely calm sessions.", True)
    assert count(EvaluationAnswer) == 3
    with pytest.raises(evaluations.EvaluationError, match="already been answered") as refused:
        answer_all(token, 1)
    assert refused.value.status == 409
    assert db.session.scalars(db.select(EvaluationAnswer.score)).all() == [5, 5, 5]


@pytest.mark.parametrize("bad", [0, 6, None, -1])
def test_an_answer_out_of_range_is_refused_and_nothing_is_written(course, bad):
    evaluations.send_evaluations(now=ENDED)
    token = sent_tokens()[0]
    questions = evaluations.asked_questions()
    scores = {question.id: 3 for question in questions} | {questions[1].id: bad}
    with pytest.raises(evaluations.EvaluationError, match="Choose a number from 1 to 5.") as refused:
        evaluations.answer_evaluation(token, scores=scores, now=ENDED)
    assert refused.value.field == f"q{questions[1].id}"
    assert count(EvaluationAnswer) == 0
    assert db.session.scalars(db.select(Evaluation.answered_at)).all() == [None, None]


def test_a_forged_link_or_one_past_the_window_is_refused(app, course):
    evaluations.send_evaluations(now=ENDED)
    token = sent_tokens()[0]
    with pytest.raises(evaluations.EvaluationError, match="not one of ours") as forged:
        evaluations.open_evaluation(token[:-2] + "xx")
    assert forged.value.status == 404
    other_salt = URLSafeSerializer(app.config["SECRET_KEY"], salt="password-reset").dumps({"evaluation": 1})
    with pytest.raises(evaluations.EvaluationError, match="not one of ours"):
        evaluations.open_evaluation(other_salt)
    with pytest.raises(evaluations.EvaluationError, match="has closed") as late:
        answer_all(token, now=ENDED + evaluations.EVALUATION_WINDOW + timedelta(minutes=1))
    assert late.value.status == 410
    assert count(EvaluationAnswer) == 0


def test_a_family_answers_through_the_link_without_signing_in(client, course):
    evaluations.send_evaluations(now=ENDED)
    token = sent_tokens()[0]
    page = client.get(f"/evaluations/{token}")
    assert page.status_code == 200
    assert "How confident do you feel reading your baby" in text(page)
    questions = evaluations.asked_questions()
    answers = {f"q{question.id}": str(score) for question, score in zip(questions, (5, 4, 3), strict=True)}
    response = post_form(client, f"/evaluations/{token}", {**answers, "comment": "We loved it", "may_quote": "y"})
    assert response.status_code == 302
    assert "Thank you for telling us" in text(client.get(response.headers["Location"]))
    assert sorted(db.session.scalars(db.select(EvaluationAnswer.score)).all()) == [3, 4, 5]
    again = client.get(f"/evaluations/{token}")
    assert again.status_code == 409 and "already been answered" in text(again)


@pytest.mark.parametrize(
    ("answers", "message"), [({}, "Choose a number from 1 to 5."), ({"all": "9"}, "Choose a number from 1 to 5.")]
)
def test_a_refused_evaluation_form_says_why_with_422_and_saves_nothing(client, course, answers, message):
    evaluations.send_evaluations(now=ENDED)
    token = sent_tokens()[0]
    data = {f"q{question.id}": answers["all"] for question in evaluations.asked_questions()} if answers else {}
    response = post_form(client, f"/evaluations/{token}", data)
    assert response.status_code == 422 and message in text(response)
    assert count(EvaluationAnswer) == 0


def test_a_forged_link_gets_a_friendly_page(client, course):
    response = client.get("/evaluations/not-a-real-token")
    assert response.status_code == 404 and "not one of ours" in text(response)


# --- Questions and results -----------------------------------------------------------------------


def test_rewording_a_question_keeps_earlier_answers_with_the_old_words(course):
    organiser = factories.make_user(role=Role.ORGANISER)
    evaluations.send_evaluations(now=ENDED)
    first, second = sent_tokens()
    answer_all(first, 2)
    old = evaluations.asked_questions()[0]
    new = evaluations.reword_question(old, "How well do you read your baby's cues now?", actor=organiser)
    assert [question.id for question in evaluations.asked_questions()][0] == new.id
    answer_all(second, 4)
    results = evaluations.evaluation_results()
    assert results.overall.scores[old.id].average == 2.0 and results.overall.scores[new.id].average == 4.0
    texts = [question.text for question in results.questions]
    assert texts[-1] == evaluations.DEFAULT_QUESTIONS[0] and "How well do you read your baby's cues now?" in texts
    assert db.session.get(EvaluationQuestion, old.id).text == evaluations.DEFAULT_QUESTIONS[0]


def test_the_last_question_cannot_be_removed_and_a_blank_question_is_refused(course):
    organiser = factories.make_user(role=Role.ORGANISER)
    questions = evaluations.asked_questions()
    for question in questions[:-1]:
        evaluations.retire_question(question, actor=organiser)
    with pytest.raises(evaluations.EvaluationError, match="at least one question"):
        evaluations.retire_question(questions[-1], actor=organiser)
    with pytest.raises(evaluations.EvaluationError, match="Write the question"):
        evaluations.add_question("  ", actor=organiser)
    assert len(evaluations.asked_questions()) == 1


def test_results_per_course_and_per_instructor_with_only_permitted_quotes(course):
    other = factories.make_course(first_session=START, title="Premature group")
    factories.make_booking(other)
    evaluations.send_evaluations(now=ENDED)
    tokens = sent_tokens()
    answer_all(tokens[0], 5, comment="Calmer evenings.", may_quote=True)
    answer_all(tokens[1], 2, comment="Room was cold.")
    answer_all(tokens[2], 4)
    results = evaluations.evaluation_results()
    question = evaluations.asked_questions()[0]
    assert (results.overall.sent, results.overall.answered) == (3, 3)
    assert results.overall.scores[question.id] == evaluations.Score(responses=3, average=3.67)
    by_course = {course.title: group for course, group in results.courses}
    assert by_course["Spring baby massage"].scores[question.id] == evaluations.Score(2, 3.5)
    assert by_course["Premature group"].scores[question.id] == evaluations.Score(1, 4.0)
    answered = {user.full_name: group.answered for user, group in results.instructors}
    assert answered == {"Hannah Okafor": 2, other.instructor.full_name: 1}
    assert [quote.text for quote in results.quotes] == ["Calmer evenings."]
    assert sorted(comment.text for comment in results.comments) == ["Calmer evenings.", "Room was cold."]
    mine = evaluations.evaluation_results(instructor_id=course.instructor_id)
    assert [c.title for c, _ in mine.courses] == ["Spring baby massage"]
    assert evaluations.evaluation_results(course_ids=[other.id]).overall.answered == 1


def test_the_organiser_edits_questions_and_sees_results_and_the_instructor_sees_their_own(
    client, auth, login_as, course
):
    other = factories.make_course(first_session=START, title="Someone else's course")
    factories.make_booking(other)
    evaluations.send_evaluations(now=ENDED)
    for token in sent_tokens():
        answer_all(token, 4)
    login_as(course.instructor)
    own = text(client.get("/teach/evaluations"))
    assert "Spring baby massage" in own and "Someone else" not in own and "4.0" in own
    auth.logout()
    login_as("organiser")
    page = text(client.get("/organiser/evaluations"))
    assert "Spring baby massage" in page and "Someone else" in page
    assert "Someone else" not in text(client.get(f"/organiser/evaluations?instructor={course.instructor_id}"))
    assert client.get("/organiser/evaluations?instructor=banana").status_code == 200
    question = evaluations.asked_questions()[0]
    refused = post_form(
        client,
        f"/organiser/evaluations/questions/{question.id}",
        {f"q{question.id}-text": ""},
        page="/organiser/evaluations/questions",
    )
    assert refused.status_code == 422 and "Write the question" in text(refused)
    saved = post_form(
        client,
        f"/organiser/evaluations/questions/{question.id}",
        {f"q{question.id}-text": "How sure are you of your baby's cues?"},
        page="/organiser/evaluations/questions",
    )
    assert saved.status_code == 302
    assert "How sure are you of your baby" in text(client.get("/organiser/evaluations/questions"))
    added = post_form(client, "/organiser/evaluations/questions", {"new-text": "Would you recommend the course?"})
    assert added.status_code == 302
    assert len(evaluations.asked_questions()) == 4


def test_the_reports_page_shows_what_parents_said_about_the_courses_it_covers(client, login_as, course):
    factories.make_course(first_session=START - timedelta(days=200), title="Last year's course")
    evaluations.send_evaluations(now=ENDED)
    for token in sent_tokens():
        answer_all(token, 5, comment="We both slept better.")
    login_as("organiser")
    page = text(client.get("/organiser/reports"))
    section = page.split("Parents' evaluations", 1)[1]
    assert "Spring baby massage" in section and "5.0" in section and "We both slept better." in section
    narrowed = text(client.get(f"/organiser/reports?date_from={(START + timedelta(days=1)).date().isoformat()}"))
    assert "We both slept better." not in narrowed and "No evaluations yet" in narrowed


def test_a_family_s_export_holds_their_evaluation_and_erasure_removes_their_words(course):
    from instructor_portal.organiser import family_data

    evaluations.send_evaluations(now=ENDED)
    evaluation = db.session.scalars(db.select(Evaluation).order_by(Evaluation.id)).first()
    answer_all(sent_tokens()[0], 5, comment="Our names are Jo and Sam.", may_quote=True)
    parent = evaluation.booking.parent
    [exported] = family_data.family_data(parent)["evaluations"]
    assert exported["comment"] == "Our names are Jo and Sam." and exported["course"] == "Spring baby massage"
    assert {answer["score"] for answer in exported["answers"]} == {5}
    family_data.erase_family(family_data.request_erasure(parent), by=factories.make_user(role=Role.ORGANISER))
    db.session.refresh(evaluation)
    assert (evaluation.comment, evaluation.may_quote) == ("", False)
    assert evaluations.evaluation_results().overall.answered == 1

"""The organiser's evaluation pages: results per course and per instructor, and the questions families are asked."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from instructor_portal.forms import form_status, show_domain_error
from instructor_portal.organiser.routes import bp
from instructor_portal.organiser.services import list_staff
from instructor_portal.permissions import organiser_required
from instructor_portal.teaching import evaluations
from instructor_portal.teaching.evaluation_forms import QuestionForm


@bp.get("/evaluations")
@organiser_required
def evaluations_page():
    """Show families' evaluations: each question's average per instructor and per course, and the comments."""
    staff = list_staff()
    chosen = request.args.get("instructor", type=int)  # anything but a staff member's id shows everyone
    instructor = next((person for person in staff if person.id == chosen), None)
    return render_template(
        "organiser/evaluations.html",
        results=evaluations.evaluation_results(instructor_id=instructor.id if instructor else None),
        staff=staff,
        instructor=instructor,
    )


def _render_questions(add_form: QuestionForm | None = None, refused: tuple[int, QuestionForm] | None = None):
    questions = evaluations.asked_questions()
    forms = {
        question.id: refused[1]
        if refused and refused[0] == question.id
        else QuestionForm(formdata=None, prefix=f"q{question.id}", data={"text": question.text})
        for question in questions
    }
    return render_template(
        "organiser/evaluation_questions.html",
        questions=questions,
        forms=forms,
        add_form=add_form or QuestionForm(formdata=None, prefix="new"),
    ), form_status()


@bp.get("/evaluations/questions")
@organiser_required
def evaluation_questions():
    """List the questions families are asked at the end of a course, to reword, remove or add to."""
    return _render_questions()


@bp.post("/evaluations/questions")
@organiser_required
def add_evaluation_question():
    """Ask families one more question from now on."""
    form = QuestionForm(prefix="new")
    if form.validate_on_submit():
        try:
            evaluations.add_question(form.text.data, actor=current_user)
        except evaluations.EvaluationError as error:
            show_domain_error(form, error)
        else:
            flash("Question added.", "success")
            return redirect(url_for("organiser.evaluation_questions"))
    return _render_questions(add_form=form)


def _asked(question_id: int):
    question = evaluations.get_question(question_id)
    if question is None or question.retired_at is not None:  # no longer asked, so no longer changed
        abort(404)
    return question


@bp.post("/evaluations/questions/<int:question_id>")
@organiser_required
def reword_evaluation_question(question_id: int):
    """Ask a question in new words from now on; earlier answers keep the words they answered."""
    question = _asked(question_id)
    form = QuestionForm(prefix=f"q{question.id}")
    if form.validate_on_submit():
        try:
            evaluations.reword_question(question, form.text.data, actor=current_user)
        except evaluations.EvaluationError as error:
            show_domain_error(form, error)
        else:
            flash("Question saved. Answers given so far stay with the old words.", "success")
            return redirect(url_for("organiser.evaluation_questions"))
    return _render_questions(refused=(question.id, form))


@bp.post("/evaluations/questions/<int:question_id>/retire")
@organiser_required
def retire_evaluation_question(question_id: int):
    """Stop asking a question; its answers stay in the results."""
    try:
        evaluations.retire_question(_asked(question_id), actor=current_user)
    except evaluations.EvaluationError as error:
        flash(error.message, "error")
    else:
        flash("Question removed. Its answers stay in the results.", "success")
    return redirect(url_for("organiser.evaluation_questions"))

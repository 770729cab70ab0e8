"""The family's evaluation form (/evaluations/<token>, no sign-in needed) and an instructor's own results (/teach/evaluations)."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from instructor_portal.forms import form_status, show_domain_error
from instructor_portal.permissions import instructor_required
from instructor_portal.teaching import evaluations
from instructor_portal.teaching.evaluation_forms import evaluation_form
from instructor_portal.teaching.routes import bp as teaching_bp

bp = Blueprint("evaluations", __name__)


def _closed(error: evaluations.EvaluationError):
    return render_template("teaching/evaluation_closed.html", message=error.message), error.status


@bp.route("/evaluations/<token>", methods=["GET", "POST"])
def answer(token: str):
    """Ask a family the course's evaluation questions, and save their answers once."""
    try:
        evaluation = evaluations.open_evaluation(token)
    except evaluations.EvaluationError as error:
        return _closed(error)
    form = evaluation_form(evaluations.asked_questions())
    if form.validate_on_submit():
        try:
            evaluations.answer_evaluation(
                token, scores=form.scores(), comment=form.comment.data or "", may_quote=form.may_quote.data
            )
        except evaluations.EvaluationError as error:
            if error.status != 422:
                return _closed(error)
            show_domain_error(form, error)
        else:
            flash("Thank you for telling us how the course went.", "success")
            return redirect(url_for("evaluations.thanks"))
    course = evaluation.booking.course
    return render_template("teaching/evaluation_form.html", form=form, course=course), form_status()


@bp.get("/evaluations/thanks")
def thanks():
    """Thank a family for their answers."""
    return render_template("teaching/evaluation_thanks.html")


@teaching_bp.get("/evaluations")
@instructor_required
def evaluations_page():
    """Show what families said of your courses: each question's average and the comments, without names."""
    return render_template(
        "teaching/evaluations.html", results=evaluations.evaluation_results(instructor_id=current_user.id)
    )

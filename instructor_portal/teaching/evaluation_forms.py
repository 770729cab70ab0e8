"""The family's evaluation form (one 1-5 choice per question asked) and the organiser's question form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from instructor_portal.forms import strip_whitespace
from instructor_portal.teaching.evaluations import COMMENT_MAX, QUESTION_MAX, SCORES
from instructor_portal.teaching.models import EvaluationQuestion

SCALE = [SelectChoice(str(n), {1: "1 (not at all)", 5: "5 (very)"}.get(n, str(n))) for n in SCORES]


class EvaluationForm(FlaskForm):
    """Questions are added as fields ``q<id>`` by ``evaluation_form``; the service checks each answer's range."""

    comment = TextAreaField(
        "Anything you would like to tell us (optional)",
        validators=[Length(max=COMMENT_MAX, message=f"Keep your comment to {COMMENT_MAX} characters or fewer.")],
        filters=[strip_whitespace],
    )
    may_quote = BooleanField(
        "You may quote my comment, without my name or my baby's, to people who fund or support these classes"
    )

    def scores(self) -> dict[int, int | None]:
        """Each question's chosen score; None for anything that is not a number, which the service refuses."""
        return {
            int(name[1:]): int(field.data) if str(field.data).isdigit() and len(str(field.data)) < 3 else None
            for name, field in self._fields.items()
            if name.startswith("q") and name[1:].isdigit()
        }

    def question_fields(self) -> list:
        return [field for name, field in self._fields.items() if name.startswith("q") and name[1:].isdigit()]


def evaluation_form(questions: list[EvaluationQuestion], **kwargs) -> EvaluationForm:
    """An evaluation form with a 1-5 choice for each question asked now."""

    class AskedNow(EvaluationForm):
        pass

    for question in questions:
        setattr(
            AskedNow,
            f"q{question.id}",
            RadioField(
                question.text,
                choices=SCALE,
                validators=[InputRequired("Choose a number from 1 to 5.")],
                validate_choice=False,  # the service refuses anything outside 1-5 with the same words
            ),
        )
    return AskedNow(**kwargs)


class QuestionForm(FlaskForm):
    text = StringField(
        "Question",
        validators=[
            DataRequired("Write the question families answer from 1 to 5."),
            Length(max=QUESTION_MAX, message=f"Keep the question to {QUESTION_MAX} characters or fewer."),
        ],
        filters=[strip_whitespace],
        description="Families answer from 1 (not at all) to 5 (very).",
    )

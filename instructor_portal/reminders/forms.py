"""The reminders' forms: a family turning reminders on or off, and confirming a check-in answer."""

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice
from wtforms.validators import InputRequired

CHOOSE = "Choose whether to have reminders."


class ReminderChoiceForm(FlaskForm):
    reminders = RadioField(
        "Reminders",
        choices=[SelectChoice("on", "Email me before each session"), SelectChoice("off", "No reminders")],
        validators=[InputRequired(CHOOSE)],
        invalid_choice_message=CHOOSE,
    )


class CheckInForm(FlaskForm):
    """Only the CSRF token: the answer is in the link's address."""

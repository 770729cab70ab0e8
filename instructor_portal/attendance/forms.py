"""The register's forms: one family's mark at one session, and offering a make-up."""

from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectChoice, TextAreaField
from wtforms.validators import InputRequired, Length

from instructor_portal.attendance.models import NOTE_MAX, AttendanceStatus
from instructor_portal.forms import strip_whitespace


class MarkForm(FlaskForm):
    status = RadioField(
        "Attendance",
        choices=[SelectChoice(status.value, status.label) for status in AttendanceStatus],
        validators=[InputRequired("Choose one of the statuses on the register.")],
        # The service refuses an unknown status with the same sentence as a missing one.
        validate_choice=False,
    )
    note = TextAreaField(
        "Note",
        filters=[strip_whitespace],
        validators=[Length(max=NOTE_MAX, message=f"Keep the note to {NOTE_MAX} characters or fewer.")],
    )



class MakeupOfferForm(FlaskForm):
    session_id = IntegerField("Session", validators=[InputRequired("Choose a session to offer.")])

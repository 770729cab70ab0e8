"""The waiting list's forms: joining for some of one's children and staff removing an entry (an offer is taken up with the booking's own promises)."""

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from instructor_portal.booking.forms import MultiCheckboxField
from instructor_portal.forms import strip_whitespace


class JoinForm(FlaskForm):
    children = MultiCheckboxField("Who is waiting for a place?", coerce=int, validate_choice=False)


class RemoveEntryForm(FlaskForm):
    message = TextAreaField(
        "Message to the family",
        validators=[Length(max=300, message="Keep the message to 300 characters.")],
        filters=[strip_whitespace],
        description="Sent to the family by email, for example that the course is now only for babies born early.",
    )

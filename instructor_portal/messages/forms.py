"""The message form: who gets it, an optional subject and the text; and the preview's hidden copy of it, sent by its Send button."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from instructor_portal.accounts.models import User
from instructor_portal.catalogue.models import Course
from instructor_portal.forms import strip_whitespace
from instructor_portal.handouts.forms import chosen_id
from instructor_portal.messages.services import BODY_MAX, BODY_MISSING, SUBJECT_MAX, SUBJECT_TOO_LONG, default_subject
from instructor_portal.templating import format_datetime


def audience_choices(course: Course) -> list[tuple[str, str]]:
    """The whole course, or one of its sessions still on, labelled with its local date and time."""
    return [("", "Every family booked on the course")] + [
        (str(session.id), f"Only the families at the session on {format_datetime(session.starts_at)}")
        for session in course.scheduled_sessions
    ]


class MessageForm(FlaskForm):
    # The service refuses a session that is not the course's, with its own sentence.
    audience = SelectField("Who gets it", coerce=chosen_id, validate_choice=False)
    subject = StringField(
        "Subject (optional)", validators=[Length(max=SUBJECT_MAX, message=SUBJECT_TOO_LONG)], filters=[strip_whitespace]
    )
    # Its length is the service's to check, counting line breaks as the email will.
    body = TextAreaField(
        "Message",
        validators=[DataRequired(BODY_MISSING)],
        filters=[strip_whitespace],
        description=f"Plain text, up to {BODY_MAX:,} characters. Families can reply to it; replies come to your email address.",
        render_kw={"rows": 10},
    )

    def __init__(self, *args, course: Course, sender: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.audience.choices = audience_choices(course)
        self.subject.description = f"Left blank, it is “{default_subject(course, sender)}”."


class SendForm(MessageForm):
    """The previewed message, carried in hidden fields, with the preview's key and the families it listed."""

    send_key = HiddenField()
    previewed = HiddenField()

    def previewed_ids(self) -> set[int] | None:
        """The parents the preview listed, or None when the form did not say."""
        if not self.previewed.data:
            return None
        return {int(part) for part in self.previewed.data.split(",") if part.isdigit() and len(part) < 10}

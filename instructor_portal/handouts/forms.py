"""Handout forms: details, when families can download it, the file, and attaching from the library."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from instructor_portal.catalogue.models import Course
from instructor_portal.forms import strip_whitespace
from instructor_portal.handouts.models import DESCRIPTION_MAX, TITLE_MAX, Handout, ReleaseRule
from instructor_portal.handouts.services import DESCRIPTION_TOO_LONG, FILE_MISSING, TITLE_MISSING, TITLE_TOO_LONG
from instructor_portal.templating import format_datetime


def chosen_id(value) -> int | None:
    """A select's id: None when nothing is chosen, 0 (no row's id) for anything that is not a number, so the service refuses it."""
    if value in (None, ""):
        return None
    return int(value) if str(value).isdigit() else 0


def session_choices(course: Course, blank: str) -> list[tuple[str, str]]:
    """The course's sessions as choices, labelled with their local date and time."""
    return [("", blank)] + [(str(session.id), format_datetime(session.starts_at)) for session in course.sessions]


class DetailsForm(FlaskForm):
    title = StringField(
        "Title",
        validators=[DataRequired(TITLE_MISSING), Length(max=TITLE_MAX, message=TITLE_TOO_LONG)],
        filters=[strip_whitespace],
        description="For example: Week 3 strokes: tummy and chest.",
    )
    description = TextAreaField(
        "Short description (optional)",
        validators=[Length(max=DESCRIPTION_MAX, message=DESCRIPTION_TOO_LONG)],
        filters=[strip_whitespace],
    )


class FileForm(FlaskForm):
    file = FileField(
        "File",
        validators=[FileRequired(FILE_MISSING)],
        description="A PDF, a PNG, JPEG or WebP image, or a plain-text or Markdown file.",
    )


class ReleaseForm(FlaskForm):
    """Which session a handout belongs to, and when families can download it."""

    session = SelectField("For which session (optional)", coerce=chosen_id, validate_choice=False)
    release_rule = RadioField(
        "When families can download it",
        choices=[SelectChoice(rule.value, rule.label) for rule in ReleaseRule],
        default=ReleaseRule.ON_BOOKING.value,
        validators=[InputRequired("Choose when families can download it.")],
        # The service refuses an unknown rule with the same sentence as a missing one.
        validate_choice=False,
    )
    release_session = SelectField(
        "Session it appears from",
        coerce=chosen_id,
        validate_choice=False,
        description="Only for \u201cfrom the start of a session\u201d; left blank, the session above is used.",
    )

    def __init__(self, *args, course: Course, **kwargs):
        super().__init__(*args, **kwargs)
        self.session.choices = session_choices(course, "The whole course")
        self.release_session.choices = session_choices(course, "Choose a session")

    def release_fields(self) -> dict:
        """The rule and sessions as the service takes them."""
        return {
            "release_rule": self.release_rule.data,
            "session_id": self.session.data,
            "release_session_id": self.release_session.data,
        }

    @staticmethod
    def data_for(handout: Handout) -> dict:
        """The handout's current rule and sessions, to fill the form."""
        return {
            "release_rule": handout.release_rule.value,
            "session": handout.session_id,
            "release_session": handout.release_session_id,
        }


class UploadForm(DetailsForm, FileForm, ReleaseForm):
    """A new handout for a course."""


class LibraryUploadForm(DetailsForm, FileForm):
    """A new standard handout for the organisers' library."""


class EditForm(DetailsForm, ReleaseForm):
    """A course handout's details and release rule."""


class AttachForm(ReleaseForm):
    """A standard handout from the library, put on a course."""

    library_handout = SelectField(
        "Standard handout",
        coerce=chosen_id,
        validate_choice=False,
        validators=[InputRequired("Choose a handout from the library.")],
    )

    def __init__(self, *args, course: Course, library: list[Handout], **kwargs):
        super().__init__(*args, course=course, **kwargs)
        self.library_handout.choices = [("", "Choose a handout")] + [(str(item.id), item.title) for item in library]

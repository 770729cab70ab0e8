"""The register's forms: one family's mark at one session, offering a make-up, and which registers to export."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length

from instructor_portal.accounts.models import User
from instructor_portal.attendance.export_filters import RegisterFilters
from instructor_portal.attendance.models import NOTE_MAX, AttendanceStatus
from instructor_portal.catalogue.forms import course_choices, track_choices
from instructor_portal.catalogue.models import Course, Track, Venue
from instructor_portal.forms import DateRangeFilterForm, strip_whitespace


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


class RegisterFilterForm(DateRangeFilterForm):
    """Which registers to count or export: every choice is from a list, so anything else is refused."""

    course = SelectField("Course", invalid_choice_message="Choose a course from the list.", default="")
    instructor = SelectField("Instructor", invalid_choice_message="Choose an instructor from the list.", default="")
    venue = SelectField("Venue", invalid_choice_message="Choose a venue from the list.", default="")
    track = SelectField(
        "Track", choices=track_choices(), invalid_choice_message="Choose a track from the list.", default=""
    )

    def __init__(
        self, *args: Any, courses: list[Course], instructors: list[User] | None, venues: list[Venue], **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self._courses = {str(course.id): course for course in courses}
        self._instructors = {str(user.id): user for user in instructors or []}
        self._venues = {str(venue.id): venue for venue in venues}
        self.course.choices = course_choices(self._courses)
        self.venue.choices = [
            SelectChoice("", "Any venue"),
            *(SelectChoice(key, venue.name) for key, venue in self._venues.items()),
        ]
        if instructors is None:  # an instructor exports only their own courses
            del self.instructor
        else:
            self.instructor.choices = [
                SelectChoice("", "Any instructor"),
                *(SelectChoice(key, user.full_name) for key, user in self._instructors.items()),
            ]

    def filters(self) -> RegisterFilters:
        """Return the accepted filters as the exports take them, with the chosen rows in place of their ids."""
        values = self.accepted()
        return RegisterFilters(
            date_from=values.get("date_from"),
            date_to=values.get("date_to"),
            course=self._courses.get(values.get("course", "")),
            instructor=self._instructors.get(values.get("instructor", "")),
            venue=self._venues.get(values.get("venue", "")),
            track=Track(values["track"]) if "track" in values else None,
        )


class RegisterExportForm(RegisterFilterForm):
    """The filters again, sent by POST with the CSRF token, and whether to include care notes."""

    class Meta:
        csrf = True

    include_care_notes = BooleanField(
        "Include care notes",
        description="Medical and other notes families gave about their child. Leave unticked unless the file needs them.",
    )

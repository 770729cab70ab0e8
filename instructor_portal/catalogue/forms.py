"""The catalogue's search filters (sent by GET) and the "is my baby old enough?" check (its dates sent by POST, kept in the session)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import SearchField, SelectChoice, SelectField, StringField
from wtforms.validators import AnyOf, Length, Optional, ValidationError

from instructor_portal.catalogue.finder import InstructorFilters
from instructor_portal.catalogue.models import Course, Track
from instructor_portal.catalogue.services import CourseFilters
from instructor_portal.forms import LocalDateField, strip_whitespace
from instructor_portal.organisation import local_today
from instructor_portal.templating import format_date

#: An expectant parent can search by a due date up to about ten months away.
MAX_DAYS_UNTIL_BIRTH = 305
#: A baby is born at most about 24 weeks before (or after) their due date.
MAX_WEEKS_BETWEEN_BIRTH_AND_DUE = 24


def course_label(course: Course) -> str:
    """Name a course in a list by its title and first session, so courses run again can be told apart."""
    sessions = course.scheduled_sessions
    return f"{course.title}, from {format_date(sessions[0].starts_at)}" if sessions else course.title


def course_choices(courses: dict[str, Course]) -> list[SelectChoice]:
    """A course filter's choices: any course, then each by its label."""
    return [
        SelectChoice("", "Any course"),
        *(SelectChoice(key, course_label(course)) for key, course in courses.items()),
    ]


def track_choices(any_label: str = "Any track") -> list[SelectChoice]:
    """A track filter's choices: any track, then each track by its name."""
    return [SelectChoice("", any_label), *(SelectChoice(track.value, track.label) for track in Track)]


def printable(value: str | None) -> str | None:
    """Drop control characters (a NUL byte cannot even be sent to PostgreSQL)."""
    return "".join(character for character in value if character.isprintable()) if isinstance(value, str) else value


def track_filter(label: str, *, any_label: str, refused: str) -> SelectField:
    """A track to filter by, or any; another value is refused with "Choose ``refused`` from the list"."""
    return SelectField(
        label,
        choices=track_choices(any_label),
        validators=[AnyOf(["", *(track.value for track in Track)], f"Choose {refused} from the list.")],
        validate_choice=False,
        default="",
    )


def place_filter(description: str) -> StringField:
    """A town or postcode (or "online") to filter by."""
    return StringField(
        "Town or postcode",
        validators=[Optional(), Length(max=80, message="Use at most 80 characters.")],
        filters=[printable, strip_whitespace],
        description=description,
    )


class ChildAgeForm(FlaskForm):
    """A child's date of birth (or due date) and, for a baby born early, their due date."""

    class Meta:
        csrf = False  # it changes nothing but this visitor's own filters, and cached public pages must not carry one visitor's token

    born = LocalDateField(
        "Your baby's date of birth",
        validators=[Optional()],
        description="Expecting a baby? Enter your due date. We only use this to show suitable courses; it is not saved.",
    )
    due = LocalDateField(
        "Due date, if your baby was born early (optional)",
        validators=[Optional()],
        description="Some courses for babies born early go by corrected age, counted from the due date.",
    )

    def validate_born(self, field: LocalDateField) -> None:
        if field.data is not None and (field.data - local_today()).days > MAX_DAYS_UNTIL_BIRTH:
            raise ValidationError("That date is more than ten months away. Check the year, or enter your due date.")

    def validate_due(self, field: LocalDateField) -> None:
        if field.data is None or self.born.errors:
            return
        if self.born.data is None:
            raise ValidationError("Enter your baby's date of birth as well, or leave the due date empty.")
        if abs((field.data - self.born.data).days) > MAX_WEEKS_BETWEEN_BIRTH_AND_DUE * 7:
            raise ValidationError(
                f"A due date is within {MAX_WEEKS_BETWEEN_BIRTH_AND_DUE} weeks of the date of birth. Check both dates."
            )

    def accepted(self) -> dict[str, Any]:
        """Return the filled-in values that passed validation; a refused birth date drops the due date too."""
        values = {
            name: field.data
            for name, field in self._fields.items()
            if not field.errors and field.data not in (None, "")
        }
        if "born" not in values:
            values.pop("due", None)
        return values

    def child(self) -> tuple[date | None, date | None]:
        """Return the accepted date of birth and due date."""
        values = self.accepted()
        return values.get("born"), values.get("due")

    def query_args(self, *names: str) -> dict[str, str]:
        """Return the accepted values (of ``names``, or all) as query-string values, to carry into links."""
        return {
            name: value.isoformat() if isinstance(value, date) else str(value)
            for name, value in self.accepted().items()
            if not names or name in names
        }


class CourseFilterForm(ChildAgeForm):
    """Search filters for the catalogue; a refused field is shown with its error and ignored."""

    track = track_filter("Type of course", any_label="Any type of course", refused="a type of course")
    date_from = LocalDateField("Starts on or after", [Optional()])
    date_to = LocalDateField("Starts on or before", [Optional()])
    place = place_filter("For example Bristol or BS6. Type online for online courses.")
    q = SearchField(
        "Search",
        validators=[Optional(), Length(max=100, message="Use at most 100 characters.")],
        filters=[printable, strip_whitespace],
        description="Words from the course title, description, venue or instructor.",
    )

    def validate_date_to(self, field: LocalDateField) -> None:
        start = None if self.date_from.errors else self.date_from.data
        if field.data is not None and start is not None and field.data < start:
            raise ValidationError('This date must be on or after the "Starts on or after" date.')

    def filters(self) -> CourseFilters:
        """Return the accepted filters as the search service takes them."""
        values = self.accepted()
        return CourseFilters(
            track=Track(values["track"]) if "track" in values else None,
            born=values.get("born"),
            due=values.get("due"),
            date_from=values.get("date_from"),
            date_to=values.get("date_to"),
            place=values.get("place", ""),
            q=values.get("q", ""),
        )


class InstructorFinderForm(FlaskForm):
    """Find an instructor by town or postcode and by track, sent by GET; a refused field is shown with its error and ignored."""

    class Meta:
        csrf = False  # a GET search that changes nothing, on a page cached for visitors

    place = place_filter("For example Bristol or BS6. Type online for instructors who teach online.")
    track = track_filter("Teaches", any_label="Any kind of class", refused="a kind of class")

    def filters(self) -> InstructorFilters:
        """The accepted filters as the finder takes them."""
        place = "" if self.place.errors else self.place.data or ""
        track = None if self.track.errors or not self.track.data else Track(self.track.data)
        return InstructorFilters(place=place, track=track)

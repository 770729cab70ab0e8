"""The reports' forms: which courses the reports page covers, and which funder's report to download."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField
from wtforms.validators import InputRequired

from instructor_portal.accounts.models import User
from instructor_portal.catalogue.forms import track_choices
from instructor_portal.catalogue.models import Track, Venue
from instructor_portal.forms import DateRangeFilterForm, LocalDateField
from instructor_portal.organiser.report_scope import ReportFilters, default_range


class ReportFilterForm(DateRangeFilterForm):
    """Sent by GET; a blank date takes the report's default, and every other choice is from a list."""

    instructor = SelectField("Instructor", invalid_choice_message="Choose an instructor from the list.", default="")
    venue = SelectField("Venue", invalid_choice_message="Choose a venue from the list.", default="")
    track = SelectField(
        "Track", choices=track_choices(), invalid_choice_message="Choose a track from the list.", default=""
    )

    def __init__(self, *args: Any, instructors: list[User], venues: list[Venue], today: date, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._instructors = {str(user.id): user for user in instructors}
        self._venues = {str(venue.id): venue for venue in venues}
        self.instructor.choices = [
            SelectChoice("", "Any instructor"),
            *(SelectChoice(key, user.full_name) for key, user in self._instructors.items()),
        ]
        self.venue.choices = [
            SelectChoice("", "Any venue"),
            *(SelectChoice(key, venue.name) for key, venue in self._venues.items()),
        ]
        self.defaults = default_range(today)
        self.date_from.description = f"Courses starting on or after this day; blank for {self.defaults[0]:%d/%m/%Y}."
        self.date_to.description = f"Courses starting up to this day; blank for {self.defaults[1]:%d/%m/%Y}."

    def filters(self) -> ReportFilters:
        """The accepted choices as the reports take them; raises ReportError for a range they refuse."""
        values = self.accepted()
        return ReportFilters(
            date_from=values.get("date_from", self.defaults[0]),
            date_to=values.get("date_to", self.defaults[1]),
            instructor=self._instructors.get(values.get("instructor", "")),
            venue=self._venues.get(values.get("venue", "")),
            track=Track(values["track"]) if "track" in values else None,
        )

    def default_filters(self) -> ReportFilters:
        """The report shown while the choices sent are refused: the default range, nothing narrowed."""
        return ReportFilters(*self.defaults)


class FunderReportForm(FlaskForm):
    """One referrer's report for a range of courses, with or without the children's names."""

    referrer = SelectField(
        "Referrer",
        validators=[InputRequired("Choose who referred the families.")],
        invalid_choice_message="Choose a referrer from the list.",
        description="The referrer named on the vouchers families booked with.",
    )
    date_from = LocalDateField(
        "From",
        [InputRequired("Enter the first day of the period.")],
        description="Courses starting on or after this day.",
    )
    date_to = LocalDateField(
        "To", [InputRequired("Enter the last day of the period.")], description="Courses starting up to this day."
    )
    include_names = BooleanField(
        "Include children's names",
        description="Only if the funder needs them. Adoptive and foster courses still show a first name and initial "
        "only. Every download is recorded, with whether it had names.",
    )

    def __init__(self, *args: Any, referrers: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.referrer.choices = [SelectChoice("", "Choose a referrer"), *(SelectChoice(name) for name in referrers)]

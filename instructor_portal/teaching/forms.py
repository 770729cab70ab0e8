"""Course, session and profile forms; each field is checked on its own, the services check the rest."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, SelectChoice, SelectField, StringField, TextAreaField, URLField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, StopValidation

from instructor_portal.accounts.models import User
from instructor_portal.catalogue.models import AgeUnit, Course, CourseSession, Track, Venue
from instructor_portal.forms import (
    Between,
    LocalDateField,
    LocalDateTimeField,
    LocalTimeField,
    PoundsField,
    strip_whitespace,
    whole_number,
)
from instructor_portal.money import to_pence, to_pounds
from instructor_portal.timezones import local_to_utc, to_local

ONLINE = "online"
#: Days before the first session a minimum is decided when the form leaves it blank.
DECISION_DAYS = 3
MINUTES_RANGE = {"low": 5, "high": 600, "out_of_range": "A session lasts between 5 and 600 minutes."}
WEEKS_RANGE = {"low": 1, "high": 52, "out_of_range": "Choose between 1 and 52 weeks."}
NOTE_LENGTH = Length(max=255, message="Keep the note to 255 characters.")


def needed_for_series(message: str):
    """Require a field only when the date of a first session is filled in."""

    def check(form: FlaskForm, field) -> None:
        blank = not (field.raw_data and field.raw_data[0].strip())
        if form.first_day.data is None or blank:
            field.errors.clear()
            raise StopValidation(None if form.first_day.data is None else message)

    return check


def session_minutes(session: CourseSession) -> int:
    """How long a session lasts, in whole minutes."""
    return int((session.ends_at - session.starts_at).total_seconds() // 60)


class CourseForm(FlaskForm):
    """What a course is, who it is for, where it meets, and how families book it."""

    title = StringField(
        "Title", validators=[DataRequired("Give the course a title."), Length(max=120)], filters=[strip_whitespace]
    )
    track = SelectField(
        "Track",
        choices=[SelectChoice(track.value, track.label) for track in Track],
        default=Track.FAMILY.value,
        invalid_choice_message="Choose a track from the list.",
    )
    description = TextAreaField(
        "Description",
        validators=[Length(max=20000)],
        filters=[strip_whitespace],
        description="What families can expect. You can use Markdown: **bold**, *italics*, lists with - and links.",
    )
    what_to_bring = TextAreaField(
        "What to bring",
        validators=[Length(max=5000)],
        filters=[strip_whitespace],
        description="For example a towel, a spare nappy, and whether oil is provided.",
    )
    venue = SelectField(
        "Venue",
        validators=[DataRequired("Choose a venue, or Online.")],
        invalid_choice_message="Choose a venue from the list, or Online.",
    )
    online_link = URLField(
        "Joining link (online courses)",
        validators=[Optional(), Length(max=500)],
        filters=[strip_whitespace],
        description="Only families with a place see this link.",
    )
    places = whole_number(
        "Places",
        low=1,
        high=500,
        out_of_range="Offer between 1 and 500 places.",
        required="Enter the number of places.",
    )
    price = PoundsField(
        "Price per place",
        validators=[
            InputRequired("Enter the price, or 0 for a free course."),
            Between(min=0, max=10000, message="Enter a price from 0 (free) up to 10,000."),
        ],
    )
    sibling_discount_percent = whole_number(
        "Sibling discount (%)",
        low=0,
        high=100,
        out_of_range="Enter a sibling discount from 0 to 100 per cent.",
        required="Enter the sibling discount, or 0 for none.",
        default=0,
        description="Off each place after the first when twins or siblings book together.",
    )
    age_unit = RadioField(
        "Ages are in",
        choices=[SelectChoice(AgeUnit.WEEKS.value, "Weeks"), SelectChoice(AgeUnit.MONTHS.value, "Months")],
        default=AgeUnit.WEEKS.value,
        invalid_choice_message="Choose weeks or months.",
    )
    age_min = whole_number("Youngest age (optional)", low=0, high=999, out_of_range="Enter an age from 0 to 999.")
    age_max = whole_number("Oldest age (optional)", low=0, high=999, out_of_range="Enter an age from 0 to 999.")
    uses_corrected_age = BooleanField(
        "Use corrected age", description="For babies born early, count their age from the due date, not the birth date."
    )
    booking_opens_at = LocalDateTimeField(
        "Booking opens (optional)",
        [Optional()],
        description="Leave blank to open booking as soon as the course is published.",
    )
    booking_closes_at = LocalDateTimeField(
        "Booking closes (optional)",
        [Optional()],
        description="Leave blank to take bookings until the first session starts.",
    )
    cancellation_notice_days = whole_number(
        "Cancellation notice (days)",
        low=0,
        high=365,
        out_of_range="Enter between 0 and 365 days.",
        required="Enter the days of notice, or 0.",
        description="Families who cancel at least this many days before the first session are refunded.",
    )
    min_places = whole_number(
        "Minimum places to run (optional)",
        low=1,
        high=500,
        out_of_range="Enter a minimum from 1 up to the places on offer, or leave it blank.",
        description="If fewer places are booked by the decision day, the course is cancelled and families refunded.",
    )
    decision_days = whole_number(
        "Decide this many days before the first session",
        low=0,
        high=60,
        out_of_range="Enter between 0 and 60 days.",
        default=DECISION_DAYS,
        description="You are emailed two days before, and can choose to run the course anyway.",
    )
    allows_offline_payment = BooleanField(
        "Families may pay at the first session or by bank transfer",
        default=True,
        description="Untick to take card payment only (once card payment is set up).",
    )

    def __init__(self, *args: Any, venues: list[Venue], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._venues = {str(venue.id): venue for venue in venues}
        self.venue.choices = [SelectChoice("", "Choose a venue…"), SelectChoice(ONLINE, "Online")] + [
            SelectChoice(key, f"{venue.name}, {venue.town}") for key, venue in self._venues.items()
        ]

    @staticmethod
    def data_for(course: Course, tz: str) -> dict[str, Any]:
        """The form's starting values for editing ``course``, in local time and pounds."""

        def local(moment: datetime | None) -> datetime | None:
            return None if moment is None else to_local(moment, tz).replace(tzinfo=None)

        return {name: getattr(course, name) for name in AS_STORED} | {
            "track": course.track.value,
            "description": course.description,
            "what_to_bring": course.what_to_bring,
            "venue": ONLINE if course.is_online else str(course.venue_id),
            "online_link": course.online_link,
            "price": to_pounds(course.price_pence),
            "age_unit": course.age_unit.value,
            "booking_opens_at": local(course.booking_opens_at),
            "booking_closes_at": local(course.booking_closes_at),
            "decision_days": course.decision_days,
        }

    def course_fields(self, tz: str) -> dict[str, Any]:
        """The course's fields as teaching.services takes them: pence, UTC, model objects."""
        is_online = self.venue.data == ONLINE
        return {name: getattr(self, name).data for name in AS_STORED} | {
            "track": Track(self.track.data),
            "description": self.description.data or "",
            "what_to_bring": self.what_to_bring.data or "",
            "is_online": is_online,
            "venue": None if is_online else self._venues[self.venue.data],
            "online_link": self.online_link.data or None,
            "price_pence": to_pence(self.price.data),
            "age_unit": AgeUnit(self.age_unit.data),
            "booking_opens_at": self.booking_opens_at.to_utc(tz),
            "booking_closes_at": self.booking_closes_at.to_utc(tz),
            "decision_days": DECISION_DAYS if self.decision_days.data is None else self.decision_days.data,
        }


#: Course fields the form holds exactly as the course stores them; the rest are converted above.
AS_STORED = (
    "title",
    "places",
    "sibling_discount_percent",
    "age_min",
    "age_max",
    "uses_corrected_age",
    "cancellation_notice_days",
    "allows_offline_payment",
    "min_places",
)


class WeeklySeriesFields:
    """A weekly series of sessions; optional unless a form makes the first date required."""

    first_day = LocalDateField("Date of the first session", [Optional()])
    start_time = LocalTimeField("Start time", [needed_for_series("Enter the start time.")])
    minutes = whole_number(
        "Length in minutes", **MINUTES_RANGE, required=needed_for_series("Enter the length in minutes."), default=60
    )
    weeks = whole_number(
        "Number of weeks", **WEEKS_RANGE, required=needed_for_series("Enter the number of weeks."), default=5
    )

    def series_fields(self, tz: str) -> dict[str, Any] | None:
        """The series as teaching.services.add_weekly_sessions takes it, or None when no date was given."""
        if self.first_day.data is None:
            return None
        return {
            "first_day": self.first_day.data,
            "start_time": self.start_time.data,
            "minutes": self.minutes.data,
            "weeks": self.weeks.data,
            "tz": tz,
        }


class NewCourseForm(WeeklySeriesFields, CourseForm):
    """A new course, with who teaches it (organisers only) and its first weekly series."""

    instructor = SelectField("Instructor", coerce=int, invalid_choice_message="Choose an instructor from the list.")

    def __init__(self, *args: Any, teachers: list[User] | None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if teachers is None:
            del self.instructor
        else:
            self._teachers = {teacher.id: teacher for teacher in teachers}
            self.instructor.choices = [SelectChoice(teacher.id, teacher.full_name) for teacher in teachers]

    def chosen_instructor(self, default: User) -> User:
        """The teacher picked in the form, or ``default`` when the form does not ask."""
        return self._teachers[self.instructor.data] if "instructor" in self else default


class WeeklySessionsForm(WeeklySeriesFields, FlaskForm):
    """Add a weekly series of sessions to a course."""

    first_day = LocalDateField("Date of the first session", [InputRequired("Enter the date of the first session.")])


class SessionForm(FlaskForm):
    """One session's date, start time, length and a note for families."""

    day = LocalDateField("Date", [InputRequired("Enter the date.")])
    start_time = LocalTimeField("Start time", [InputRequired("Enter the start time.")])
    minutes = whole_number("Length in minutes", **MINUTES_RANGE, required="Enter the length in minutes.", default=60)
    note = StringField(
        "Note for families (optional)",
        validators=[NOTE_LENGTH],
        filters=[strip_whitespace],
        description="For example why the session moved, or that it is in a different room.",
    )

    @staticmethod
    def data_for(session: CourseSession, tz: str) -> dict[str, Any]:
        """The form's starting values for ``session`` in local time."""
        local = to_local(session.starts_at, tz)
        return {
            "day": local.date(),
            "start_time": local.time(),
            "minutes": session_minutes(session),
            "note": session.note,
        }

    def session_fields(self, tz: str) -> dict[str, Any]:
        """The session as teaching.services.add_session and move_session take it."""
        return {
            "day": self.day.data,
            "start_time": self.start_time.data,
            "minutes": self.minutes.data,
            "tz": tz,
            "note": self.note.data or "",
        }

    def changes_time_of(self, session: CourseSession, tz: str) -> bool:
        """Whether the date, time or length differ from the session's."""
        starts_at = local_to_utc(self.day.data, self.start_time.data, tz)
        return (starts_at, self.minutes.data) != (session.starts_at, session_minutes(session))


class CancelCourseForm(FlaskForm):
    """Why a whole course is cancelled, for the families booked on it."""

    reason = TextAreaField(
        "Why is the course cancelled?",
        validators=[DataRequired("Say why the course is cancelled; families will see it."), Length(max=2000)],
        filters=[strip_whitespace],
    )


class CancelSessionForm(FlaskForm):
    """An optional word for families about a cancelled session."""

    note = StringField(
        "Note for families (optional)",
        validators=[NOTE_LENGTH],
        filters=[strip_whitespace],
        description='For example: "The centre is closed; we will add a session at the end of the course."',
    )


class ProfileForm(FlaskForm):
    """What families see of an instructor in the public directory."""

    bio = TextAreaField(
        "About you",
        validators=[Length(max=5000)],
        filters=[strip_whitespace],
        description="A few friendly sentences for families. You can use Markdown.",
    )
    area = StringField(
        "Where you teach",
        validators=[Length(max=120)],
        filters=[strip_whitespace],
        description='For example "North Bristol and online".',
    )
    qualifications = StringField(
        "Qualifications",
        validators=[Length(max=200)],
        filters=[strip_whitespace],
        description='For example "CIMI (International Association of Infant Massage)".',
    )
    listed = BooleanField("Show me in the public list of instructors", default=True)


class ProfilePhotoForm(FlaskForm):
    """A photo of the instructor for the public profile; the service checks what the file really is."""

    photo = FileField("Photo", description="A friendly, well-lit photo of you: JPEG, PNG or WebP.")

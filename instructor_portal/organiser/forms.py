"""Venue, invitation and organisation settings forms."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, StopValidation

from instructor_portal.accounts.models import Role
from instructor_portal.booking.models import Voucher, VoucherKind
from instructor_portal.catalogue.forms import course_choices, track_choices
from instructor_portal.catalogue.models import Course, Track
from instructor_portal.forms import (
    INVALID_TIME,
    Between,
    LocalDateTimeField,
    LocalTimeField,
    PoundsField,
    strip_whitespace,
    whole_number,
)
from instructor_portal.money import to_pence, to_pounds
from instructor_portal.timezones import to_local


class VenueForm(FlaskForm):
    """Where a venue is and what parents ask before they come."""

    name = StringField(
        "Name", validators=[DataRequired("Enter the venue's name."), Length(max=120)], filters=[strip_whitespace]
    )
    address = StringField(
        "Address",
        validators=[DataRequired("Enter the address."), Length(max=255)],
        filters=[strip_whitespace],
        description='Building and street, for example "Room 2, 14 Park Road".',
    )
    town = StringField(
        "Town or city", validators=[DataRequired("Enter the town or city."), Length(max=80)], filters=[strip_whitespace]
    )
    postcode = StringField(
        "Postcode", validators=[DataRequired("Enter the postcode."), Length(max=20)], filters=[strip_whitespace]
    )
    step_free_access = BooleanField("Step-free access")
    pram_parking = BooleanField("Pram parking")
    baby_changing = BooleanField("Baby-changing facilities")
    travel_notes = TextAreaField(
        "Getting there",
        validators=[Length(max=5000)],
        filters=[strip_whitespace],
        description="Nearest bus stop, parking, and how to find the room.",
    )
    active = BooleanField(
        "In use",
        default=True,
        description="Untick to retire the venue: it stays on past courses but cannot be chosen for new ones.",
    )


class InviteForm(FlaskForm):
    """Someone to invite as an instructor or organiser; they choose their own password."""

    full_name = StringField(
        "Name", validators=[DataRequired("Enter their name."), Length(max=120)], filters=[strip_whitespace]
    )
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter their email address."),
            Email("Enter an email address like name@example.org."),
            Length(max=254),
        ],
        filters=[strip_whitespace],
    )
    role = RadioField(
        "Role",
        choices=[
            SelectChoice(Role.INSTRUCTOR.value, "Instructor: runs their own courses"),
            SelectChoice(Role.ORGANISER.value, "Organiser: manages everything, including people and settings"),
        ],
        default=Role.INSTRUCTOR.value,
        invalid_choice_message="Choose instructor or organiser.",
    )


class SettingsForm(FlaskForm):
    """Every organisation setting, in one place."""

    name = StringField(
        "Organisation name",
        validators=[DataRequired("Enter the organisation's name."), Length(max=120)],
        filters=[strip_whitespace],
    )
    contact_email = EmailField(
        "Contact email (optional)",
        validators=[Optional(), Email("Enter an email address like name@example.org."), Length(max=254)],
        filters=[strip_whitespace],
        description="Shown to families at the foot of every page.",
    )
    contact_phone = TelField("Contact phone (optional)", validators=[Length(max=40)], filters=[strip_whitespace])
    postal_address = TextAreaField(
        "Postal address (optional)",
        validators=[Length(max=500, message="Keep the address to 500 characters.")],
        filters=[strip_whitespace],
        description="Printed on receipts and at the foot of every email.",
    )
    currency = StringField(
        "Currency",
        validators=[DataRequired("Enter the currency code.")],
        filters=[strip_whitespace],
        description="A three-letter code, such as GBP.",
    )
    timezone = SelectField(
        "Time zone",
        choices=[SelectChoice(name) for name in sorted(available_timezones())],
        validate_choice=False,
        description="Session times are entered and shown in this time zone.",
    )
    default_cancellation_notice_days = whole_number(
        "Default cancellation notice (days)",
        low=0,
        high=365,
        out_of_range="Enter between 0 and 365 days.",
        required="Enter the days of notice, or 0.",
        description="New courses start with this; each course can change it.",
    )
    bank_transfer_details = TextAreaField(
        "Bank transfer details",
        validators=[Length(max=2000)],
        filters=[strip_whitespace],
        description="Shown to families who choose to pay by bank transfer.",
    )
    hold_minutes = whole_number(
        "Hold a place awaiting payment for (minutes)",
        low=1,
        high=1440,
        out_of_range="Enter between 1 and 1,440 minutes.",
        required="Enter the number of minutes.",
    )
    waitlist_offer_hours = whole_number(
        "Hold a waiting-list offer for (hours)",
        low=1,
        high=168,
        out_of_range="Enter between 1 and 168 hours (a week).",
        required="Enter the number of hours.",
        description="An offer made less than twice this before the first session lasts half the time left instead.",
    )
    makeup_cap = whole_number(
        "Make-up sessions allowed per booking",
        low=0,
        high=20,
        out_of_range="Enter between 0 and 20.",
        required="Enter the number of make-up sessions, or 0.",
    )
    retention_months = whole_number(
        "Keep children's records after a course ends for (months)",
        low=1,
        high=120,
        out_of_range="Enter between 1 and 120 months.",
        required="Enter the number of months.",
    )
    allow_instructor_refunds = BooleanField(
        "Instructors may refund bookings on their own courses", description="Organisers can always refund any booking."
    )
    corrected_age_cutoff_months = whole_number(
        "Use corrected age for children younger than (months)",
        low=1,
        high=60,
        out_of_range="Enter between 1 and 60 months.",
        required="Enter the number of months.",
    )
    reminder_day_before_at = LocalTimeField(
        "Reminder the day before, at",
        [InputRequired(INVALID_TIME)],
        description="Families are emailed at this time on the day before each session.",
    )
    reminder_morning_at = LocalTimeField(
        "Reminder on the morning, at",
        [InputRequired(INVALID_TIME)],
        description="With the check-in: families say whether they are coming. Not sent to a session that has started by then.",
    )


def needed_for_kind(kind: VoucherKind, message: str):
    """Require a field only for a voucher of ``kind``; for any other kind, ignore whatever it holds."""

    def check(form: FlaskForm, field) -> None:
        blank = not (field.raw_data and field.raw_data[0].strip())
        if form.kind.data != kind.value or blank:
            field.errors.clear()
            raise StopValidation(message if form.kind.data == kind.value else None)

    return check


class VoucherForm(FlaskForm):
    """A code for a discount or a funded place: what it gives, how often, until when, for what, and from whom."""

    code = StringField(
        "Code",
        validators=[
            DataRequired("Enter the code families will type."),
            Length(max=40, message="Keep the code to 40 characters."),
        ],
        filters=[strip_whitespace],
        description="3 to 40 letters, digits or dashes, such as SOUTHMEAD-HV. Families may type it in any case.",
    )
    kind = RadioField(
        "What the code gives",
        choices=[
            SelectChoice(VoucherKind.PERCENT.value, "A percentage off"),
            SelectChoice(VoucherKind.FIXED.value, "An amount off"),
            SelectChoice(VoucherKind.FUNDED.value, "A funded place: the referrer pays, the family pays nothing"),
        ],
        default=VoucherKind.PERCENT.value,
        invalid_choice_message="Choose a percentage off, an amount off or a funded place.",
    )
    percent = whole_number(
        "Percentage off",
        low=1,
        high=100,
        out_of_range="Enter a percentage from 1 to 100.",
        required=needed_for_kind(VoucherKind.PERCENT, "Enter the percentage off, from 1 to 100."),
        description="For a percentage off: a whole number from 1 to 100.",
    )
    amount = PoundsField(
        "Amount off",
        validators=[
            needed_for_kind(VoucherKind.FIXED, "Enter the amount off, such as 10 or 12.50."),
            Between(min=Decimal("0.01"), max=10000, message="Enter an amount from 0.01 up to 10,000."),
        ],
    )
    max_uses = whole_number(
        "Bookings it can be used for (optional)",
        low=1,
        high=100000,
        out_of_range="Enter 1 or more, or leave it blank for no limit.",
        description="Leave blank for no limit. Twins or siblings booked together count as one booking.",
    )
    expires_at = LocalDateTimeField(
        "Expires (optional)", [Optional()], description="Leave blank for a code that does not expire."
    )
    course = SelectField("Only for this course (optional)", invalid_choice_message="Choose a course from the list.")
    track = SelectField(
        "Only for this track (optional)",
        choices=track_choices(),
        invalid_choice_message="Choose a track from the list.",
    )
    referrer = StringField(
        "Referred by (optional)",
        validators=[Length(max=200, message="Keep who referred the family to 200 characters.")],
        filters=[strip_whitespace],
        description='Who gives families this code, for example "Health visitor team, Southmead".',
    )
    active = BooleanField(
        "In use", default=True, description="Untick to switch the code off; bookings already made keep their discount."
    )

    def __init__(self, *args: Any, courses: list[Course], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._courses = {str(course.id): course for course in courses}
        self.course.choices = course_choices(self._courses)

    @staticmethod
    def data_for(voucher: Voucher, tz: str) -> dict[str, Any]:
        """The form's starting values for editing ``voucher``, in local time and pounds."""
        return {
            "code": voucher.code,
            "kind": voucher.kind.value,
            "percent": voucher.value if voucher.kind == VoucherKind.PERCENT else None,
            "amount": to_pounds(voucher.value) if voucher.kind == VoucherKind.FIXED else None,
            "max_uses": voucher.max_uses,
            "expires_at": None if voucher.expires_at is None else to_local(voucher.expires_at, tz).replace(tzinfo=None),
            "course": str(voucher.course_id) if voucher.course_id else "",
            "track": voucher.track.value if voucher.track else "",
            "referrer": voucher.referrer,
            "active": voucher.active,
        }

    def voucher_fields(self, tz: str) -> dict[str, Any]:
        """The voucher as organiser.services takes it: a percentage or pence, UTC, model objects."""
        kind = VoucherKind(self.kind.data)
        if kind == VoucherKind.PERCENT:
            value = self.percent.data
        elif kind == VoucherKind.FIXED:
            value = to_pence(self.amount.data)
        else:
            value = 0
        return {
            "code": self.code.data,
            "kind": kind,
            "value": value,
            "max_uses": self.max_uses.data,
            "expires_at": self.expires_at.to_utc(tz),
            "course": self._courses.get(self.course.data or ""),
            "track": Track(self.track.data) if self.track.data else None,
            "referrer": self.referrer.data or "",
            "active": self.active.data,
        }

"""Venue, invitation and organisation settings forms."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from instructor_portal.accounts.models import Role
from instructor_portal.forms import Between, strip_whitespace

WHOLE_NUMBER = "Enter a whole number."


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
        validators=[
            Optional(),
            Email("Enter an email address like name@example.org."),
            Length(max=254),
        ],
        filters=[strip_whitespace],
        description="Shown to families at the foot of every page.",
    )
    contact_phone = TelField("Contact phone (optional)", validators=[Length(max=40)], filters=[strip_whitespace])
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
    default_cancellation_notice_days = IntegerField(
        "Default cancellation notice (days)",
        validators=[
            InputRequired("Enter the days of notice, or 0."),
            Between(min=0, max=365, message="Enter between 0 and 365 days."),
        ],
        invalid_value_message=WHOLE_NUMBER,
        description="New courses start with this; each course can change it.",
    )
    bank_transfer_details = TextAreaField(
        "Bank transfer details",
        validators=[Length(max=2000)],
        filters=[strip_whitespace],
        description="Shown to families who choose to pay by bank transfer.",
    )
    hold_minutes = IntegerField(
        "Hold a place awaiting payment for (minutes)",
        validators=[
            InputRequired("Enter the number of minutes."),
            Between(min=1, max=1440, message="Enter between 1 and 1,440 minutes."),
        ],
        invalid_value_message=WHOLE_NUMBER,
    )
    makeup_cap = IntegerField(
        "Make-up sessions allowed per booking",
        validators=[
            InputRequired("Enter the number of make-up sessions, or 0."),
            Between(min=0, max=20, message="Enter between 0 and 20."),
        ],
        invalid_value_message=WHOLE_NUMBER,
    )
    retention_months = IntegerField(
        "Keep children's records after a course ends for (months)",
        validators=[
            InputRequired("Enter the number of months."),
            Between(min=1, max=120, message="Enter between 1 and 120 months."),
        ],
        invalid_value_message=WHOLE_NUMBER,
    )
    corrected_age_cutoff_months = IntegerField(
        "Use corrected age for children younger than (months)",
        validators=[
            InputRequired("Enter the number of months."),
            Between(min=1, max=60, message="Enter between 1 and 60 months."),
        ],
        invalid_value_message=WHOLE_NUMBER,
    )

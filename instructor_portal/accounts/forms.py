"""Sign-up, sign-in and password forms."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from instructor_portal.accounts.models import CARE_NOTES_CONSENT
from instructor_portal.forms import LocalDateField, strip_whitespace, whole_number

EMAIL_VALIDATORS = [
    DataRequired("Enter your email address."),
    Email("Enter an email address like name@example.org."),
    Length(max=254),
]


class LoginForm(FlaskForm):
    email = EmailField("Email address", validators=EMAIL_VALIDATORS, filters=[strip_whitespace])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])
    remember = BooleanField("Keep me signed in on this device")


class NewPasswordMixin:
    password = PasswordField(
        "Password",
        validators=[DataRequired("Choose a password.")],
        description="At least 10 characters. A short phrase of three or four words is easy to remember and hard to guess.",
    )
    confirm = PasswordField(
        "Confirm password",
        validators=[DataRequired("Type the password again."), EqualTo("password", "The two passwords do not match.")],
    )


class SignUpForm(NewPasswordMixin, FlaskForm):
    full_name = StringField(
        "Your name", validators=[DataRequired("Enter your name."), Length(max=120)], filters=[strip_whitespace]
    )
    email = EmailField("Email address", validators=EMAIL_VALIDATORS, filters=[strip_whitespace])
    phone = TelField(
        "Phone (optional)",
        validators=[Optional(), Length(max=40)],
        filters=[strip_whitespace],
        description="So your instructor can reach you if a session changes at short notice.",
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Email address", validators=EMAIL_VALIDATORS, filters=[strip_whitespace])


class SetPasswordForm(NewPasswordMixin, FlaskForm):
    pass


class TwoStepForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[DataRequired("Type the code from your app, or a recovery code."), Length(max=20)],
        filters=[strip_whitespace],
        description="The 6 digits your authenticator app shows now, or one of your recovery codes.",
    )


class TwoStepSetupForm(FlaskForm):
    code = StringField(
        "The 6 digits your app shows",
        validators=[DataRequired("Type the 6 digits your app shows."), Length(max=10)],
        filters=[strip_whitespace],
    )


class EraseAccountForm(FlaskForm):
    password = PasswordField("Your password", validators=[DataRequired("Enter your password to confirm.")])
    note = TextAreaField("Anything you would like us to know (optional)", validators=[Optional(), Length(max=2000)])
    confirm = BooleanField(
        "I understand that my bookings still to come will be cancelled, and my family's details deleted.",
        validators=[DataRequired("Tick the box to confirm.")],
    )


def gestation_weeks_field(when: str):
    """The weeks of pregnancy at birth, for a child's form whoever fills it in; ``when`` says when to give it."""
    return whole_number(
        "Or: weeks of pregnancy at birth",
        low=22,
        high=42,
        out_of_range="Weeks of pregnancy at birth must be between 22 and 42.",
        description=f"For example 32 for a baby born at 32 weeks. {when}",
    )


class ChildForm(FlaskForm):
    first_name = StringField(
        "First name",
        validators=[DataRequired("Enter your child's first name."), Length(max=60)],
        filters=[strip_whitespace],
    )
    last_name = StringField(
        "Last name",
        validators=[DataRequired("Enter your child's last name."), Length(max=60)],
        filters=[strip_whitespace],
    )
    date_of_birth = LocalDateField(
        "Date of birth",
        [Optional()],
        description="Leave empty if your baby is not born yet, and give the due date instead.",
    )
    due_date = LocalDateField(
        "Due date (if born early, or not born yet)",
        [Optional()],
        description="For a baby born early we use the due date to work out corrected age.",
    )
    gestation_weeks = gestation_weeks_field("Only if you do not know the due date.")
    care_notes = TextAreaField(
        "Anything your instructor should know about your child's health (optional)",
        validators=[Optional(), Length(max=2000)],
        description="For example prematurity, reflux, a heart condition or recent immunisations. "
        "Only the instructor of a course your child is booked on and the organiser see this.",
    )
    care_notes_consent = BooleanField(CARE_NOTES_CONSENT)
    relationship_to_carer = StringField(
        "Your relationship to the child (optional)",
        validators=[Optional(), Length(max=60)],
        filters=[strip_whitespace],
        description="Only if you would like to say, for example adoptive parent, foster carer or kinship carer.",
    )

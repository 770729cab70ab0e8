"""Sign-up, sign-in and password forms."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField, TelField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from instructor_portal.forms import strip_whitespace

EMAIL_VALIDATORS = [DataRequired("Enter your email address."), Email("Enter an email address like name@example.org."), Length(max=254)]


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

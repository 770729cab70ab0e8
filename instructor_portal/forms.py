"""Form helpers shared by every feature."""

from urllib.parse import urlsplit

from flask import request

from flask_wtf import FlaskForm
from wtforms.validators import NumberRange

from instructor_portal.errors import DomainError


def show_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Attach a service's error to the field it names, or to the form as a whole."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def strip_whitespace(value):
    """Trim surrounding whitespace and drop NUL characters, which PostgreSQL cannot store."""
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


class Between(NumberRange):
    """NumberRange that leaves a value it could not read to the field's own message, so only one shows."""

    def __call__(self, form, field):
        if field.data is not None:
            super().__call__(form, field)


def form_values(form: FlaskForm) -> dict:
    """The form's data without its CSRF token, for a service that takes the fields as keywords."""
    return {name: value for name, value in form.data.items() if name != "csrf_token"}


def is_safe_next(target: str | None) -> bool:
    """Allow only same-site paths as a post-sign-in destination (no open redirects)."""
    if not target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//") and "\\" not in target


def form_status() -> int:
    """A form page shown again after a POST means the input was refused: answer 422, else 200."""
    return 422 if request.method == "POST" else 200

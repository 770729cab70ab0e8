"""Form helpers shared by every feature."""

from urllib.parse import urlsplit

from flask import request

from flask_wtf import FlaskForm

from instructor_portal.errors import DomainError


def show_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Attach a service's error to the field it names, or to the form as a whole."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def strip_whitespace(value):
    return value.strip() if isinstance(value, str) else value


def is_safe_next(target: str | None) -> bool:
    """Allow only same-site paths as a post-sign-in destination (no open redirects)."""
    if not target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//") and "\\" not in target


def form_status() -> int:
    """A form page shown again after a POST means the input was refused: answer 422, else 200."""
    return 422 if request.method == "POST" else 200

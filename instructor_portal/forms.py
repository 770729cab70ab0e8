"""Form helpers shared by every feature."""

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import request
from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, DecimalField, IntegerField, TimeField
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from instructor_portal.errors import DomainError
from instructor_portal.timezones import local_to_utc


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
    return (
        not parts.scheme
        and not parts.netloc
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
    )


def form_status() -> int:
    """A form page shown again after a POST means the input was refused: answer 422, else 200."""
    return 422 if request.method == "POST" else 200


# --- Fields for money, dates and times as people type them ------------------------------------

INVALID_DATE = "Enter a real date, such as 14/03/2027."
INVALID_TIME = "Enter a time such as 10:30, using the 24-hour clock."
INVALID_DATETIME = "Enter a real date and time."
WHOLE_NUMBER = "Enter a whole number."
#: Earliest and latest years anyone means to type; others are slips that would overflow date sums.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2100


def whole_number(
    label: str, *, low: int, high: int, out_of_range: str, required: str | Callable | None = None, **kwargs: Any
) -> IntegerField:
    """A whole-number field from ``low`` to ``high``, with one message for anything that is not a whole number.

    ``required`` is the message for a missing value, or a validator that decides when one is needed;
    None makes the field optional. The range is checked only on a number.
    """
    first = InputRequired(required) if isinstance(required, str) else required or Optional()
    return IntegerField(
        label,
        validators=[first, Between(min=low, max=high, message=out_of_range)],
        invalid_value_message=WHOLE_NUMBER,
        **kwargs,
    )


class PoundsField(DecimalField):
    """An amount in pounds and pence, such as 45 or 45.50, read as a Decimal."""

    def __init__(self, label: str, **kwargs: Any):
        super().__init__(label, invalid_value_message="Enter an amount such as 45 or 45.50.", **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        # Decimal also reads "NaN", "Infinity" and "1.005"; none of them is a price.
        if self.data is not None and (not self.data.is_finite() or self.data.normalize().as_tuple().exponent < -2):
            self.data = None
            raise ValueError(self.invalid_value_message)


class SensibleYear:
    """Refuse years nobody means to type, which would also overflow date sums."""

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and not EARLIEST_YEAR <= self.data.year <= LATEST_YEAR:
            self.data = None
            raise ValueError(self.invalid_value_message)


class LocalDateField(SensibleYear, DateField):
    """A date as the browser's picker sends it (2027-03-14) or as people write it (14/03/2027)."""

    def __init__(self, label: str, validators: list, **kwargs: Any):
        super().__init__(
            label, validators, format=["%Y-%m-%d", "%d/%m/%Y"], invalid_value_message=INVALID_DATE, **kwargs
        )


class LocalTimeField(TimeField):
    """A time on the 24-hour clock, as the browser's picker sends it."""

    def __init__(self, label: str, validators: list, **kwargs: Any):
        super().__init__(label, validators, format=["%H:%M", "%H:%M:%S"], invalid_value_message=INVALID_TIME, **kwargs)


class LocalDateTimeField(SensibleYear, DateTimeLocalField):
    """A date and time as the browser's picker sends it, in the organisation's time zone."""

    def __init__(self, label: str, validators: list, **kwargs: Any):
        super().__init__(
            label,
            validators,
            format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
            invalid_value_message=INVALID_DATETIME,
            **kwargs,
        )

    def to_utc(self, tz: str) -> datetime | None:
        """The typed local time as an aware UTC datetime, or None when left blank."""
        return None if self.data is None else local_to_utc(self.data.date(), self.data.time(), tz)


class DateRangeFilterForm(FlaskForm):
    """Filters sent by GET with an optional range of local days, both ends included."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    date_from = LocalDateField("From", [Optional()])
    date_to = LocalDateField("To", [Optional()])

    def validate_date_to(self, field: LocalDateField) -> None:
        start = None if self.date_from.errors else self.date_from.data
        if field.data is not None and start is not None and field.data < start:
            raise ValidationError('This date must be on or after the "From" date.')

    def accepted(self) -> dict[str, Any]:
        """Return the filled-in values that passed validation."""
        return {
            name: field.data
            for name, field in self._fields.items()
            if not field.errors and field.data not in (None, "")
        }

    def query_args(self) -> dict[str, str]:
        """Return the accepted values as query-string values, to carry into page and download links."""
        return {
            name: value.isoformat() if hasattr(value, "isoformat") else str(value)
            for name, value in self.accepted().items()
        }

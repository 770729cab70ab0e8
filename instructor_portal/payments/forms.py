"""Staff money forms (record a payment, refund) and the organiser's ledger filters."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from instructor_portal.booking.models import Booking, PaymentMethod
from instructor_portal.catalogue.forms import course_choices
from instructor_portal.catalogue.models import Course
from instructor_portal.forms import Between, DateRangeFilterForm, LocalDateField, PoundsField, strip_whitespace
from instructor_portal.money import format_money, to_pence, to_pounds
from instructor_portal.organisation import local_today
from instructor_portal.payments.ledger import LEDGER_METHODS, LedgerFilters
from instructor_portal.payments.models import PaymentStatus
from instructor_portal.payments.services import Refundable

OFFLINE_METHODS = (PaymentMethod.PAY_AT_VENUE, PaymentMethod.BANK_TRANSFER)
MORE_THAN_ZERO = Between(min=Decimal("0.01"), message="Enter an amount of more than 0.")
EXPIRED_FORM = "This form has expired. Please reload the page and try again."


def new_request_key() -> str:
    """Make a fresh one-time key for a money form, so sending the same form twice acts once."""
    return str(uuid.uuid4())


class OneTimeForm(FlaskForm):
    """A form that carries a one-time key: sent twice (a double click, a retry), it acts once."""

    #: Namespaces the key, so a typed key can never match one the app makes itself.
    key_prefix = "form"
    request_key = HiddenField(validators=[InputRequired(EXPIRED_FORM)], default=new_request_key)

    def validate_request_key(self, field: HiddenField) -> None:
        try:
            uuid.UUID(field.data)
        except ValueError:
            raise ValidationError(EXPIRED_FORM) from None

    def new_key(self) -> None:
        """Give the form a fresh key, so trying again after a refusal is a new attempt."""
        self.request_key.data = new_request_key()

    @property
    def idempotency_key(self) -> str:
        return f"{self.key_prefix}-{self.request_key.data}"


class RecordPaymentForm(OneTimeForm):
    """Money received at the first session or by bank transfer."""

    key_prefix = "payment-form"

    amount = PoundsField(
        "Amount received",
        id="payment-amount",
        places=2,
        validators=[InputRequired("Enter the amount received."), MORE_THAN_ZERO],
    )
    method = RadioField(
        "How it was paid",
        choices=[SelectChoice(method.value, method.label) for method in OFFLINE_METHODS],
        invalid_choice_message="Choose pay at the first session or bank transfer.",
    )
    received_on = LocalDateField("Date received", [InputRequired("Enter the date the money arrived.")])
    note = TextAreaField("Note (optional)", validators=[Optional(), Length(max=500)], filters=[strip_whitespace])

    @classmethod
    def for_booking(cls, booking: Booking) -> RecordPaymentForm:
        """Build a blank form proposing what is due, by the way the family chose to pay, received today."""
        method = booking.payment_method if booking.payment_method in OFFLINE_METHODS else PaymentMethod.PAY_AT_VENUE
        return cls(
            formdata=None,
            data={"amount": to_pounds(booking.amount_due_pence), "method": method.value, "received_on": local_today()},
        )

    def validate_received_on(self, field: LocalDateField) -> None:
        if field.data is not None and field.data > local_today():
            raise ValidationError("The date received cannot be in the future.")

    def payment_fields(self) -> dict[str, Any]:
        """Return the payment as payments.services.record_offline_payment takes it."""
        return {
            "amount_pence": to_pence(self.amount.data),
            "method": PaymentMethod(self.method.data),
            "received_on": self.received_on.data,
            "note": self.note.data or "",
        }


class RefundForm(OneTimeForm):
    """Give back part or all of one payment, with a reason the family will see."""

    key_prefix = "refund-form"

    # Any payment id is accepted here; the view checks it belongs to the booking and the
    # service how much is left, so a second send of a full refund still finds its first.
    payment = SelectField(
        "Which payment", coerce=int, validate_choice=False, validators=[InputRequired("Choose a payment.")]
    )
    amount = PoundsField(
        "Amount to refund",
        id="refund-amount",
        places=2,
        validators=[InputRequired("Enter the amount to refund."), MORE_THAN_ZERO],
    )
    reason = TextAreaField(
        "Reason",
        validators=[DataRequired("Say why you are refunding."), Length(max=500)],
        filters=[strip_whitespace],
        description="The family sees this on their booking.",
    )

    def __init__(self, *args: Any, refundable: list[Refundable], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.payment.choices = [
            SelectChoice(
                entry.payment.id,
                f"{entry.payment.method.label}, {format_money(entry.payment.amount_pence, entry.payment.currency)} "
                f"({format_money(entry.left_pence, entry.payment.currency)} left)",
            )
            for entry in refundable
        ]

    @classmethod
    def for_payments(cls, refundable: list[Refundable]) -> RefundForm:
        """Build a blank form for the first refundable payment, proposing all that is left of it."""
        first = refundable[0] if refundable else None
        data = {"payment": first.payment.id, "amount": to_pounds(first.left_pence)} if first else {}
        return cls(formdata=None, data=data, refundable=refundable)

    @property
    def amount_pence(self) -> int:
        return to_pence(self.amount.data)


class LedgerFilterForm(DateRangeFilterForm):
    """The organiser's payment filters, sent by GET; a refused field shows its error and is ignored."""

    status = SelectField(
        "Status",
        choices=[
            SelectChoice("", "Any status"),
            *(SelectChoice(status.value, status.value.capitalize()) for status in PaymentStatus),
        ],
        invalid_choice_message="Choose a status from the list.",
        default="",
    )
    method = SelectField(
        "Method",
        choices=[
            SelectChoice("", "Any method"),
            *(SelectChoice(method.value, method.label) for method in LEDGER_METHODS),
        ],
        invalid_choice_message="Choose a method from the list.",
        default="",
    )
    course = SelectField("Course", invalid_choice_message="Choose a course from the list.", default="")

    def __init__(self, *args: Any, courses: list[Course], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.course.choices = course_choices({str(course.id): course for course in courses})

    def filters(self) -> LedgerFilters:
        """Return the accepted filters as the ledger takes them."""
        values = self.accepted()
        return LedgerFilters(
            date_from=values.get("date_from"),
            date_to=values.get("date_to"),
            status=values.get("status"),
            method=PaymentMethod(values["method"]) if "method" in values else None,
            course_id=int(values["course"]) if "course" in values else None,
        )

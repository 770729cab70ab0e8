"""Booking, payment-choice and cancellation forms."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectMultipleField, TextAreaField
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class BookingForm(FlaskForm):
    children = MultiCheckboxField("Who is coming?", coerce=int, validate_choice=False)
    accept_terms = BooleanField("I have read the course details and agree to the course terms and cancellation policy")
    medical_clearance = BooleanField(
        "My baby's medical team (for example the neonatal team or health visitor) has said my baby is stable enough for massage"
    )
    photo_consent = BooleanField(
        "Photos: the instructor may take photos in class that include my family (optional)",
    )


class PaymentChoiceForm(FlaskForm):
    method = RadioField("How would you like to pay?", choices=[], validate_choice=False)


class CancelBookingForm(FlaskForm):
    reason = TextAreaField("Reason (optional)", validators=[Optional(), Length(max=500)])

"""Booking, payment-choice and cancellation forms."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from instructor_portal.forms import strip_whitespace


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class BookingForm(FlaskForm):
    children = MultiCheckboxField("Who is coming?", coerce=int, validate_choice=False)
    accept_terms = BooleanField("I have read the course details and agree to the course terms and cancellation policy")
    medical_clearance = BooleanField(
        "My baby's medical team (for example the neonatal team or health visitor) has said my baby is stable enough for massage"
    )
    photo_consent = BooleanField("Photos: the instructor may take photos in class that include my family (optional)")
    voucher_code = StringField(
        "Voucher or referral code (optional)",
        validators=[Length(max=40, message="A code is at most 40 characters.")],
        filters=[strip_whitespace],
        description="If your health visitor, children's centre or neonatal team gave you a code, enter it here.",
    )
    #: Show the price of what is chosen, with any discount, without booking yet.
    check_price = SubmitField("Check the price")


class PaymentChoiceForm(FlaskForm):
    method = RadioField("How would you like to pay?", choices=[], validate_choice=False)


class CancelBookingForm(FlaskForm):
    reason = TextAreaField("Reason (optional)", validators=[Optional(), Length(max=500)])

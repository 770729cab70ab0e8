"""The waiting list's forms: joining for some of one's children, taking up an offer, and staff removing an entry."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Length

from instructor_portal.booking.forms import MultiCheckboxField
from instructor_portal.forms import strip_whitespace


class JoinForm(FlaskForm):
    children = MultiCheckboxField("Who is waiting for a place?", coerce=int, validate_choice=False)


class OfferForm(FlaskForm):
    """Taking up an offered place: the booking form's promises, for the children the offer is for."""

    accept_terms = BooleanField("I have read the course details and agree to the course terms and cancellation policy")
    medical_clearance = BooleanField(
        "My baby's medical team (for example the neonatal team or health visitor) has said my baby is stable enough for massage"
    )
    photo_consent = BooleanField("Photos: the instructor may take photos in class that include my family (optional)")
    voucher_code = StringField(
        "Voucher or referral code (optional)",
        validators=[Length(max=40, message="A code is at most 40 characters.")],
        filters=[strip_whitespace],
    )


class RemoveEntryForm(FlaskForm):
    message = TextAreaField(
        "Message to the family",
        validators=[Length(max=300, message="Keep the message to 300 characters.")],
        filters=[strip_whitespace],
        description="Sent to the family by email, for example that the course is now only for babies born early.",
    )

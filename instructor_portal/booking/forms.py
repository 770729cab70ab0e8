"""Booking, payment-choice and cancellation forms."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from instructor_portal.accounts.forms import gestation_weeks_field
from instructor_portal.forms import LocalDateField, strip_whitespace


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class BookingPromisesForm(FlaskForm):
    """What a family agrees to and gives when booking, wherever they book from (a course page, a waiting-list offer)."""

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


class BookingForm(BookingPromisesForm):
    children = MultiCheckboxField("Who is coming?", coerce=int, validate_choice=False)
    #: Show the price of what is chosen, with any discount, without booking yet.
    check_price = SubmitField("Check the price")


class PaymentChoiceForm(FlaskForm):
    method = RadioField("How would you like to pay?", choices=[], validate_choice=False)


class CancelBookingForm(FlaskForm):
    reason = TextAreaField("Reason (optional)", validators=[Optional(), Length(max=500)])


class StaffBookingForm(FlaskForm):
    """Staff booking a place for a family who phoned or walked in; the child's details are checked by accounts."""

    email = EmailField(
        "Parent's or carer's email address",
        validators=[
            DataRequired("Enter the parent's email address."),
            Email("Enter an email address like name@example.org."),
            Length(max=254),
        ],
        filters=[strip_whitespace],
    )
    full_name = StringField(
        "Parent's or carer's name", validators=[Optional(), Length(max=120)], filters=[strip_whitespace]
    )
    phone = TelField("Phone (optional)", validators=[Optional(), Length(max=40)], filters=[strip_whitespace])
    #: The children to book: ids of the family's children, and "new" to add one on this form (twins: tick both).
    child = MultiCheckboxField("Which children?", choices=[], validate_choice=False)
    first_name = StringField("Child's first name", validators=[Optional(), Length(max=60)], filters=[strip_whitespace])
    last_name = StringField("Child's last name", validators=[Optional(), Length(max=60)], filters=[strip_whitespace])
    date_of_birth = LocalDateField(
        "Date of birth", [Optional()], description="Leave empty for a baby not born yet, and give the due date."
    )
    due_date = LocalDateField(
        "Due date (if born early, or not born yet)",
        [Optional()],
        description="For a baby born early the due date gives the corrected age.",
    )
    gestation_weeks = gestation_weeks_field("Only if the family does not know the due date.")
    care_notes = TextAreaField(
        "Anything the instructor should know about the child's health (optional)",
        validators=[Optional(), Length(max=2000)],
        description="For example prematurity, reflux or recent immunisations, as the family told you.",
    )
    care_notes_consent = BooleanField(
        "The family agreed to these notes being kept so the child can be looked after safely in class "
        "(only the course's instructor and the organiser see them; they can withdraw this at any time)"
    )
    payment = RadioField("How will the family pay?", choices=[], validate_choice=False)
    voucher_code = StringField(
        "Voucher or funded code",
        validators=[Length(max=40, message="A code is at most 40 characters.")],
        filters=[strip_whitespace],
        description="Needed for a funded place; a discount code may be used with any way of paying.",
    )
    terms_agreed = BooleanField("The family agreed to the course terms and cancellation policy (by phone or in person)")
    medical_clearance = BooleanField(
        "The family confirmed that their baby's medical team has said the baby is stable enough for massage"
    )
    photo_consent = BooleanField("The family agreed to photos in class that include them (optional)")

"""Staff booking a place for a family who phoned or walked in, through the same atomic path as the family's own booking.

The parent is found by email or given an account (and a link to set a password), a child is
chosen or added, and staff say how the family pays: at the venue, by bank transfer, by a card
link emailed to the parent (a normal hold and the normal pay page) or a funded place (a
funded voucher code). Either all of it is written, in one unit of work, or none of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from instructor_portal import audit
from instructor_portal.accounts import family as accounts_family
from instructor_portal.accounts import services as accounts
from instructor_portal.accounts.models import Child, Role, User
from instructor_portal.booking.emails import email_booking
from instructor_portal.booking.holds import choose_offline_payment, offline_methods
from instructor_portal.booking.models import Booking, BookingStatus, PaymentMethod
from instructor_portal.booking.services import BookingError, book_places
from instructor_portal.catalogue.models import Course
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.locks import unit_of_work
from instructor_portal.notifications.services import absolute_url
from instructor_portal.permissions import can_manage_course


class FamilyPayment(StrEnum):
    """How a family booked by staff pays."""

    PAY_AT_VENUE = "pay_at_venue"
    BANK_TRANSFER = "bank_transfer"
    #: The place is held as usual and the parent is emailed a link to the pay page.
    CARD_LINK = "card_link"
    #: A funded voucher code pays for the whole place.
    FUNDED = "funded"

    @property
    def label(self) -> str:
        return FAMILY_PAYMENT_LABELS[self]


FAMILY_PAYMENT_LABELS = {
    FamilyPayment.PAY_AT_VENUE: "Pay at the first session",
    FamilyPayment.BANK_TRANSFER: "Bank transfer",
    FamilyPayment.CARD_LINK: "Email the parent a link to pay by card",
    FamilyPayment.FUNDED: "Funded place (with a funded code)",
}
OFFLINE = {
    FamilyPayment.PAY_AT_VENUE: PaymentMethod.PAY_AT_VENUE,
    FamilyPayment.BANK_TRANSFER: PaymentMethod.BANK_TRANSFER,
}


@dataclass(frozen=True)
class NewParent:
    """What staff take down about a parent or carer who has no account yet."""

    full_name: str
    phone: str = ""


def payment_choices(course: Course, *, card: bool) -> list[FamilyPayment]:
    """The ways to pay staff may choose for this course; none for a free course, which just confirms.

    ``card`` says whether card payment is set up, so a card link would lead somewhere.
    """
    if course.is_free:
        return []
    choices = [choice for choice, method in OFFLINE.items() if method in offline_methods(course)]
    if card:
        choices.append(FamilyPayment.CARD_LINK)
    return [*choices, FamilyPayment.FUNDED]


def find_family(email: str, *, staff: User) -> User | None:
    """The parent or carer with this email, or None if nobody has it; raise BookingError if staff or switched off.

    An instructor sees a family's details (children, phone) only once the family has booked one
    of their courses; any other family's stay private, and an organiser books for them instead.
    """
    if not email.strip():
        raise BookingError("Enter the parent's email address.", field="email")
    user = db.session.scalars(db.select(User).where(User.email == accounts.normalise_email(email))).first()
    if user is None:
        return None
    if user.role != Role.PARENT:
        raise BookingError(
            "This email belongs to a staff account. Use the parent's or carer's own email address.", field="email"
        )
    if not user.active:
        raise BookingError("This parent's account has been switched off. Ask the organiser.", field="email")
    if staff.role != Role.ORGANISER and not _has_booked_with(user, staff):
        raise BookingError(
            "This family already has an account, and its details stay private until they book one of your courses. "
            "Ask them to book online, or ask an organiser to book for them.",
            field="email",
        )
    return user


def look_up_family(email: str, *, staff: User) -> User | None:
    """find_family for the booking page, which shows the family's children and phone: each showing is audited."""
    family = find_family(email, staff=staff)
    if family is not None:
        audit.record(staff, "family.looked_up", family, purpose="booking for the family")
        db.session.commit()
    return family


def _has_booked_with(parent: User, instructor: User) -> bool:
    return (
        db.session.scalar(
            db.select(Booking.id)
            .join(Course, Course.id == Booking.course_id)
            .where(Booking.parent_id == parent.id, Course.instructor_id == instructor.id)
            .limit(1)
        )
        is not None
    )


def book_for_family(
    staff: User,
    course: Course,
    *,
    email: str,
    new_parent: NewParent | None = None,
    child_ids: list[int] | tuple[int, ...] = (),
    new_child: accounts_family.ChildDetails | None = None,
    payment: FamilyPayment | None,
    terms_agreed: bool,
    medical_clearance: bool = False,
    photo_consent: bool = False,
    voucher_code: str = "",
    card: bool = True,
    now: datetime | None = None,
) -> Booking:
    """Book places for a family's children on their behalf (twins together), atomically, with the same rules as their own booking.

    ``terms_agreed`` is staff confirming that the family agreed to the course terms by phone or in
    person. Any refusal raises BookingError naming its field and writes nothing: not the parent,
    not the child, not the booking, not an email.
    """
    now = now or utcnow()
    if staff.role not in (Role.INSTRUCTOR, Role.ORGANISER) or not can_manage_course(staff, course):
        raise BookingError("Only the course's instructor or an organiser can book for a family.")
    if not course.is_free:
        if payment is None:
            raise BookingError("Choose how the family will pay.", field="payment")
        if payment not in payment_choices(course, card=card):
            raise BookingError("That way of paying is not offered for this course.", field="payment")
        if payment == FamilyPayment.FUNDED and not voucher_code.strip():
            raise BookingError("Enter the funded code the family was given.", field="voucher_code")
    if not terms_agreed:
        raise BookingError("Confirm that the family agreed to the course terms.", field="terms_agreed")
    if not child_ids and new_child is None:
        raise BookingError("Choose one of the family's children, or add a child.", field="child")
    with unit_of_work():
        parent = find_family(email, staff=staff)
        created = parent is None
        try:
            if parent is None:
                if new_parent is None:
                    raise BookingError(
                        "Nobody has an account with this email yet: enter the parent's name to make one.",
                        field="full_name",
                    )
                parent = accounts.invite_parent(
                    full_name=new_parent.full_name, email=email, phone=new_parent.phone, invited_by=staff
                )
            children = _children(parent, child_ids, new_child, today=now.date())
        except accounts.AccountError as error:
            raise BookingError(error.message, field=error.field) from None
        db.session.flush()  # the booking checks the new child belongs to the parent, by id
        try:
            booking = book_places(
                parent,
                course,
                children,
                accept_terms=True,
                medical_clearance=medical_clearance,
                photo_consent=photo_consent,
                voucher_code=voucher_code,
                now=now,
                actor=staff,
            )
        except BookingError as error:
            if error.field != "children":
                raise
            raise BookingError(error.message, field="child") from None
        _settle(booking, payment, staff=staff, now=now)
        audit.record(
            staff,
            "booking.made_by_staff",
            booking,
            parent_id=parent.id,
            parent_created=created,
            child_added=new_child is not None,
            payment=payment.value if payment else "free",
            terms_agreed_with_staff=True,
        )
    return booking


def _children(
    parent: User, child_ids: list[int] | tuple[int, ...], details: accounts_family.ChildDetails | None, *, today
) -> list[Child]:
    children = [db.session.get(Child, child_id) for child_id in dict.fromkeys(child_ids)]
    if any(child is None or child.parent_id != parent.id for child in children):
        raise BookingError("Choose one of this family's children.", field="child")
    if details is not None:
        children.append(accounts_family.new_child(parent, details, today=today, by_staff=True))
    return children


def _settle(booking: Booking, payment: FamilyPayment | None, *, staff: User, now: datetime) -> None:
    if booking.status == BookingStatus.CONFIRMED:  # free, or nothing left to pay after a code
        return
    if payment == FamilyPayment.FUNDED:
        raise BookingError(
            "That code does not pay for the whole place. Choose another way to pay, or check the code.",
            field="voucher_code",
        )
    if payment in OFFLINE:
        choose_offline_payment(booking, OFFLINE[payment], now=now, actor=staff)
        return
    email_booking(
        booking,
        "booking_pay_link",
        f"Your place is held: pay for {booking.course.title}",
        pay_url=absolute_url("booking.pay", booking_id=booking.id),
        new_account=booking.parent.password_hash is None,
    )

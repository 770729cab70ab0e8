"""Staff booking a place for a family who phoned or walked in, through the normal booking path."""

from datetime import date, timedelta

import pytest
from flask import g

from instructor_portal.accounts.family import ChildDetails
from instructor_portal.accounts.models import Child, Role, User
from instructor_portal.accounts.services import user_for_token
from instructor_portal.audit import AuditEntry
from instructor_portal.booking.models import Booking, BookingStatus, PaymentMethod, VoucherKind
from instructor_portal.booking.services import BookingError
from instructor_portal.booking.staff_bookings import (
    FamilyPayment,
    NewParent,
    book_for_family,
    find_family,
    payment_choices,
)
from instructor_portal.catalogue.models import CourseStatus, Track
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from instructor_portal.organisation import DEFAULTS, Organisation
from tests import factories
from tests.conftest import count

TWELVE_WEEKS_AGO = date.today() - timedelta(weeks=12)


@pytest.fixture
def instructor(app):
    return factories.make_user(role=Role.INSTRUCTOR)


@pytest.fixture
def course(instructor):
    return factories.make_course(instructor=instructor)


def emails() -> list[OutboxEmail]:
    return db.session.scalars(db.select(OutboxEmail).order_by(OutboxEmail.id)).all()


def new_baby(**changes) -> ChildDetails:
    return ChildDetails(
        **{"first_name": "Maya", "last_name": "Jones", "date_of_birth": TWELVE_WEEKS_AGO, "due_date": None, **changes}
    )


def returning_child(instructor: User) -> Child:
    """A child whose family booked with this instructor before (a course now cancelled), so the instructor may see them."""
    child = factories.make_child()
    earlier = factories.make_course(instructor=instructor, status=CourseStatus.CANCELLED)
    factories.make_booking(earlier, [child], status=BookingStatus.CANCELLED)
    return child


def nothing_written(*, children: int = 0, bookings: int = 0) -> bool:
    return (count(Booking), count(OutboxEmail), count(Child), count(AuditEntry)) == (bookings, 0, children, 0)


def test_an_existing_parent_paying_at_the_venue_is_confirmed_and_audited_as_made_by_staff(instructor, course):
    child = returning_child(instructor)
    booking = book_for_family(
        instructor,
        course,
        email=child.parent.email.upper(),
        child_ids=[child.id],
        payment=FamilyPayment.PAY_AT_VENUE,
        terms_agreed=True,
    )
    assert booking.parent == child.parent
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.payment_method == PaymentMethod.PAY_AT_VENUE
    assert booking.terms_accepted_at is not None
    entries = {
        e.action: e for e in db.session.scalars(db.select(AuditEntry).where(AuditEntry.subject_id == booking.id))
    }
    assert {"booking.created", "booking.confirmed", "booking.made_by_staff"} <= set(entries)
    assert all(entries[action].actor_id == instructor.id for action in entries)
    assert entries["booking.made_by_staff"].data["terms_agreed_with_staff"] is True
    [email] = emails()
    assert email.to_address == child.parent.email
    assert "Your place is confirmed" in email.subject
    assert "pay at the first session" in email.body_text


def test_a_new_parent_and_child_are_made_and_the_parent_can_set_a_password(instructor, course):
    booking = book_for_family(
        instructor,
        course,
        email="Walk.In@Example.org",
        new_parent=NewParent("Sam Walkin", "07700 900123"),
        new_child=new_baby(),
        payment=FamilyPayment.PAY_AT_VENUE,
        terms_agreed=True,
    )
    parent = booking.parent
    assert (parent.email, parent.role, parent.phone, parent.password_hash) == (
        "walk.in@example.org",
        Role.PARENT,
        "07700 900123",
        None,
    )
    assert [c.first_name for c in parent.children] == ["Maya"]
    invitation, confirmation = emails()
    assert invitation.to_address == confirmation.to_address == "walk.in@example.org"
    assert "made you an account" in invitation.body_text
    token = invitation.body_text.split("/welcome/")[1].split()[0]
    assert user_for_token(token, "invitation") == parent


def test_a_card_link_holds_the_place_and_emails_the_pay_page(instructor, course):
    child = returning_child(instructor)
    booking = book_for_family(
        instructor,
        course,
        email=child.parent.email,
        child_ids=[child.id],
        payment=FamilyPayment.CARD_LINK,
        terms_agreed=True,
    )
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    assert booking.hold_expires_at is not None
    [email] = emails()
    assert f"/bookings/{booking.id}/pay" in email.body_text
    assert "£45.00" in email.body_text


def test_a_funded_place_needs_a_funded_code_and_is_confirmed_with_it(instructor, course):
    child = returning_child(instructor)
    factories.make_voucher(code="NEONATAL", kind=VoucherKind.FUNDED, value=0)
    factories.make_voucher(code="TENOFF")
    common = dict(email=child.parent.email, child_ids=[child.id], payment=FamilyPayment.FUNDED, terms_agreed=True)
    with pytest.raises(BookingError) as missing:
        book_for_family(instructor, course, **common)
    assert missing.value.field == "voucher_code"
    with pytest.raises(BookingError, match="does not pay for the whole place") as partial:
        book_for_family(instructor, course, voucher_code="TENOFF", **common)
    assert partial.value.field == "voucher_code"
    assert nothing_written(children=1, bookings=1)  # the family's earlier booking only
    booking = book_for_family(instructor, course, voucher_code="neonatal", **common)
    assert (booking.status, booking.payment_method, booking.amount_pence) == (
        BookingStatus.CONFIRMED,
        PaymentMethod.FUNDED,
        0,
    )


def test_a_free_course_just_confirms(instructor):
    free = factories.make_course(instructor=instructor, price_pence=0)
    child = returning_child(instructor)
    booking = book_for_family(
        instructor, free, email=child.parent.email, child_ids=[child.id], payment=None, terms_agreed=True
    )
    assert (booking.status, booking.payment_method) == (BookingStatus.CONFIRMED, PaymentMethod.FREE)


def test_payment_choices_follow_the_course_and_the_organisation(instructor, course):
    assert payment_choices(course, card=True) == [
        FamilyPayment.PAY_AT_VENUE,
        FamilyPayment.CARD_LINK,
        FamilyPayment.FUNDED,
    ]
    assert payment_choices(factories.make_course(price_pence=0), card=True) == []
    card_only = factories.make_course(instructor=instructor, allows_offline_payment=False)
    assert payment_choices(card_only, card=False) == [FamilyPayment.FUNDED]
    db.session.add(Organisation(**{**DEFAULTS, "bank_transfer_details": "Sort code 12-34-56, account 12345678"}))
    db.session.commit()
    g.pop("organisation", None)
    assert FamilyPayment.BANK_TRANSFER in payment_choices(course, card=False)
    child = factories.make_child()
    with pytest.raises(BookingError, match="not offered") as refused:
        book_for_family(
            instructor,
            card_only,
            email=child.parent.email,
            child_ids=[child.id],
            payment=FamilyPayment.PAY_AT_VENUE,
            terms_agreed=True,
            card=False,
        )
    assert refused.value.field == "payment"


def refusal(staff, course, **changes):
    """Book with one thing wrong; return the refusal after checking nothing was written."""
    users_before = count(User)
    values = dict(
        email="new.family@example.org",
        new_parent=NewParent("New Family"),
        new_child=new_baby(),
        payment=FamilyPayment.PAY_AT_VENUE,
        terms_agreed=True,
    )
    with pytest.raises(BookingError) as caught:
        book_for_family(staff, course, **{**values, **changes})
    db.session.expire_all()
    assert nothing_written()
    assert count(User) == users_before
    return caught.value


def test_refusals_name_their_field_and_write_nothing(instructor, course):
    staff_member = factories.make_user(role=Role.ORGANISER)
    assert refusal(instructor, course, email=staff_member.email).field == "email"
    assert refusal(instructor, course, terms_agreed=False).field == "terms_agreed"
    assert refusal(instructor, course, payment=None).field == "payment"
    assert refusal(instructor, course, new_parent=None).field == "full_name"
    assert refusal(instructor, course, new_parent=NewParent("  ")).field == "full_name"
    assert refusal(instructor, course, new_child=new_baby(first_name="")).field == "first_name"
    born_later = new_baby(date_of_birth=date.today() + timedelta(days=3))
    assert refusal(instructor, course, new_child=born_later).field == "date_of_birth"
    too_old = new_baby(date_of_birth=date.today() - timedelta(weeks=60))
    error = refusal(instructor, course, new_child=too_old)
    assert (error.field, error.message.startswith("Maya:")) == ("child", True)


def test_a_full_course_an_already_booked_child_and_a_stranger_child_are_refused(instructor, course):
    child = factories.make_child()
    factories.make_booking(course, [child])
    common = dict(email=child.parent.email, payment=FamilyPayment.PAY_AT_VENUE, terms_agreed=True)
    with pytest.raises(BookingError, match="already has a place") as booked:
        book_for_family(instructor, course, child_ids=[child.id], **common)
    assert booked.value.field == "child"
    stranger = factories.make_child()
    with pytest.raises(BookingError, match="this family's children") as other:
        book_for_family(instructor, course, child_ids=[stranger.id], **common)
    assert other.value.field == "child"
    full = factories.make_course(instructor=instructor, places=1)
    factories.make_booking(full)
    before = count(Booking)
    with pytest.raises(BookingError, match="full"):
        book_for_family(instructor, full, new_child=new_baby(), **common)
    assert count(Booking) == before and len(child.parent.children) == 1


def test_premature_course_needs_the_medical_go_ahead_and_judges_corrected_age(instructor):
    premature = factories.make_course(
        instructor=instructor, track=Track.PREMATURE, uses_corrected_age=True, age_min=6, age_max=52
    )
    # Born 10 weeks ago, 8 weeks early: 2 weeks corrected, too young for a course from 6 weeks.
    early = new_baby(date_of_birth=date.today() - timedelta(weeks=10), due_date=date.today() - timedelta(weeks=2))
    values = dict(email="early@example.org", new_parent=NewParent("Early Parent"), payment=FamilyPayment.PAY_AT_VENUE)
    error = refusal(instructor, premature, new_child=new_baby(), **{k: v for k, v in values.items() if k != "email"})
    assert error.field == "medical_clearance"
    with pytest.raises(BookingError) as young:
        book_for_family(instructor, premature, new_child=early, terms_agreed=True, medical_clearance=True, **values)
    assert young.value.field == "child"
    assert nothing_written()


def test_an_instructor_cannot_book_on_someone_elses_course(course):
    other = factories.make_user(role=Role.INSTRUCTOR)
    child = factories.make_child()
    with pytest.raises(BookingError, match="instructor or an organiser"):
        book_for_family(
            other,
            course,
            email=child.parent.email,
            child_ids=[child.id],
            payment=FamilyPayment.PAY_AT_VENUE,
            terms_agreed=True,
        )
    organiser = factories.make_user(role=Role.ORGANISER)
    booking = book_for_family(
        organiser,
        course,
        email=child.parent.email,
        child_ids=[child.id],
        payment=FamilyPayment.PAY_AT_VENUE,
        terms_agreed=True,
    )
    assert booking.status == BookingStatus.CONFIRMED


def test_an_instructor_sees_only_families_who_booked_with_them_and_an_organiser_any(instructor, course):
    stranger = factories.make_child()
    with pytest.raises(BookingError, match="details stay private"):
        find_family(stranger.parent.email, staff=instructor)
    with pytest.raises(BookingError, match="details stay private"):
        book_for_family(
            instructor,
            course,
            email=stranger.parent.email,
            child_ids=[stranger.id],
            payment=FamilyPayment.PAY_AT_VENUE,
            terms_agreed=True,
        )
    assert nothing_written(children=1)
    assert find_family(stranger.parent.email, staff=factories.make_user(role=Role.ORGANISER)) == stranger.parent
    returning = returning_child(instructor)
    assert find_family(returning.parent.email, staff=instructor) == returning.parent


def test_twins_are_booked_together_with_the_sibling_discount(instructor):
    course = factories.make_course(instructor=instructor, price_pence=5000, sibling_discount_percent=10)
    twin = returning_child(instructor)
    booking = book_for_family(
        instructor,
        course,
        email=twin.parent.email,
        child_ids=[twin.id],
        new_child=new_baby(first_name="Leo"),
        payment=FamilyPayment.PAY_AT_VENUE,
        terms_agreed=True,
    )
    assert sorted(child.first_name for child in booking.children) == sorted([twin.first_name, "Leo"])
    assert booking.amount_pence == 5000 + 4500

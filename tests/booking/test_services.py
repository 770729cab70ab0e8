from datetime import UTC, datetime, timedelta

import pytest

from instructor_portal.accounts.models import Role
from instructor_portal.booking import cancellation, holds, rules, services
from instructor_portal.booking.models import Booking, BookingStatus, PaymentMethod
from instructor_portal.catalogue.models import CourseStatus, Track
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from instructor_portal.organisation import DEFAULTS, Organisation
from tests import factories

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FIRST = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)  # a Monday, two weeks after NOW


def course(**overrides):
    return factories.make_course(first_session=FIRST, **overrides)


def baby(parent=None, *, weeks_old_at_first=12, **kwargs):
    return factories.make_child(parent, born=FIRST.date() - timedelta(weeks=weeks_old_at_first), **kwargs)


def book(parent, course_, children, **kwargs):
    kwargs.setdefault("accept_terms", True)
    kwargs.setdefault("now", NOW)
    return services.book_places(parent, course_, children, **kwargs)


def outbox():
    return db.session.scalars(db.select(OutboxEmail).order_by(OutboxEmail.id)).all()


def test_a_free_course_is_confirmed_at_once_with_calendar_attached(app):
    free = course(price_pence=0, places=4)
    child = baby()
    booking = book(child.parent, free, [child])
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.payment_method == PaymentMethod.FREE
    assert rules.places_left(free, now=NOW) == 3
    [email] = outbox()
    assert email.to_address == child.parent.email
    assert email.subject.startswith("Your place is confirmed")
    assert booking.reference in email.body_text
    [attachment] = email.attachments
    ics = attachment.content.decode()
    assert attachment.content_type == "text/calendar"
    assert ics.count("BEGIN:VEVENT") == 5
    assert "TZID:Europe/London" in ics
    assert "DTSTART;TZID=Europe/London:20260316T100000" in ics  # GMT in March before the clocks change


def test_a_paid_course_holds_the_place_for_the_hold_time(app):
    paid = course(places=2, price_pence=4500)
    child = baby()
    booking = book(child.parent, paid, [child])
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    assert booking.hold_expires_at == NOW + timedelta(minutes=DEFAULTS["hold_minutes"])
    assert booking.amount_pence == 4500
    assert rules.places_left(paid, now=NOW) == 1
    assert outbox() == []


def test_hold_time_is_an_organisation_setting(app):
    db.session.add(Organisation(**{**DEFAULTS, "hold_minutes": 40}))
    db.session.commit()
    child = baby()
    booking = book(child.parent, course(), [child])
    assert booking.hold_expires_at == NOW + timedelta(minutes=40)


def test_expired_holds_never_count_even_before_they_are_released(app):
    paid = course(places=1)
    first = baby()
    book(first.parent, paid, [first])
    later = NOW + timedelta(minutes=16)
    assert rules.places_left(paid, now=later) == 1
    second = baby()
    assert book(second.parent, paid, [second], now=later).status == BookingStatus.AWAITING_PAYMENT
    assert (
        db.session.scalars(db.select(Booking).where(Booking.parent_id == first.parent_id)).one().status
        == BookingStatus.EXPIRED
    )


def test_expire_holds_releases_only_holds_whose_time_is_up(app):
    paid = course(places=5)
    old, fresh = baby(), baby()
    book(old.parent, paid, [old], now=NOW - timedelta(minutes=20))
    book(fresh.parent, paid, [fresh], now=NOW - timedelta(minutes=10))
    assert holds.expire_holds(now=NOW) == 1
    assert holds.expire_holds(now=NOW) == 0
    statuses = {b.parent_id: b.status for b in db.session.scalars(db.select(Booking))}
    assert statuses == {old.parent_id: BookingStatus.EXPIRED, fresh.parent_id: BookingStatus.AWAITING_PAYMENT}
    assert rules.places_left(paid, now=NOW) == 4


def test_twins_take_two_places_in_one_booking(app):
    paid = course(places=3, price_pence=4000)
    parent = factories.make_user()
    twins = [baby(parent, first_name="Ada"), baby(parent, first_name="Ben")]
    booking = book(parent, paid, twins)
    assert len(booking.places) == 2
    assert booking.amount_pence == 8000
    assert rules.places_left(paid, now=NOW) == 1


def test_not_enough_places_for_twins_says_how_many_are_left(app):
    paid = course(places=1)
    parent = factories.make_user()
    with pytest.raises(services.CourseFull, match="only 1 place is left"):
        book(parent, paid, [baby(parent), baby(parent)])
    assert db.session.scalar(db.select(db.func.count(Booking.id))) == 0


def test_a_full_course_says_so(app):
    full = course(places=1)
    factories.make_booking(full)
    child = baby()
    with pytest.raises(services.CourseFull, match="now full"):
        book(child.parent, full, [child])


def test_premature_course_needs_the_medical_teams_go_ahead(app):
    premature = course(track=Track.PREMATURE, uses_corrected_age=True, age_min=0, age_max=52)
    child = baby()
    with pytest.raises(services.BookingError, match="medical team") as caught:
        book(child.parent, premature, [child])
    assert caught.value.field == "medical_clearance"
    assert book(child.parent, premature, [child], medical_clearance=True).medical_clearance is True


def test_terms_must_be_accepted(app):
    child = baby()
    with pytest.raises(services.BookingError, match="agree to the course terms"):
        book(child.parent, course(), [child], accept_terms=False)


def test_an_ineligible_baby_is_refused_in_plain_words(app):
    premature = course(track=Track.PREMATURE, uses_corrected_age=True, age_min=8, age_max=52)
    # Born 12 weeks before the first session but 8 weeks early: corrected age 4 weeks.
    child = baby(weeks_old_at_first=12, due=FIRST.date() - timedelta(weeks=4))
    with pytest.raises(services.BookingError) as caught:
        book(child.parent, premature, [child], medical_clearance=True)
    assert "corrected age at the first session will be 4 weeks" in caught.value.message
    assert "8 weeks" in caught.value.message


def test_a_child_cannot_hold_two_places_on_one_course(app):
    paid = course()
    child = baby()
    book(child.parent, paid, [child])
    with pytest.raises(services.BookingError, match="already has a place"):
        book(child.parent, paid, [child])
    assert rules.places_left(paid, now=NOW) == paid.places - 1


def test_after_cancelling_the_child_can_book_again(app):
    paid = course()
    child = baby()
    first = book(child.parent, paid, [child])
    cancellation.cancel_booking(first, by=child.parent, now=NOW)
    assert book(child.parent, paid, [child]).status == BookingStatus.AWAITING_PAYMENT


def test_only_your_own_children(app):
    child = baby()
    stranger = factories.make_user()
    with pytest.raises(services.BookingError, match="your own family"):
        book(stranger, course(), [child])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": CourseStatus.DRAFT}, "not open for booking"),
        ({"status": CourseStatus.CANCELLED}, "has been cancelled"),
        ({"booking_opens_at": NOW + timedelta(days=1)}, "has not opened yet"),
        ({"booking_closes_at": NOW - timedelta(minutes=1)}, "has closed"),
    ],
)
def test_booking_window_and_status_are_respected(app, change, message):
    target = course(**change)
    child = baby()
    with pytest.raises(services.BookingError, match=message):
        book(child.parent, target, [child])


def test_booking_closes_when_the_first_session_starts(app):
    child = baby()
    with pytest.raises(services.BookingError, match="has closed"):
        book(child.parent, course(), [child], now=FIRST)


def test_choosing_to_pay_at_the_venue_confirms_and_emails(app):
    paid = course(price_pence=4500)
    child = baby()
    booking = book(child.parent, paid, [child])
    holds.choose_offline_payment(booking, PaymentMethod.PAY_AT_VENUE, now=NOW + timedelta(minutes=5))
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.amount_due_pence == 4500
    [email] = outbox()
    assert "Amount due: £45.00 (pay at the first session)" in email.body_text


def test_bank_transfer_is_offered_only_with_bank_details(app):
    paid = course()
    assert holds.offline_methods(paid) == [PaymentMethod.PAY_AT_VENUE]
    db.session.add(Organisation(**{**DEFAULTS, "bank_transfer_details": "Sort code 12-34-56, account 12345678"}))
    db.session.commit()
    db.session.expire_all()
    from flask import g

    g.pop("organisation", None)
    assert holds.offline_methods(paid) == [PaymentMethod.PAY_AT_VENUE, PaymentMethod.BANK_TRANSFER]


def test_offline_payment_can_be_switched_off_per_course(app):
    paid = course(allows_offline_payment=False)
    child = baby()
    booking = book(child.parent, paid, [child])
    with pytest.raises(services.BookingError, match="not offered"):
        holds.choose_offline_payment(booking, PaymentMethod.PAY_AT_VENUE, now=NOW)
    assert booking.status == BookingStatus.AWAITING_PAYMENT


def test_a_late_choice_is_confirmed_while_a_place_is_free(app):
    paid = course(places=1)
    child = baby()
    booking = book(child.parent, paid, [child])
    late = NOW + timedelta(hours=1)
    holds.expire_holds(now=late)
    holds.choose_offline_payment(booking, PaymentMethod.PAY_AT_VENUE, now=late)
    assert booking.status == BookingStatus.CONFIRMED
    assert rules.places_left(paid, now=late) == 0


def test_a_late_choice_is_refused_when_the_place_has_gone(app):
    paid = course(places=1)
    child = baby()
    booking = book(child.parent, paid, [child])
    late = NOW + timedelta(hours=1)
    other = baby()
    book(other.parent, paid, [other], now=late)
    with pytest.raises(services.CourseFull):
        holds.choose_offline_payment(booking, PaymentMethod.PAY_AT_VENUE, now=late)
    db.session.expire_all()
    assert booking.status == BookingStatus.EXPIRED
    assert rules.places_left(paid, now=late) == 0


def test_parent_cancels_in_good_time_and_the_place_returns(app):
    paid = course(places=1, cancellation_notice_days=7)
    child = baby()
    booking = factories.make_booking(paid, [child], amount_paid_pence=4500)
    assert (
        rules.cancellation_terms(booking, now=NOW)
        == "You are cancelling in good time, so what you have paid will be refunded."
    )
    cancellation.cancel_booking(booking, by=child.parent, reason="Baby unwell", now=NOW)
    assert booking.status == BookingStatus.CANCELLED
    assert booking.cancellation_refundable is True
    assert rules.places_left(paid, now=NOW) == 1
    [email] = outbox()
    assert "What you paid will be refunded; we will email you when the refund has been made." in email.body_text
    assert "METHOD:CANCEL" in email.attachments[0].content.decode()


def test_late_cancellation_is_not_refundable(app):
    paid = course(cancellation_notice_days=7)
    booking = factories.make_booking(paid, amount_paid_pence=4500)
    late = FIRST - timedelta(days=3)
    assert "not refundable" in rules.cancellation_terms(booking, now=late)
    cancellation.cancel_booking(booking, by=booking.parent, now=late)
    assert booking.cancellation_refundable is False


def test_parents_cannot_cancel_once_the_course_has_started_but_instructors_can(app):
    paid = course()
    booking = factories.make_booking(paid)
    with pytest.raises(services.BookingError, match="already started"):
        cancellation.cancel_booking(booking, by=booking.parent, now=FIRST + timedelta(days=1))
    cancellation.cancel_booking(booking, by=paid.instructor, reason="Moved away", now=FIRST + timedelta(days=1))
    assert booking.status == BookingStatus.CANCELLED
    assert f"by {paid.instructor.full_name}" in outbox()[0].body_text


def test_cancelling_twice_is_refused(app):
    booking = factories.make_booking(course())
    cancellation.cancel_booking(booking, by=booking.parent, now=NOW)
    with pytest.raises(services.BookingError, match="already cancelled"):
        cancellation.cancel_booking(booking, by=booking.parent, now=NOW)


def test_instructors_and_organisers_cannot_book(app):
    instructor = factories.make_user(role=Role.INSTRUCTOR)
    child = baby()
    with pytest.raises(services.BookingError, match="Only parents"):
        book(instructor, course(), [child])


def test_unborn_baby_books_an_antenatal_course(app):
    antenatal = course(track=Track.ANTENATAL, age_min=None, age_max=None)
    child = factories.make_child(born=None, due=FIRST.date() + timedelta(weeks=6))
    assert book(child.parent, antenatal, [child]).status == BookingStatus.AWAITING_PAYMENT
    family = course()
    with pytest.raises(services.BookingError, match="not be born yet"):
        book(child.parent, family, [child])


def test_expire_holds_command_reports_what_it_released(app, runner):
    paid = factories.make_course()
    child = factories.make_child()
    book(child.parent, paid, [child], now=datetime.now(UTC) - timedelta(hours=1))
    result = runner.invoke(args=["expire-holds"])
    assert result.exit_code == 0, result.output
    assert "Released 1 expired hold." in result.output
    assert runner.invoke(args=["expire-holds"]).output.strip() == "Released 0 expired holds."

from datetime import UTC, date, datetime, timedelta

from instructor_portal.booking import roster
from instructor_portal.booking.models import BookingStatus, PaymentMethod
from instructor_portal.catalogue.models import AgeUnit, Track
from tests import factories

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FIRST = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)


def test_roster_shows_age_and_corrected_age_where_the_course_uses_it(app):
    course = factories.make_course(
        first_session=FIRST, track=Track.PREMATURE, uses_corrected_age=True, age_min=0, age_max=52
    )
    child = factories.make_child(
        born=FIRST.date() - timedelta(weeks=16), gestation_weeks=28, care_notes="On oxygen at night"
    )
    factories.make_booking(course, [child], medical_clearance=True)
    [row] = roster.build_roster(course, now=NOW)
    assert row.age == "16 weeks (corrected 4 weeks)"
    assert row.care_notes == "On oxygen at night"
    assert row.booking.medical_clearance is True


def test_roster_on_adoptive_and_foster_courses_shows_first_name_and_initial_only(app):
    course = factories.make_course(
        first_session=FIRST, track=Track.ADOPTIVE_FOSTER, age_unit=AgeUnit.MONTHS, age_min=0, age_max=84
    )
    child = factories.make_child(first_name="Jordan", last_name="Whitfield", born=date(2023, 5, 1))
    factories.make_booking(course, [child])
    [row] = roster.build_roster(course, now=NOW)
    assert row.child_name == "Jordan W."
    assert row.age == "34 months"


def test_roster_lists_live_places_with_payment_status(app):
    course = factories.make_course(first_session=FIRST, price_pence=4500)
    factories.make_booking(course, payment_method=PaymentMethod.PAY_AT_VENUE)
    factories.make_booking(course, amount_paid_pence=4500, payment_method=PaymentMethod.BANK_TRANSFER)
    factories.make_booking(course, status=BookingStatus.AWAITING_PAYMENT, hold_expires_at=NOW + timedelta(minutes=10))
    factories.make_booking(course, status=BookingStatus.CANCELLED)
    factories.make_booking(course, status=BookingStatus.AWAITING_PAYMENT, hold_expires_at=NOW - timedelta(minutes=1))
    payments = [row.payment for row in roster.build_roster(course, now=NOW)]
    assert payments == ["£45.00 due (pay at the first session)", "Paid", "Held until 09:10, not yet paid"]

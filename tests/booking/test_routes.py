import re
from datetime import UTC, date, datetime, timedelta

import pytest

from instructor_portal.booking.models import Booking, BookingStatus
from instructor_portal.catalogue.models import CourseStatus, Track
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from tests import factories
from tests.conftest import post_form


def upcoming_course(**overrides):
    return factories.make_course(first_session=datetime.now(UTC) + timedelta(days=14), **overrides)


def bookings():
    return db.session.scalars(db.select(Booking)).all()


def test_parent_books_a_free_course_and_sees_the_confirmation(client, login_as):
    parent = login_as("parent")
    child = factories.make_child(parent, first_name="Ada")
    course = upcoming_course(price_pence=0)
    page = client.get(f"/classes/{course.id}/book").get_data(as_text=True)
    assert "Ada" in page
    response = post_form(client, f"/classes/{course.id}/book", {"children": [child.id], "accept_terms": "y"})
    [booking] = bookings()
    assert response.headers["Location"] == f"/account/bookings/{booking.id}"
    detail = client.get(f"/account/bookings/{booking.id}").get_data(as_text=True)
    assert "Confirmed" in detail
    assert booking.reference in detail
    assert db.session.scalar(db.select(db.func.count(OutboxEmail.id))) == 1


def test_twins_are_booked_in_one_action_and_sent_to_payment(client, login_as):
    parent = login_as("parent")
    twins = [factories.make_child(parent, first_name=name) for name in ("Ada", "Ben")]
    course = upcoming_course(price_pence=4000)
    response = post_form(client, f"/classes/{course.id}/book", {"children": [c.id for c in twins], "accept_terms": "y"})
    [booking] = bookings()
    assert response.headers["Location"] == f"/bookings/{booking.id}/pay"
    assert (booking.status, booking.amount_pence, len(booking.places)) == (BookingStatus.AWAITING_PAYMENT, 8000, 2)
    pay = client.get(f"/bookings/{booking.id}/pay").get_data(as_text=True)
    assert "We are holding your places until" in pay
    response = post_form(client, f"/bookings/{booking.id}/pay", {"method": "pay_at_venue"})
    assert response.headers["Location"] == f"/account/bookings/{booking.id}"
    db.session.refresh(booking)
    assert booking.status == BookingStatus.CONFIRMED
    assert "£80.00" in client.get(f"/account/bookings/{booking.id}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"accept_terms": "y"}, "Choose at least one child"),
        ({"children": "CHILD"}, "agree to the course terms"),
        ({"children": "999999", "accept_terms": "y"}, "Choose at least one child"),
    ],
)
def test_booking_form_errors_change_nothing(client, login_as, data, message):
    parent = login_as("parent")
    child = factories.make_child(parent)
    course = upcoming_course()
    if data.get("children") == "CHILD":
        data = {**data, "children": child.id}
    response = post_form(client, f"/classes/{course.id}/book", data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert bookings() == []


def test_premature_course_refuses_without_medical_clearance(client, login_as):
    parent = login_as("parent")
    child = factories.make_child(parent, born=date.today() - timedelta(weeks=10), gestation_weeks=30)
    course = upcoming_course(track=Track.PREMATURE, uses_corrected_age=True, age_min=0, age_max=52)
    response = post_form(client, f"/classes/{course.id}/book", {"children": child.id, "accept_terms": "y"})
    assert response.status_code == 422
    assert "stable enough for massage" in response.get_data(as_text=True)
    assert bookings() == []


def test_ineligible_children_are_shown_with_the_reason_and_cannot_be_picked(client, login_as):
    parent = login_as("parent")
    child = factories.make_child(parent, first_name="Tiny", born=date.today() - timedelta(weeks=1))
    course = upcoming_course(age_min=8, age_max=52)
    page = client.get(f"/classes/{course.id}/book").get_data(as_text=True)
    assert "Tiny</strong>: Your baby&#39;s age at the first session will be 3 weeks" in page
    assert f'value="{child.id}"' not in page
    response = post_form(client, f"/classes/{course.id}/book", {"children": child.id, "accept_terms": "y"})
    assert response.status_code == 422
    assert bookings() == []


def test_a_full_course_tells_the_parent(client, login_as):
    parent = login_as("parent")
    child = factories.make_child(parent)
    course = upcoming_course(places=1)
    factories.make_booking(course)
    assert "This course is full." in client.get(f"/classes/{course.id}/book").get_data(as_text=True)
    response = post_form(client, f"/classes/{course.id}/book", {"children": child.id, "accept_terms": "y"})
    assert response.status_code == 422
    assert "Sorry, this course is now full." in response.get_data(as_text=True)


def test_a_parent_without_children_is_asked_to_add_one(client, login_as):
    login_as("parent")
    course = upcoming_course()
    page = client.get(f"/classes/{course.id}/book").get_data(as_text=True)
    assert "Add your baby or child first" in page


@pytest.mark.parametrize("status", [CourseStatus.DRAFT])
def test_drafts_and_unknown_courses_cannot_be_booked(client, login_as, status):
    login_as("parent")
    assert client.get(f"/classes/{upcoming_course(status=status).id}/book").status_code == 404
    assert client.get("/classes/999999/book").status_code == 404


def test_booking_needs_a_parent_account(client, login_as):
    course = upcoming_course()
    assert client.get(f"/classes/{course.id}/book").headers["Location"].startswith("/login")
    login_as("instructor")
    assert client.get(f"/classes/{course.id}/book").status_code == 403


def test_bookings_page_shows_upcoming_and_past_with_money(client, login_as):
    parent = login_as("parent")
    now = datetime.now(UTC)
    upcoming = upcoming_course(title="Spring family course", price_pence=4500)
    past = factories.make_course(title="Autumn family course", first_session=now - timedelta(weeks=10))
    factories.make_booking(upcoming, [factories.make_child(parent)])
    factories.make_booking(past, [factories.make_child(parent)], amount_paid_pence=past.price_pence)
    page = client.get("/account/bookings").get_data(as_text=True)
    assert page.index("Spring family course") < page.index("Past") < page.index("Autumn family course")
    assert "To pay: £45.00" in page
    assert "Next session:" in page


def test_parent_cancels_after_seeing_the_refund_terms(client, login_as):
    parent = login_as("parent")
    course = upcoming_course(places=1, cancellation_notice_days=7)
    booking = factories.make_booking(course, [factories.make_child(parent)], amount_paid_pence=4500)
    page = client.get(f"/bookings/{booking.id}/cancel").get_data(as_text=True)
    assert "what you have paid will be refunded" in page
    response = post_form(client, f"/bookings/{booking.id}/cancel", {"reason": "Moving house"})
    assert response.status_code == 302
    db.session.refresh(booking)
    assert booking.status == BookingStatus.CANCELLED
    assert booking.cancellation_reason == "Moving house"


def test_calendar_download_has_every_session_in_local_time(client, login_as):
    parent = login_as("parent")
    booking = factories.make_booking(upcoming_course(sessions=3), [factories.make_child(parent)])
    response = client.get(f"/account/bookings/{booking.id}/calendar.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    body = response.get_data(as_text=True)
    assert body.count("BEGIN:VEVENT") == 3
    assert re.search(r"DTSTART;TZID=Europe/London:\d{8}T\d{6}", body)


@pytest.mark.parametrize(
    "path",
    ["/account/bookings/{id}", "/account/bookings/{id}/calendar.ics", "/bookings/{id}/pay", "/bookings/{id}/cancel"],
)
def test_another_familys_booking_is_not_found(client, login_as, path):
    booking = factories.make_booking(upcoming_course())
    login_as("parent")
    assert client.get(path.format(id=booking.id)).status_code == 404


def test_online_link_shows_only_once_confirmed(client, login_as):
    parent = login_as("parent")
    course = upcoming_course(is_online=True, online_link="https://meet.example.org/baby-massage")
    held = factories.make_booking(course, [factories.make_child(parent)], status=BookingStatus.AWAITING_PAYMENT)
    assert "meet.example.org" not in client.get(f"/account/bookings/{held.id}").get_data(as_text=True)
    confirmed = factories.make_booking(course, [factories.make_child(parent)])
    assert "https://meet.example.org/baby-massage" in client.get(f"/account/bookings/{confirmed.id}").get_data(
        as_text=True
    )


def test_instructor_sees_the_roster_with_care_notes_and_consents(client, login_as):
    instructor = login_as("instructor")
    course = upcoming_course(
        instructor=instructor, track=Track.PREMATURE, uses_corrected_age=True, age_min=0, age_max=52
    )
    child = factories.make_child(
        first_name="Noor",
        last_name="Haddad",
        born=date.today() - timedelta(weeks=14),
        gestation_weeks=30,
        care_notes="Tires quickly",
    )
    factories.make_booking(course, [child], medical_clearance=True, photo_consent=False)
    page = client.get(f"/teach/courses/{course.id}").get_data(as_text=True)
    assert "Noor Haddad" in page
    assert "Tires quickly" in page
    assert "(corrected" in page
    assert "Medical go-ahead: yes" in page and "Photos: no" in page


def test_adoptive_and_foster_roster_shows_first_name_and_initial(client, login_as):
    instructor = login_as("instructor")
    course = upcoming_course(instructor=instructor, track=Track.ADOPTIVE_FOSTER, age_min=0, age_max=300)
    factories.make_booking(course, [factories.make_child(first_name="Jordan", last_name="Whitfield")])
    page = client.get(f"/teach/courses/{course.id}").get_data(as_text=True)
    assert "Jordan W." in page
    assert "Whitfield" not in page


def test_another_instructor_cannot_see_the_roster_or_cancel(client, login_as):
    booking = factories.make_booking(upcoming_course())
    login_as("instructor")
    assert client.get(f"/teach/courses/{booking.course_id}").status_code == 404
    assert client.get(f"/teach/bookings/{booking.id}/cancel").status_code == 404


def test_instructor_cancels_a_familys_booking_and_the_family_is_told(client, login_as):
    instructor = login_as("instructor")
    booking = factories.make_booking(upcoming_course(instructor=instructor))
    response = post_form(client, f"/teach/bookings/{booking.id}/cancel", {"reason": "Duplicate booking"})
    assert response.headers["Location"] == f"/teach/courses/{booking.course_id}"
    db.session.refresh(booking)
    assert booking.status == BookingStatus.CANCELLED
    email = db.session.scalars(db.select(OutboxEmail)).one()
    assert email.to_address == booking.parent.email
    assert "Duplicate booking" in email.body_text


def test_parents_cannot_use_the_instructor_cancel_page(client, login_as):
    parent = login_as("parent")
    booking = factories.make_booking(upcoming_course(), [factories.make_child(parent)])
    assert client.get(f"/teach/bookings/{booking.id}/cancel").status_code == 403


def test_an_id_too_large_for_any_course_is_a_friendly_404(client, login_as):
    login_as("parent")
    assert client.get("/classes/99999999999999999999/book").status_code == 404

"""The reminder pages: the check-in a parent answers without signing in, the register and dashboard, and the booking's toggle."""

from datetime import UTC, datetime, timedelta

import pytest

from instructor_portal.attendance import services as attendance
from instructor_portal.attendance.models import AttendanceMark
from instructor_portal.extensions import db
from instructor_portal.reminders import checkins, services
from instructor_portal.reminders.models import CheckIn, ReminderOptOut
from tests import factories
from tests.conftest import count, post_form, text


@pytest.fixture
def upcoming(app):
    """A family with one baby on a session starting in three hours, by the real clock, as the pages use."""
    instructor = factories.make_user(role="instructor", full_name="Jo Teacher", phone="07700 900123")
    starts = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=3)
    course = factories.make_course(instructor=instructor, sessions=1, first_session=starts, title="Tuesday babies")
    parent = factories.make_user(full_name="Amira Khan")
    booking = factories.make_booking(course, [factories.make_child(parent, first_name="Layla")])
    session = course.sessions[0]
    return instructor, session, booking


def link(session, booking, answer: str = "unwell") -> str:
    return f"/check-in/{session.id}/{answer}/{checkins.check_in_token(session, booking)}"


def test_opening_the_link_only_shows_the_answer_with_one_button_to_confirm(client, upcoming):
    _, session, booking = upcoming
    response = client.get(link(session, booking))
    page = text(response)
    assert response.status_code == 200
    assert "<h1>Baby is unwell today</h1>" in page
    assert "Tell Jo</button>" in page
    assert f'href="/check-in/{session.id}/coming/' in page  # another answer, for a slip of the thumb
    assert count(CheckIn) == 0  # a mail scanner opening the link changes nothing


def test_confirming_records_the_answer_once_without_signing_in(client, upcoming):
    _, session, booking = upcoming
    url = link(session, booking)
    response = post_form(client, url)
    assert response.status_code == 200
    assert "We have told Jo: “Baby is unwell today”" in text(response)
    assert db.session.scalars(db.select(CheckIn.answer)).all() == ["unwell"]

    again = post_form(client, link(session, booking, "coming"), page="/login")
    assert again.status_code == 409
    assert "You have already answered for this session: “Baby is unwell today”." in text(again)
    assert client.get(url).status_code == 409
    assert db.session.scalars(db.select(CheckIn.answer)).all() == ["unwell"]


@pytest.mark.parametrize(
    ("make_url", "status", "message"),
    [
        (lambda session, booking: f"/check-in/{session.id}/unwell/forged", 400, "This link is not valid"),
        (lambda session, booking: link(session, booking)[:-3] + "abc", 400, "This link is not valid"),
        (
            lambda session, booking: link(session, booking).replace(f"/{session.id}/", f"/{session.id + 1}/"),
            400,
            "for a different session",
        ),
        (lambda session, booking: link(session, booking, "sleepy"), 404, "not one of the answers"),
    ],
)
def test_a_bad_link_gets_a_friendly_page_and_changes_nothing(client, upcoming, make_url, status, message):
    _, session, booking = upcoming
    url = make_url(session, booking)
    for response in (client.get(url), post_form(client, url, page="/login")):
        assert response.status_code == status
        assert "This answer cannot be taken" in text(response)
        assert message in text(response)
    assert count(CheckIn) == 0


def test_a_link_used_after_the_session_started_gets_a_friendly_page(client, upcoming):
    _, session, booking = upcoming
    session.starts_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    response = client.get(link(session, booking))
    assert response.status_code == 410
    assert "already started" in text(response) and "call Jo Teacher on 07700 900123" in text(response)


def test_answers_are_rate_limited(app, client, upcoming):
    app.config["CHECK_IN_RATE_LIMIT"] = "2 per minute"
    _, session, booking = upcoming
    url = link(session, booking)
    statuses = [post_form(client, url, page="/login").status_code for _ in range(3)]
    assert statuses == [200, 409, 429]


def test_the_register_shows_what_the_family_said_beside_the_marks_and_offers_a_make_up(client, login_as, upcoming):
    instructor, session, booking = upcoming
    checkins.answer_check_in(session.id, "unwell", checkins.check_in_token(session, booking))
    login_as(instructor)
    page = text(client.get(f"/teach/sessions/{session.id}/register"))
    assert "said: unwell" in page
    place = booking.places[0]
    assert f'href="/teach/sessions/{session.id}/makeups/{place.id}"' in page
    assert count(AttendanceMark) == 0

    attendance.mark_attendance(session, place.id, "present", by=instructor)
    page = text(client.get(f"/teach/sessions/{session.id}/register"))
    assert "said: unwell" in page and "Marked present" in page
    assert f"/makeups/{place.id}" not in page  # the instructor's mark decides


def test_the_dashboard_shows_todays_expected_numbers(client, login_as, upcoming):
    instructor, session, booking = upcoming
    factories.make_booking(session.course)
    checkins.answer_check_in(session.id, "late", checkins.check_in_token(session, booking))
    session.starts_at = datetime.now(UTC)  # now, so it is today whatever the hour the test runs
    db.session.commit()
    login_as(instructor)
    page = text(client.get("/teach"))
    assert 'Tuesday babies</a>: <span class="expected">2 booked: 1 late, 1 not answered</span>' in page


def test_a_parent_turns_reminders_off_and_on_from_their_booking(client, login_as, upcoming):
    _, _, booking = upcoming
    login_as(booking.parent)
    page_url = f"/account/bookings/{booking.id}"
    assert "Turn reminders off" in text(client.get(page_url))

    response = post_form(client, f"{page_url}/reminders", {"reminders": "off"}, page=page_url, follow_redirects=True)
    assert "Reminders are off for this booking." in text(response)
    assert "Turn reminders on" in text(response)
    assert not services.wants_reminders(booking)

    post_form(client, f"{page_url}/reminders", {"reminders": "on"}, page=page_url)
    assert count(ReminderOptOut) == 0


@pytest.mark.parametrize("value", ["", "sometimes"])
def test_a_bad_reminders_choice_is_refused_and_changes_nothing(client, login_as, upcoming, value):
    _, _, booking = upcoming
    login_as(booking.parent)
    page_url = f"/account/bookings/{booking.id}"
    response = post_form(client, f"{page_url}/reminders", {"reminders": value}, page=page_url)
    assert response.status_code == 422
    assert "Choose whether to have reminders." in text(response)
    assert services.wants_reminders(booking)


def test_only_the_family_changes_their_reminders(client, login_as, upcoming):
    _, _, booking = upcoming
    login_as("parent")
    response = post_form(client, f"/account/bookings/{booking.id}/reminders", {"reminders": "off"}, page="/")
    assert response.status_code == 404
    assert services.wants_reminders(booking)

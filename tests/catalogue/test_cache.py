"""The visitors' page cache: one query when nothing changed, never a stale place count."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from instructor_portal import clock
from instructor_portal.attendance.models import Makeup, MakeupStatus
from instructor_portal.booking.holds import expire_holds
from instructor_portal.booking.models import BookingStatus
from instructor_portal.catalogue.cache import catalogue_version, next_change_at
from instructor_portal.catalogue.models import CatalogueVersion
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from tests.catalogue.test_routes import counting_queries
from tests.factories import make_booking, make_course, make_user

NOW = datetime.now(UTC).replace(microsecond=0)
TZ = "Europe/London"


@pytest.fixture
def clock_at(monkeypatch):
    """Move every module's idea of now (they import clock.utcnow by name) to a moment of the test's choosing."""

    def _set(moment: datetime) -> None:
        for module in list(sys.modules.values()):
            if (
                module
                and module.__name__.startswith("instructor_portal")
                and getattr(module, "utcnow", None) is not None
            ):
                monkeypatch.setattr(module, "utcnow", lambda: moment)
        monkeypatch.setattr(clock, "utcnow", lambda: moment)

    return _set


def page(client, url: str) -> tuple[str, int]:
    """Return a page's body and the SQL statements it cost."""
    with counting_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True), len(statements)


def test_a_visitor_is_served_an_unchanged_page_for_one_query(client, app):
    make_course(title="Baby massage in Clifton")
    first, first_cost = page(client, "/classes")
    again, cost = page(client, "/classes")
    assert again == first
    assert "Baby massage in Clifton" in again
    assert cost == 1 < first_cost


@pytest.mark.parametrize("url", ["/", "/classes?track=family", "/instructors"])
def test_every_public_listing_is_cached(client, app, url):
    make_course()
    page(client, url)
    assert page(client, url)[1] == 1


def test_a_booked_place_shows_at_once(client, app):
    course = make_course(places=2)
    url = f"/classes/{course.id}"
    assert "Only 2 places left" in page(client, url)[0]
    make_booking(course)
    assert "Only 1 place left" in page(client, url)[0]
    assert "Only 1 place left" in page(client, "/classes")[0]


def test_a_cancelled_booking_frees_its_place_at_once(client, app):
    course = make_course(places=1)
    booking = make_booking(course)
    assert "Full" in page(client, f"/classes/{course.id}")[0]
    booking.status = BookingStatus.CANCELLED
    booking.places[0].live = False
    db.session.commit()
    assert "Only 1 place left" in page(client, f"/classes/{course.id}")[0]


def test_a_make_up_taking_the_last_place_at_a_session_shows_at_once(client, app):
    course = make_course(places=1, sessions=2)
    other = make_course(places=2)
    place = make_booking(other).places[0]
    assert "Only 1 place left" in page(client, f"/classes/{course.id}")[0]
    db.session.add(
        Makeup(
            place=place,
            missed_session=other.sessions[1],
            session=course.sessions[1],
            status=MakeupStatus.ACCEPTED,
            offered_at=NOW,
        )
    )
    db.session.commit()
    assert "Full" in page(client, f"/classes/{course.id}")[0]


def test_an_edited_course_shows_at_once(client, app):
    course = make_course(title="Old title")
    page(client, "/classes")
    course.title = "New title"
    db.session.commit()
    body = page(client, "/classes")[0]
    assert "New title" in body and "Old title" not in body


def test_a_hold_running_out_frees_the_place_with_no_write_at_all(client, app, clock_at):
    course = make_course(places=1)
    make_booking(course, status=BookingStatus.AWAITING_PAYMENT, hold_expires_at=NOW + timedelta(minutes=10))
    clock_at(NOW)
    assert "Full" in page(client, f"/classes/{course.id}")[0]
    assert page(client, f"/classes/{course.id}")[1] == 1
    version = catalogue_version()
    clock_at(NOW + timedelta(minutes=10, seconds=1))
    assert "Only 1 place left" in page(client, f"/classes/{course.id}")[0]
    assert catalogue_version() == version


def test_signed_in_people_never_get_the_visitors_page(client, app, login_as):
    make_course()
    page(client, "/classes")
    login_as("parent")
    body, cost = page(client, "/classes")
    assert "My account" in body and "Create account" not in body
    assert cost > 1


def test_the_next_change_is_the_soonest_moment_time_alone_changes_a_page(app):
    app.config["CATALOGUE_CACHE_SECONDS"] = 7 * 24 * 3600
    morning = datetime(2030, 1, 10, 8, 0, tzinfo=UTC)
    assert next_change_at(morning, TZ) == datetime(2030, 1, 11, tzinfo=UTC)  # midnight, with nothing on
    course = make_course(first_session=morning + timedelta(hours=6))
    assert next_change_at(morning, TZ) == morning + timedelta(hours=6)
    course.booking_opens_at = morning + timedelta(hours=3)
    db.session.commit()
    assert next_change_at(morning, TZ) == morning + timedelta(hours=3)
    course.booking_closes_at = morning + timedelta(hours=2)
    db.session.commit()
    assert next_change_at(morning, TZ) == morning + timedelta(hours=2)
    make_booking(course, status=BookingStatus.AWAITING_PAYMENT, hold_expires_at=morning + timedelta(seconds=90))
    assert next_change_at(morning, TZ) == morning + timedelta(seconds=90)
    app.config["CATALOGUE_CACHE_SECONDS"] = 30
    assert next_change_at(morning, TZ) == morning + timedelta(seconds=30)


def test_the_day_turning_over_ends_a_page(app):
    # 23:59:30 in London in winter is 23:59:30 UTC; the date filter's "today" changes at midnight.
    late = datetime(2026, 12, 1, 23, 59, 30, tzinfo=UTC)
    assert next_change_at(late, "Europe/London") == datetime(2026, 12, 2, tzinfo=UTC)


def test_bulk_updates_of_places_bump_the_version(app):
    course = make_course()
    make_booking(course, status=BookingStatus.AWAITING_PAYMENT, hold_expires_at=NOW - timedelta(minutes=1))
    before = catalogue_version()
    assert expire_holds(now=NOW) == 1
    assert catalogue_version() == before + 1


def test_changes_the_catalogue_does_not_show_and_rollbacks_leave_the_version_alone(app):
    course = make_course()
    before = catalogue_version()
    db.session.add(OutboxEmail(to_address="someone@example.org", subject="Hello", body_text="Hi"))
    db.session.commit()
    course.title = "Never saved"
    db.session.flush()
    db.session.rollback()
    db.session.commit()
    assert catalogue_version() == before
    assert db.session.scalar(select(CatalogueVersion.version)) == before


def test_an_instructor_profile_change_shows_at_once(client, app):
    instructor = make_user(role="instructor", full_name="Asha Patel")
    make_course(instructor=instructor)
    assert "Asha Patel" in page(client, "/instructors")[0]
    instructor.full_name = "Asha Patel-Jones"
    db.session.commit()
    assert "Asha Patel-Jones" in page(client, "/instructors")[0]

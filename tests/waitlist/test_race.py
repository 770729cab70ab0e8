"""Offers, acceptances and direct bookings racing for the last places never oversell (with a locks-off control)."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from instructor_portal import locks
from instructor_portal.accounts.models import Child, User
from instructor_portal.booking import capacity
from instructor_portal.booking import services as booking_services
from instructor_portal.booking.cancellation import cancel_booking
from instructor_portal.booking.models import Booking, BookingPlace
from instructor_portal.catalogue.models import Course
from instructor_portal.extensions import db
from instructor_portal.waitlist import offers, services
from instructor_portal.waitlist.models import EntryStatus, WaitlistEntry
from tests import factories
from tests.conftest import race

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BORN = NOW.date() - timedelta(weeks=12)
PLACES = 3
BOOKERS = 20


@pytest.fixture
def freed_places(app):
    """A full course of three places, a waiting list of four, two places just freed, and twenty families ready to book."""
    course = factories.make_course(places=PLACES, first_session=NOW + timedelta(days=14))
    bookings = [factories.make_booking(course, [factories.make_child(born=BORN)]) for _ in range(PLACES)]
    for minute in range(4):
        child = factories.make_child(born=BORN)
        services.join_waitlist(child.parent, course, [child], now=NOW + timedelta(minutes=minute))
    for booking in bookings[:2]:
        cancel_booking(booking, by=booking.parent, now=NOW)
    bookers = [(child.parent_id, child.id) for child in (factories.make_child(born=BORN) for _ in range(BOOKERS))]
    return course.id, bookers


@pytest.fixture
def wide_window(monkeypatch):
    """Pause after places are counted and before they are written, on both paths, as a slow server might."""
    take_places, free_places = capacity.take_places, offers.free_places

    def slow_take_places(*args, **kwargs):
        take_places(*args, **kwargs)
        time.sleep(0.3)

    def slow_free_places(*args, **kwargs):
        free = free_places(*args, **kwargs)
        time.sleep(0.3)
        return free

    monkeypatch.setattr(booking_services.capacity, "take_places", slow_take_places)
    monkeypatch.setattr(offers, "free_places", slow_free_places)


def places_held(course_id: int) -> int:
    booked = db.session.scalar(
        select(func.count(BookingPlace.id))
        .join(Booking, Booking.id == BookingPlace.booking_id)
        .where(BookingPlace.course_id == course_id, BookingPlace.live, capacity.holds_places(NOW))
    )
    offered = db.session.scalar(
        select(func.coalesce(func.sum(WaitlistEntry.places), 0)).where(
            WaitlistEntry.course_id == course_id, WaitlistEntry.status == EntryStatus.OFFERED
        )
    )
    return booked + offered


def race_offers_and_bookings(app, course_id: int, bookers: list[tuple[int, int]]):
    """The sweep, staff offering each later family by hand, and twenty families booking directly, all at once."""
    organiser_id = factories.make_user(role="organiser").id
    later = db.session.scalars(
        select(WaitlistEntry.id).where(WaitlistEntry.course_id == course_id).order_by(WaitlistEntry.queued_at)
    ).all()[1:]

    def attempt(kind: str, first: int, second: int) -> str:
        course = db.session.get(Course, course_id)
        try:
            if kind == "sweep":
                return f"offered {len(offers.offer_places(course, now=NOW))}"
            if kind == "by hand":
                offers.offer_by_hand(db.session.get(WaitlistEntry, first), by=db.session.get(User, second), now=NOW)
                return "offered by hand"
            parent, child = db.session.get(User, first), db.session.get(Child, second)
            booking_services.book_places(parent, course, [child], accept_terms=True, now=NOW)
        except (booking_services.CourseFull, services.WaitlistError):
            return "refused"
        return "booked"

    racers = [("sweep", 0, 0), *(("by hand", entry_id, organiser_id) for entry_id in later)]
    return race(app, attempt, [*racers, *(("book", *booker) for booker in bookers)])


def test_control_without_the_lock_offers_and_bookings_oversell(racing_app, freed_places, wide_window, monkeypatch):
    monkeypatch.setattr(locks, "_acquire", lambda *args, **kwargs: None)
    course_id, bookers = freed_places
    outcomes = race_offers_and_bookings(racing_app, course_id, bookers)
    assert places_held(course_id) > PLACES, outcomes


def test_offers_by_the_sweep_and_by_hand_and_direct_bookings_never_exceed_the_places(
    app, racing_app, freed_places, wide_window
):
    course_id, bookers = freed_places
    outcomes = race_offers_and_bookings(racing_app, course_id, bookers)
    assert places_held(course_id) == PLACES, outcomes
    # Families waiting come first: nobody books past the list.
    assert outcomes["booked"] == 0 and outcomes["refused"] >= BOOKERS, outcomes


def test_families_taking_up_offers_and_others_booking_at_once_never_oversell(app, racing_app, freed_places):
    course_id, bookers = freed_places
    course = db.session.get(Course, course_id)
    offered = offers.offer_places(course, now=NOW)
    assert len(offered) == 2
    takers = [(entry.parent_id, entry.children[0].id, entry.id) for entry in offered]

    def attempt(parent_id: int, child_id: int, entry_id: int | None) -> str:
        parent, child = db.session.get(User, parent_id), db.session.get(Child, child_id)
        offer = db.session.get(WaitlistEntry, entry_id) if entry_id else None
        try:
            booking_services.book_places(
                parent, db.session.get(Course, course_id), [child], accept_terms=True, now=NOW, offer=offer
            )
        except booking_services.CourseFull:
            return "full"
        return "took the offer" if offer else "booked"

    outcomes = race(racing_app, attempt, [*takers, *((*booker, None) for booker in bookers)])
    assert outcomes["took the offer"] == 2 and outcomes["full"] == BOOKERS, outcomes
    assert places_held(course_id) == PLACES

"""Many families racing for the last places, each on its own database connection (pretix style).

The control test switches the lock off and shows the same race oversells, so the green
tests prove the lock, not luck.
"""

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from instructor_portal import locks
from instructor_portal.accounts.models import Child, User
from instructor_portal.booking import capacity, rules, services
from instructor_portal.catalogue.models import Course
from instructor_portal.extensions import db
from tests import factories
from tests.conftest import MAX_RACERS, race

ATTEMPTS = MAX_RACERS
PLACES_LEFT = 3
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def nearly_full_course(app):
    """A course of 5 places with 2 taken, and one family per attempt with an eligible baby."""
    course = factories.make_course(places=PLACES_LEFT + 2, first_session=NOW + timedelta(days=14))
    factories.make_booking(course, [factories.make_child(born=NOW.date() - timedelta(weeks=12)) for _ in range(2)])
    families = [
        (child.parent_id, child.id)
        for child in (factories.make_child(born=NOW.date() - timedelta(weeks=12)) for _ in range(ATTEMPTS))
    ]
    return course.id, families


@pytest.fixture
def wide_race_window(monkeypatch):
    """Pause after the places are counted and before the booking is written, as a slow server might."""
    take_places = capacity.take_places

    def slow_take_places(*args, **kwargs):
        take_places(*args, **kwargs)
        time.sleep(0.3)

    monkeypatch.setattr(services.capacity, "take_places", slow_take_places)


def race_for_places(app, course_id: int, families: list[tuple[int, int]]) -> Counter:
    def attempt(parent_id: int, child_id: int) -> str:
        parent, child, course = (
            db.session.get(User, parent_id),
            db.session.get(Child, child_id),
            db.session.get(Course, course_id),
        )
        try:
            services.book_places(parent, course, [child], accept_terms=True, now=NOW)
        except services.CourseFull:
            return "full"
        return "booked"

    return race(app, attempt, families)


def test_control_without_the_lock_the_race_oversells(racing_app, nearly_full_course, wide_race_window, monkeypatch):
    monkeypatch.setattr(locks, "_acquire", lambda *args, **kwargs: None)
    course_id, families = nearly_full_course
    outcomes = race_for_places(racing_app, course_id, families)
    assert outcomes["booked"] > PLACES_LEFT, outcomes


def test_fifty_families_race_for_three_places_and_exactly_three_win(
    app, racing_app, nearly_full_course, wide_race_window
):
    course_id, families = nearly_full_course
    outcomes = race_for_places(racing_app, course_id, families)
    assert outcomes == Counter(booked=PLACES_LEFT, full=ATTEMPTS - PLACES_LEFT)
    course = db.session.get(Course, course_id)
    assert rules.places_left(course, now=NOW) == 0


def test_the_race_without_a_slow_server_also_gives_exactly_three(app, racing_app, nearly_full_course):
    course_id, families = nearly_full_course
    outcomes = race_for_places(racing_app, course_id, families)
    assert outcomes == Counter(booked=PLACES_LEFT, full=ATTEMPTS - PLACES_LEFT)

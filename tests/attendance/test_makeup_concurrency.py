"""Families accepting make-ups for the last place at one session at once, each on its own connection (pretix style).

The control test switches the lock off and shows the same race oversells, so the green
test proves the lock, not luck.
"""

import time
from collections import Counter
from datetime import timedelta

import pytest

from instructor_portal import locks
from instructor_portal.accounts.models import Role
from instructor_portal.attendance import makeups
from instructor_portal.attendance.models import AttendanceMark, AttendanceStatus, Makeup, MakeupStatus
from instructor_portal.booking import capacity
from instructor_portal.catalogue.models import CourseSession
from instructor_portal.extensions import db
from tests import factories
from tests.attendance.conftest import NOW
from tests.conftest import race

FAMILIES = 12


@pytest.fixture
def offers_for_the_last_place(app):
    """A session with one place left, and an offer of it to each of FAMILIES families marked absent at a session."""
    instructor = factories.make_user(role=Role.INSTRUCTOR)
    own = factories.make_course(
        instructor=instructor, places=FAMILIES, first_session=NOW - timedelta(days=7) + timedelta(hours=1)
    )
    other = factories.make_course(places=3, first_session=NOW - timedelta(days=2))
    factories.make_booking(other, [factories.make_child(born=NOW.date() - timedelta(weeks=12)) for _ in range(2)])
    target = other.sessions[1]
    offers = []
    for _ in range(FAMILIES):
        booking = factories.make_booking(own, [factories.make_child(born=NOW.date() - timedelta(weeks=12))])
        missed = AttendanceMark(
            place=booking.places[0],
            session=own.sessions[1],
            status=AttendanceStatus.ABSENT_UNWELL,
            marked_by=instructor,
            marked_at=NOW,
        )
        offers.append(
            Makeup(
                place=booking.places[0],
                missed_session=own.sessions[1],
                session=target,
                status=MakeupStatus.OFFERED,
                offered_by=instructor,
                offered_at=NOW,
            )
        )
        db.session.add(missed)
    db.session.add_all(offers)
    db.session.commit()
    return target.id, [(offer.id,) for offer in offers]


@pytest.fixture
def wide_race_window(monkeypatch):
    """Pause after the place is checked and before the make-up is written, as a slow server might."""
    take_makeup_place = capacity.take_makeup_place

    def slow_take_makeup_place(*args, **kwargs):
        take_makeup_place(*args, **kwargs)
        time.sleep(0.3)

    monkeypatch.setattr(capacity, "take_makeup_place", slow_take_makeup_place)


def race_to_accept(app, offers: list[tuple[int]]) -> Counter:
    def attempt(makeup_id: int) -> str:
        makeup = db.session.get(Makeup, makeup_id)
        try:
            makeups.accept_makeup(makeup, by=makeup.place.booking.parent, now=NOW)
        except capacity.SessionFull:
            return "full"
        return "accepted"

    return race(app, attempt, offers)


def test_control_without_the_lock_the_race_oversells(
    racing_app, offers_for_the_last_place, wide_race_window, monkeypatch
):
    monkeypatch.setattr(locks, "_acquire", lambda *args, **kwargs: None)
    _, offers = offers_for_the_last_place
    outcomes = race_to_accept(racing_app, offers)
    assert outcomes["accepted"] > 1, outcomes


def test_families_racing_for_the_last_place_at_a_session_give_exactly_one_makeup(
    app, racing_app, offers_for_the_last_place, wide_race_window
):
    target_id, offers = offers_for_the_last_place
    outcomes = race_to_accept(racing_app, offers)
    assert outcomes == Counter(accepted=1, full=FAMILIES - 1)
    assert capacity.places_free_at(db.session.get(CourseSession, target_id), now=NOW) == 0

"""Two workers sending the same reminders at once, and a check-in answered twice at once, each on its own connection.

The control test takes away the record of what was sent and shows the same race sends every
reminder twice, so the green test proves the unique record, not luck.
"""

import time
from collections import Counter

import pytest

from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from instructor_portal.reminders import checkins, services
from instructor_portal.reminders.models import CheckIn, SentReminder
from tests import factories
from tests.conftest import count, race
from tests.reminders.conftest import DAY_BEFORE, MORNING, START

FAMILIES = 12


@pytest.fixture
def session_of_families(app):
    course = factories.make_course(sessions=1, first_session=START, places=FAMILIES)
    bookings = [factories.make_booking(course) for _ in range(FAMILIES)]
    return course.sessions[0], bookings


def slow_down(monkeypatch, module, name: str) -> None:
    """Pause after ``module.name`` returns, so two callers both read before either writes, as a slow server might."""
    original = getattr(module, name)

    def slow(*args, **kwargs):
        result = original(*args, **kwargs)
        time.sleep(0.3)
        return result

    monkeypatch.setattr(module, name, slow)


@pytest.fixture
def wide_race_window(monkeypatch):
    """Pause after the families are read and before anything is written."""
    slow_down(monkeypatch, services, "due_reminders")


def two_workers(app) -> Counter:
    return race(app, lambda: services.send_due_reminders(now=DAY_BEFORE), [(), ()])


def test_control_without_the_record_two_workers_send_everything_twice(
    racing_app, session_of_families, wide_race_window, monkeypatch
):
    monkeypatch.setattr(services, "_record_sent", lambda session, kind, booking_ids, *, now: set(booking_ids))
    assert two_workers(racing_app) == Counter({FAMILIES: 2})
    assert count(OutboxEmail) == 2 * FAMILIES


def test_two_workers_at_once_send_each_family_one_reminder(app, racing_app, session_of_families, wide_race_window):
    assert two_workers(racing_app) == Counter({FAMILIES: 1, 0: 1})
    assert count(OutboxEmail) == FAMILIES
    assert count(SentReminder) == FAMILIES
    emails = db.session.scalars(db.select(OutboxEmail.to_address)).all()
    assert len(set(emails)) == FAMILIES


def test_a_check_in_tapped_twice_at_once_is_recorded_once(app, racing_app, session_of_families, monkeypatch):
    session, bookings = session_of_families
    session_id, token = session.id, checkins.check_in_token(session, bookings[0])
    slow_down(monkeypatch, checkins, "read_check_in")

    def answer(choice: str) -> str:
        try:
            return checkins.answer_check_in(session_id, choice, token, now=MORNING).answer.value
        except checkins.CheckInError as error:
            return str(error.status)

    outcomes = race(racing_app, answer, [("coming",), ("late",)])
    assert sorted(outcomes) == sorted(["409", db.session.scalars(db.select(CheckIn.answer)).one().value])
    assert count(CheckIn) == 1

"""Units of work and locks: one commit, one sorted order, bounded waits, and no network call while locked."""

import time

import pytest
from sqlalchemy.exc import OperationalError

from instructor_portal import locks
from instructor_portal.booking.models import Booking, Voucher
from instructor_portal.catalogue.models import Course
from instructor_portal.errors import is_busy
from instructor_portal.extensions import db
from tests import factories
from tests.conftest import lock_held_elsewhere


@pytest.fixture
def booking(app):
    return factories.make_booking(factories.make_course())


def test_a_lock_is_refused_outside_a_unit_of_work(booking):
    with pytest.raises(locks.OutsideUnitOfWork):
        locks.lock(booking)


def test_locks_taken_out_of_order_are_refused_at_once(booking):
    with pytest.raises(locks.LockOrderError, match="courses .* was asked for after bookings"):
        with locks.unit_of_work():
            locks.lock(booking)
            locks.lock(booking.course)


def test_locks_asked_for_together_are_taken_in_order_and_held_until_the_end(booking):
    voucher = factories.make_voucher(code="ORDER")
    with locks.unit_of_work():
        locks.lock(booking, booking.course, (Voucher, voucher.id))
        assert locks.holds(booking) and locks.holds(booking.course) and locks.holds(voucher)
        locks.lock(booking.course)  # held already: nothing to do, and no order broken
        locks.lock((Booking, booking.id + 1))  # later in the order: fine
    assert not locks.holds(booking)


def test_a_unit_of_work_commits_once_at_its_end_and_a_nested_one_joins_it(booking):
    with pytest.raises(RuntimeError):
        with locks.unit_of_work():
            booking.cancellation_reason = "outer"
            with locks.unit_of_work():
                booking.photo_consent = True
            raise RuntimeError("after the inner block")
    db.session.expire_all()
    assert (booking.cancellation_reason, booking.photo_consent) == (None, False)
    with locks.unit_of_work():
        booking.cancellation_reason = "kept"
    db.session.expire_all()
    assert booking.cancellation_reason == "kept"


def test_network_calls_are_refused_while_the_transaction_holds_a_lock_or_has_written(booking):
    locks.check_no_locks_held("a call")
    with locks.unit_of_work():
        locks.lock(booking.course)
        with pytest.raises(locks.LocksHeld):
            locks.check_no_locks_held("a call")
    locks.check_no_locks_held("a call")
    booking.photo_consent = True
    db.session.flush()
    with pytest.raises(locks.LocksHeld):
        locks.check_no_locks_held("a call")
    db.session.commit()
    locks.check_no_locks_held("a call")


def test_a_lock_held_elsewhere_is_waited_for_only_as_long_as_the_timeout(app, booking):
    timeout = app.config["DATABASE_LOCK_TIMEOUT"]
    started = time.monotonic()
    with lock_held_elsewhere("courses", booking.course_id):
        with pytest.raises(OperationalError) as raised:
            with locks.unit_of_work():
                locks.lock(db.session.get(Course, booking.course_id))
    waited = time.monotonic() - started
    assert is_busy(raised.value)
    assert timeout * 0.8 <= waited < timeout + 3

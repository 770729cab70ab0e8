"""The booking's status table, and status changes that cannot overwrite each other (issue: the sweeper lost a paid place)."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from instructor_portal.booking import holds, states
from instructor_portal.booking.models import Booking, BookingPlace, BookingStatus, PaymentMethod
from instructor_portal.extensions import db
from instructor_portal.locks import unit_of_work
from tests import factories

NOW = datetime.now(UTC).replace(microsecond=0)


def live_flags(booking: Booking) -> list[bool]:
    return list(db.session.scalars(select(BookingPlace.live).where(BookingPlace.booking_id == booking.id)))


@pytest.fixture
def lapsed(app):
    """A twins' booking whose hold ran out a minute ago, on a course with room."""
    course = factories.make_course()
    children = [factories.make_child(), factories.make_child()]
    children[1].parent = children[0].parent
    db.session.commit()
    return factories.make_booking(
        course, children, status=BookingStatus.AWAITING_PAYMENT, hold_expires_at=NOW - timedelta(minutes=1)
    )


def test_a_status_changes_only_under_the_bookings_lock(lapsed):
    with pytest.raises(RuntimeError, match="only under its lock"):
        states.move(lapsed, BookingStatus.EXPIRED)


@pytest.mark.parametrize(
    ("start", "target", "error"),
    [
        (BookingStatus.CONFIRMED, BookingStatus.CONFIRMED, states.TransitionIgnored),
        (BookingStatus.CANCELLED, BookingStatus.CONFIRMED, states.InvalidTransition),
        (BookingStatus.CONFIRMED, BookingStatus.AWAITING_PAYMENT, states.InvalidTransition),
        (BookingStatus.EXPIRED, BookingStatus.CANCELLED, states.InvalidTransition),
    ],
)
def test_changes_the_table_does_not_allow_are_refused(app, start, target, error):
    booking = factories.make_booking(factories.make_course(), status=start)
    with pytest.raises(error):
        with unit_of_work():
            holds.lock_booking(booking)
            states.move(booking, target)
    db.session.refresh(booking)
    assert booking.status == start


def test_every_place_follows_its_booking_even_when_the_sessions_copy_is_stale(lapsed):
    db.session.execute(update(BookingPlace).where(BookingPlace.booking_id == lapsed.id).values(live=False))
    db.session.commit()
    [place.live for place in lapsed.places]  # the session's copies now say False
    with unit_of_work():
        holds.lock_booking(lapsed)
        states.move(lapsed, BookingStatus.CONFIRMED)
    assert live_flags(lapsed) == [True, True]
    with unit_of_work():
        holds.lock_booking(lapsed)
        states.move(lapsed, BookingStatus.CANCELLED)
    assert live_flags(lapsed) == [False, False]


def test_the_sweeper_expires_only_what_is_still_held_and_lapsed(app, lapsed):
    live = factories.make_booking(
        lapsed.course, status=BookingStatus.AWAITING_PAYMENT, hold_expires_at=NOW + timedelta(minutes=5)
    )
    confirmed = factories.make_booking(lapsed.course)
    assert holds.expire_holds(now=NOW) == 1
    for booking in (lapsed, live, confirmed):
        db.session.refresh(booking)
    assert (lapsed.status, live.status, confirmed.status) == (
        BookingStatus.EXPIRED,
        BookingStatus.AWAITING_PAYMENT,
        BookingStatus.CONFIRMED,
    )
    assert live_flags(lapsed) == [False, False]
    assert holds.expire_holds(now=NOW) == 0


def _old_sweeper(*, now):
    """The sweeper as it was: ids first, then an update by id alone, with no lock and no check of the status."""
    ids = list(
        db.session.scalars(
            select(Booking.id).where(Booking.status == BookingStatus.AWAITING_PAYMENT, Booking.hold_expires_at <= now)
        )
    )
    time.sleep(0.2)  # as long as a busy server might take between the two
    if ids:
        db.session.execute(update(BookingPlace).where(BookingPlace.booking_id.in_(ids)).values(live=False))
        db.session.execute(update(Booking).where(Booking.id.in_(ids)).values(status=BookingStatus.EXPIRED))
    db.session.commit()


def pay_late_while_the_sweeper_runs(app, booking_id: int, sweeper) -> None:
    """Confirm a late payment on one connection, committing slowly, while the sweeper runs on another."""
    paying = threading.Event()
    errors: list[BaseException] = []

    def pay():
        with app.app_context():
            try:
                booking = db.session.get(Booking, booking_id)
                with unit_of_work():
                    holds.lock_booking(booking)
                    assert holds.take_payment(booking, PaymentMethod.CARD, now=NOW) == holds.PaidOutcome.CONFIRMED_LATE
                    paying.set()
                    time.sleep(0.5)  # the commit is slow to come
            except BaseException as error:
                errors.append(error)
                paying.set()
            finally:
                db.session.remove()

    def sweep():
        with app.app_context():
            try:
                paying.wait(10)
                time.sleep(0.05)  # the sweeper starts while the payment's transaction is still open
                sweeper(now=NOW)
            except BaseException as error:
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=pay), threading.Thread(target=sweep)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors


def test_control_the_old_sweeper_overwrites_a_paid_booking(app, racing_app, lapsed):
    pay_late_while_the_sweeper_runs(racing_app, lapsed.id, _old_sweeper)
    db.session.refresh(lapsed)
    assert lapsed.status == BookingStatus.EXPIRED and live_flags(lapsed) == [False, False]


def test_a_late_payment_confirming_while_the_sweeper_runs_keeps_its_places(app, racing_app, lapsed):
    pay_late_while_the_sweeper_runs(racing_app, lapsed.id, holds.expire_holds)
    db.session.refresh(lapsed)
    assert lapsed.status == BookingStatus.CONFIRMED
    assert live_flags(lapsed) == [True, True]

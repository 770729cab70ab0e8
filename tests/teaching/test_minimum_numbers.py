"""Minimum numbers to run, with time injected: warned once, cancelled at the decision unless run anyway, never twice."""

from datetime import UTC, datetime, timedelta

import pytest

from instructor_portal.accounts.models import Role
from instructor_portal.booking.models import BookingStatus, PaymentMethod
from instructor_portal.catalogue.models import CourseStatus
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from instructor_portal.payments.models import Refund
from instructor_portal.teaching import minimum_numbers, services
from tests import factories
from tests.conftest import post_form

START = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)
DECISION = START - timedelta(days=3)


@pytest.fixture
def short_course(app):
    """A course of 6 places needing 3 to run, with 2 booked (one paid by bank transfer), first session on 10 June."""
    course = factories.make_course(places=6, min_places=3, first_session=START)
    factories.make_booking(course)
    paid = factories.make_booking(course, amount_paid_pence=4500)
    factories.make_payment(paid, method=PaymentMethod.BANK_TRANSFER)
    return course, paid


def emails_to(address: str) -> list[OutboxEmail]:
    return db.session.scalars(db.select(OutboxEmail).where(OutboxEmail.to_address == address)).all()


def test_the_instructor_is_warned_once_two_days_before_the_decision(short_course):
    course, _ = short_course
    assert minimum_numbers.check_minimum_numbers(now=DECISION - timedelta(days=3)) == {"warned": 0, "cancelled": 0}
    assert minimum_numbers.check_minimum_numbers(now=DECISION - timedelta(days=2)) == {"warned": 1, "cancelled": 0}
    assert minimum_numbers.check_minimum_numbers(now=DECISION - timedelta(days=1)) == {"warned": 0, "cancelled": 0}
    [email] = emails_to(course.instructor.email)
    assert "2 of the 3 places" in email.body_text
    assert course.status == CourseStatus.PUBLISHED


def test_a_course_short_at_its_decision_is_cancelled_and_refunded(short_course):
    course, paid = short_course
    assert minimum_numbers.check_minimum_numbers(now=DECISION) == {"warned": 0, "cancelled": 1}
    assert course.status == CourseStatus.CANCELLED
    assert "Fewer than 3 families had booked" in course.cancellation_reason
    db.session.refresh(paid)
    assert paid.status == BookingStatus.CANCELLED
    assert db.session.scalars(db.select(Refund.amount_pence)).all() == [4500]
    assert any("Course cancelled" in email.subject for email in emails_to(paid.parent.email))
    # Running again changes nothing.
    assert minimum_numbers.check_minimum_numbers(now=DECISION + timedelta(hours=1)) == {"warned": 0, "cancelled": 0}


def test_a_course_that_reaches_its_minimum_or_is_run_anyway_runs(short_course):
    course, _ = short_course
    factories.make_booking(course)
    assert minimum_numbers.check_minimum_numbers(now=DECISION) == {"warned": 0, "cancelled": 0}
    other = factories.make_course(places=6, min_places=4, first_session=START)
    factories.make_booking(other)
    minimum_numbers.run_anyway(other, actor=other.instructor, now=DECISION - timedelta(days=1))
    assert minimum_numbers.check_minimum_numbers(now=DECISION) == {"warned": 0, "cancelled": 0}
    assert (course.status, other.status) == (CourseStatus.PUBLISHED, CourseStatus.PUBLISHED)


def test_a_minimum_above_the_places_is_refused(app):
    course = factories.make_course(places=6)
    with pytest.raises(services.TeachingError, match="cannot be more than the places"):
        services.update_course(course, actor=course.instructor, min_places=7)
    db.session.refresh(course)
    assert course.min_places is None


def test_the_instructor_sets_a_minimum_and_chooses_to_run_anyway_from_the_course_page(client, login_as, short_course):
    course, _ = short_course
    login_as(course.instructor)
    page = client.get(f"/teach/courses/{course.id}").get_data(as_text=True)
    assert "Short of its minimum" in page
    post_form(client, f"/teach/courses/{course.id}/run-anyway", page=f"/teach/courses/{course.id}")
    db.session.refresh(course)
    assert course.run_anyway_at is not None
    assert "It will run whatever the numbers." in client.get(f"/teach/courses/{course.id}").get_data(as_text=True)


def test_each_organiser_gets_a_copy_of_the_warning_naming_the_instructor(short_course):
    course, _ = short_course
    organiser = factories.make_user(role=Role.ORGANISER, full_name="Olivia Marsh")
    factories.make_user(role=Role.ORGANISER, active=False)
    minimum_numbers.check_minimum_numbers(now=DECISION - timedelta(days=2))
    [to_instructor] = emails_to(course.instructor.email)
    [to_organiser] = emails_to(organiser.email)
    assert "You get this as an organiser" not in to_instructor.body_text
    assert "Hello Olivia," in to_organiser.body_text
    assert f"You get this as an organiser; {course.instructor.full_name} teaches the course." in to_organiser.body_text
    assert db.session.scalar(db.select(db.func.count(OutboxEmail.id))) == 2


def test_the_watch_lists_courses_still_to_be_decided_soonest_first(short_course):
    course, _ = short_course
    later = factories.make_course(places=6, min_places=1, first_session=START + timedelta(days=7))
    factories.make_booking(later)
    running = factories.make_course(places=6, min_places=4, first_session=START + timedelta(days=1))
    minimum_numbers.run_anyway(running, actor=running.instructor, now=DECISION - timedelta(days=5))
    factories.make_course(places=6, first_session=START)  # no minimum
    factories.make_course(places=6, min_places=2, first_session=START - timedelta(days=30))  # already started
    watch = minimum_numbers.minimum_watch(now=DECISION - timedelta(days=1))
    assert [(row.course, row.booked, row.decide, row.short) for row in watch] == [
        (course, 2, DECISION, True),
        (running, 0, DECISION + timedelta(days=1), False),
        (later, 1, DECISION + timedelta(days=7), False),
    ]


def test_the_organiser_sees_courses_short_of_their_minimum_and_can_run_one_anyway(client, login_as):
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
    course = factories.make_course(places=6, min_places=3, first_session=start, title="Thin Thursdays")
    factories.make_booking(course)
    login_as("organiser")
    page = client.get("/organiser").get_data(as_text=True)
    assert "Minimum numbers to run" in page and "1 of 3 needed" in page and "cancels itself then" in page
    post_form(client, f"/teach/courses/{course.id}/run-anyway", page="/organiser")
    db.session.refresh(course)
    assert course.run_anyway_at is not None
    assert "Running whatever the numbers" in client.get("/organiser").get_data(as_text=True)

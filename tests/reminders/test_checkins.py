"""The morning check-in's service: signed, single-use answers that set what the register expects, never a mark."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer

from instructor_portal.attendance import makeups
from instructor_portal.attendance import services as attendance
from instructor_portal.attendance.models import AttendanceMark, AttendanceStatus, Makeup, MakeupStatus
from instructor_portal.booking.models import BookingStatus
from instructor_portal.catalogue.models import SessionStatus
from instructor_portal.extensions import db
from instructor_portal.organisation import get_organisation
from instructor_portal.reminders import checkins
from instructor_portal.reminders.models import CheckIn, CheckInAnswer
from tests import factories
from tests.catalogue.test_routes import counting_queries
from tests.conftest import count
from tests.reminders.conftest import MORNING, START


def answer(scene, choice: str = "unwell", *, token: str | None = None, session_id: int | None = None, now=MORNING):
    token = token or checkins.check_in_token(scene.session, scene.booking)
    return checkins.answer_check_in(session_id or scene.session.id, choice, token, now=now)


def refused(scene, status: int, message: str, **kwargs) -> None:
    with pytest.raises(checkins.CheckInError, match=message) as caught:
        answer(scene, **kwargs)
    assert caught.value.status == status


def test_an_answer_is_what_the_register_expects_of_the_family_and_writes_no_mark(scene):
    check_in = answer(scene, "late")
    assert checkins.register_answers(scene.session) == {scene.booking.id: check_in}
    assert check_in.answer == CheckInAnswer.LATE
    assert count(AttendanceMark) == 0


def test_a_second_answer_is_refused_and_changes_nothing(scene):
    answer(scene, "coming")
    refused(
        scene,
        409,
        "already answered for this session: “See you there”. If anything changes, call Jo Teacher on 07700 900123",
    )
    assert db.session.scalars(db.select(CheckIn.answer)).all() == ["coming"]


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "",
        URLSafeSerializer("testing-secret-key", salt="someone-else").dumps([1, 1]),  # the app's key, another purpose
        URLSafeSerializer("guessed-key", salt=checkins.SALT).dumps([1, 1]),
    ],
)
def test_a_forged_link_is_refused(scene, token):
    refused(scene, 400, "This link is not valid", token=token or ".")
    assert count(CheckIn) == 0


def test_a_tampered_link_is_refused(scene):
    token = checkins.check_in_token(scene.session, scene.booking)
    refused(scene, 400, "This link is not valid", token=token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))


def test_a_link_for_another_session_is_refused(scene):
    other = factories.make_session(scene.course, starts_at=START + timedelta(days=7))
    refused(scene, 400, "for a different session", session_id=other.id)
    refused(scene, 400, "for a different session", token=checkins.check_in_token(other, scene.booking))
    assert count(CheckIn) == 0


def test_an_unknown_answer_is_refused(scene):
    refused(scene, 404, "not one of the answers", choice="maybe")


def test_no_answer_once_the_session_has_started(scene):
    refused(scene, 410, "already started, so the check-in is closed. If anything changes, call Jo Teacher", now=START)
    assert count(CheckIn) == 0


def test_no_answer_for_a_cancelled_session_or_a_booking_no_longer_on_it(scene):
    scene.booking.status = BookingStatus.CANCELLED
    db.session.commit()
    refused(scene, 410, "no longer has a place")
    scene.session.status = SessionStatus.CANCELLED
    db.session.commit()
    refused(scene, 410, "has been cancelled")
    assert count(CheckIn) == 0


def makeup_family_at(session):
    """A family on another course, here as an accepted make-up, marked absent at their own course's first session."""
    own = factories.make_course(sessions=2, first_session=START - timedelta(days=9))
    booking = factories.make_booking(own)
    place = booking.places[0]
    missed = AttendanceMark(
        place=place, session=own.sessions[0], status=AttendanceStatus.ABSENT_UNWELL, marked_at=START - timedelta(days=9)
    )
    makeup = Makeup(
        place=place,
        missed_session=own.sessions[0],
        session=session,
        status=MakeupStatus.ACCEPTED,
        offered_at=START - timedelta(days=8),
        responded_at=START - timedelta(days=8),
    )
    db.session.add_all([missed, makeup])
    db.session.commit()
    return booking


def test_a_family_here_for_a_make_up_checks_in_too(scene):
    booking = makeup_family_at(scene.session)
    token = checkins.check_in_token(scene.session, booking)
    checkins.answer_check_in(scene.session.id, "immunised", token, now=MORNING)
    assert checkins.register_answers(scene.session)[booking.id].answer == CheckInAnswer.IMMUNISED


def test_a_family_who_said_they_stay_home_may_be_offered_a_make_up_until_a_mark_says_otherwise(scene):
    place = scene.booking.places[0]
    assert "marked absent" in makeups.makeup_refusal(scene.session, place)
    answer(scene, "unwell")
    assert makeups.makeup_refusal(scene.session, place) is None
    attendance.mark_attendance(scene.session, place.id, "present", by=scene.instructor, now=START)
    assert "marked absent" in makeups.makeup_refusal(scene.session, place)


def test_an_answer_never_changes_the_instructors_mark(scene):
    place = scene.booking.places[0]
    attendance.mark_attendance(scene.session, place.id, "present", by=scene.instructor, now=MORNING)
    answer(scene, "unwell", now=MORNING + timedelta(minutes=5))
    [mark] = db.session.scalars(db.select(AttendanceMark)).all()
    assert (mark.status, len(mark.changes)) == (AttendanceStatus.PRESENT, 1)
    assert "marked absent" in makeups.makeup_refusal(scene.session, place)  # the mark decides


@contextmanager
def counted(user):
    """Count the queries of the block, with the user and the organisation's settings already read, as on a page."""
    db.session.refresh(user)
    get_organisation()
    with counting_queries() as statements:
        yield statements


def families_on(session, count_: int):
    return [factories.make_booking(session.course) for _ in range(count_)]


def test_the_days_expected_numbers_per_session_in_a_constant_number_of_queries(scene):
    first = families_on(scene.session, 3)
    for booking, choice in zip(first, ["coming", "late", "unwell"], strict=True):
        checkins.answer_check_in(scene.session.id, choice, checkins.check_in_token(scene.session, booking), now=MORNING)
    answer(scene, "coming")
    makeup_family_at(scene.session)
    families_on(scene.session, 1)[0].status = BookingStatus.CANCELLED
    db.session.commit()

    with counted(scene.instructor) as one_session:
        [numbers] = checkins.todays_numbers(scene.instructor, now=MORNING)
    assert numbers.summary == "5 booked: 2 coming, 1 unwell, 1 late, 1 not answered"

    afternoon = factories.make_session(scene.course, starts_at=START + timedelta(hours=4))
    families_on(afternoon, 2)
    other = factories.make_course(instructor=scene.instructor, sessions=1, first_session=START + timedelta(hours=2))
    with counted(scene.instructor) as three_sessions:
        numbers = checkins.todays_numbers(scene.instructor, now=MORNING)
    # The two new families are on the course's every session; the make-up family only at the first.
    assert [n.summary for n in numbers] == [
        "7 booked: 2 coming, 1 unwell, 1 late, 3 not answered",
        "No families booked",
        "6 booked: 6 not answered",
    ]
    assert numbers[1].session.course == other
    assert len(three_sessions) == len(one_session)
    # Another instructor sees none of them; tomorrow shows nothing yet.
    assert checkins.todays_numbers(factories.make_user(role="instructor"), now=MORNING) == []
    assert checkins.todays_numbers(scene.instructor, now=MORNING + timedelta(days=1)) == []

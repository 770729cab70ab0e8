"""Session reminders with time injected: due the day before and on the morning, once each, to the right families only."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from instructor_portal.attendance.models import AttendanceMark, AttendanceStatus, Makeup, MakeupStatus
from instructor_portal.booking.models import BookingStatus
from instructor_portal.catalogue.models import CourseStatus, SessionStatus
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from instructor_portal.organisation import get_organisation
from instructor_portal.organiser.services import update_settings
from instructor_portal.queue import huey
from instructor_portal.reminders import services, tasks
from instructor_portal.reminders.models import ReminderKind, SentReminder
from instructor_portal.teaching.services import move_session
from tests import factories
from tests.conftest import count
from tests.reminders.conftest import DAY_BEFORE, MORNING, START, emails_to


def send(now: datetime) -> int:
    return services.send_due_reminders(now=now)


@pytest.mark.parametrize(
    ("now", "kind"),
    [
        (DAY_BEFORE - timedelta(minutes=1), None),
        (DAY_BEFORE, ReminderKind.DAY_BEFORE),
        (MORNING - timedelta(minutes=1), ReminderKind.DAY_BEFORE),
        (MORNING, ReminderKind.MORNING),
        (START - timedelta(minutes=1), ReminderKind.MORNING),
        (START, None),
        (START + timedelta(days=1), None),
    ],
)
def test_a_reminder_falls_due_the_day_before_and_on_the_morning_and_never_once_the_session_starts(app, now, kind):
    assert services.due_kind(START, now=now, organisation=get_organisation()) == kind


def test_a_session_starting_before_the_morning_time_gets_only_the_day_before_until_it_starts(app):
    early = datetime(2026, 6, 10, 5, 45, tzinfo=UTC)  # 06:45 in London, before the 07:30 morning reminder
    organisation = get_organisation()
    assert (
        services.due_kind(early, now=early - timedelta(minutes=5), organisation=organisation) == ReminderKind.DAY_BEFORE
    )
    assert services.due_kind(early, now=MORNING, organisation=organisation) is None


def test_the_times_are_the_organisations_local_settings(app):
    organiser = factories.make_user(role="organiser")
    update_settings(actor=organiser, reminder_day_before_at=time(19, 30), reminder_morning_at=time(8, 0))
    organisation = get_organisation()
    assert services.due_kind(START, now=DAY_BEFORE + timedelta(minutes=89), organisation=organisation) is None
    assert services.due_kind(START, now=DAY_BEFORE + timedelta(minutes=90), organisation=organisation) == "day_before"
    assert services.due_kind(START, now=MORNING + timedelta(minutes=30), organisation=organisation) == "morning"


def test_each_family_gets_the_day_before_and_the_morning_reminder_once(scene):
    assert send(DAY_BEFORE - timedelta(hours=1)) == 0
    assert send(DAY_BEFORE) == 1
    assert send(DAY_BEFORE + timedelta(minutes=5)) == 0
    assert send(MORNING) == 1
    assert send(MORNING + timedelta(minutes=5)) == 0
    day_before, morning = emails_to("amira@example.org")
    assert day_before.subject == "Tuesday babies tomorrow: Instructor Portal"
    assert morning.subject == "Tuesday babies today: Instructor Portal"
    assert db.session.scalars(db.select(SentReminder.kind).order_by(SentReminder.id)).all() == ["day_before", "morning"]


def test_the_reminder_says_when_where_what_to_bring_for_whom_and_whom_to_call(scene):
    send(DAY_BEFORE)
    [email] = emails_to("amira@example.org")
    for part in (email.body_text, email.body_html):
        assert "Wed 10 Jun 2026, 10:00am" in part
        assert "Southmead Children" in part and "1 Park Road, Bristol BS10 5AB" in part
        assert "A towel and a spare nappy" in part
        assert "Layla and Yusuf" in part
        assert "07700 900123" in part
        assert f"/account/bookings/{scene.booking.id}" in part
        assert "check-in" not in part  # the check-in comes on the morning


def test_the_morning_reminder_carries_the_four_check_in_answers(scene):
    send(MORNING)
    [email] = emails_to("amira@example.org")
    for part in (email.body_text, email.body_html):
        for label in ("See you there", "Baby is unwell today", "Recently immunised, staying home", "Running late"):
            assert label in part
        for answer in ("coming", "unwell", "immunised", "late"):
            assert f"http://portal.test/check-in/{scene.session.id}/{answer}/" in part


def test_a_family_who_turned_reminders_off_gets_none_until_they_turn_them_on(scene):
    assert services.set_reminders(scene.booking, wanted=False, by=scene.booking.parent) is True
    assert services.set_reminders(scene.booking, wanted=False, by=scene.booking.parent) is False
    assert send(DAY_BEFORE) == 0
    services.set_reminders(scene.booking, wanted=True, by=scene.booking.parent)
    assert services.wants_reminders(scene.booking)
    assert send(MORNING) == 1


@pytest.mark.parametrize("status", [BookingStatus.CANCELLED, BookingStatus.EXPIRED])
def test_a_booking_no_longer_live_gets_no_reminder_and_cannot_change_them(scene, status):
    scene.booking.status = status
    for place in scene.booking.places:
        place.live = False
    db.session.commit()
    assert send(DAY_BEFORE) == 0
    with pytest.raises(services.ReminderError, match="no longer live"):
        services.set_reminders(scene.booking, wanted=False, by=scene.booking.parent)


def test_a_hold_that_ran_out_gets_no_reminder(scene):
    scene.booking.status = BookingStatus.AWAITING_PAYMENT
    scene.booking.hold_expires_at = DAY_BEFORE - timedelta(minutes=1)
    db.session.commit()
    assert send(DAY_BEFORE) == 0


def test_a_cancelled_session_or_course_gets_no_reminder(scene):
    other = factories.make_course(sessions=1, first_session=START, status=CourseStatus.CANCELLED)
    factories.make_booking(other)
    scene.session.status = SessionStatus.CANCELLED
    db.session.commit()
    assert send(DAY_BEFORE) == 0
    assert send(MORNING) == 0
    assert count(OutboxEmail) == 0


def test_the_joining_link_and_the_check_in_go_only_to_confirmed_families(app):
    course = factories.make_course(
        sessions=1, first_session=START, is_online=True, online_link="https://meet.example.org/babies"
    )
    confirmed = factories.make_booking(course)
    held = factories.make_booking(
        course, status=BookingStatus.AWAITING_PAYMENT, hold_expires_at=START + timedelta(hours=1)
    )
    assert send(MORNING) == 2
    [to_confirmed] = emails_to(confirmed.parent.email)
    [to_held] = emails_to(held.parent.email)
    for part in (to_confirmed.body_text, to_confirmed.body_html):
        assert "https://meet.example.org/babies" in part
        assert "See you there" in part
    for part in (to_held.body_text, to_held.body_html):
        assert "meet.example.org" not in part
        assert "the joining link is on your booking page once your place is confirmed" in part
        assert "See you there" not in part


def test_a_family_coming_as_a_make_up_is_reminded_of_that_session(scene):
    own = factories.make_course(sessions=2, first_session=START - timedelta(days=9))
    parent = factories.make_user(email="sam@example.org")
    booking = factories.make_booking(own, [factories.make_child(parent, first_name="Noah")])
    place = booking.places[0]
    db.session.add(
        AttendanceMark(
            place=place,
            session=own.sessions[0],
            status=AttendanceStatus.ABSENT_UNWELL,
            marked_at=START - timedelta(days=7),
        )
    )
    db.session.add(
        Makeup(
            place=place,
            missed_session=own.sessions[0],
            session=scene.session,
            status=MakeupStatus.ACCEPTED,
            offered_at=START - timedelta(days=6),
            responded_at=START - timedelta(days=6),
        )
    )
    db.session.commit()
    assert send(DAY_BEFORE) == 2
    [email] = emails_to("sam@example.org")
    assert "Tuesday babies is tomorrow, your make-up session" in email.body_text
    assert "For: Noah" in email.body_text


def test_a_worker_down_for_hours_sends_only_what_is_still_of_use(scene):
    # Down from before 18:00 until 08:00: the day-before reminder is past its use, the morning one is not.
    assert send(MORNING + timedelta(minutes=30)) == 1
    assert db.session.scalars(db.select(SentReminder.kind)).all() == ["morning"]
    assert send(MORNING + timedelta(minutes=35)) == 0
    # Down until the session started: nothing at all.
    late = factories.make_course(sessions=1, first_session=START)
    factories.make_booking(late)
    assert send(START + timedelta(minutes=1)) == 0


def test_a_session_moved_after_its_reminder_gets_no_second_one_of_that_kind(scene):
    send(DAY_BEFORE)
    move_session(
        scene.session,
        actor=scene.instructor,
        day=date(2026, 6, 10),
        start_time=time(11, 0),
        minutes=60,
        tz="Europe/London",
        note="Room change",
        now=DAY_BEFORE + timedelta(minutes=10),
    )
    assert send(DAY_BEFORE + timedelta(minutes=20)) == 0  # the move's own email gave the new time
    assert send(MORNING) == 1  # the morning one still comes
    subjects = [email.subject for email in emails_to("amira@example.org")]
    assert subjects == [
        "Tuesday babies tomorrow: Instructor Portal",
        "Session moved: Tuesday babies",
        "Tuesday babies today: Instructor Portal",
    ]


def test_the_queue_sends_the_reminders_due_every_few_minutes(scene, monkeypatch):
    huey.flush()
    monkeypatch.setattr(services, "utcnow", lambda: DAY_BEFORE + timedelta(minutes=3))
    tasks.send_reminders.call_local()
    tasks.send_reminders.call_local()
    assert [email.subject for email in emails_to("amira@example.org")] == ["Tuesday babies tomorrow: Instructor Portal"]
    # The commit that queued the reminder asked the outbox to deliver it at once.
    assert [task.name for task in huey.pending()] == ["deliver_outbox"]


def test_the_send_reminders_command_queues_what_is_due(scene, runner, monkeypatch):
    monkeypatch.setattr(services, "utcnow", lambda: MORNING)
    assert runner.invoke(args=["send-reminders"]).output == "Queued 1 reminder.\n"
    assert runner.invoke(args=["send-reminders"]).output == "Queued 0 reminders.\n"


class RecordingChannel:
    """A second channel, as a text-message provider would be: it is handed each reminder to send."""

    def __init__(self):
        self.sent = []

    def send(self, reminder) -> None:
        self.sent.append(reminder)


def test_a_reminder_goes_by_whichever_channel_it_is_given_and_is_recorded_once_all_the_same(scene):
    channel = RecordingChannel()
    assert services.send_due_reminders(now=DAY_BEFORE, channel=channel) == 1
    [reminder] = channel.sent
    assert (reminder.booking, reminder.kind, reminder.children) == (scene.booking, "day_before", ("Layla", "Yusuf"))
    assert count(OutboxEmail) == 0
    assert services.send_due_reminders(now=DAY_BEFORE) == 0

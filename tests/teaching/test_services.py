from datetime import UTC, date, datetime, time, timedelta

import pytest

from instructor_portal.audit import AuditEntry
from instructor_portal.catalogue.models import AgeUnit, Course, CourseSession, CourseStatus, SessionStatus, Track
from instructor_portal.extensions import db
from instructor_portal.organiser.services import update_settings
from instructor_portal.teaching import profiles, services
from instructor_portal.teaching.services import TeachingError
from tests import factories
from tests.conftest import count

LONDON = "Europe/London"
#: "Now" for these tests: a Friday morning in early October 2027, British Summer Time.
NOW = datetime(2027, 10, 1, 9, 0, tzinfo=UTC)
SOON = NOW + timedelta(days=7)


@pytest.fixture
def instructor(app):
    return factories.make_user(role="instructor")


@pytest.fixture
def organiser(app):
    return factories.make_user(role="organiser")


@pytest.fixture
def venue(app):
    return factories.make_venue()


def course_fields(where, **changes):
    return {"title": "Baby massage", "track": Track.FAMILY, "places": 8, "venue": where, "price_pence": 4500, **changes}


def actions() -> list[str]:
    return list(db.session.scalars(db.select(AuditEntry.action).order_by(AuditEntry.id)))


def draft(instructor, venue, **overrides):
    return factories.make_course(
        **{"instructor": instructor, "venue": venue, "status": CourseStatus.DRAFT, "first_session": SOON, **overrides}
    )


# Creating and editing courses


def test_create_course_saves_a_draft_with_the_organisation_defaults(instructor, venue, organiser):
    update_settings(actor=organiser, currency="EUR", default_cancellation_notice_days=10)
    course = services.create_course(instructor, actor=instructor, **course_fields(venue))
    assert course.status == CourseStatus.DRAFT
    assert course.published_at is None
    assert (course.currency, course.cancellation_notice_days) == ("EUR", 10)
    assert course.sessions == []
    assert actions()[-1] == "course.created"


def test_a_course_has_no_sibling_discount_until_one_is_set(instructor, venue):
    course = services.create_course(instructor, actor=instructor, **course_fields(venue))
    assert course.sibling_discount_percent == 0
    services.update_course(course, actor=instructor, sibling_discount_percent=10)
    assert db.session.get(Course, course.id).sibling_discount_percent == 10
    assert db.session.scalars(db.select(AuditEntry.data).order_by(AuditEntry.id.desc())).first() == {
        "changed": ["sibling_discount_percent"]
    }


def test_create_course_with_a_weekly_series_adds_the_sessions_in_the_same_step(instructor, venue):
    weekly = {"first_day": date(2027, 10, 5), "start_time": time(10, 30), "minutes": 60, "weeks": 5, "tz": LONDON}
    course = services.create_course(instructor, actor=instructor, weekly=weekly, now=NOW, **course_fields(venue))
    assert [s.starts_at.date() for s in course.sessions] == [date(2027, 10, 5) + timedelta(weeks=n) for n in range(5)]
    assert all(s.ends_at - s.starts_at == timedelta(hours=1) for s in course.sessions)


def test_a_refused_weekly_series_creates_no_course(instructor, venue):
    weekly = {"first_day": date(2027, 9, 1), "start_time": time(10), "minutes": 60, "weeks": 5, "tz": LONDON}
    with pytest.raises(TeachingError, match="in the future") as caught:
        services.create_course(instructor, actor=instructor, weekly=weekly, now=NOW, **course_fields(venue))
    assert caught.value.field == "first_day"
    assert count(Course) == 0


def test_an_organiser_creates_a_course_for_an_instructor(instructor, organiser, venue):
    course = services.create_course(instructor, actor=organiser, **course_fields(venue))
    assert course.instructor == instructor
    assert (
        db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "course.created")).one().actor_id
        == organiser.id
    )


def test_an_instructor_cannot_create_a_course_for_someone_else(instructor, venue):
    colleague = factories.make_user(role="instructor")
    with pytest.raises(TeachingError, match="courses that you teach yourself"):
        services.create_course(colleague, actor=instructor, **course_fields(venue))
    assert count(Course) == 0


@pytest.mark.parametrize("teacher", [{"role": "parent"}, {"role": "instructor", "active": False}])
def test_only_an_active_instructor_can_teach_a_course(organiser, venue, teacher):
    with pytest.raises(TeachingError, match="active instructor"):
        services.create_course(factories.make_user(**teacher), actor=organiser, **course_fields(venue))
    assert count(Course) == 0


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"venue": None}, "venue", "Choose a venue, or Online"),
        ({"is_online": True}, "venue", "does not meet at a venue"),
        ({"online_link": "https://meet.example.org/baby"}, "online_link", "Only an online course has a joining link"),
        ({"venue": None, "is_online": True, "online_link": "http://meet.example.org/baby"}, "online_link", "https://"),
        ({"venue": None, "is_online": True, "online_link": "javascript:alert(1)"}, "online_link", "https://"),
        ({"venue": None, "is_online": True, "online_link": "https://"}, "online_link", "https://"),
        ({"venue": None, "is_online": True, "online_link": "https://[bad"}, "online_link", "https://"),
        ({"age_min": 20, "age_max": 6}, "age_max", "youngest age must not be more than the oldest"),
        (
            {"booking_opens_at": SOON, "booking_closes_at": SOON - timedelta(hours=1)},
            "booking_closes_at",
            "close after it opens",
        ),
        ({"booking_opens_at": SOON, "booking_closes_at": SOON}, "booking_closes_at", "close after it opens"),
    ],
)
def test_create_course_refuses_broken_rules_and_saves_nothing(instructor, venue, changes, field, message):
    with pytest.raises(TeachingError, match=message) as caught:
        services.create_course(instructor, actor=instructor, **{**course_fields(venue), **changes})
    assert caught.value.field == field
    assert count(Course) == 0


def test_a_retired_venue_cannot_be_chosen_for_a_new_course(instructor):
    retired = factories.make_venue(active=False)
    with pytest.raises(TeachingError, match="no longer in use"):
        services.create_course(instructor, actor=instructor, **course_fields(retired))
    assert count(Course) == 0


def test_an_online_course_needs_no_venue(instructor):
    course = services.create_course(
        instructor, actor=instructor, **course_fields(None, is_online=True, online_link="https://meet.example.org/x")
    )
    assert course.is_online and course.venue is None


def test_update_course_changes_only_the_fields_given(instructor, venue):
    course = draft(instructor, venue, title="Old title", places=8)
    services.update_course(course, actor=instructor, title="New title", price_pence=0)
    db.session.expire_all()
    assert (course.title, course.places, course.price_pence, course.is_free) == ("New title", 8, 0, True)
    entry = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "course.updated")).one()
    assert entry.data == {"changed": ["price_pence", "title"]}


def test_a_course_keeps_its_retired_venue_but_cannot_move_to_another(instructor, venue):
    course = draft(instructor, venue)
    venue.active = False
    db.session.commit()
    services.update_course(course, actor=instructor, title="Still here", venue=venue)
    other_retired = factories.make_venue(active=False)
    with pytest.raises(TeachingError, match="no longer in use"):
        services.update_course(course, actor=instructor, venue=other_retired)
    db.session.expire_all()
    assert course.venue == venue


def test_update_course_refuses_a_broken_rule_and_changes_nothing(instructor, venue):
    course = draft(instructor, venue, age_min=6, age_max=52)
    with pytest.raises(TeachingError, match="youngest age") as caught:
        services.update_course(course, actor=instructor, title="Changed", age_min=60)
    assert caught.value.field == "age_max"
    db.session.expire_all()
    assert (course.title.startswith("Baby massage course"), course.age_min) == (True, 6)


def test_a_published_online_course_keeps_its_joining_link(instructor):
    course = factories.make_course(instructor=instructor, is_online=True, online_link="https://meet.example.org/x")
    with pytest.raises(TeachingError, match="needs its joining link"):
        services.update_course(course, actor=instructor, online_link=None)


def test_a_cancelled_course_cannot_be_changed(instructor, venue):
    course = draft(instructor, venue, status=CourseStatus.CANCELLED)
    with pytest.raises(TeachingError, match="cancelled"):
        services.update_course(course, actor=instructor, title="Back again")


def test_unknown_course_fields_are_a_programming_error(instructor, venue):
    with pytest.raises(TypeError, match="colour"):
        services.create_course(instructor, actor=instructor, colour="blue", **course_fields(venue))


# Publishing and cancelling


def test_publish_course_opens_it_for_booking(instructor, venue):
    course = draft(instructor, venue)
    services.publish_course(course, actor=instructor, now=NOW)
    assert (course.status, course.published_at) == (CourseStatus.PUBLISHED, NOW)
    assert actions()[-1] == "course.published"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sessions": 0}, "at least one session in the future"),
        ({"first_session": NOW - timedelta(weeks=6)}, "at least one session in the future"),
        ({"is_online": True, "online_link": None}, "joining link"),
        ({"status": CourseStatus.PUBLISHED}, "already published"),
        ({"status": CourseStatus.CANCELLED}, "cancelled"),
    ],
)
def test_publish_course_refuses_a_course_that_is_not_ready(instructor, overrides, message):
    values = {"instructor": instructor, "status": CourseStatus.DRAFT, "first_session": SOON, **overrides}
    course = factories.make_course(**values)
    status = course.status
    with pytest.raises(TeachingError, match=message):
        services.publish_course(course, actor=instructor, now=NOW)
    db.session.expire_all()
    assert course.status == status


def test_publish_course_ignores_cancelled_sessions(instructor, venue):
    course = draft(instructor, venue, sessions=1)
    course.sessions[0].status = SessionStatus.CANCELLED
    db.session.commit()
    with pytest.raises(TeachingError, match="at least one session"):
        services.publish_course(course, actor=instructor, now=NOW)


def test_cancel_course_records_when_and_why(instructor, venue):
    course = factories.make_course(instructor=instructor, venue=venue)
    services.cancel_course(course, actor=instructor, reason="  The centre has closed.  ", now=NOW)
    assert (course.status, course.cancelled_at, course.cancellation_reason) == (
        CourseStatus.CANCELLED,
        NOW,
        "The centre has closed.",
    )
    with pytest.raises(TeachingError, match="cancelled"):
        services.cancel_course(course, actor=instructor, reason="Again")


# Sessions


def test_weekly_sessions_keep_their_local_time_when_the_clocks_go_back(instructor, venue):
    # British Summer Time ends on Sunday 31 October 2027: 10:00 is 09:00 UTC before, 10:00 UTC after.
    course = draft(instructor, venue, sessions=0)
    sessions = services.add_weekly_sessions(
        course,
        actor=instructor,
        first_day=date(2027, 10, 19),
        start_time=time(10),
        minutes=60,
        weeks=3,
        tz=LONDON,
        now=NOW,
    )
    assert [s.starts_at for s in sessions] == [
        datetime(2027, 10, 19, 9, 0, tzinfo=UTC),
        datetime(2027, 10, 26, 9, 0, tzinfo=UTC),
        datetime(2027, 11, 2, 10, 0, tzinfo=UTC),
    ]
    assert all(s.ends_at - s.starts_at == timedelta(minutes=60) for s in sessions)
    db.session.expire_all()
    assert [s.starts_at.hour for s in course.sessions] == [9, 9, 10]


def test_weekly_sessions_refuse_a_clash_and_add_none(instructor, venue):
    course = draft(instructor, venue, sessions=1, first_session=datetime(2027, 10, 26, 9, 30, tzinfo=UTC))
    with pytest.raises(TeachingError, match="already has a session at that time") as caught:
        services.add_weekly_sessions(
            course,
            actor=instructor,
            first_day=date(2027, 10, 19),
            start_time=time(10),
            minutes=60,
            weeks=3,
            tz=LONDON,
            now=NOW,
        )
    assert caught.value.field == "first_day"
    assert count(CourseSession) == 1


@pytest.mark.parametrize(
    ("first_day", "message"),
    [
        (date(2027, 9, 30), "in the future"),
        (date(2027, 10, 1), "in the future"),  # 10:00 BST that day is 09:00 UTC: not after NOW
        (date(1, 1, 1), "in the future"),
        (date(2030, 10, 15), "up to three years ahead"),
        (date(9999, 12, 31), "up to three years ahead"),
    ],
)
def test_weekly_sessions_must_fall_between_now_and_the_horizon(instructor, venue, first_day, message):
    course = draft(instructor, venue, sessions=0)
    with pytest.raises(TeachingError, match=message):
        services.add_weekly_sessions(
            course, actor=instructor, first_day=first_day, start_time=time(10), minutes=60, weeks=1, tz=LONDON, now=NOW
        )
    assert count(CourseSession) == 0


def test_a_series_that_runs_past_the_horizon_adds_nothing(instructor, venue):
    course = draft(instructor, venue, sessions=0)
    with pytest.raises(TeachingError, match="three years ahead"):
        services.add_weekly_sessions(
            course,
            actor=instructor,
            first_day=date(2030, 9, 16),
            start_time=time(10),
            minutes=60,
            weeks=5,
            tz=LONDON,
            now=NOW,
        )
    assert count(CourseSession) == 0


def test_add_session_converts_local_time_to_utc(instructor, venue):
    course = draft(instructor, venue, sessions=0)
    session = services.add_session(
        course,
        actor=instructor,
        day=date(2027, 12, 7),
        start_time=time(13, 15),
        minutes=45,
        tz=LONDON,
        note="Extra session",
        now=NOW,
    )
    assert (session.starts_at, session.ends_at) == (
        datetime(2027, 12, 7, 13, 15, tzinfo=UTC),
        datetime(2027, 12, 7, 14, 0, tzinfo=UTC),
    )
    assert session.note == "Extra session"
    assert actions()[-1] == "session.added"


def test_add_session_refuses_a_clash_and_a_cancelled_course(instructor, venue):
    course = draft(instructor, venue, sessions=1, first_session=datetime(2027, 12, 7, 10, 0, tzinfo=UTC))
    with pytest.raises(TeachingError, match="already has a session") as caught:
        services.add_session(
            course, actor=instructor, day=date(2027, 12, 7), start_time=time(10, 30), minutes=60, tz=LONDON, now=NOW
        )
    assert caught.value.field == "day"
    services.cancel_course(course, actor=instructor, reason="Closed")
    with pytest.raises(TeachingError, match="cancelled"):
        services.add_session(
            course, actor=instructor, day=date(2027, 12, 14), start_time=time(10), minutes=60, tz=LONDON, now=NOW
        )
    assert count(CourseSession) == 1


def test_move_session_changes_its_time_and_tells_families_why(instructor, venue):
    course = draft(instructor, venue, sessions=2, first_session=datetime(2027, 12, 7, 10, 0, tzinfo=UTC))
    session = course.sessions[0]
    services.move_session(
        session,
        actor=instructor,
        day=date(2027, 12, 8),
        start_time=time(11),
        minutes=90,
        tz=LONDON,
        note="Moved: the hall is booked on Tuesday.",
        now=NOW,
    )
    db.session.expire_all()
    assert (session.starts_at, session.ends_at) == (
        datetime(2027, 12, 8, 11, tzinfo=UTC),
        datetime(2027, 12, 8, 12, 30, tzinfo=UTC),
    )
    assert session.note == "Moved: the hall is booked on Tuesday."
    entry = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "session.moved")).one()
    assert entry.data["moved_from"].startswith("2027-12-07T10:00")


def test_move_session_may_overlap_its_old_time_but_not_another_session(instructor, venue):
    course = draft(instructor, venue, sessions=2, first_session=datetime(2027, 12, 7, 10, 0, tzinfo=UTC))
    first = course.sessions[0]
    services.move_session(
        first, actor=instructor, day=date(2027, 12, 7), start_time=time(10, 30), minutes=60, tz=LONDON, note="", now=NOW
    )
    with pytest.raises(TeachingError, match="already has a session"):
        services.move_session(
            first,
            actor=instructor,
            day=date(2027, 12, 14),
            start_time=time(10),
            minutes=60,
            tz=LONDON,
            note="",
            now=NOW,
        )
    db.session.expire_all()
    assert first.starts_at == datetime(2027, 12, 7, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "starts_at", "message"),
    [
        (SessionStatus.CANCELLED, SOON, "already been cancelled"),
        (SessionStatus.SCHEDULED, NOW - timedelta(hours=1), "already started"),
    ],
)
def test_a_cancelled_or_past_session_cannot_be_moved_or_cancelled(instructor, venue, status, starts_at, message):
    course = draft(instructor, venue, sessions=0)
    session = factories.make_session(course, starts_at=starts_at, status=status)
    with pytest.raises(TeachingError, match=message):
        services.move_session(
            session,
            actor=instructor,
            day=date(2027, 12, 1),
            start_time=time(10),
            minutes=60,
            tz=LONDON,
            note="",
            now=NOW,
        )
    with pytest.raises(TeachingError, match=message):
        services.cancel_session(session, actor=instructor, now=NOW)
    db.session.expire_all()
    assert (session.status, session.starts_at) == (status, starts_at)


def test_update_session_changes_only_the_note(instructor, venue):
    course = draft(instructor, venue, sessions=1)
    session = course.sessions[0]
    starts_at = session.starts_at
    services.update_session(session, actor=instructor, note="  Room 2 this week.  ")
    db.session.expire_all()
    assert (session.note, session.starts_at) == ("Room 2 this week.", starts_at)


def test_cancel_session_leaves_the_rest_of_the_course(instructor, venue):
    course = draft(instructor, venue, sessions=3)
    services.cancel_session(course.sessions[1], actor=instructor, note="Instructor unwell.", now=NOW)
    db.session.expire_all()
    assert [s.status for s in course.sessions] == [
        SessionStatus.SCHEDULED,
        SessionStatus.CANCELLED,
        SessionStatus.SCHEDULED,
    ]
    assert course.sessions[1].note == "Instructor unwell."
    assert course.status == CourseStatus.DRAFT


# Dashboards and profiles


def test_list_courses_shows_an_instructor_their_own_running_courses_first(instructor, organiser, venue):
    later = draft(instructor, venue, first_session=SOON + timedelta(days=3), title="Later")
    past = draft(instructor, venue, first_session=NOW - timedelta(weeks=10), title="Past")
    sooner = draft(instructor, venue, first_session=SOON, title="Sooner")
    cancelled = draft(instructor, venue, first_session=SOON, title="Cancelled", status=CourseStatus.CANCELLED)
    someone_elses = draft(factories.make_user(role="instructor"), venue, title="Someone else's")
    mine = services.list_courses(instructor, now=NOW)
    assert [s.course.title for s in mine] == ["Sooner", "Later", "Cancelled", "Past"]
    assert (mine[0].next_session.starts_at, mine[0].sessions_to_come) == (SOON, 5)
    assert mine[-1].next_session is None
    assert {s.course for s in services.list_courses(organiser, now=NOW)} == {
        later,
        past,
        sooner,
        cancelled,
        someone_elses,
    }


def test_venue_options_offer_active_venues_and_the_course_own_retired_one(instructor, venue):
    retired = factories.make_venue(active=False)
    course = draft(instructor, retired)
    assert services.venue_options() == [venue]
    assert services.venue_options(course) == [venue, retired]


def test_update_profile_saves_what_families_see(instructor):
    profiles.update_profile(
        instructor, actor=instructor, bio=" Hello ", area="Bath", qualifications="CIMI", listed=False
    )
    db.session.expire_all()
    profile = instructor.profile
    assert (profile.bio, profile.area, profile.qualifications, profile.listed) == ("Hello", "Bath", "CIMI", False)


def test_update_profile_creates_one_for_an_organiser_who_teaches(organiser):
    profiles.update_profile(organiser, actor=organiser, bio="", area="Online", qualifications="CIMI", listed=True)
    db.session.expire_all()
    assert organiser.profile.area == "Online"


def test_an_instructor_cannot_change_someone_else_profile(instructor):
    colleague = factories.make_user(role="instructor")
    with pytest.raises(TeachingError, match="your own profile"):
        profiles.update_profile(colleague, actor=instructor, bio="", area="", qualifications="", listed=False)


def test_age_unit_defaults_to_weeks(instructor, venue):
    course = services.create_course(instructor, actor=instructor, **course_fields(venue))
    assert course.age_unit == AgeUnit.WEEKS


def test_cancelling_a_course_cancels_every_booking_and_tells_each_family(app):
    from instructor_portal.booking.models import BookingStatus
    from instructor_portal.notifications.models import OutboxEmail

    course = factories.make_course(price_pence=4500)
    paid = factories.make_booking(course, amount_paid_pence=4500)
    unpaid = factories.make_booking(course)
    held = factories.make_booking(course, status=BookingStatus.AWAITING_PAYMENT)
    earlier = factories.make_booking(course, status=BookingStatus.CANCELLED)
    services.cancel_course(course, actor=course.instructor, reason="The venue has closed.")
    assert [b.status for b in (paid, unpaid, held, earlier)] == [BookingStatus.CANCELLED] * 4
    assert paid.cancellation_refundable is True
    emails = db.session.scalars(db.select(OutboxEmail).order_by(OutboxEmail.id)).all()
    assert sorted(e.to_address for e in emails) == sorted(b.parent.email for b in (paid, unpaid, held))
    assert all(e.subject == f"Course cancelled: {course.title}" for e in emails)
    assert "The venue has closed." in emails[0].body_text
    assert "METHOD:CANCEL" in emails[0].attachments[0].content.decode()
    entry = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "course.cancelled")).one()
    assert entry.data["bookings_cancelled"] == 3


def test_places_cannot_drop_below_those_already_booked(app):
    course = factories.make_course(places=4)
    factories.make_booking(course, [factories.make_child(), factories.make_child()])
    factories.make_booking(course)
    with pytest.raises(TeachingError, match="3 places are already booked or held, so offer at least 3") as caught:
        services.update_course(course, actor=course.instructor, places=2)
    assert caught.value.field == "places"
    db.session.refresh(course)
    assert course.places == 4
    assert services.update_course(course, actor=course.instructor, places=3).places == 3


def test_moving_a_session_tells_each_booked_family_with_updated_dates(app):
    from instructor_portal.booking.models import BookingStatus
    from instructor_portal.notifications.models import OutboxEmail

    course = factories.make_course(first_session=datetime(2030, 3, 5, 10, 0, tzinfo=UTC))
    booked = factories.make_booking(course)
    factories.make_booking(course, status=BookingStatus.CANCELLED)
    session = course.sessions[1]
    services.move_session(
        session,
        actor=course.instructor,
        day=date(2030, 3, 13),
        start_time=time(11, 0),
        minutes=60,
        tz="Europe/London",
        note="The hall is booked for an election.",
        now=datetime(2030, 3, 1, tzinfo=UTC),
    )
    [email] = db.session.scalars(db.select(OutboxEmail)).all()
    assert email.to_address == booked.parent.email
    assert email.subject == f"Session moved: {course.title}"
    assert "has moved to Wed 13 Mar 2030, 11:00am" in email.body_text
    assert "The hall is booked for an election." in email.body_text
    assert "DTSTART;TZID=Europe/London:20300313T110000" in email.attachments[0].content.decode()


def test_cancelling_a_session_tells_each_booked_family(app):
    from instructor_portal.notifications.models import OutboxEmail

    course = factories.make_course(first_session=datetime(2030, 3, 5, 10, 0, tzinfo=UTC))
    factories.make_booking(course)
    services.cancel_session(
        course.sessions[2], actor=course.instructor, note="Instructor unwell.", now=datetime(2030, 3, 1, tzinfo=UTC)
    )
    [email] = db.session.scalars(db.select(OutboxEmail)).all()
    assert email.subject == f"Session cancelled: {course.title}"
    assert "Tue 19 Mar 2030, 10:00am has been cancelled" in email.body_text
    assert "STATUS:CANCELLED" in email.attachments[0].content.decode()

from datetime import timedelta

import pytest

from instructor_portal.accounts.models import Role
from instructor_portal.attendance import makeups, services
from instructor_portal.attendance.models import AttendanceMark, AttendanceStatus, Makeup, MakeupStatus
from instructor_portal.audit import AuditEntry
from instructor_portal.booking import cancellation as booking_cancellation
from instructor_portal.booking import capacity
from instructor_portal.booking import rules as booking_rules
from instructor_portal.booking import services as booking_services
from instructor_portal.catalogue.models import CourseStatus, SessionStatus, Track
from instructor_portal.catalogue.services import get_public_course
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from instructor_portal.organisation import get_organisation
from instructor_portal.teaching import services as teaching
from tests import factories
from tests.attendance.conftest import NOW
from tests.conftest import count


def offer(scene, target=None, **kwargs):
    return makeups.offer_makeup(
        scene.missed, scene.place, target or scene.target, by=scene.instructor, now=NOW, **kwargs
    )


def fill(session, families: int) -> None:
    """Take ``families`` places at the session with accepted make-ups written directly, from courses on a track of their own."""
    for _ in range(families):
        course = factories.make_course(track=Track.WORKSHOP, first_session=NOW - timedelta(days=7) + timedelta(hours=1))
        booking = factories.make_booking(course, [factories.make_child(born=NOW.date() - timedelta(weeks=12))])
        db.session.add(
            Makeup(
                place=booking.places[0],
                missed_session=course.sessions[1],
                session=session,
                status=MakeupStatus.ACCEPTED,
                offered_at=NOW,
                responded_at=NOW,
            )
        )
    db.session.commit()


def actions() -> list[str]:
    return db.session.scalars(
        db.select(AuditEntry.action).where(AuditEntry.subject_type == "Makeup").order_by(AuditEntry.id)
    ).all()


# --- Which sessions match --------------------------------------------------------------------


def test_the_matching_session_of_another_course_on_the_track_is_offered_with_its_free_places(makeup_scene):
    scene = makeup_scene
    factories.make_booking(scene.other)

    options = makeups.makeup_options(scene.missed, scene.place, now=NOW)

    assert [(option.session, option.places_free) for option in options] == [(scene.target, 2)]


def test_only_open_courses_on_the_same_track_with_the_session_still_to_come_and_room_match(makeup_scene):
    scene = makeup_scene
    later = NOW + timedelta(days=1)
    factories.make_course(track=Track.PREMATURE, first_session=later)  # another track
    factories.make_course(status=CourseStatus.DRAFT, first_session=later)
    factories.make_course(status=CourseStatus.CANCELLED, first_session=later)
    factories.make_course(sessions=1, first_session=later)  # no second session
    factories.make_course(first_session=NOW - timedelta(days=8))  # its second session has passed
    factories.make_course(age_min=20, first_session=later)  # Layla is too young for it
    booked = factories.make_course(first_session=later)
    factories.make_booking(booked, [scene.place.child])  # Layla already has a place there
    full = factories.make_course(places=1, first_session=later)
    fill(full.sessions[1], 1)
    shifted = factories.make_course(first_session=later)
    shifted.sessions[0].status = SessionStatus.CANCELLED  # so its third session is now its second
    db.session.commit()

    options = makeups.makeup_options(scene.missed, scene.place, now=NOW)

    assert [option.session for option in options] == [scene.target, shifted.sessions[2]]


@pytest.mark.parametrize(
    ("status", "message"), [("present", "marked absent"), ("late", "marked absent"), (None, "marked absent")]
)
def test_only_a_family_marked_absent_can_be_offered_a_makeup(makeup_scene, status, message):
    scene = makeup_scene
    if status is None:
        db.session.delete(db.session.scalars(db.select(AttendanceMark)).one())
        db.session.commit()
    else:
        services.mark_attendance(scene.missed, scene.place.id, status, by=scene.instructor, now=NOW)

    assert message in makeups.makeup_refusal(scene.missed, scene.place)
    assert makeups.makeup_options(scene.missed, scene.place, now=NOW) == []
    with pytest.raises(makeups.MakeupError, match=message):
        offer(scene)
    assert count(Makeup) == 0


# --- Offering --------------------------------------------------------------------------------


def test_offering_a_makeup_emails_the_family_and_is_audited(makeup_scene):
    scene = makeup_scene

    makeup = offer(scene)

    assert (makeup.status, makeup.session, makeup.missed_session, makeup.offered_by, makeup.offered_at) == (
        MakeupStatus.OFFERED,
        scene.target,
        scene.missed,
        scene.instructor,
        NOW,
    )
    email = db.session.scalars(db.select(OutboxEmail)).one()
    assert email.to_address == scene.booking.parent.email
    assert email.subject == "A make-up session for you: Friday babies"
    assert "Layla missed a session" in email.body_text and f"/account/bookings/{scene.booking.id}" in email.body_text
    assert actions() == ["makeup.offered"]
    assert capacity.places_free_at(scene.target, now=NOW) == 3  # an offer holds no place


def test_a_second_offer_for_the_same_missed_session_is_refused(makeup_scene):
    scene = makeup_scene
    offer(scene)

    with pytest.raises(makeups.MakeupError, match="already has a make-up for this session"):
        offer(scene)

    assert count(Makeup) == 1


@pytest.mark.parametrize(
    ("pick", "message"),
    [
        (lambda scene: scene.course.sessions[2], "Choose a session on another course"),
        (lambda scene: scene.other.sessions[0], "already started"),
        (lambda scene: scene.other.sessions[2], "not the matching session"),
        (
            lambda scene: factories.make_course(track=Track.PREMATURE, first_session=NOW).sessions[1],
            "not the matching session",
        ),
    ],
)
def test_a_session_that_does_not_match_is_refused_and_nothing_changes(makeup_scene, pick, message):
    scene = makeup_scene

    with pytest.raises(makeups.MakeupError, match=message):
        offer(scene, pick(scene))

    assert count(Makeup) == count(OutboxEmail) == 0


def test_a_full_session_is_refused(makeup_scene):
    scene = makeup_scene
    fill(scene.target, 3)

    with pytest.raises(capacity.SessionFull, match="Sorry, that session is now full."):
        offer(scene)

    assert count(Makeup) == 3


def test_offers_stop_at_the_organisations_cap(makeup_scene):
    scene = makeup_scene
    offer(scene)
    third = scene.course.sessions[2]
    services.mark_attendance(third, scene.place.id, "absent_other", by=scene.instructor, now=NOW)
    makeups.offer_makeup(third, scene.place, scene.other.sessions[2], by=scene.instructor, now=NOW)
    fourth = scene.course.sessions[3]
    services.mark_attendance(fourth, scene.place.id, "absent_immunised", by=scene.instructor, now=NOW)

    assert makeups.makeup_refusal(fourth, scene.place) == "This booking has had its 2 make-ups."
    with pytest.raises(makeups.MakeupError, match="This booking has had its 2 make-ups."):
        makeups.offer_makeup(fourth, scene.place, scene.other.sessions[3], by=scene.instructor, now=NOW)
    assert count(Makeup) == 2


# --- Answering -------------------------------------------------------------------------------


def test_accepting_takes_a_place_at_that_session_only_and_emails_the_session_as_a_calendar_file(makeup_scene):
    scene = makeup_scene
    makeup = offer(scene)
    parent = scene.booking.parent

    makeups.accept_makeup(makeup, by=parent, now=NOW)

    assert (makeup.status, makeup.responded_at) == (MakeupStatus.ACCEPTED, NOW)
    assert capacity.places_free_at(scene.target, now=NOW) == 2
    assert capacity.places_free_at(scene.other.sessions[2], now=NOW) == 3
    # A new booking needs every session, so it sees one place fewer, here and in the catalogue.
    assert booking_rules.places_left(scene.other, now=NOW) == 2
    assert get_public_course(scene.other.id, now=NOW).places_left == 2
    confirmation = db.session.scalars(db.select(OutboxEmail).order_by(OutboxEmail.id.desc())).first()
    assert confirmation.subject == "Make-up session booked: Friday babies"
    [attachment] = confirmation.attachments
    assert attachment.filename == f"makeup-{scene.target.id}.ics"
    assert attachment.content.count(b"BEGIN:VEVENT") == 1
    assert b"Make-up session: Friday babies" in attachment.content
    assert actions() == ["makeup.offered", "makeup.accepted"]


def test_accepted_makeups_stop_new_bookings_taking_the_last_place(makeup_scene):
    scene = makeup_scene
    factories.make_booking(scene.other, [factories.make_child(born=NOW.date() - timedelta(weeks=12)) for _ in range(2)])
    makeups.accept_makeup(offer(scene), by=scene.booking.parent, now=NOW)
    late_comer = factories.make_child(born=NOW.date() - timedelta(weeks=12))
    scene.other.booking_closes_at = NOW + timedelta(days=30)
    db.session.commit()

    with pytest.raises(capacity.CourseFull):
        booking_services.book_places(late_comer.parent, scene.other, [late_comer], accept_terms=True, now=NOW)


def test_a_session_full_by_the_time_the_family_accepts_is_refused(makeup_scene):
    scene = makeup_scene
    makeup = offer(scene)
    fill(scene.target, 3)

    with pytest.raises(capacity.SessionFull, match="Sorry, that session is now full."):
        makeups.accept_makeup(makeup, by=scene.booking.parent, now=NOW)

    db.session.refresh(makeup)
    assert makeup.status == MakeupStatus.OFFERED


def test_accepting_stops_at_the_cap_when_the_organiser_lowered_it(makeup_scene):
    scene = makeup_scene
    first = offer(scene)
    third = scene.course.sessions[2]
    services.mark_attendance(third, scene.place.id, "absent_other", by=scene.instructor, now=NOW)
    second = makeups.offer_makeup(third, scene.place, scene.other.sessions[2], by=scene.instructor, now=NOW)
    makeups.accept_makeup(first, by=scene.booking.parent, now=NOW)
    get_organisation().makeup_cap = 1
    db.session.commit()

    with pytest.raises(makeups.MakeupError, match="This booking has had its 1 make-up."):
        makeups.accept_makeup(second, by=scene.booking.parent, now=NOW)

    assert db.session.get(Makeup, second.id).status == MakeupStatus.OFFERED


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda scene, makeup: setattr(makeup, "status", MakeupStatus.DECLINED), "no longer open"),
        (lambda scene, makeup: setattr(scene.target, "status", SessionStatus.CANCELLED), "has been cancelled"),
        (lambda scene, makeup: setattr(scene.target, "starts_at", NOW - timedelta(minutes=1)), "already started"),
    ],
)
def test_an_offer_that_has_closed_cannot_be_accepted(makeup_scene, spoil, message):
    scene = makeup_scene
    makeup = offer(scene)
    spoil(scene, makeup)
    db.session.commit()

    with pytest.raises(makeups.MakeupError, match=message):
        makeups.accept_makeup(makeup, by=scene.booking.parent, now=NOW)

    assert capacity.places_free_at(scene.target, now=NOW) == 3


def test_declining_frees_the_family_for_another_offer(makeup_scene):
    scene = makeup_scene
    makeup = offer(scene)

    makeups.decline_makeup(makeup, by=scene.booking.parent, now=NOW)

    assert (makeup.status, makeup.responded_at) == (MakeupStatus.DECLINED, NOW)
    assert makeups.makeup_refusal(scene.missed, scene.place) is None
    with pytest.raises(makeups.MakeupError, match="no longer open"):
        makeups.accept_makeup(makeup, by=scene.booking.parent, now=NOW)
    assert actions() == ["makeup.offered", "makeup.declined"]


def test_withdrawing_an_accepted_makeup_frees_its_place_and_tells_the_family(makeup_scene):
    scene = makeup_scene
    makeup = offer(scene)
    makeups.accept_makeup(makeup, by=scene.booking.parent, now=NOW)

    makeups.withdraw_makeup(makeup, by=scene.instructor, now=NOW)

    assert makeup.status == MakeupStatus.WITHDRAWN
    assert capacity.places_free_at(scene.target, now=NOW) == 3
    email = db.session.scalars(db.select(OutboxEmail).order_by(OutboxEmail.id.desc())).first()
    assert email.subject == "Make-up session withdrawn: Friday babies"
    assert b"METHOD:CANCEL" in email.attachments[0].content
    assert actions() == ["makeup.offered", "makeup.accepted", "makeup.withdrawn"]
    with pytest.raises(makeups.MakeupError, match="nothing to withdraw"):
        makeups.withdraw_makeup(makeup, by=scene.instructor, now=NOW)


# --- On the register -------------------------------------------------------------------------


def test_an_accepted_family_is_on_the_other_register_labelled_and_marked_like_everyone(makeup_scene):
    scene = makeup_scene
    factories.make_booking(
        scene.other, [factories.make_child(first_name="Noah", born=NOW.date() - timedelta(weeks=10))]
    )
    makeups.accept_makeup(offer(scene), by=scene.booking.parent, now=NOW)
    other_instructor = scene.other.instructor

    rows = services.build_register(scene.target)

    assert [(row.child_name, row.makeup_from) for row in rows] == [("Noah", None), ("Layla", scene.course)]
    assert rows[1].care_notes == "Reflux"
    assert services.mark_everyone_present(scene.target, by=other_instructor, now=NOW) == 2
    mark = services.mark_attendance(scene.target, scene.place.id, "late", by=other_instructor, now=NOW)
    assert (mark.place, mark.session) == (scene.place, scene.target)


def test_an_offer_not_yet_accepted_is_not_on_the_other_register(makeup_scene):
    scene = makeup_scene
    offer(scene)

    assert services.build_register(scene.target) == []
    with pytest.raises(services.AttendanceError, match="not booked on this course"):
        services.mark_attendance(scene.target, scene.place.id, "present", by=scene.other.instructor, now=NOW)


def test_the_grid_and_the_family_see_the_makeup_at_the_missed_session(makeup_scene):
    scene = makeup_scene
    makeup = offer(scene)

    def states():
        [row] = services.attendance_grid(scene.course)
        grid = row.makeups[scene.course.sessions.index(scene.missed)]
        [(name, status, family)] = services.family_attendance(scene.booking)[scene.missed.id]
        assert (name, status, family.label) == ("Layla", AttendanceStatus.ABSENT_UNWELL, grid.label)
        return grid.label

    assert states() == "Make-up offered"
    makeups.accept_makeup(makeup, by=scene.booking.parent, now=NOW)
    assert states() == "Make-up booked"
    services.mark_attendance(scene.target, scene.place.id, "present", by=scene.other.instructor, now=NOW)
    assert states() == "Make-up attended"
    services.mark_attendance(scene.target, scene.place.id, "absent_other", by=scene.other.instructor, now=NOW)
    assert states() == "Make-up missed"


# --- Cancelling ------------------------------------------------------------------------------


def test_cancelling_the_booking_cancels_its_makeups_and_frees_the_place(makeup_scene):
    scene = makeup_scene
    makeup = offer(scene)
    makeups.accept_makeup(makeup, by=scene.booking.parent, now=NOW)

    booking_cancellation.cancel_booking(scene.booking, by=factories.make_user(role=Role.ORGANISER), now=NOW)

    assert makeup.status == MakeupStatus.CANCELLED
    assert capacity.places_free_at(scene.target, now=NOW) == 3


def test_an_offer_closes_when_the_register_is_corrected_to_present(makeup_scene):
    scene = makeup_scene
    makeup = offer(scene)
    services.mark_attendance(scene.missed, scene.place.id, "present", by=scene.instructor, now=NOW)

    with pytest.raises(makeups.MakeupError, match="the register now shows your family at that session"):
        makeups.accept_makeup(makeup, by=scene.booking.parent, now=NOW)
    assert makeup.status == MakeupStatus.OFFERED
    assert capacity.places_free_at(scene.target, now=NOW) == 3


def test_moving_the_other_session_tells_the_family_with_a_makeup_booked_there(makeup_scene):
    scene = makeup_scene
    makeup = offer(scene)
    makeups.accept_makeup(makeup, by=scene.booking.parent, now=NOW)
    moved_from = scene.target.starts_at
    later = moved_from + timedelta(days=1)

    teaching.move_session(
        scene.target,
        actor=factories.make_user(role=Role.ORGANISER),
        day=later.date(),
        start_time=later.time(),
        minutes=60,
        tz="UTC",
        note="The hall is booked that day.",
        now=NOW,
    )

    told = db.session.scalars(
        db.select(OutboxEmail)
        .where(OutboxEmail.to_address == scene.booking.parent.email)
        .order_by(OutboxEmail.id.desc())
    ).first()
    assert told.subject == "Make-up session moved: Friday babies"
    assert "The hall is booked that day." in told.body_text
    calendar = told.attachments[0].content
    assert b"METHOD:PUBLISH" in calendar and later.strftime("%Y%m%d").encode() in calendar
    assert makeup.status == MakeupStatus.ACCEPTED


def test_moving_a_session_with_only_an_offer_there_emails_nobody_about_make_ups(makeup_scene):
    scene = makeup_scene
    offer(scene)
    later = scene.target.starts_at + timedelta(days=1)
    teaching.move_session(
        scene.target,
        actor=factories.make_user(role=Role.ORGANISER),
        day=later.date(),
        start_time=later.time(),
        minutes=60,
        tz="UTC",
        note="",
        now=NOW,
    )
    subjects = db.session.scalars(
        db.select(OutboxEmail.subject).where(OutboxEmail.to_address == scene.booking.parent.email)
    ).all()
    assert not any(subject.startswith("Make-up session moved") for subject in subjects)


@pytest.mark.parametrize("what", ["session", "course"])
def test_cancelling_the_other_session_or_course_cancels_the_makeup_and_tells_the_family(makeup_scene, what):
    scene = makeup_scene
    makeup = offer(scene)
    makeups.accept_makeup(makeup, by=scene.booking.parent, now=NOW)
    organiser = factories.make_user(role=Role.ORGANISER)

    if what == "session":
        teaching.cancel_session(scene.target, actor=organiser, now=NOW)
    else:
        teaching.cancel_course(scene.other, actor=organiser, reason="Venue closed", now=NOW)

    assert makeup.status == MakeupStatus.CANCELLED
    told = db.session.scalars(
        db.select(OutboxEmail)
        .where(OutboxEmail.to_address == scene.booking.parent.email)
        .order_by(OutboxEmail.id.desc())
    ).first()
    assert told.subject == "Make-up session cancelled: Friday babies"
    assert "That session has been cancelled." in told.body_text
    assert b"METHOD:CANCEL" in told.attachments[0].content

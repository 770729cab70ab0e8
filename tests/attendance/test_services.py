from datetime import UTC, datetime, timedelta

import pytest

from instructor_portal.accounts.models import Role
from instructor_portal.attendance import services
from instructor_portal.attendance.models import AttendanceChange, AttendanceMark, AttendanceStatus
from instructor_portal.audit import AuditEntry
from instructor_portal.booking.models import BookingStatus
from instructor_portal.catalogue.models import CourseStatus, SessionStatus, Track
from instructor_portal.extensions import db
from tests import factories
from tests.conftest import count

NOW = datetime(2026, 11, 22, 10, 5, tzinfo=UTC)


@pytest.fixture
def scene(app):
    instructor = factories.make_user(role=Role.INSTRUCTOR)
    course = factories.make_course(instructor=instructor, sessions=3)
    parent = factories.make_user(full_name="Amira Khan")
    child = factories.make_child(
        parent, first_name="Layla", last_name="Khan", care_notes="Reflux; keep upright after feeds."
    )
    booking = factories.make_booking(course, [child])
    return instructor, course, booking


def test_register_lists_confirmed_families_by_first_name(scene):
    instructor, course, booking = scene
    factories.make_booking(course, status=BookingStatus.CANCELLED)
    factories.make_booking(course, status=BookingStatus.AWAITING_PAYMENT)

    rows = services.build_register(course.sessions[0])

    assert [(row.child_name, row.parent_name, row.care_notes) for row in rows] == [
        ("Layla", "Amira Khan", "Reflux; keep upright after feeds.")
    ]
    assert "weeks" in rows[0].age
    assert rows[0].mark is None


def test_register_shows_first_name_and_initial_on_adoptive_and_foster_courses(app):
    course = factories.make_course(track=Track.ADOPTIVE_FOSTER, age_unit="months", age_min=0, age_max=84)
    factories.make_booking(course, [factories.make_child(first_name="Sam", last_name="Jones")])

    assert [row.child_name for row in services.build_register(course.sessions[0])] == ["Sam J."]


def test_first_mark_is_kept_with_its_history_and_audited(scene):
    instructor, course, booking = scene
    session = course.sessions[0]

    mark = services.mark_attendance(
        session, booking.places[0].id, "observing", " Baby unsettled ", by=instructor, now=NOW
    )

    assert (mark.status, mark.note, mark.marked_by, mark.marked_at) == (
        AttendanceStatus.OBSERVING,
        "Baby unsettled",
        instructor,
        NOW,
    )
    [change] = mark.changes
    assert (change.from_status, change.to_status, change.to_note) == (
        None,
        AttendanceStatus.OBSERVING,
        "Baby unsettled",
    )
    assert (
        db.session.scalar(db.select(AuditEntry.action).where(AuditEntry.subject_type == "AttendanceMark"))
        == "attendance.marked"
    )


def test_changing_a_mark_keeps_who_changed_it_from_what_to_what(scene):
    instructor, course, booking = scene
    organiser = factories.make_user(role=Role.ORGANISER)
    session, place_id = course.sessions[0], booking.places[0].id
    services.mark_attendance(session, place_id, "absent_other", by=instructor, now=NOW)

    later = NOW + timedelta(minutes=20)
    mark = services.mark_attendance(session, place_id, "late", "Bus was late", by=organiser, now=later)

    assert (mark.status, mark.marked_by, mark.marked_at) == (AttendanceStatus.LATE, organiser, later)
    first, second = mark.changes
    assert (first.changed_by, first.to_status) == (instructor, AttendanceStatus.ABSENT_OTHER)
    assert (
        second.changed_by,
        second.changed_at,
        second.from_status,
        second.to_status,
        second.from_note,
        second.to_note,
    ) == (organiser, later, AttendanceStatus.ABSENT_OTHER, AttendanceStatus.LATE, "", "Bus was late")
    assert count(AttendanceMark) == 1


def test_saving_the_same_mark_again_records_no_change(scene):
    instructor, course, booking = scene
    session, place_id = course.sessions[0], booking.places[0].id
    services.mark_attendance(session, place_id, "present", by=instructor, now=NOW)

    services.mark_attendance(session, place_id, "present", by=instructor, now=NOW + timedelta(hours=1))

    assert count(AttendanceChange) == 1
    assert db.session.scalar(db.select(AttendanceMark.marked_at)) == NOW


@pytest.mark.parametrize(
    ("status", "note", "message"),
    [("asleep", "", "Choose one of the statuses"), ("present", "x" * 501, "500 characters")],
)
def test_bad_input_changes_nothing(scene, status, note, message):
    instructor, course, booking = scene

    with pytest.raises(services.AttendanceError, match=message):
        services.mark_attendance(course.sessions[0], booking.places[0].id, status, note, by=instructor, now=NOW)

    assert count(AttendanceMark) == 0


def test_a_place_on_another_course_cannot_be_marked(scene):
    instructor, course, booking = scene
    elsewhere = factories.make_booking(factories.make_course())

    with pytest.raises(services.AttendanceError, match="not booked on this course"):
        services.mark_attendance(course.sessions[0], elsewhere.places[0].id, "present", by=instructor, now=NOW)

    assert count(AttendanceMark) == 0


def test_a_cancelled_place_cannot_be_marked(scene):
    instructor, course, _ = scene
    cancelled = factories.make_booking(course, status=BookingStatus.CANCELLED)

    with pytest.raises(services.AttendanceError, match="not booked on this course"):
        services.mark_attendance(course.sessions[0], cancelled.places[0].id, "present", by=instructor, now=NOW)


def test_a_cancelled_course_or_session_keeps_its_register_as_it_was(scene):
    instructor, course, booking = scene
    course.sessions[1].status = SessionStatus.CANCELLED
    db.session.commit()
    with pytest.raises(services.AttendanceError, match="session was cancelled"):
        services.mark_attendance(course.sessions[1], booking.places[0].id, "present", by=instructor, now=NOW)

    course.status = CourseStatus.CANCELLED
    db.session.commit()
    with pytest.raises(services.AttendanceError, match="course was cancelled"):
        services.mark_everyone_present(course.sessions[0], by=instructor, now=NOW)
    assert count(AttendanceMark) == 0


def test_everyone_present_marks_only_the_unmarked(scene):
    instructor, course, booking = scene
    twins = factories.make_booking(course, [factories.make_child(), factories.make_child()])
    session = course.sessions[0]
    services.mark_attendance(session, booking.places[0].id, "absent_unwell", by=instructor, now=NOW)

    marked = services.mark_everyone_present(session, by=instructor, now=NOW)

    assert marked == 2
    statuses = {row.place.id: row.mark.status for row in services.build_register(session)}
    assert statuses == {
        booking.places[0].id: AttendanceStatus.ABSENT_UNWELL,
        twins.places[0].id: AttendanceStatus.PRESENT,
        twins.places[1].id: AttendanceStatus.PRESENT,
    }
    assert services.mark_everyone_present(session, by=instructor, now=NOW) == 0


def test_grid_shows_each_family_at_each_session(scene):
    instructor, course, booking = scene
    first, second, _ = course.sessions
    services.mark_attendance(first, booking.places[0].id, "present", by=instructor, now=NOW)
    services.mark_attendance(second, booking.places[0].id, "absent_immunised", by=instructor, now=NOW)

    [row] = services.attendance_grid(course)

    assert row.child_name == "Layla"
    assert [mark.status if mark else None for mark in row.marks] == [
        AttendanceStatus.PRESENT,
        AttendanceStatus.ABSENT_IMMUNISED,
        None,
    ]


def test_family_attendance_maps_sessions_to_their_marks(scene):
    instructor, course, booking = scene
    first = course.sessions[0]
    services.mark_attendance(first, booking.places[0].id, "late", by=instructor, now=NOW)

    assert services.family_attendance(booking) == {first.id: [("Layla", AttendanceStatus.LATE, None)]}

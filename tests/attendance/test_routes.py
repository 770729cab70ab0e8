import re

import pytest

from instructor_portal.accounts.models import Role
from instructor_portal.attendance import services
from instructor_portal.attendance.models import AttendanceMark, AttendanceStatus
from instructor_portal.catalogue.models import CourseStatus
from instructor_portal.extensions import db
from tests import factories
from tests.conftest import count, post_form


@pytest.fixture
def scene(app):
    instructor = factories.make_user(role=Role.INSTRUCTOR, full_name="Jo Teacher")
    course = factories.make_course(instructor=instructor, sessions=2)
    parent = factories.make_user(full_name="Amira Khan")
    booking = factories.make_booking(
        course, [factories.make_child(parent, first_name="Layla", last_name="Khan", care_notes="Reflux")]
    )
    return instructor, course, booking


def register_url(course) -> str:
    return f"/teach/sessions/{course.sessions[0].id}/register"


def mark_url(course, place) -> str:
    return f"{register_url(course)}/{place.id}"


@pytest.mark.parametrize(
    ("who", "status"),
    [("instructor", 200), ("organiser", 200), ("other instructor", 404), ("parent", 403), ("anonymous", 302)],
)
def test_only_the_course_instructor_and_organisers_see_the_register(client, login_as, scene, who, status):
    instructor, course, _ = scene
    if who == "instructor":
        login_as(instructor)
    elif who != "anonymous":
        login_as(who.split()[-1])

    response = client.get(register_url(course))

    assert response.status_code == status
    if who == "anonymous":
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(("who", "status"), [("other instructor", 404), ("parent", 403), ("anonymous", 302)])
def test_only_the_course_instructor_and_organisers_change_the_register(client, login_as, scene, who, status):
    _, course, booking = scene
    if who != "anonymous":
        login_as(who.split()[-1])

    page = "/login" if who == "anonymous" else "/"  # any page of theirs with a form, for a real CSRF token

    response = post_form(client, mark_url(course, booking.places[0]), {"status": "present"}, page=page)
    everyone = post_form(client, f"{register_url(course)}/everyone-present", page=page)

    assert (response.status_code, everyone.status_code) == (status, status)
    assert count(AttendanceMark) == 0


def test_register_is_phone_friendly_with_a_labelled_control_per_family(client, login_as, scene):
    instructor, course, booking = scene
    login_as(instructor)

    html = client.get(register_url(course)).get_data(as_text=True)

    place_id = booking.places[0].id
    assert f'id="family-{place_id}"' in html
    assert "Layla" in html and "Amira Khan" in html
    assert "<summary>Care notes</summary>" in html
    assert 'name="viewport"' in html
    assert "Mark everyone present" in html
    for status in AttendanceStatus:
        assert status.label in html
    # Every radio sits inside its label, so the whole label is the touch target.
    assert len(re.findall(r'<label class="register-option"><input[^>]*type="radio"', html)) == len(AttendanceStatus)
    assert f'<label for="note-{place_id}">Note</label>' in html


def test_marking_a_family_redirects_back_to_them_and_shows_who_marked(client, login_as, scene):
    instructor, course, booking = scene
    login_as(instructor)
    place = booking.places[0]

    response = post_form(
        client,
        mark_url(course, place),
        {"status": "observing", "note": "Practised on the doll"},
        page=register_url(course),
    )

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{register_url(course)}#family-{place.id}")
    html = client.get(register_url(course)).get_data(as_text=True)
    assert "Marked present, observing (practised on a doll) by Jo Teacher at" in html
    assert 'value="observing" checked' in html or re.search(r'checked[^>]*value="observing"', html)
    assert "Practised on the doll" in html


def test_changing_a_mark_shows_the_history(client, login_as, scene):
    instructor, course, booking = scene
    login_as(instructor)
    place = booking.places[0]
    post_form(client, mark_url(course, place), {"status": "absent_other"}, page=register_url(course))

    post_form(client, mark_url(course, place), {"status": "late", "note": "Traffic"}, page=register_url(course))

    html = client.get(register_url(course)).get_data(as_text=True)
    assert "<summary>Changes (2)</summary>" in html
    assert "Absent: other &rarr; Late" in html
    assert db.session.scalar(db.select(AttendanceMark.status)) == AttendanceStatus.LATE


def test_everyone_present_marks_the_unmarked(client, login_as, scene):
    instructor, course, booking = scene
    factories.make_booking(course)
    login_as("organiser")

    response = post_form(
        client, f"{register_url(course)}/everyone-present", page=register_url(course), follow_redirects=True
    )

    assert "2 families marked present." in response.get_data(as_text=True)
    assert db.session.scalars(db.select(AttendanceMark.status)).all() == [AttendanceStatus.PRESENT] * 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"status": "asleep"}, "Choose one of the statuses on the register."),
        ({}, "Choose one of the statuses on the register."),
        ({"status": "present", "note": "x" * 501}, "Keep the note to 500 characters or fewer."),
    ],
)
def test_bad_marks_get_a_message_and_change_nothing(client, login_as, scene, data, message):
    instructor, course, booking = scene
    login_as(instructor)

    response = post_form(
        client, mark_url(course, booking.places[0]), data, page=register_url(course), follow_redirects=True
    )

    assert message in response.get_data(as_text=True)
    assert count(AttendanceMark) == 0


def test_a_place_from_another_course_is_refused(client, login_as, scene):
    instructor, course, _ = scene
    other = factories.make_booking(factories.make_course(instructor=instructor))
    login_as(instructor)

    response = post_form(
        client,
        mark_url(course, other.places[0]),
        {"status": "present"},
        page=register_url(course),
        follow_redirects=True,
    )

    assert "That family is not booked on this course." in response.get_data(as_text=True)
    assert count(AttendanceMark) == 0


def test_a_cancelled_course_register_cannot_be_changed(client, login_as, scene):
    instructor, course, booking = scene
    login_as(instructor)
    page = client.get(register_url(course)).get_data(as_text=True)
    course.status = CourseStatus.CANCELLED
    db.session.commit()

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', page)
    response = client.post(
        mark_url(course, booking.places[0]),
        data={"csrf_token": token.group(1) or token.group(2), "status": "present"},
        follow_redirects=True,
    )

    html = response.get_data(as_text=True)
    assert "This course was cancelled, so its register cannot be changed." in html
    assert "Mark everyone present" not in html
    assert count(AttendanceMark) == 0


def test_course_page_links_the_register_and_shows_the_grid(client, login_as, scene):
    instructor, course, booking = scene
    login_as(instructor)
    post_form(client, mark_url(course, booking.places[0]), {"status": "absent_immunised"}, page=register_url(course))

    html = client.get(f"/teach/courses/{course.id}").get_data(as_text=True)

    assert f'href="{register_url(course)}"' in html
    assert "Take the register" in html
    assert '<abbr title="Absent: recently immunised">AI</abbr>' in html
    assert "<dt>AI</dt><dd>Absent: recently immunised</dd>" in html


def test_parent_sees_which_sessions_their_family_attended(client, login_as, scene):
    instructor, course, booking = scene
    services.mark_attendance(course.sessions[0], booking.places[0].id, "present", by=instructor)
    login_as(booking.parent)

    html = client.get(f"/account/bookings/{booking.id}").get_data(as_text=True)

    assert "Layla: Present" in html

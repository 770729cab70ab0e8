"""``flask seed-demo``: loads a realistic organisation once, and changes nothing the second time."""

import pytest

from instructor_portal.accounts.models import Child, InstructorProfile, User
from instructor_portal.attendance.models import AttendanceMark, Makeup
from instructor_portal.booking.models import Booking, BookingPlace, Voucher
from instructor_portal.catalogue.models import Course, CourseSession, CourseStatus, Venue
from instructor_portal.demo import COURSES, FRIDAY_COURSE, FULL_COURSE, PASSWORD
from instructor_portal.extensions import db
from instructor_portal.handouts.models import Handout
from instructor_portal.organisation import Organisation
from instructor_portal.teaching.models import Credential
from instructor_portal.uploads import StoredFile
from instructor_portal.waitlist.models import WaitlistEntry

MODELS = (
    Organisation,
    User,
    InstructorProfile,
    Venue,
    Course,
    CourseSession,
    Child,
    Booking,
    BookingPlace,
    Voucher,
    AttendanceMark,
    Makeup,
    Handout,
    StoredFile,
    WaitlistEntry,
    Credential,
)


def row_counts() -> dict[str, int]:
    return {model.__name__: db.session.scalar(db.select(db.func.count()).select_from(model)) for model in MODELS}


def test_seed_demo_creates_the_organisation_once(runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "Created organisation settings for Connected Babies Bristol." in first.output
    assert "Created draft course 'Summer Baby Massage (Bath)'" in first.output
    counts = row_counts()
    assert counts["Organisation"] == 1
    assert counts["User"] == 6 and counts["InstructorProfile"] == 2
    assert counts["Child"] == 4 and counts["Booking"] == 5 and counts["BookingPlace"] == 8
    assert counts["WaitlistEntry"] == 1
    assert counts["AttendanceMark"] == 4 and counts["Makeup"] == 1
    assert counts["Voucher"] == 2
    assert counts["Credential"] == 6
    assert counts["Handout"] == counts["StoredFile"] == 1
    assert counts["Venue"] == 4 and counts["Course"] == len(COURSES)

    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert "Created" not in second.output
    assert "Nothing new: the demo data was already loaded." in second.output
    assert "Course 'Summer Baby Massage (Bath)' already there." in second.output
    assert row_counts() == counts


def test_demo_courses_cover_every_kind_of_class(runner):
    runner.invoke(args=["seed-demo"])
    courses = db.session.scalars(db.select(Course)).all()
    assert {course.track.value for course in courses} == {
        "family",
        "premature",
        "adoptive_foster",
        "antenatal",
        "workshop",
    }
    assert any(course.is_online and course.online_link for course in courses)
    assert any(course.uses_corrected_age for course in courses)
    assert [course.title for course in courses if course.status == CourseStatus.DRAFT] == ["Summer Baby Massage (Bath)"]


@pytest.mark.parametrize(
    ("email", "home"),
    [("organiser@example.org", "/organiser"), ("instructor@example.org", "/teach"), ("parent@example.org", "/account")],
)
def test_demo_sign_ins_work(runner, auth, email, home):
    runner.invoke(args=["seed-demo"])
    response = auth.login(email, PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(home)


def test_catalogue_lists_the_published_demo_courses_but_not_the_draft(runner, client):
    runner.invoke(args=["seed-demo"])
    body = client.get("/classes").get_data(as_text=True)
    for course in COURSES:
        shown = course["status"] == CourseStatus.PUBLISHED
        assert (course["title"] in body) is shown, course["title"]
    assert "meet.example.org" not in body


def test_demo_twins_are_booked_with_their_corrected_age_on_the_roster(runner):
    from instructor_portal.booking.roster import build_roster

    runner.invoke(args=["seed-demo"])
    course = db.session.scalars(db.select(Course).where(Course.uses_corrected_age)).one()
    rows = build_roster(course)
    assert [row.child_name for row in rows] == ["Maya Williams", "Noah Williams"]
    assert all("(corrected" in row.age for row in rows)


def test_demo_foster_child_appears_by_first_name_and_initial(runner):
    from instructor_portal.booking.roster import build_roster
    from instructor_portal.catalogue.models import Track

    runner.invoke(args=["seed-demo"])
    course = db.session.scalars(db.select(Course).where(Course.track == Track.ADOPTIVE_FOSTER)).one()
    assert [row.child_name for row in build_roster(course)] == ["Riley M."]


def test_demo_money_received_shows_in_the_ledger(runner):
    from instructor_portal.payments.models import Payment

    runner.invoke(args=["seed-demo"])
    payments = db.session.scalars(db.select(Payment).order_by(Payment.amount_pence)).all()
    assert [(payment.amount_pence, payment.booking.amount_paid_pence) for payment in payments] == [
        (5500, 5500),
        (11000, 11000),
    ]


def test_demo_course_under_way_has_a_register_and_offers_the_demo_parent_a_make_up(runner, auth, client):
    runner.invoke(args=["seed-demo"])
    course = db.session.scalars(db.select(Course).where(Course.title == FRIDAY_COURSE)).one()
    auth.login("instructor@example.org", PASSWORD)
    grid = client.get(f"/teach/courses/{course.id}").get_data(as_text=True)
    assert "Make-up offered" in grid
    register = client.get(f"/teach/sessions/{sorted(course.sessions, key=lambda s: s.starts_at)[1].id}/register")
    assert "Absent: recently immunised" in register.get_data(as_text=True)
    auth.logout()
    auth.login("parent@example.org", PASSWORD)
    bookings = client.get("/account/bookings").get_data(as_text=True)
    assert "Make-up" in bookings and "Accept" in bookings


def test_demo_parent_downloads_the_demo_handout(runner, client, auth):
    runner.invoke(args=["seed-demo"])
    handout = db.session.scalars(db.select(Handout)).one()
    auth.login("parent@example.org", PASSWORD)
    booking = db.session.scalars(db.select(Booking).where(Booking.course_id == handout.course_id)).one()

    assert "Reading your baby&#39;s cues" in client.get(f"/account/bookings/{booking.id}").get_data(as_text=True)
    response = client.get(f"/handouts/{handout.id}", buffered=True)
    assert response.status_code == 200 and response.data.startswith(b"# Reading your baby's cues")


def test_demo_full_course_shows_its_waiting_list_to_visitors_the_family_and_the_instructor(runner, client, auth):
    runner.invoke(args=["seed-demo"])
    course = db.session.scalars(db.select(Course).where(Course.title == FULL_COURSE)).one()
    catalogue = client.get("/classes").get_data(as_text=True)
    assert "Full</strong> – join the waiting list (1 waiting)" in catalogue
    auth.login("amira.hassan@example.org", PASSWORD)
    assert "Yusuf" in client.get("/account/waiting-lists").get_data(as_text=True)
    auth.logout()
    auth.login("instructor@example.org", PASSWORD)
    waiting = client.get(f"/teach/courses/{course.id}/waiting-list").get_data(as_text=True)
    assert "Amira Hassan" in waiting and "Yusuf" in waiting

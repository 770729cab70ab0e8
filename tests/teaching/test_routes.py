from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from instructor_portal.catalogue.models import Course, CourseSession, CourseStatus, SessionStatus
from instructor_portal.extensions import db
from tests import factories
from tests.conftest import count, post_form, text

LONDON = ZoneInfo("Europe/London")
IN_TWO_WEEKS = date.today() + timedelta(days=14)


def course_form(where, **changes) -> dict:
    """A valid new-course form, as a browser sends it; unticked boxes are left out."""
    data = {
        "title": "Baby massage for beginners",
        "track": "family",
        "description": "Five **gentle** sessions.",
        "what_to_bring": "A towel.",
        "venue": str(where.id),
        "online_link": "",
        "places": "8",
        "price": "45.50",
        "sibling_discount_percent": "0",
        "age_unit": "weeks",
        "age_min": "6",
        "age_max": "52",
        "booking_opens_at": "",
        "booking_closes_at": "",
        "cancellation_notice_days": "7",
        "first_day": "",
        "start_time": "",
        "minutes": "60",
        "weeks": "5",
    }
    return {**data, **changes}


@pytest.fixture
def owner(app):
    return factories.make_user(role="instructor")


@pytest.fixture
def course(owner):
    return factories.make_course(instructor=owner, status=CourseStatus.DRAFT)


# Who may see what

COURSE_PAGES = [
    "/teach/courses/{course}",
    "/teach/courses/{course}/edit",
    "/teach/courses/{course}/cancel",
    "/teach/courses/{course}/sessions/new",
    "/teach/courses/{course}/sessions/weekly",
    "/teach/sessions/{session}/edit",
    "/teach/sessions/{session}/cancel",
]
WHO_SEES_A_COURSE = [
    ("anonymous", 302),
    ("parent", 403),
    ("another instructor", 404),
    ("owner", 200),
    ("organiser", 200),
]


def sign_in(login_as, who: str, owner):
    if who == "owner":
        login_as(owner)
    elif who == "another instructor":
        login_as("instructor")
    elif who != "anonymous":
        login_as(who)


@pytest.mark.parametrize("page", COURSE_PAGES)
@pytest.mark.parametrize(("who", "status"), WHO_SEES_A_COURSE)
def test_course_pages_are_for_the_owner_and_organisers(client, login_as, owner, course, page, who, status):
    url = page.format(course=course.id, session=course.sessions[0].id)
    sign_in(login_as, who, owner)
    response = client.get(url)
    assert response.status_code == status
    if status == 302:
        assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("page", ["/teach", "/teach/courses/new", "/teach/profile"])
@pytest.mark.parametrize(
    ("who", "status"), [("anonymous", 302), ("parent", 403), ("instructor", 200), ("organiser", 200)]
)
def test_teaching_pages_are_for_instructors_and_organisers(client, login_as, page, who, status):
    if who != "anonymous":
        login_as(who)
    response = client.get(page)
    assert response.status_code == status
    if status == 302:
        assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    "action", ["/teach/courses/{course}/publish", "/teach/courses/{course}/cancel", "/teach/sessions/{session}/cancel"]
)
@pytest.mark.parametrize(("who", "status"), [("anonymous", 302), ("parent", 403), ("another instructor", 404)])
def test_actions_refuse_anyone_but_the_owner_and_change_nothing(client, login_as, owner, course, action, who, status):
    sign_in(login_as, who, owner)
    response = post_form(
        client,
        action.format(course=course.id, session=course.sessions[0].id),
        {"reason": "No"},
        page="/login" if who == "anonymous" else "/",
    )
    assert response.status_code == status
    db.session.expire_all()
    assert course.status == CourseStatus.DRAFT
    assert all(s.status == SessionStatus.SCHEDULED for s in course.sessions)


@pytest.mark.parametrize(
    "page",
    [
        "/teach/courses/999999",
        "/teach/courses/999999/edit",
        "/teach/sessions/999999/edit",
        "/teach/courses/99999999999999999999999",
        "/teach/sessions/0/cancel",
    ],
)
def test_unknown_ids_get_a_friendly_404(client, login_as, page):
    login_as("organiser")
    response = client.get(page)
    assert response.status_code == 404
    assert "Page not found" in text(response)


# Dashboard


def test_dashboard_lists_an_instructor_own_courses_only(client, login_as, owner, course):
    other = factories.make_course(title="Course taught by a colleague")
    login_as(owner)
    page = text(client.get("/teach"))
    assert course.title in page
    assert other.title not in page
    assert "Draft" in page


def test_dashboard_shows_an_organiser_every_course_with_its_instructor(client, login_as, course):
    other = factories.make_course(title="Course taught by a colleague")
    login_as("organiser")
    page = text(client.get("/teach"))
    assert course.title in page and other.title in page
    assert other.instructor.full_name in page


# Creating a course


def test_an_instructor_creates_a_course_with_its_weekly_sessions(client, login_as, owner):
    venue = factories.make_venue()
    login_as(owner)
    response = post_form(
        client,
        "/teach/courses/new",
        course_form(venue, first_day=IN_TWO_WEEKS.isoformat(), start_time="10:30", weeks="5", uses_corrected_age="y"),
    )
    course = db.session.scalars(db.select(Course)).one()
    assert response.status_code == 302
    assert response.headers["Location"] == f"/teach/courses/{course.id}"
    assert (course.instructor, course.status, course.price_pence, course.uses_corrected_age) == (
        owner,
        CourseStatus.DRAFT,
        4550,
        True,
    )
    assert len(course.sessions) == 5
    page = text(client.get(response.headers["Location"]))
    assert "Course saved as a draft" in page
    assert "<strong>gentle</strong>" in page
    assert "10:30am" in page


def test_a_course_can_be_created_without_sessions_and_free(client, login_as, owner):
    venue = factories.make_venue()
    login_as(owner)
    response = post_form(client, "/teach/courses/new", course_form(venue, price="0"))
    assert response.status_code == 302
    course = db.session.scalars(db.select(Course)).one()
    assert (course.is_free, course.sessions) == (True, [])


def test_an_online_course_keeps_its_link_for_the_course_page(client, login_as, owner):
    venue = factories.make_venue()
    login_as(owner)
    post_form(
        client, "/teach/courses/new", course_form(venue, venue="online", online_link="https://meet.example.org/babies")
    )
    course = db.session.scalars(db.select(Course)).one()
    assert (course.is_online, course.venue, course.online_link) == (True, None, "https://meet.example.org/babies")
    assert "https://meet.example.org/babies" in text(client.get(f"/teach/courses/{course.id}"))


def test_an_organiser_creates_a_course_for_an_instructor(client, login_as, owner):
    venue = factories.make_venue()
    login_as("organiser")
    assert owner.full_name in text(client.get("/teach/courses/new"))
    response = post_form(client, "/teach/courses/new", course_form(venue, instructor=str(owner.id)))
    assert response.status_code == 302
    assert db.session.scalars(db.select(Course)).one().instructor == owner


def test_an_instructor_is_not_offered_a_choice_of_instructor(client, login_as, owner):
    login_as(owner)
    assert 'name="instructor"' not in text(client.get("/teach/courses/new"))


def test_new_course_text_fields_lose_nul_characters_rather_than_failing(client, login_as, owner):
    venue = factories.make_venue()
    login_as(owner)
    response = post_form(
        client, "/teach/courses/new", course_form(venue, title="Baby\x00 massage", description="Hi\x00")
    )
    assert response.status_code == 302
    assert db.session.scalars(db.select(Course.title)).one() == "Baby massage"


PAST = (date.today() - timedelta(days=3)).isoformat()
BAD_COURSE_INPUT = [
    ({"title": ""}, "title", "Give the course a title."),
    ({"title": "x" * 121}, "title", "Field cannot be longer than 120 characters."),
    ({"track": "swimming"}, "track", "Choose a track from the list."),
    ({"places": "-3"}, "places", "Offer between 1 and 500 places."),
    ({"places": "0"}, "places", "Offer between 1 and 500 places."),
    ({"places": "ten"}, "places", "Enter a whole number."),
    ({"places": "9" * 30}, "places", "Offer between 1 and 500 places."),
    ({"places": ""}, "places", "Enter the number of places."),
    ({"price": "-5"}, "price", "Enter a price from 0 (free) up to 10,000."),
    ({"price": "12.345"}, "price", "Enter an amount such as 45 or 45.50."),
    ({"price": "NaN"}, "price", "Enter an amount such as 45 or 45.50."),
    ({"price": "Infinity"}, "price", "Enter an amount such as 45 or 45.50."),
    ({"price": "1e40"}, "price", "Enter a price from 0 (free) up to 10,000."),
    ({"price": ""}, "price", "Enter the price, or 0 for a free course."),
    ({"age_min": "20", "age_max": "6"}, "age_max", "The youngest age must not be more than the oldest age."),
    ({"age_min": "-1"}, "age_min", "Enter an age from 0 to 999."),
    ({"age_unit": "years"}, "age_unit", "Choose weeks or months."),
    ({"venue": ""}, "venue", "Choose a venue, or Online."),
    ({"venue": "424242"}, "venue", "Choose a venue from the list, or Online."),
    (
        {"venue": "online", "online_link": "http://meet.example.org/x"},
        "online_link",
        "full secure address starting https://",
    ),
    ({"online_link": "https://meet.example.org/x"}, "online_link", "Only an online course has a joining link"),
    (
        {"booking_opens_at": "2027-03-10T09:00", "booking_closes_at": "2027-03-01T09:00"},
        "booking_closes_at",
        "Booking must close after it opens.",
    ),
    ({"booking_opens_at": "2027-02-30T09:00"}, "booking_opens_at", "Enter a real date and time."),
    ({"booking_closes_at": "0001-01-01T00:00"}, "booking_closes_at", "Enter a real date and time."),
    ({"cancellation_notice_days": "-1"}, "cancellation_notice_days", "Enter between 0 and 365 days."),
    (
        {"sibling_discount_percent": "-5"},
        "sibling_discount_percent",
        "Enter a sibling discount from 0 to 100 per cent.",
    ),
    (
        {"sibling_discount_percent": "101"},
        "sibling_discount_percent",
        "Enter a sibling discount from 0 to 100 per cent.",
    ),
    (
        {"sibling_discount_percent": "9" * 30},
        "sibling_discount_percent",
        "Enter a sibling discount from 0 to 100 per cent.",
    ),
    ({"sibling_discount_percent": "10.5"}, "sibling_discount_percent", "Enter a whole number."),
    ({"sibling_discount_percent": "ten"}, "sibling_discount_percent", "Enter a whole number."),
    ({"sibling_discount_percent": ""}, "sibling_discount_percent", "Enter the sibling discount, or 0 for none."),
    ({"first_day": "2027-02-30", "start_time": "10:00"}, "first_day", "Enter a real date, such as 14/03/2027."),
    ({"first_day": PAST, "start_time": "10:00"}, "first_day", "Choose a date and time in the future."),
    ({"first_day": "9999-12-31", "start_time": "10:00"}, "first_day", "Enter a real date, such as 14/03/2027."),
    ({"first_day": IN_TWO_WEEKS.isoformat()}, "start_time", "Enter the start time."),
    ({"first_day": IN_TWO_WEEKS.isoformat(), "start_time": "25:00"}, "start_time", "Enter a time such as 10:30"),
    (
        {"first_day": IN_TWO_WEEKS.isoformat(), "start_time": "10:00", "minutes": "0"},
        "minutes",
        "A session lasts between 5 and 600 minutes.",
    ),
    (
        {"first_day": IN_TWO_WEEKS.isoformat(), "start_time": "10:00", "weeks": "100"},
        "weeks",
        "Choose between 1 and 52 weeks.",
    ),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD_COURSE_INPUT)
def test_new_course_refuses_bad_input_with_a_field_error_and_saves_nothing(
    client, login_as, owner, changes, field, message
):
    venue = factories.make_venue()
    login_as(owner)
    response = post_form(client, "/teach/courses/new", course_form(venue, **changes))
    page = text(response)
    assert response.status_code == 422
    assert f'id="{field}-error"' in page
    assert message in page
    assert count(Course) == 0
    assert count(CourseSession) == 0


def test_a_retired_venue_is_not_offered_for_a_new_course(client, login_as, owner):
    retired = factories.make_venue(name="Old Scout Hut", active=False)
    login_as(owner)
    assert "Old Scout Hut" not in text(client.get("/teach/courses/new"))
    response = post_form(client, "/teach/courses/new", course_form(retired))
    assert response.status_code == 422
    assert count(Course) == 0


# Editing, publishing and cancelling a course


def test_edit_course_shows_the_current_values_and_saves_changes(client, login_as, owner, course):
    login_as(owner)
    page = text(client.get(f"/teach/courses/{course.id}/edit"))
    assert f'value="{course.title}"' in page
    assert 'value="45.00"' in page
    response = post_form(
        client, f"/teach/courses/{course.id}/edit", course_form(course.venue, title="Renamed", price="30")
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (course.title, course.price_pence) == ("Renamed", 3000)


def test_edit_course_shows_booking_times_in_local_time(client, login_as, owner, course):
    course.booking_opens_at = datetime(2027, 7, 1, 8, 0, tzinfo=UTC)  # 09:00 British Summer Time
    db.session.commit()
    login_as(owner)
    assert 'value="2027-07-01T09:00"' in text(client.get(f"/teach/courses/{course.id}/edit"))
    post_form(
        client,
        f"/teach/courses/{course.id}/edit",
        course_form(course.venue, booking_opens_at="2027-07-01T09:00", booking_closes_at="2027-12-01T09:00"),
    )
    db.session.expire_all()
    assert (course.booking_opens_at, course.booking_closes_at) == (
        datetime(2027, 7, 1, 8, 0, tzinfo=UTC),
        datetime(2027, 12, 1, 9, 0, tzinfo=UTC),
    )


def test_a_sibling_discount_is_saved_and_shown_to_the_instructor_and_to_families(client, login_as, owner, course):
    login_as(owner)
    assert 'name="sibling_discount_percent"' in text(client.get("/teach/courses/new"))
    assert "Off each place after the first when twins or siblings book together." in text(
        client.get("/teach/courses/new")
    )
    response = post_form(
        client, f"/teach/courses/{course.id}/edit", course_form(course.venue, sibling_discount_percent="10")
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert course.sibling_discount_percent == 10
    assert 'name="sibling_discount_percent" required type="number" value="10"' in text(
        client.get(f"/teach/courses/{course.id}/edit")
    )
    assert "£45.50; 10% off each extra place for twins or siblings" in text(client.get(f"/teach/courses/{course.id}"))
    course.status = CourseStatus.PUBLISHED
    db.session.commit()
    assert "10% off each extra place for twins or siblings" in text(client.get(f"/classes/{course.id}"))


def test_no_sibling_discount_says_nothing_about_one(client, login_as, owner, course):
    course.status = CourseStatus.PUBLISHED
    db.session.commit()
    assert "twins or siblings" not in text(client.get(f"/classes/{course.id}"))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"places": "-1"}, "Offer between 1 and 500 places."),
        ({"sibling_discount_percent": "150"}, "Enter a sibling discount from 0 to 100 per cent."),
        ({"age_min": "30", "age_max": "10"}, "The youngest age must not be more than the oldest age."),
        (
            {"booking_opens_at": "2027-05-01T10:00", "booking_closes_at": "2027-05-01T09:00"},
            "Booking must close after it opens.",
        ),
    ],
)
def test_edit_course_refuses_bad_input_and_changes_nothing(client, login_as, owner, course, changes, message):
    before = (course.title, course.places, course.age_min, course.age_max, course.booking_closes_at)
    login_as(owner)
    response = post_form(
        client, f"/teach/courses/{course.id}/edit", course_form(course.venue, title="Changed", **changes)
    )
    assert response.status_code == 422
    assert message in text(response)
    db.session.expire_all()
    assert (course.title, course.places, course.age_min, course.age_max, course.booking_closes_at) == before


def test_publish_course_opens_it_for_booking(client, login_as, owner, course):
    login_as(owner)
    response = post_form(client, f"/teach/courses/{course.id}/publish", page=f"/teach/courses/{course.id}")
    assert response.status_code == 302
    assert "Course published" in text(client.get(response.headers["Location"]))
    db.session.expire_all()
    assert course.status == CourseStatus.PUBLISHED


def test_publish_course_without_sessions_explains_why_not(client, login_as, owner):
    course = factories.make_course(instructor=owner, status=CourseStatus.DRAFT, sessions=0)
    login_as(owner)
    response = post_form(
        client, f"/teach/courses/{course.id}/publish", page=f"/teach/courses/{course.id}", follow_redirects=True
    )
    assert "Add at least one session in the future before publishing the course." in text(response)
    db.session.expire_all()
    assert course.status == CourseStatus.DRAFT


def test_publish_without_a_csrf_token_is_refused(client, login_as, owner, course):
    login_as(owner)
    assert client.post(f"/teach/courses/{course.id}/publish").status_code == 400
    db.session.expire_all()
    assert course.status == CourseStatus.DRAFT


def test_cancel_course_asks_why_then_cancels(client, login_as, owner, course):
    login_as(owner)
    response = post_form(client, f"/teach/courses/{course.id}/cancel", {"reason": ""})
    assert response.status_code == 422
    assert "Say why the course is cancelled; families will see it." in text(response)
    db.session.expire_all()
    assert course.status == CourseStatus.DRAFT
    response = post_form(client, f"/teach/courses/{course.id}/cancel", {"reason": "The centre is closing."})
    assert response.status_code == 302
    db.session.expire_all()
    assert (course.status, course.cancellation_reason) == (CourseStatus.CANCELLED, "The centre is closing.")
    page = text(client.get(f"/teach/courses/{course.id}"))
    assert "The centre is closing." in page
    assert "Publish course" not in page


def test_a_cancelled_course_cannot_be_cancelled_again(client, login_as, owner, course):
    course.status = CourseStatus.CANCELLED
    db.session.commit()
    login_as(owner)
    response = post_form(client, f"/teach/courses/{course.id}/cancel", {"reason": "Again"})
    assert response.status_code == 422
    assert "This course has been cancelled, so it cannot be changed." in text(response)


# Sessions


def test_add_one_session(client, login_as, owner, course):
    login_as(owner)
    response = post_form(
        client,
        f"/teach/courses/{course.id}/sessions/new",
        {"day": IN_TWO_WEEKS.strftime("%d/%m/%Y"), "start_time": "14:00", "minutes": "45", "note": "Bonus"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    added = [s for s in course.sessions if s.note == "Bonus"]
    assert len(added) == 1 and added[0].ends_at - added[0].starts_at == timedelta(minutes=45)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"day": ""}, "day", "Enter the date."),
        ({"day": "31/02/2027"}, "day", "Enter a real date, such as 14/03/2027."),
        ({"day": PAST}, "day", "Choose a date and time in the future."),
        ({"start_time": "noon"}, "start_time", "Enter a time such as 10:30"),
        ({"minutes": "-30"}, "minutes", "A session lasts between 5 and 600 minutes."),
        ({"note": "x" * 256}, "note", "Keep the note to 255 characters."),
    ],
)
def test_add_session_refuses_bad_input_and_adds_nothing(client, login_as, owner, course, changes, field, message):
    login_as(owner)
    data = {"day": IN_TWO_WEEKS.isoformat(), "start_time": "14:00", "minutes": "60", "note": "", **changes}
    response = post_form(client, f"/teach/courses/{course.id}/sessions/new", data)
    assert response.status_code == 422
    assert f'id="{field}-error"' in text(response)
    assert message in text(response)
    assert count(CourseSession) == 5


def test_add_session_that_clashes_is_refused(client, login_as, owner, course):
    first = course.sessions[0].starts_at
    login_as(owner)
    local = first.astimezone(LONDON)
    response = post_form(
        client,
        f"/teach/courses/{course.id}/sessions/new",
        {"day": local.date().isoformat(), "start_time": local.strftime("%H:%M"), "minutes": "60"},
    )
    assert response.status_code == 422
    assert "The course already has a session at that time." in text(response)
    assert count(CourseSession) == 5


def test_add_weekly_sessions(client, login_as, owner):
    course = factories.make_course(instructor=owner, status=CourseStatus.DRAFT, sessions=0)
    login_as(owner)
    response = post_form(
        client,
        f"/teach/courses/{course.id}/sessions/weekly",
        {"first_day": IN_TWO_WEEKS.isoformat(), "start_time": "10:00", "minutes": "60", "weeks": "4"},
    )
    assert response.status_code == 302
    assert "4 weekly sessions added." in text(client.get(response.headers["Location"]))
    assert count(CourseSession) == 4


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"first_day": ""}, "first_day", "Enter the date of the first session."),
        ({"first_day": "2027-13-01"}, "first_day", "Enter a real date, such as 14/03/2027."),
        ({"start_time": ""}, "start_time", "Enter the start time."),
        ({"weeks": "0"}, "weeks", "Choose between 1 and 52 weeks."),
        ({"weeks": "two"}, "weeks", "Enter a whole number."),
    ],
)
def test_add_weekly_sessions_refuses_bad_input_and_adds_nothing(client, login_as, owner, changes, field, message):
    course = factories.make_course(instructor=owner, status=CourseStatus.DRAFT, sessions=0)
    login_as(owner)
    data = {"first_day": IN_TWO_WEEKS.isoformat(), "start_time": "10:00", "minutes": "60", "weeks": "4", **changes}
    response = post_form(client, f"/teach/courses/{course.id}/sessions/weekly", data)
    assert response.status_code == 422
    assert f'id="{field}-error"' in text(response)
    assert message in text(response)
    assert count(CourseSession) == 0


def test_move_a_session_with_a_note_for_families(client, login_as, owner, course):
    session = course.sessions[0]
    login_as(owner)
    page = text(client.get(f"/teach/sessions/{session.id}/edit"))
    assert 'value="60"' in page
    new_day = (session.starts_at + timedelta(days=1)).date()
    response = post_form(
        client,
        f"/teach/sessions/{session.id}/edit",
        {"day": new_day.isoformat(), "start_time": "11:00", "minutes": "90", "note": "Moved to Wednesday."},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert session.note == "Moved to Wednesday."
    assert session.ends_at - session.starts_at == timedelta(minutes=90)
    assert session.starts_at.date() == new_day


def test_saving_a_session_unchanged_only_updates_the_note(client, login_as, owner, course):
    session = course.sessions[0]
    starts_at = session.starts_at
    login_as(owner)
    form = client.get(f"/teach/sessions/{session.id}/edit")
    local = starts_at.astimezone(LONDON)
    assert f'value="{local.date().isoformat()}"' in text(form)
    response = post_form(
        client,
        f"/teach/sessions/{session.id}/edit",
        {"day": local.date().isoformat(), "start_time": local.strftime("%H:%M"), "minutes": "60", "note": "Room 2"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (session.starts_at, session.note) == (starts_at, "Room 2")


def test_moving_a_session_into_the_past_is_refused(client, login_as, owner, course):
    session = course.sessions[0]
    starts_at = session.starts_at
    login_as(owner)
    response = post_form(
        client, f"/teach/sessions/{session.id}/edit", {"day": PAST, "start_time": "10:00", "minutes": "60"}
    )
    assert response.status_code == 422
    assert "Choose a date and time in the future." in text(response)
    db.session.expire_all()
    assert session.starts_at == starts_at


def test_cancel_a_session_then_not_again(client, login_as, owner, course):
    session = course.sessions[1]
    login_as(owner)
    response = post_form(client, f"/teach/sessions/{session.id}/cancel", {"note": "The hall is flooded."})
    assert response.status_code == 302
    db.session.expire_all()
    assert (session.status, session.note) == (SessionStatus.CANCELLED, "The hall is flooded.")
    response = post_form(client, f"/teach/sessions/{session.id}/cancel", {"note": ""})
    assert response.status_code == 422
    assert "This session has already been cancelled." in text(response)


# Profile


def test_profile_shows_and_saves_what_families_see(client, login_as, owner):
    login_as(owner)
    assert "Certified infant massage instructor." in text(client.get("/teach/profile"))
    response = post_form(
        client, "/teach/profile", {"bio": "I love this work.", "area": "Bath", "qualifications": "CIMI"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (owner.profile.bio, owner.profile.area, owner.profile.listed) == ("I love this work.", "Bath", False)


def test_profile_refuses_text_that_is_too_long(client, login_as, owner):
    login_as(owner)
    response = post_form(client, "/teach/profile", {"bio": "", "area": "x" * 121, "qualifications": "", "listed": "y"})
    assert response.status_code == 422
    assert "Field cannot be longer than 120 characters." in text(response)
    db.session.expire_all()
    assert owner.profile.area == "Bristol"


def test_the_course_description_is_shown_as_sanitised_markdown(client, login_as, owner):
    course = factories.make_course(instructor=owner, description="Bring *a towel*.\n\n<script>alert(1)</script>")
    login_as(owner)
    page = text(client.get(f"/teach/courses/{course.id}"))
    assert "<em>a towel</em>" in page
    assert "<script>alert(1)</script>" not in page


def test_the_joining_link_stays_off_the_public_course_page(client, login_as, owner):
    venue = factories.make_venue()
    login_as(owner)
    post_form(
        client,
        "/teach/courses/new",
        course_form(
            venue,
            venue="online",
            online_link="https://meet.example.org/secret-room",
            first_day=IN_TWO_WEEKS.isoformat(),
            start_time="10:00",
        ),
    )
    course = db.session.scalars(db.select(Course)).one()
    post_form(client, f"/teach/courses/{course.id}/publish", page=f"/teach/courses/{course.id}")
    assert course.status == CourseStatus.PUBLISHED
    public = client.application.test_client().get(f"/classes/{course.id}")
    assert public.status_code == 200
    assert course.title in text(public)
    assert "secret-room" not in text(public)

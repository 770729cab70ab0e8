"""The public pages through the test client: content, filters, bad input, 404s and query counts."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import render_template_string
from markupsafe import escape
from sqlalchemy import event
from sqlalchemy.engine import Engine

from instructor_portal.accounts.models import Role
from instructor_portal.catalogue.cache import VersionReader
from instructor_portal.catalogue.models import CourseStatus, SessionStatus, Track
from instructor_portal.extensions import db
from tests.factories import make_course, make_user

SECRET_LINK = "https://meet.example.org/secret-room-4321"
#: A date of birth that suits the factory's default course (6 to 52 weeks, starting in a week).
TEN_WEEKS_AGO = date.today() - timedelta(weeks=10)


def html(response) -> str:
    return response.get_data(as_text=True)


def weeks_ago(weeks: int, *, before: datetime) -> str:
    """The date of birth of a baby who is ``weeks`` old on the day ``before``."""
    return (before.date() - timedelta(weeks=weeks)).isoformat()


@contextmanager
def counting_queries():
    """Every SQL statement sent while it is open: through SQLAlchemy, and the catalogue version's reads on their own connection."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    read = VersionReader.read

    def counted_read(reader):
        statements.append(reader.sql)
        return read(reader)

    event.listen(Engine, "before_cursor_execute", record)
    VersionReader.read = counted_read
    try:
        yield statements
    finally:
        VersionReader.read = read
        event.remove(Engine, "before_cursor_execute", record)


def queries_for(client, url: str) -> int:
    """Count the SQL statements one GET costs (each request has its own app context and session)."""
    with counting_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


# --- the pages ----------------------------------------------------------------------------


def test_home_page_welcomes_parents_and_shows_the_next_courses(client, app):
    for days in (3, 4, 5, 6):
        make_course(title=f"Course in {days} days", first_session=datetime.now(UTC) + timedelta(days=days))
    body = html(client.get("/"))
    assert body.count("<h1") == 1
    assert "Course in 3 days" in body and "Course in 5 days" in body
    assert "Course in 6 days" not in body
    assert 'href="/classes"' in body and 'href="/instructors"' in body


def test_home_page_without_courses_says_so(client, app):
    assert "New courses are on their way" in html(client.get("/"))


def test_catalogue_card_shows_what_a_family_needs(client, app):
    instructor = make_user(role=Role.INSTRUCTOR, full_name="Hannah Okafor")
    course = make_course(title="Tuesday babies", instructor=instructor, places=3, price_pence=5500, sessions=5)
    make_course(title="Free online group", is_online=True, online_link=SECRET_LINK, price_pence=0, places=10)
    body = html(client.get("/classes"))
    assert body.count("<h1") == 1
    assert f'href="/classes/{course.id}"' in body
    assert "Tuesday babies" in body and "Family" in body and "Hannah Okafor" in body
    assert "£55.00" in body and "Free" in body
    assert "Only 3 places left" in body and "10 places left" in body
    assert f"{escape(course.venue.name)}, Bristol" in body and "Online" in body
    assert f'<time datetime="{course.sessions[0].starts_at.isoformat()}">' in body
    assert "For babies from 6 weeks to 52 weeks old at the first session." in body
    assert "2 courses" in body


@pytest.mark.parametrize(
    ("count", "words"),
    [(0, "Full"), (-1, "Full"), (1, "Only 1 place left"), (3, "Only 3 places left"), (4, "4 places left")],
)
def test_places_left_stand_out_when_few_or_none(app, count, words):
    with app.test_request_context():
        shown = render_template_string(
            '{% from "_macros/ui.html" import places_left %}{{ places_left(count) }}', count=count
        )
    assert words in shown
    assert ("<strong" in shown) == (count <= 3)


def test_catalogue_filters_by_track_place_text_and_child(client, app):
    soon = datetime.now(UTC) + timedelta(days=10)
    make_course(title="Family course", first_session=soon)
    make_course(title="Premature course", track=Track.PREMATURE, first_session=soon, age_min=0, age_max=20)
    make_course(title="Online course", is_online=True, first_session=soon)
    assert "Premature course" in html(client.get("/classes?track=premature"))
    assert "Family course" not in html(client.get("/classes?track=premature"))
    online = html(client.get("/classes?place=online"))
    assert "Online course" in online and "Family course" not in online
    assert "Family course" not in html(client.get("/classes?q=premature"))
    # Two weeks old at the first session: too young for the family course (from 6 weeks).
    young = html(client.post("/classes", data={"born": weeks_ago(2, before=soon)}, follow_redirects=True))
    assert "Premature course" in young and "Family course" not in young
    assert "Your baby&#39;s age at the first session will be 2 weeks" in young


def test_the_babys_dates_stay_in_the_session_never_in_an_address_and_follow_the_family_to_a_course(client, app):
    soon = datetime.now(UTC) + timedelta(days=10)
    course = make_course(first_session=soon, age_min=6, age_max=40)
    born = weeks_ago(8, before=soon)
    sent = client.post("/classes", data={"born": born, "track": "family", "due": ""})
    assert sent.status_code == 302 and sent.headers["Location"] == "/classes?track=family"
    body = html(client.get(sent.headers["Location"]))
    assert str(born) not in "".join(re.findall(r'(?:href|action)="([^"]*)"', body))
    assert f'href="/classes/{course.id}"' in body
    assert "Your baby can join this course." in html(client.get(f"/classes/{course.id}"))
    assert client.get(f"/classes?born={born}").status_code == 200  # an old link's date is simply not used
    client.post("/classes", data={"born": ""})
    assert "Your baby can join this course." not in html(client.get(f"/classes/{course.id}"))


def test_pagination_links_keep_the_filters(client, app):
    app.config["CATALOGUE_PAGE_SIZE"] = 2
    for days in range(3, 8):
        make_course(first_session=datetime.now(UTC) + timedelta(days=days))
    first = html(client.get("/classes?place=bristol&track=family"))
    assert "Page 1 of 3" in first
    assert 'href="/classes?page=2&amp;track=family&amp;place=bristol"' in first
    second = html(client.get("/classes?page=2&track=family&place=bristol"))
    assert "Page 2 of 3" in second and 'rel="prev"' in second


def test_empty_search_suggests_removing_filters(client, app):
    make_course(title="Bristol course")
    body = html(client.get("/classes?place=leeds&q=massage"))
    assert "No upcoming courses match all of these filters." in body
    assert 'href="/classes?q=massage"' in body  # without the place
    assert 'href="/classes?place=leeds"' in body  # without the words


def test_course_page_shows_everything_but_the_joining_link(client, app):
    instructor = make_user(role=Role.INSTRUCTOR, full_name="Hannah Okafor")
    course = make_course(
        title="Gentle touch",
        instructor=instructor,
        description="**Small** group. <script>alert('x')</script>",
        what_to_bring="A towel and a spare nappy",
        sessions=3,
    )
    course.venue.travel_notes = "Bus 72 stops outside."
    course.venue.pram_parking = False
    course.sessions[1].status = SessionStatus.CANCELLED
    course.sessions[1].note = "The hall is closed for repairs."
    db.session.commit()
    body = html(client.get(f"/classes/{course.id}"))
    assert body.count("<h1") == 1
    assert "<strong>Small</strong>" in body and "<script>" not in body
    assert "A towel and a spare nappy" in body
    assert course.venue.address in body and course.venue.postcode in body
    assert "Step-free access" in body and "No pram parking" in body and "Baby-changing facilities" in body
    assert "Bus 72 stops outside." in body
    assert body.count('class="session is-cancelled"') == 1 and "<del>" in body
    assert "The hall is closed for repairs." in body
    assert "For babies from 6 weeks to 52 weeks old at the first session." in body
    assert "8 places left" in body and "£45.00" in body
    assert f'href="/instructors/{instructor.id}"' in body
    assert "Create a free account (or sign in) to book" in body
    assert f'href="/register?next=/classes/{course.id}/book"' in body
    assert f'href="/login?next=/classes/{course.id}/book"' in body


def test_course_page_says_whether_the_child_is_eligible(client, app):
    soon = datetime.now(UTC) + timedelta(days=10)
    course = make_course(first_session=soon, age_min=6, age_max=40)
    yes = html(client.post(f"/classes/{course.id}", data={"born": weeks_ago(10, before=soon)}, follow_redirects=True))
    assert "Your baby can join this course." in yes
    no = html(client.post(f"/classes/{course.id}", data={"born": weeks_ago(3, before=soon)}, follow_redirects=True))
    assert "This course is not suitable for your baby." in no
    assert "will be 3 weeks; this course is for babies from 6 weeks to 40 weeks." in no


def test_course_page_uses_corrected_age_from_the_due_date(client, app):
    soon = datetime.now(UTC) + timedelta(days=10)
    course = make_course(track=Track.PREMATURE, uses_corrected_age=True, age_min=0, age_max=8, first_session=soon)
    born, due = weeks_ago(14, before=soon), weeks_ago(4, before=soon)
    body = html(client.post(f"/classes/{course.id}", data={"born": born, "due": due}, follow_redirects=True))
    assert "Your baby can join this course." in body
    assert "corrected age at the first session will be 4 weeks" in body
    assert "we use their corrected age" in body


def test_cancelled_course_shows_as_cancelled_without_booking(client, app):
    course = make_course(status=CourseStatus.CANCELLED, cancellation_reason="The instructor is unwell.")
    body = html(client.get(f"/classes/{course.id}"))
    assert "The instructor is unwell." in body
    assert body.count("This course has been cancelled.") >= 1
    assert "/book" not in body


def test_signed_in_parent_is_offered_the_booking_page(client, app, login_as):
    course = make_course()
    login_as("parent")
    body = html(client.get(f"/classes/{course.id}"))
    assert f'href="/classes/{course.id}/book"' in body
    assert 'href="/register' not in body


def test_staff_are_told_families_book_from_their_own_accounts(client, app, login_as):
    course = make_course()
    login_as("instructor")
    body = html(client.get(f"/classes/{course.id}"))
    assert "families book from their own accounts" in body
    assert f'href="/classes/{course.id}/book"' not in body


def test_instructor_directory_and_profile(client, app):
    instructor = make_user(role=Role.INSTRUCTOR, full_name="Hannah Okafor")
    instructor.profile.area = "North Bristol and online"
    instructor.profile.bio = "Former *neonatal* nurse."
    db.session.commit()
    course = make_course(title="Tuesday babies", instructor=instructor)
    make_course(title="Hidden draft", instructor=instructor, status=CourseStatus.DRAFT)
    directory = html(client.get("/instructors"))
    assert directory.count("<h1") == 1
    assert f'href="/instructors/{instructor.id}"' in directory
    assert "North Bristol and online" in directory and "CIMI" in directory
    assert "Tuesday babies" in directory and "Hidden draft" not in directory
    profile = html(client.get(f"/instructors/{instructor.id}"))
    assert "<em>neonatal</em>" in profile
    assert f'href="/classes/{course.id}"' in profile and "Hidden draft" not in profile


def test_online_link_never_appears_on_public_pages(client, app):
    instructor = make_user(role=Role.INSTRUCTOR)
    course = make_course(is_online=True, online_link=SECRET_LINK, instructor=instructor)
    for url in (
        "/",
        "/classes",
        "/classes?place=online",
        f"/classes/{course.id}",
        "/instructors",
        f"/instructors/{instructor.id}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "secret-room" not in html(response), url
    assert "joining link by email" in html(client.get(f"/classes/{course.id}"))


# --- bad input ----------------------------------------------------------------------------

FAR_FUTURE = (date.today() + timedelta(days=400)).isoformat()


@pytest.mark.parametrize(
    ("query", "field", "message", "still_listed"),
    [
        ("born=2026-02-30", "born", "Enter a real date, such as 14/03/2027.", True),
        ("born=tuesday", "born", "Enter a real date, such as 14/03/2027.", True),
        ("born=0001-01-01", "born", "Enter a real date, such as 14/03/2027.", True),
        ("born=9999-12-31", "born", "Enter a real date, such as 14/03/2027.", True),
        (f"born={FAR_FUTURE}", "born", "more than ten months away", True),
        (f"born={FAR_FUTURE}&due={FAR_FUTURE}", "born", "more than ten months away", True),
        (
            f"born={TEN_WEEKS_AGO}&due={TEN_WEEKS_AGO + timedelta(weeks=25)}",
            "due",
            "within 24 weeks of the date of birth",
            True,
        ),
        ("due=2026-01-01", "due", "Enter your baby&#39;s date of birth as well", True),
        ("date_from=2090-05-10&date_to=2090-05-01", "date_to", "must be on or after", False),
        ("date_to=31/02/2030", "date_to", "Enter a real date", True),
        ("track=swimming", "track", "Choose a type of course from the list.", True),
        ("q=" + "x" * 101, "q", "Use at most 100 characters.", True),
        ("place=" + "x" * 81, "place", "Use at most 80 characters.", True),
    ],
)
def test_bad_filters_show_field_errors_and_are_ignored(client, app, query, field, message, still_listed):
    """The refused field is shown with its error and does not filter, while the accepted ones still do."""
    make_course(title="Still listed")
    if field in ("born", "due"):  # the baby's dates come by POST
        response = client.post("/classes", data=dict(part.split("=", 1) for part in query.split("&")))
        assert response.status_code == 422
    else:
        response = client.get(f"/classes?{query}")
        assert response.status_code == 200
    body = html(response)
    assert f'id="{field}-error"' in body and message in body
    assert 'aria-invalid="true"' in body
    assert ("Still listed" in body) is still_listed


@pytest.mark.parametrize(
    "query",
    [
        "page=abc",
        "page=-3",
        "page=0",
        "page=99999999999999999999999",
        "born=",
        "born=%00",
        "q=%25_%5C",
        "place=%27%3B--",
        "q=%00",
        "place=bs%00",
        "track=",
        "q=" + "%F0%9F%91%B6" * 20,
        "born=2026-01-01&born=2026-01-02",
        "due=xx&born=xx",
    ],
)
def test_odd_query_strings_never_fail(client, app, query):
    make_course()
    assert client.get(f"/classes?{query}").status_code == 200


def test_course_page_shows_errors_for_a_bad_date_of_birth(client, app):
    course = make_course()
    response = client.post(f"/classes/{course.id}", data={"born": "2026-02-31"})
    assert response.status_code == 422
    assert "Enter a real date" in html(response)
    assert "can join this course" not in html(response)


@pytest.mark.parametrize(
    "path", ["/classes/{missing}", "/classes/abc", "/classes/-1", "/classes/99999999999999999999", "/classes/{draft}"]
)
def test_unknown_or_draft_course_is_a_friendly_404(client, app, path):
    draft = make_course(status=CourseStatus.DRAFT)
    response = client.get(path.format(missing=draft.id + 100, draft=draft.id))
    assert response.status_code == 404
    assert "Page not found" in html(response) and "Go to the home page" in html(response)


@pytest.mark.parametrize("who", ["parent", "organiser", "unlisted", "inactive", "missing", "huge"])
def test_instructor_profile_404s_for_anyone_not_in_the_directory(client, app, who):
    if who == "missing":
        user_id = 424242
    elif who == "huge":
        user_id = 2**40
    else:
        user = make_user(role=Role.INSTRUCTOR if who in ("unlisted", "inactive") else who, active=who != "inactive")
        if who == "unlisted":
            user.profile.listed = False
            db.session.commit()
        user_id = user.id
    response = client.get(f"/instructors/{user_id}")
    assert response.status_code == 404
    assert "Page not found" in html(response)


# --- a page costs the same number of queries however much there is on it -----------------


def test_catalogue_query_count_does_not_grow_with_courses(client, app):
    for _ in range(3):
        make_course()
    few = queries_for(client, "/classes")
    for _ in range(27):
        make_course()
    many = queries_for(client, "/classes")
    print(f"/classes: {few} queries with 3 courses, {many} with 30")
    assert few == many
    assert queries_for(client, "/classes?q=course&place=bristol") == few
    assert queries_for(client, "/") == few
    client.post("/classes", data={"born": TEN_WEEKS_AGO})  # a family's own, uncached page
    with_child = queries_for(client, "/classes")
    for _ in range(5):
        make_course()
    assert queries_for(client, "/classes") == with_child


def test_directory_query_count_does_not_grow_with_courses(client, app):
    instructors = [make_user(role=Role.INSTRUCTOR) for _ in range(3)]
    for instructor in instructors:
        make_course(instructor=instructor)
    profile = f"/instructors/{instructors[0].id}"
    few, few_profile = queries_for(client, "/instructors"), queries_for(client, profile)
    for index in range(27):
        make_course(instructor=instructors[index % 3])
    for _ in range(5):
        make_user(role=Role.INSTRUCTOR)
    many, many_profile = queries_for(client, "/instructors"), queries_for(client, profile)
    print(f"/instructors: {few} queries with 3 courses, {many} with 30; a profile: {few_profile} and {many_profile}")
    assert (few, few_profile) == (many, many_profile)


def test_course_page_query_count_does_not_grow_with_sessions(client, app):
    small = make_course(sessions=3)
    large = make_course(sessions=15)
    large.sessions[4].status = SessionStatus.CANCELLED
    db.session.commit()
    few = queries_for(client, f"/classes/{small.id}")
    many = queries_for(client, f"/classes/{large.id}")
    print(f"/classes/<id>: {few} queries with 3 sessions, {many} with 15")
    assert few == many
    assert queries_for(client, f"/classes/{large.id}?born={TEN_WEEKS_AGO}") == few

"""Every response carries the security headers; every page a signed-in person sees is kept by nobody else."""

import pytest

from instructor_portal import create_app
from instructor_portal.extensions import db
from tests import factories
from tests.conftest import FreshContextClient

EVERYWHERE = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def check_headers(response):
    for name, value in EVERYWHERE.items():
        assert response.headers[name] == value, name
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "'unsafe-inline'" not in policy


@pytest.mark.parametrize(
    "path", ["/", "/classes", "/instructors", "/login", "/register", "/password/forgot", "/healthz", "/no/such/page"]
)
def test_public_pages_carry_the_headers_and_may_be_cached(client, path):
    response = client.get(path)
    check_headers(response)
    assert "no-store" not in response.headers.get("Cache-Control", "")


@pytest.fixture
def booked(app):
    child = factories.make_child()
    course = factories.make_course()
    booking = factories.make_booking(course, [child])
    return child.parent, course, booking


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("parent", "/account"),
        ("parent", "/account/children"),
        ("parent", "/account/bookings"),
        ("parent", "/account/bookings/{booking}"),
        ("parent", "/account/bookings/{booking}/calendar.ics"),
        ("parent", "/classes"),
        ("organiser", "/teach/courses/{course}"),
        ("organiser", "/teach/bookings/{booking}"),
        ("organiser", "/organiser/registers"),
        ("organiser", "/organiser/payments"),
        ("organiser", "/organiser/payments.csv"),
        ("organiser", "/organiser/outbox"),
    ],
)
def test_pages_for_signed_in_people_are_private_and_never_stored(client, login_as, booked, who, path):
    parent, course, booking = booked
    login_as(parent if who == "parent" else who)
    response = client.get(path.format(booking=booking.id, course=course.id))
    assert response.status_code == 200, path
    check_headers(response)
    assert response.headers["Cache-Control"] == "private, no-store"


def test_a_handout_keeps_its_own_sandbox_policy(client, login_as):
    from tests.handouts.conftest import upload

    instructor = login_as("instructor")
    course = factories.make_course(instructor=instructor)
    handout = upload(course, instructor)
    response = client.get(f"/handouts/{handout.id}", buffered=True)
    assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"


def test_production_over_https_adds_hsts_and_its_policy_lets_forms_reach_only_us_and_stripe(database_url, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "ENV_NAME": "production",
            "SECRET_KEY": "p" * 40,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "UPLOAD_STORAGE_PATH": str(tmp_path),
        }
    )
    app.test_client_class = FreshContextClient
    with app.app_context():
        secure = app.test_client().get("/classes", base_url="https://portal.test")
        plain = app.test_client().get("/classes")
        db.session.remove()
        db.engine.dispose()
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in plain.headers
    assert secure.headers["Content-Security-Policy"].endswith("form-action 'self' https://checkout.stripe.com")


def test_asking_for_another_familys_records_is_refused_and_logged_with_who_and_what(client, login_as, booked, caplog):
    _, course, booking = booked
    nosy = login_as("parent")
    caplog.set_level("WARNING", logger="instructor_portal.access")
    other_child = booking.places[0].child
    assert client.get(f"/account/bookings/{booking.id}").status_code == 404
    assert client.get(f"/account/children/{other_child.id}/edit").status_code == 404
    assert f"Refused parent {nosy.id} access to Booking {booking.id}" in caplog.text
    assert f"Refused parent {nosy.id} access to Child {other_child.id}" in caplog.text


def test_an_instructor_asking_for_another_instructors_course_is_refused_and_logged(client, login_as, booked, caplog):
    _, course, _ = booked
    instructor = login_as("instructor")
    caplog.set_level("WARNING", logger="instructor_portal.access")
    assert client.get(f"/teach/courses/{course.id}").status_code == 404
    assert f"Refused instructor {instructor.id} access to Course {course.id}" in caplog.text

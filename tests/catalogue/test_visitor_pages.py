"""Visitors' pages answered in front of Flask from the cache, with validators browsers and proxies revalidate against."""

from __future__ import annotations

import pytest

from instructor_portal.catalogue.cache import version_reader
from tests.catalogue.test_routes import counting_queries
from tests.factories import make_booking, make_course, make_user

PUBLIC_PAGES = [
    "/",
    "/classes",
    "/classes?track=family&page=1",
    "/classes/{course}",
    "/instructors",
    "/instructors/{instructor}",
]


@pytest.fixture
def course(app):
    return make_course(places=2, instructor=make_user(role="instructor", full_name="Asha Patel"))


@pytest.fixture
def flask_requests(app):
    """How many requests reached Flask's own request handling."""
    seen: list[str] = []
    app.before_request_funcs.setdefault(None, []).insert(0, lambda: seen.append("request"))
    return seen


def url_for_page(template: str, course) -> str:
    return template.format(course=course.id, instructor=course.instructor_id)


@pytest.mark.parametrize("template", PUBLIC_PAGES)
def test_a_visitor_without_cookies_is_answered_before_flask_for_one_query(client, course, flask_requests, template):
    url = url_for_page(template, course)
    first = client.get(url)
    assert first.status_code == 200 and len(flask_requests) == 1
    with counting_queries() as statements:
        again = client.get(url)
    assert again.status_code == 200 and again.data == first.data
    assert len(flask_requests) == 1  # the second visit never reached Flask
    assert len(statements) == 1


def test_the_page_carries_validators_and_may_be_kept_by_a_proxy_only_for_cookieless_visitors(client, course):
    built = client.get("/classes")
    served = client.get("/classes")
    for response in (built, served):
        assert response.headers["ETag"] and response.headers["Last-Modified"]
        assert set(response.headers["Cache-Control"].split(", ")) == {"public", "no-cache"}
        assert response.headers["Vary"] == "Cookie"
        assert response.content_type == "text/html; charset=utf-8"
    assert served.headers["ETag"] == built.headers["ETag"]


def test_a_page_served_in_front_of_flask_has_every_security_header(client, course, flask_requests):
    built = client.get("/classes")
    served = client.get("/classes")
    assert len(flask_requests) == 1
    for name in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"):
        assert served.headers[name] == built.headers[name]


def test_revalidating_an_unchanged_page_is_a_304_with_no_body(client, course):
    first = client.get(f"/classes/{course.id}")
    etag = first.headers["ETag"]
    unchanged = client.get(f"/classes/{course.id}", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.data == b""
    assert unchanged.headers["ETag"] == etag
    since = client.get(f"/classes/{course.id}", headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304


def test_revalidating_after_a_booking_gets_the_new_page_at_once(client, course):
    first = client.get(f"/classes/{course.id}")
    assert "Only 2 places left" in first.get_data(as_text=True)
    make_booking(course)
    changed = client.get(f"/classes/{course.id}", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert "Only 1 place left" in changed.get_data(as_text=True)
    assert changed.headers["ETag"] != first.headers["ETag"]


def test_a_head_request_is_answered_with_the_headers_alone(client, course, flask_requests):
    client.get("/classes")
    head = client.head("/classes")
    assert head.status_code == 200 and head.data == b"" and head.headers["ETag"]
    assert len(flask_requests) == 1


def test_a_visitor_with_a_session_cookie_gets_the_same_cached_page_through_flask(client, course, flask_requests):
    first = client.get("/classes")
    client.set_cookie("session", "left-over")
    again = client.get("/classes")
    assert len(flask_requests) == 2
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]


def test_signed_in_people_are_never_sent_a_shared_page_or_validators(client, course, login_as):
    client.get("/classes")
    login_as("parent")
    response = client.get("/classes")
    assert "My account" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "ETag" not in response.headers


def test_pages_that_are_not_cached_pass_straight_through(client, course, flask_requests):
    assert client.get("/login").status_code == 200
    assert client.get("/login").status_code == 200
    assert client.get("/classes/999999").status_code == 404
    assert len(flask_requests) == 3


def test_the_version_is_read_in_one_statement_with_no_ping_and_no_transaction_left(app, client, course):
    client.get("/classes")
    reader = version_reader(app)
    [connection] = reader.held
    driver = connection.driver_connection
    sqlite = reader.engine.dialect.name == "sqlite"
    sent: list[str] = []
    if sqlite:
        driver.set_trace_callback(sent.append)  # every statement SQLite runs on this connection
    with counting_queries() as statements:
        client.get("/classes")
    assert len(statements) == 1 and "catalogue_versions" in statements[0]
    # Nothing is left open to roll back, so nothing more is sent.
    assert not (driver.in_transaction if sqlite else driver.info.transaction_status != 0)
    if sqlite:
        assert len(sent) == 1 and "catalogue_versions" in sent[0]


def test_a_dropped_version_connection_is_replaced_and_the_page_still_served(app, client, course):
    first = client.get("/classes")
    reader = version_reader(app)
    [connection] = reader.held
    connection.driver_connection.close()  # as when the database restarts
    again = client.get("/classes")
    assert again.status_code == 200 and again.data == first.data
    assert reader.held and reader.held[0] is not connection

"""Calendar feeds through the client: the account page's buttons, and the address as a calendar app fetches it."""

import json
import re
from urllib.parse import urlsplit

import pytest

from instructor_portal.audit import AuditEntry
from instructor_portal.calendar_feeds.models import CalendarFeed
from instructor_portal.calendar_feeds.services import secret_hash
from instructor_portal.extensions import db
from instructor_portal.organiser import family_data
from tests import factories
from tests.calendar_feeds.conftest import events_of, make_makeup, uid
from tests.catalogue.test_routes import counting_queries
from tests.conftest import AuthActions, count, post_form, text

FEED_ADDRESS = re.compile(r'value="(http://portal\.test/calendar/[^"]+\.ics)"')


def make_feed(client) -> str:
    """Press the account page's button that makes (or renews) the feed; return the path of the address shown."""
    response = post_form(client, "/account/calendar-feed", page="/account")
    assert response.status_code == 200
    page = text(response)
    address = FEED_ADDRESS.search(page).group(1)
    assert f'href="webcal://portal.test{urlsplit(address).path}"' in page
    return urlsplit(address).path


@pytest.fixture
def calendar_app(app):
    """A calendar app fetching the feed: nobody is signed in."""
    return app.test_client()


def audited() -> list[str]:
    return db.session.scalars(
        db.select(AuditEntry.action).where(AuditEntry.action.startswith("calendar_feed.")).order_by(AuditEntry.id)
    ).all()


def test_a_parent_makes_a_feed_on_their_account_page_and_their_calendar_app_reads_it(
    client, login_as, feed_scene, calendar_app
):
    login_as(feed_scene.parent)
    account = text(client.get("/account"))
    assert 'id="calendar-feed"' in account and "Make my calendar feed" in account

    path = make_feed(client)
    response = calendar_app.get(path)

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert set(events_of(response.data)) == {uid(session) for session in feed_scene.course.sessions}
    secret = path.removeprefix("/calendar/").removesuffix(".ics")
    assert len(secret) >= 43
    stored = db.session.scalars(db.select(CalendarFeed)).one()
    assert stored.secret_hash == secret_hash(secret) and secret not in repr(stored.__dict__)
    assert "Make a new address" in text(client.get("/account"))


def test_an_instructor_makes_their_teaching_feed_on_the_same_account_page(client, login_as, feed_scene, calendar_app):
    login_as(feed_scene.instructor)
    assert "The sessions you teach" in text(client.get("/account"))

    events = events_of(calendar_app.get(make_feed(client)).data)

    assert events[uid(feed_scene.course.sessions[0])]["description"] == "2 of 8 places booked."


def test_the_feed_has_an_etag_and_a_short_private_cache_and_answers_304_until_it_changes(
    client, login_as, feed_scene, calendar_app
):
    login_as(feed_scene.parent)
    path = make_feed(client)

    first = calendar_app.get(path)
    again = calendar_app.get(path, headers={"If-None-Match": first.headers["ETag"]})
    feed_scene.course.sessions[0].note = "Bring a towel"
    db.session.commit()
    changed = calendar_app.get(path, headers={"If-None-Match": first.headers["ETag"]})

    assert first.headers["Cache-Control"] in ("private, max-age=600", "max-age=600, private")
    assert again.status_code == 304 and again.data == b""
    assert changed.status_code == 200 and b"Bring a towel" in changed.data
    assert changed.headers["ETag"] != first.headers["ETag"]


def test_a_new_address_kills_the_old_one_at_once_and_works_itself(client, login_as, feed_scene, calendar_app):
    login_as(feed_scene.parent)
    old = make_feed(client)

    new = make_feed(client)

    assert new != old
    assert calendar_app.get(old).status_code == 404
    assert calendar_app.get(new).status_code == 200
    assert count(CalendarFeed) == 1
    assert audited() == ["calendar_feed.created", "calendar_feed.renewed"]


def test_turning_the_feed_off_makes_its_address_404_at_once(client, login_as, feed_scene, calendar_app):
    login_as(feed_scene.parent)
    path = make_feed(client)

    response = post_form(client, "/account/calendar-feed/off", page="/account")

    assert response.status_code == 302 and response.headers["Location"] == "/account#calendar-feed"
    assert calendar_app.get(path).status_code == 404
    assert count(CalendarFeed) == 0
    assert audited() == ["calendar_feed.created", "calendar_feed.revoked"]
    assert "Make my calendar feed" in text(client.get("/account"))


def test_turning_off_a_feed_that_is_already_off_is_refused_with_a_message(client, login_as, feed_scene):
    login_as(feed_scene.parent)

    response = post_form(client, "/account/calendar-feed/off", page="/account")

    assert response.status_code == 422
    assert "Your calendar feed is already off." in text(response)
    assert audited() == []


@pytest.mark.parametrize("tamper", ["unknown", "one character changed", "the stored hash", "empty-ish"])
def test_a_forged_or_unknown_address_is_a_plain_404(client, login_as, feed_scene, calendar_app, tamper):
    login_as(feed_scene.parent)
    secret = make_feed(client).removeprefix("/calendar/").removesuffix(".ics")
    forged = {
        "unknown": "A" * len(secret),
        "one character changed": secret[:-1] + ("A" if secret[-1] != "A" else "B"),
        # Someone holding a copy of the database has only the hash, which is not an address.
        "the stored hash": secret_hash(secret),
        "empty-ish": "-",
    }[tamper]

    response = calendar_app.get(f"/calendar/{forged}.ics")

    assert response.status_code == 404
    assert b"BEGIN:VCALENDAR" not in response.data


def test_the_feed_of_a_switched_off_account_stops(client, login_as, feed_scene, calendar_app):
    login_as(feed_scene.parent)
    path = make_feed(client)
    feed_scene.parent.active = False
    db.session.commit()

    assert calendar_app.get(path).status_code == 404


def test_guessing_addresses_is_stopped_by_a_limit_per_client_address(app, client, login_as, feed_scene, calendar_app):
    login_as(feed_scene.parent)
    path = make_feed(client)
    app.config["CALENDAR_FEED_MISS_RATE_LIMIT"] = "3 per hour"

    guesses = [calendar_app.get(f"/calendar/guess{n}.ics").status_code for n in range(5)]
    elsewhere = app.test_client().get(path, environ_base={"REMOTE_ADDR": "127.0.0.2"})

    assert guesses == [404, 404, 404, 429, 429]
    assert elsewhere.status_code == 200


def test_one_address_fetched_too_often_is_limited_without_stopping_others(app, login_as, feed_scene, calendar_app):
    app.config["CALENDAR_FEED_RATE_LIMIT"] = "2 per hour"
    paths = []
    for person in (feed_scene.parent, feed_scene.other_booking.parent):
        signed_in = app.test_client()
        AuthActions(signed_in).login(person)
        paths.append(make_feed(signed_in))

    fetches = [calendar_app.get(paths[0]).status_code for _ in range(3)]

    assert fetches == [200, 200, 429]
    assert calendar_app.get(paths[1]).status_code == 200


def test_making_or_stopping_a_feed_needs_a_signed_in_person_and_the_forms_token(client, login_as, feed_scene):
    anonymous = post_form(client, "/account/calendar-feed", page="/login")
    login_as(feed_scene.parent)
    forged = client.post("/account/calendar-feed")  # no csrf_token, as from another site

    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert forged.status_code == 400
    assert count(CalendarFeed) == 0


def test_the_booking_page_offers_the_feed_beside_the_calendar_file(client, login_as, feed_scene):
    login_as(feed_scene.parent)

    page = text(client.get(f"/account/bookings/{feed_scene.booking.id}"))

    assert "/calendar.ics" in page and 'href="/account#calendar-feed"' in page


@pytest.mark.parametrize("who", ["parent", "instructor"])
def test_a_feed_costs_the_same_queries_however_many_bookings_it_holds(client, login_as, feed_scene, calendar_app, who):
    person = feed_scene.parent if who == "parent" else feed_scene.instructor
    login_as(person)
    path = make_feed(client)
    make_makeup(feed_scene.booking.places[0], factories.make_course(instructor=feed_scene.instructor).sessions[1])
    with counting_queries() as one:
        assert calendar_app.get(path).status_code == 200

    for n in range(4):
        course = factories.make_course(instructor=feed_scene.instructor, title=f"More {n}")
        booking = factories.make_booking(course, [factories.make_child(feed_scene.parent)])
        make_makeup(booking.places[0], factories.make_course(instructor=feed_scene.instructor).sessions[1])
        make_makeup(booking.places[0], factories.make_course(instructor=feed_scene.instructor).sessions[1], missed=1)
    with counting_queries() as many:
        response = calendar_app.get(path)

    assert len(events_of(response.data)) > 20
    assert len(many) == len(one)


def test_a_familys_copy_of_their_data_says_the_feed_is_on_but_not_its_address(client, login_as, feed_scene):
    login_as(feed_scene.parent)
    path = make_feed(client)

    copy = family_data.family_data(feed_scene.parent)

    assert [set(row) for row in copy["calendar_feeds"]] == [{"issued_at"}]
    assert path.removeprefix("/calendar/").removesuffix(".ics") not in json.dumps(copy)


def test_erasing_a_family_turns_their_feed_off(client, login_as, feed_scene, calendar_app):
    login_as(feed_scene.parent)
    path = make_feed(client)
    erasure = family_data.request_erasure(feed_scene.parent)

    family_data.erase_family(erasure, by=factories.make_user(role="organiser"))

    assert calendar_app.get(path).status_code == 404
    assert count(CalendarFeed) == 0

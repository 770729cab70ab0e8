"""Redis for several machines: the page cache, sign-in limits and the queue shared through it, and nothing broken when it is down.

Run against the real Redis on 127.0.0.1:6379 (database 15, emptied around each test);
skipped, saying why, where it does not answer.
"""

import logging

import pytest
import redis

from instructor_portal import create_app
from instructor_portal.extensions import db, limiter
from tests import factories
from tests.conftest import FreshContextClient, post_form, text
from tests.test_queue import redis_skip_reason

REDIS_URL = "redis://127.0.0.1:6379/15"
NOWHERE = "redis://127.0.0.1:1/0"  # nothing listens there

needs_redis = pytest.mark.skipif(redis_skip_reason() is not None, reason=redis_skip_reason() or "")


@pytest.fixture
def empty_redis():
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def app_with(database_url, tmp_path):
    """Build an app on the test database with the given settings; it shares the test's rows."""
    built = []

    def build(**settings):
        app = create_app(
            {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "UPLOAD_STORAGE_PATH": str(tmp_path), **settings}
        )
        app.test_client_class = FreshContextClient
        built.append(app)
        return app

    yield build
    for app in built:
        with app.app_context():
            db.engine.dispose()


@needs_redis
def test_the_page_cache_in_redis_serves_public_pages(app, app_with, empty_redis):
    factories.make_course(title="Tuesday baby massage")
    cached = app_with(CACHE_TYPE="RedisCache", CACHE_REDIS_URL=REDIS_URL)
    client = cached.test_client()
    assert "Tuesday baby massage" in text(client.get("/classes"))
    assert any(b"catalogue" in key for key in empty_redis.keys("*"))
    assert "Tuesday baby massage" in text(client.get("/classes"))


@needs_redis
def test_sign_in_limits_in_redis_are_shared_by_every_app_process(app, app_with, empty_redis):
    user = factories.make_user()
    first, second = (app_with(RATELIMIT_STORAGE_URI=REDIS_URL, LOGIN_RATE_LIMIT="3 per minute") for _ in range(2))
    wrong = {"email": user.email, "password": "wrong password x"}
    with first.app_context():
        limiter.reset()
    assert [post_form(first.test_client(), "/login", wrong).status_code for _ in range(3)] == [422, 422, 422]
    assert post_form(second.test_client(), "/login", wrong).status_code == 429


def test_with_redis_down_pages_are_served_and_sign_in_still_works(app, app_with, caplog):
    caplog.set_level(logging.WARNING)
    factories.make_course(title="Tuesday baby massage")
    user = factories.make_user()
    broken = app_with(CACHE_TYPE="RedisCache", CACHE_REDIS_URL=NOWHERE, RATELIMIT_STORAGE_URI=NOWHERE)
    client = broken.test_client()
    for _ in range(2):
        response = client.get("/classes")
        assert response.status_code == 200 and "Tuesday baby massage" in text(response)
    assert "The page cache is not answering; serving pages without it" in caplog.text
    signed_in = post_form(client, "/login", {"email": user.email, "password": factories.PASSWORD})
    assert signed_in.status_code == 302


def test_healthz_names_redis_when_it_is_down(app, app_with):
    response = app_with(CACHE_TYPE="RedisCache", CACHE_REDIS_URL=NOWHERE).test_client().get("/healthz")
    assert response.status_code == 503
    assert (response.json["status"], response.json["redis"]) == ("unavailable", "unreachable")


@needs_redis
def test_healthz_says_redis_is_fine_when_it_is(app, app_with, empty_redis):
    response = app_with(RATELIMIT_STORAGE_URI=REDIS_URL).test_client().get("/healthz")
    assert (response.status_code, response.json["redis"]) == (200, "ok")

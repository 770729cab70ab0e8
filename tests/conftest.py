"""Fixtures: the app on SQLite (always) and PostgreSQL (with TEST_DATABASE_URL), clients and helpers."""

from __future__ import annotations

import os
import re
import socket
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from instructor_portal import create_app
from instructor_portal.extensions import db, limiter
from tests import factories

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def _postgres_skip_reason() -> str | None:
    if not POSTGRES_URL:
        return "PostgreSQL tests need TEST_DATABASE_URL"
    parts = urlsplit(POSTGRES_URL)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), timeout=2).close()
    except OSError as error:
        return f"PostgreSQL at {parts.hostname}:{parts.port or 5432} is not reachable ({error})"
    return None


def _build_schema(url: str) -> None:
    """Run every migration against an empty database, once per test session."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path_factory) -> str:
    """Each test that touches the database runs once per backend."""
    if request.param == "postgresql":
        reason = _postgres_skip_reason()
        if reason:
            pytest.skip(reason)
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal.sqlite'}"
    _build_schema(url)
    return url


@pytest.fixture
def app(database_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        limiter.reset()
        yield app
        db.session.remove()
        # Row deletion keeps tests apart and works with services that commit and with
        # tests that use several connections.
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "the page has no csrf_token field"
    return match.group(1) or match.group(2)


def post_form(client, url: str, data: dict | None = None, *, page: str | None = None, **kwargs):
    """POST like a browser: read the real csrf_token from the form's page, then submit."""
    form_page = client.get(page or url)
    payload = {"csrf_token": csrf_token_from(form_page.get_data(as_text=True)), **(data or {})}
    return client.post(url, data=payload, **kwargs)


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, user_or_email, password: str = factories.PASSWORD):
        email = getattr(user_or_email, "email", user_or_email)
        return post_form(self._client, "/login", {"email": email, "password": password})

    def logout(self):
        return post_form(self._client, "/logout", page="/")


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def login_as(client, auth):
    """Create a user with the given role (or use the one given) and sign them in."""

    def _login_as(role_or_user="parent", **user_kwargs):
        user = factories.make_user(role=role_or_user, **user_kwargs) if isinstance(role_or_user, str) else role_or_user
        response = auth.login(user)
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return _login_as

"""Fixtures: the app on SQLite (always) and PostgreSQL (with TEST_DATABASE_URL), clients and helpers."""

from __future__ import annotations

import email
import email.policy
import os
import re
import socket
import threading
import uuid
from collections import Counter
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import has_app_context
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade

import instructor_portal.models  # noqa: F401  (every model mapped before a test module builds one while being collected)
from instructor_portal import create_app
from instructor_portal.accounts.models import User
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
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@contextmanager
def _private_postgres_database(url: str):
    """Create a throw-away database beside TEST_DATABASE_URL so parallel runs never collide."""
    server = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"portal_test_{uuid.uuid4().hex[:10]}"
    with server.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path_factory):
    """Each test that touches the database runs once per backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal.sqlite'}"
        _build_schema(url)
        yield url
        return
    reason = _postgres_skip_reason()
    if reason:
        pytest.skip(reason)
    with _private_postgres_database(POSTGRES_URL) as url:
        _build_schema(url)
        yield url


class FreshContextClient(FlaskClient):
    """Run each request in its own app context, as in production.

    Otherwise a request would reuse the test's app context and so its database
    session and ``g``, hiding bugs that only show when requests are independent.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        if has_app_context():  # a client used from another thread has no test context to refresh
            db.session.expire_all()  # the test's own objects may have changed under it
        return response


class FreshContextRunner(FlaskCliRunner):
    def invoke(self, *args, **kwargs):
        with self.app.app_context():
            result = super().invoke(*args, **kwargs)
        db.session.expire_all()
        return result


#: Tables whose rows the migrations create; they stay between tests.
SEEDED_BY_MIGRATIONS = {"catalogue_versions"}


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(
        # Uploaded files go to this test's own folder, never into the repository's instance folder.
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "UPLOAD_STORAGE_PATH": str(tmp_path / "uploads")}
    )
    app.test_client_class = FreshContextClient
    app.test_cli_runner_class = FreshContextRunner
    with app.app_context():
        limiter.reset()
        yield app
        db.session.remove()
        # Row deletion keeps tests apart and works with services that commit and with
        # tests that use several connections.
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                if table.name not in SEEDED_BY_MIGRATIONS:
                    connection.execute(table.delete())
        db.engine.dispose()


#: The most threads a concurrency test races at once; racing_app's pool has a connection for each.
MAX_RACERS = 50


@pytest.fixture
def racing_app(app, database_url):
    """A second app on the same database whose pool gives every racing thread its own connection."""
    racer = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": MAX_RACERS, "max_overflow": 0, "pool_timeout": 60},
            # Fifty racers queue behind one lock on purpose; none of them should give up waiting.
            "DATABASE_LOCK_TIMEOUT": 60,
        }
    )
    yield racer
    with racer.app_context():
        db.engine.dispose()


def race(app, attempt, arguments: list[tuple]) -> Counter:
    """Call ``attempt(*args)`` for every ``args`` at once, each on its own thread and connection; count the results.

    An unexpected exception is counted by its type and message, so a failed assertion shows it.
    """
    start = threading.Barrier(len(arguments))
    outcomes: list[str] = []

    def run(args: tuple) -> None:
        with app.app_context():
            start.wait()
            try:
                outcomes.append(attempt(*args))
            except Exception as error:
                outcomes.append(f"{type(error).__name__}: {error}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(args,)) for args in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return Counter(outcomes)


@contextmanager
def lock_held_elsewhere(table: str, row_id: int, *, exclusive: bool = False):
    """Hold a row's lock from another connection, as a slow transaction elsewhere would.

    On SQLite that is the database's write lock; ``exclusive`` also keeps readers out, as a
    writer in the middle of committing does (on PostgreSQL, as a migration does, of the table
    and of the catalogue's version counter that every public page and /healthz read).
    """
    db.session.commit()  # the test's own reads would otherwise hold the table open
    connection = db.engine.raw_connection()
    cursor = connection.cursor()
    sqlite = db.engine.dialect.name == "sqlite"
    try:
        if sqlite:
            connection.driver_connection.isolation_level = None
            cursor.execute("BEGIN EXCLUSIVE" if exclusive else "BEGIN IMMEDIATE")
        else:
            cursor.execute(
                f"LOCK TABLE {table}, catalogue_versions IN ACCESS EXCLUSIVE MODE"
                if exclusive
                else f"SELECT id FROM {table} WHERE id = %s FOR UPDATE",
                () if exclusive else (row_id,),
            )
        yield
    finally:
        if sqlite:
            cursor.execute("ROLLBACK")
        else:
            connection.rollback()
        connection.close()


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


def count(model) -> int:
    """How many rows a model's table holds now."""
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def text(response) -> str:
    """A response's body as text."""
    return response.get_data(as_text=True)


def post_form(client, url: str, data: dict | None = None, *, page: str | None = None, **kwargs):
    """POST like a browser: read the real csrf_token from the form's page, then submit."""
    form_page = client.get(page or url)
    payload = {"csrf_token": csrf_token_from(form_page.get_data(as_text=True)), **(data or {})}
    return client.post(url, data=payload, **kwargs)


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, user_or_email, password: str = factories.PASSWORD, *, remember: bool = False):
        """Sign in through the form, answering the second step with the app's code where the person has one."""
        email = getattr(user_or_email, "email", user_or_email)
        response = post_form(
            self._client, "/login", {"email": email, "password": password, **({"remember": "y"} if remember else {})}
        )
        if response.status_code == 302 and response.headers["Location"] == "/login/two-step":
            user = db.session.scalars(db.select(User).where(User.email == email.lower())).one()
            response = post_form(self._client, "/login/two-step", {"code": factories.two_step_code(user)})
        return response

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


class RecordingHandler:
    """An aiosmtpd handler that keeps every message it receives, or refuses them (or some addresses) when told to."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.refuse = False
        self.unknown_addresses: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.unknown_addresses:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 Requested action aborted: try again later"
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def _smtp_controller():
    from aiosmtpd.controller import Controller

    controller = Controller(RecordingHandler(), hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def smtp_server(app, _smtp_controller):
    """A real SMTP server on loopback; the app is pointed at it for this test."""
    handler = _smtp_controller.handler
    handler.messages.clear()
    handler.refuse = False
    handler.unknown_addresses.clear()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_smtp_controller.port, MAIL_USE_TLS=False)
    return handler


@pytest.fixture(scope="session")
def _fake_stripe():
    from tests.stripe_server import FakeStripe

    server = FakeStripe()
    yield server
    server.stop()


@pytest.fixture
def stripe_server(app, _fake_stripe):
    """Our Stripe-compatible server on loopback, emptied and wired into the app for this test."""
    _fake_stripe.reset()
    app.config.update(
        STRIPE_SECRET_KEY=_fake_stripe.api_key,
        STRIPE_API_BASE=_fake_stripe.url,
        STRIPE_WEBHOOK_SECRETS=["whsec_test_current", "whsec_test_previous"],
    )
    return _fake_stripe

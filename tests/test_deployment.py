"""The production set-up, tried for real: two app processes and one worker on one PostgreSQL and one Redis; a backup restored.

Needs PostgreSQL (TEST_DATABASE_URL) and Redis on 127.0.0.1:6379; skipped, saying why, otherwise.
"""

import os
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from tests import factories
from tests.conftest import _free_port, _private_postgres_database
from tests.test_queue import redis_skip_reason

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def postgres_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the production set-up runs on PostgreSQL")
    return database_url


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=5)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered at {url}")


class Browser:
    """Signs in and posts forms with their CSRF token; production's cookies are Secure, and this talks plain HTTP to loopback."""

    def __init__(self):
        self.http = requests.Session()

    def call(self, method: str, url: str, **kwargs) -> requests.Response:
        response = self.http.request(method, url, allow_redirects=False, timeout=30, **kwargs)
        for cookie in self.http.cookies:
            cookie.secure = False
        return response

    def send(self, url: str, data: dict) -> requests.Response:
        token = CSRF.search(self.call("get", url).text).group(1)
        return self.call("post", url, data={"csrf_token": token, **data})


@pytest.mark.skipif(redis_skip_reason() is not None, reason=redis_skip_reason() or "")
def test_a_booking_on_one_app_process_is_emailed_once_by_the_worker_and_seen_on_the_other(
    app, postgres_only, smtp_server, tmp_path
):
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    parent = factories.make_user(email="amira@example.org")
    child = factories.make_child(parent, first_name="Noor")
    course = factories.make_course(
        title="Thursday baby massage", price_pence=0, first_session=datetime.now(UTC) + timedelta(days=9)
    )
    ports = [_free_port(), _free_port()]
    env = {
        **os.environ,
        "PORTAL_ENV": "production",
        "SECRET_KEY": "s" * 48,
        "DATABASE_URL": postgres_only,
        "TASK_QUEUE_URL": REDIS_URL,
        "CACHE_TYPE": "RedisCache",
        "CACHE_REDIS_URL": REDIS_URL,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(app.config["MAIL_PORT"]),
        "BASE_URL": f"http://127.0.0.1:{ports[0]}",
        "UPLOAD_STORAGE_PATH": str(tmp_path),
        "GUNICORN_WORKERS": "1",
    }
    processes = [
        subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-c",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "instructor_portal:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    processes.append(
        subprocess.Popen(
            [str(BIN / "flask"), "--app", "instructor_portal", "worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )
    try:
        first, second = (f"http://127.0.0.1:{port}" for port in ports)
        wait_for(f"{first}/healthz")
        wait_for(f"{second}/healthz")
        browser = Browser()
        assert (
            browser.send(f"{first}/login", {"email": parent.email, "password": factories.PASSWORD}).status_code == 302
        )
        booked = browser.send(f"{first}/classes/{course.id}/book", {"children": child.id, "accept_terms": "y"})
        assert booked.status_code == 302 and "/account/bookings/" in booked.headers["Location"]
        deadline = time.monotonic() + 20
        while not smtp_server.messages and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(2)  # long enough for a second copy, were the worker to send one
        assert [(m["To"], m["Subject"]) for m in smtp_server.messages] == [
            (parent.email, "Your place is confirmed: Thursday baby massage")
        ]
        on_the_other = browser.call("get", f"{second}/account/bookings").text
        assert "Thursday baby massage" in on_the_other and "Confirmed" in on_the_other
        health = requests.get(f"{second}/healthz", timeout=5).json()
        assert (health["database"], health["redis"]) == ("ok", "ok")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


@pytest.mark.skipif(
    shutil.which("pg_dump") is None or shutil.which("pg_restore") is None, reason="pg_dump and pg_restore are needed"
)
def test_a_backup_taken_with_pg_dump_restores_the_schema_and_the_rows(app, postgres_only, tmp_path):
    factories.make_booking(factories.make_course())
    backup = tmp_path / "portal.dump"
    source = sa.make_url(postgres_only)

    def libpq(url) -> list[str]:
        return ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]

    subprocess.run(["pg_dump", *libpq(source), "-Fc", "-f", str(backup), source.database], check=True)
    with _private_postgres_database(postgres_only) as restored_url:
        restored = sa.make_url(restored_url)
        subprocess.run(["pg_restore", *libpq(restored), "--no-owner", "-d", restored.database, str(backup)], check=True)
        engines = [sa.create_engine(restored_url), sa.create_engine(postgres_only)]
        with engines[0].connect() as copy, engines[1].connect() as original:
            tables = ["alembic_version", "bookings", "booking_places", "courses", "users", "children"]
            for table in tables:
                query = sa.text(f"SELECT count(*) FROM {table}")
                assert copy.scalar(query) == original.scalar(query), table
            version = sa.text("SELECT version_num FROM alembic_version")
            assert copy.scalar(version) == original.scalar(version)
        for engine in engines:
            engine.dispose()

"""The task queue: where it lives, what it runs on its own and when, and email leaving within seconds of its commit."""

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

from instructor_portal import create_app
from instructor_portal.booking.services import book_places
from instructor_portal.extensions import db
from instructor_portal.queue import configure_queue, every, heartbeat, huey, last_heartbeat
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
REDIS = ("127.0.0.1", 6379)


def redis_skip_reason() -> str | None:
    try:
        socket.create_connection(REDIS, timeout=1).close()
    except OSError as error:
        return f"Redis is not answering on 127.0.0.1:6379 ({error})"
    return None


@pytest.fixture
def queue_at(app):
    """Point the queue at the given storage for one test, then back at memory."""

    def point(url: str):
        app.config["TASK_QUEUE_URL"] = url
        configure_queue(app)
        return huey.storage

    yield point
    app.config["TASK_QUEUE_URL"] = "memory"
    configure_queue(app)


@pytest.fixture
def running_worker(app):
    """A real consumer of the queue, with its worker threads, started here and stopped at the end."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    consumer = huey.create_consumer(workers=2, worker_type="thread", periodic=False, initial_delay=0.05, max_delay=0.2)
    consumer.start()
    yield consumer
    consumer.stop(graceful=True)
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def test_the_queue_lives_where_the_setting_says(app, queue_at, tmp_path):
    assert isinstance(queue_at(f"sqlite:///{tmp_path / 'tasks.sqlite'}"), SqliteStorage)
    assert isinstance(queue_at("redis://127.0.0.1:6379/15"), RedisStorage)
    assert isinstance(queue_at("memory"), MemoryStorage)
    with pytest.raises(RuntimeError, match="TASK_QUEUE_URL must be"):
        queue_at("amqp://somewhere")


def test_every_job_the_product_runs_by_itself_is_on_the_schedule():
    scheduled = {huey._registry.task_to_string(task).rsplit(".", 1)[-1] for task in huey._registry._periodic_tasks}
    assert scheduled == {
        "sweep_outbox",
        "release_expired_holds",
        "reconcile",
        "make_owed_refunds",
        "purge_old_data",
        "heartbeat",
        "sweep_waiting_lists",
        "check_minimum_numbers_to_run",
        "send_reminders",
        "alert_expiring_credentials",
        "send_course_evaluations",
    }


def test_a_schedule_fires_every_so_many_minutes_as_its_setting_says(app):
    app.config["RECONCILE_MINUTES"] = 10
    due = every("RECONCILE_MINUTES")
    minutes = [minute for minute in range(60) if due(datetime(2026, 12, 1, 9, minute))]
    assert minutes == [0, 10, 20, 30, 40, 50]
    app.config["RECONCILE_MINUTES"] = 1
    assert all(due(datetime(2026, 12, 1, 9, minute)) for minute in range(60))


def test_the_heartbeat_is_one_row_kept_fresh(app):
    assert last_heartbeat() is None
    heartbeat.call_local()
    first = last_heartbeat()
    heartbeat.call_local()
    assert last_heartbeat() >= first
    assert db.session.scalar(db.select(db.func.count()).select_from(db.metadata.tables["queue_heartbeats"])) == 1
    assert app.test_client().get("/healthz").json["queue"] == "ok"


def book_a_free_place():
    course = factories.make_course(price_pence=0, first_session=datetime.now(UTC) + timedelta(days=9))
    child = factories.make_child()
    return book_places(child.parent, course, [child], accept_terms=True)


def wait_for_messages(smtp_server, count: int, seconds: float = 10) -> float:
    started = time.monotonic()
    while len(smtp_server.messages) < count and time.monotonic() - started < seconds:
        time.sleep(0.05)
    return time.monotonic() - started


def test_a_booking_confirmation_leaves_within_seconds_of_its_commit(
    app, smtp_server, queue_at, tmp_path, running_worker
):
    queue_at(f"sqlite:///{tmp_path / 'tasks.sqlite'}")
    booking = book_a_free_place()
    waited = wait_for_messages(smtp_server, 1)
    assert [m["To"] for m in smtp_server.messages] == [booking.parent.email]
    assert waited < 5


@pytest.mark.skipif(redis_skip_reason() is not None, reason=redis_skip_reason() or "")
def test_the_queue_in_redis_delivers_too(app, smtp_server, queue_at, running_worker):
    storage = queue_at("redis://127.0.0.1:6379/15")
    storage.flush_all()
    booking = book_a_free_place()
    wait_for_messages(smtp_server, 1)
    assert [m["To"] for m in smtp_server.messages] == [booking.parent.email]


def test_the_worker_command_says_where_its_queue_is_and_stops_on_ctrl_c(tmp_path):
    env = {
        **os.environ,
        "PORTAL_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite'}",
        "TASK_QUEUE_URL": f"sqlite:///{tmp_path / 'tasks.sqlite'}",
        "UPLOAD_STORAGE_PATH": str(tmp_path / "uploads"),
    }
    flask = str(Path(sys.executable).with_name("flask"))
    subprocess.run(
        [flask, "--app", "instructor_portal", "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    worker = subprocess.Popen(
        [flask, "--app", "instructor_portal", "worker", "--threads", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
        "deliver_outbox" in line for line in lines
    ):  # the jobs it knows, listed
        lines.append(worker.stdout.readline())
    time.sleep(0.5)
    worker.send_signal(signal.SIGINT)
    output = "".join(lines) + worker.communicate(timeout=30)[0]
    assert worker.returncode == 0, output
    assert f"Worker: queue at sqlite:///{tmp_path / 'tasks.sqlite'}; 1 thread; schedule on." in output
    assert output.rstrip().endswith("Worker stopped.")


def test_a_queue_that_cannot_be_reached_does_not_fail_the_booking(app, queue_at, caplog):
    queue_at("redis://127.0.0.1:1/0")  # nothing listens there
    booking = book_a_free_place()
    assert booking.status.value == "confirmed"
    assert "Could not queue deliver_outbox; the next scheduled run will do it" in caplog.text


def test_the_app_refuses_to_start_with_a_queue_it_does_not_know(tmp_path):
    with pytest.raises(RuntimeError, match="TASK_QUEUE_URL"):
        create_app({"TESTING": True, "TASK_QUEUE_URL": "rabbit://x"})
    configure_queue(create_app({"TESTING": True}))  # back to memory for the rest of the run

"""The task queue: background jobs and schedules, on Huey.

Huey keeps its queue in a SQLite file by default (one machine, nothing else to run) and in
Redis when TASK_QUEUE_URL says so (several machines share one queue). Jobs are thin: each
calls a feature's service, which is already idempotent and safe beside a second worker,
so a job that runs twice, or again after a worker was killed, changes nothing twice.
Features declare their jobs in their own ``tasks.py`` with ``job`` and ``every``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from pathlib import Path

from flask import Flask, has_app_context
from huey import Huey
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from instructor_portal.clock import utcnow
from instructor_portal.extensions import db

log = logging.getLogger(__name__)

#: The one queue. Its storage is chosen by configure_queue from the app's settings.
huey = Huey("instructor-portal", results=False, storage_class=MemoryStorage)
_app: Flask | None = None

#: The feature modules that declare jobs; importing them registers the jobs with the queue.
TASK_MODULES = (
    "instructor_portal.notifications.tasks",
    "instructor_portal.booking.tasks",
    "instructor_portal.waitlist.tasks",
    "instructor_portal.teaching.tasks",
    "instructor_portal.payments.tasks",
    "instructor_portal.organiser.tasks",
    "instructor_portal.reminders.tasks",
)


class QueueHeartbeat(db.Model):
    """When a worker last ran its scheduler; /healthz reports it."""

    __tablename__ = "queue_heartbeats"

    id: Mapped[int] = mapped_column(primary_key=True)
    beat_at: Mapped[datetime]


def configure_queue(app: Flask) -> None:
    """Point the queue at the storage TASK_QUEUE_URL names and register every feature's jobs."""
    global _app
    url = app.config["TASK_QUEUE_URL"]
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        huey.storage = SqliteStorage(huey.name, filename=str(path))
    elif url.startswith(("redis://", "rediss://", "unix://")):
        huey.storage = RedisStorage(huey.name, url=url)
    elif url == "memory":  # tests: jobs wait in memory until a test runs them
        huey.storage = MemoryStorage(huey.name)
    else:
        raise RuntimeError(f"TASK_QUEUE_URL must be sqlite:///<file>, redis://<host> or memory, not {url!r}")
    _app = app
    for module in TASK_MODULES:
        importlib.import_module(module)


def _in_app(func: Callable) -> Callable:
    @wraps(func)
    def run(*args, **kwargs):
        if has_app_context():
            return func(*args, **kwargs)
        with _app.app_context():
            return func(*args, **kwargs)

    return run


def job(**options) -> Callable:
    """Declare a background job: calling it puts it on the queue (``.call_local`` runs it here); it runs in an app context."""

    def declare(func: Callable):
        return huey.task(name=func.__name__, **options)(_in_app(func))

    return declare


def every(setting: str) -> Callable[[datetime], bool]:
    """A schedule that fires every N minutes, N being the app setting ``setting`` (read at each tick, so it can change)."""

    def due(moment: datetime) -> bool:
        minutes = max(int(_app.config[setting]), 1)
        return (moment.hour * 60 + moment.minute) % minutes == 0

    return due


def periodic(setting: str, **options) -> Callable:
    """Declare a job the worker's scheduler runs every ``setting`` minutes."""

    def declare(func: Callable):
        return huey.periodic_task(every(setting), name=func.__name__, **options)(_in_app(func))

    return declare


@periodic("QUEUE_HEARTBEAT_MINUTES")
def heartbeat() -> None:
    """Note that a worker's scheduler is alive; /healthz reports how long ago it last did."""
    now = utcnow()
    if not db.session.execute(update(QueueHeartbeat).where(QueueHeartbeat.id == 1).values(beat_at=now)).rowcount:
        db.session.add(QueueHeartbeat(id=1, beat_at=now))
    try:
        db.session.commit()
    except IntegrityError:  # another worker's very first beat, at the same moment
        db.session.rollback()


def last_heartbeat() -> datetime | None:
    """When a worker's scheduler last ran, or None if none ever has."""
    beat = db.session.get(QueueHeartbeat, 1)
    return beat.beat_at if beat else None


def run_worker(*, threads: int, schedule: bool) -> None:
    """Run the queue's own consumer here until Ctrl-C or SIGTERM: queued jobs, and the schedule unless told not to."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    # Start and stop, email shown in development and every problem, but not a line for each job run every minute.
    logging.getLogger("huey").setLevel(logging.WARNING)
    logging.getLogger("huey.consumer").setLevel(logging.INFO)
    logging.getLogger("huey.consumer.Scheduler").setLevel(logging.WARNING)
    where = _app.config["TASK_QUEUE_URL"]
    print(
        f"Worker: queue at {where}; {threads} {'thread' if threads == 1 else 'threads'}; schedule {'on' if schedule else 'off (another worker runs it)'}.",
        flush=True,
    )
    consumer = huey.create_consumer(
        workers=threads, worker_type="thread", periodic=schedule, initial_delay=0.1, max_delay=1.0
    )
    try:
        consumer.run()
    except KeyboardInterrupt:
        pass  # Ctrl-C while it was still starting, before its own handler was up: its threads are daemons, and stop with us
    print("Worker stopped.", flush=True)


def enqueue_quietly(task, *args) -> bool:
    """Put a job on the queue; if the queue cannot be reached, log it and go on, since the schedule catches up."""
    try:
        task(*args)
    except Exception:  # a queue down must never fail the request that already committed its work
        log.warning("Could not queue %s; the next scheduled run will do it", task.name, exc_info=True)
        return False
    return True

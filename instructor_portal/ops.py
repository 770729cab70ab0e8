"""Operational endpoints for load balancers and monitoring."""

import logging
from datetime import timedelta

import redis
from flask import Blueprint, current_app, jsonify
from sqlalchemy import select

from instructor_portal.catalogue.models import CatalogueVersion
from instructor_portal.clock import utcnow
from instructor_portal.errors import DATABASE_UNAVAILABLE, forget_failed_transaction, is_busy
from instructor_portal.extensions import db
from instructor_portal.queue import last_heartbeat
from instructor_portal.uploads import get_storage

bp = Blueprint("ops", __name__)
log = logging.getLogger(__name__)


def _database() -> str:
    try:
        # A real table, not SELECT 1: on SQLite only reading the file shows whether another process has it locked.
        db.session.scalar(select(CatalogueVersion.version).limit(1))
    except DATABASE_UNAVAILABLE as error:
        forget_failed_transaction()
        return "busy" if is_busy(error) else "unreachable"
    return "ok"


def redis_urls(config) -> set[str]:
    """The Redis servers the app is configured to use: for the page cache, the rate limits and the task queue."""
    urls = {config["CACHE_REDIS_URL"]} if config["CACHE_TYPE"] == "RedisCache" else set()
    urls |= {
        url
        for url in (config["RATELIMIT_STORAGE_URI"], config["TASK_QUEUE_URL"])
        if url.startswith(("redis://", "rediss://"))
    }
    return urls


def _redis() -> str | None:
    urls = redis_urls(current_app.config)
    if not urls:
        return None
    try:
        for url in urls:
            with redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2) as client:
                client.ping()
    except redis.RedisError as error:
        log.warning("Redis is not answering: %s", error)
        return "unreachable"
    return "ok"


def _queue() -> str:
    beat = last_heartbeat()
    if beat is None:
        return "no worker has run yet"
    late = utcnow() - beat > timedelta(minutes=3 * current_app.config["QUEUE_HEARTBEAT_MINUTES"])
    return f"late: last heartbeat {beat:%Y-%m-%d %H:%M} UTC" if late else "ok"


def _storage() -> str:
    try:
        get_storage().check()
    except OSError as error:
        log.warning("Upload storage is not writable: %s", error)
        return "not writable"
    return "ok"


@bp.get("/healthz")
def healthz():
    """Report whether each part the app needs works, naming any that does not: database, file storage, Redis, the worker.

    The answer is 503 when the web app cannot serve (database, storage or Redis down); a
    worker that is late is reported, for monitoring, without taking the web app out of service.
    """
    parts = {"database": _database(), "storage": _storage()}
    redis_state = _redis()
    if redis_state is not None:
        parts["redis"] = redis_state
    healthy = all(state == "ok" for state in parts.values())
    queue = _queue() if parts["database"] == "ok" else "unknown (no database)"
    return jsonify(status="ok" if healthy else "unavailable", **parts, queue=queue), 200 if healthy else 503

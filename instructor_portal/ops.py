"""Operational endpoints for load balancers and monitoring."""

import logging

from flask import Blueprint, jsonify
from sqlalchemy import select

from instructor_portal.catalogue.models import CatalogueVersion
from instructor_portal.errors import DATABASE_UNAVAILABLE, forget_failed_transaction, is_busy
from instructor_portal.extensions import db
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


def _storage() -> str:
    try:
        get_storage().check()
    except OSError as error:
        log.warning("Upload storage is not writable: %s", error)
        return "not writable"
    return "ok"


@bp.get("/healthz")
def healthz():
    """Report whether each part the app needs works, naming any that does not: the database and the file storage."""
    parts = {"database": _database(), "storage": _storage()}
    healthy = all(state == "ok" for state in parts.values())
    return jsonify(status="ok" if healthy else "unavailable", **parts), 200 if healthy else 503

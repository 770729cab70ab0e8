"""Domain errors and the friendly pages shown for HTTP errors."""

import logging

from flask import current_app, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule of the domain was broken; the message is a sentence fit to show the user.

    ``field`` names the form field the message belongs to, when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


TITLES = {
    400: "Something was wrong with that request",
    403: "You do not have access to this page",
    404: "Page not found",
    405: "That action is not allowed here",
    413: "That file is too large",
    429: "Too many attempts",
    500: "Something went wrong on our side",
}


#: Seconds a visitor (or Stripe) is asked to wait before trying again when the database is busy or away.
RETRY_AFTER_SECONDS = 30
#: Failures of the database itself: a lock that waited too long, a connection refused or lost.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)


def is_busy(error: Exception) -> bool:
    """Say whether a database error is a lock that waited too long (the database is up, but busy)."""
    code = getattr(getattr(error, "orig", None), "sqlstate", None)
    return code in ("55P03", "40P01", "40001") or "database is locked" in str(error)


def forget_failed_transaction() -> None:
    """Roll back after a database failure; when the connection itself is gone, the pool replaces it."""
    from instructor_portal.extensions import db

    try:
        db.session.rollback()
    except Exception:
        log.debug("Rollback after a database failure failed", exc_info=True)


def render_error(code: int, message: str | None = None):
    try:
        return render_template("errors/error.html", code=code, title=TITLES.get(code, "Error"), message=message), code
    except DATABASE_UNAVAILABLE as error:  # the layout reads the organisation, and the database is not answering
        return render_unavailable(error)


def render_unavailable(error: Exception):
    """The page for a database that is busy or away: a layout of its own, since the usual one reads from the database."""
    busy = is_busy(error)
    log.warning(
        "Database %s on %s %s: %s",
        "busy" if busy else "unavailable",
        request.method,
        request.path,
        getattr(error, "orig", error),
    )
    forget_failed_transaction()
    page = render_template("errors/unavailable.html", busy=busy)
    return page, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def register_error_handlers(app) -> None:
    """Render every HTTP error as a page in the site's layout, never a stack trace."""

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            400, "The form had expired or was sent from somewhere else. Please go back, reload the page and try again."
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        message = None
        if error.code == 429:
            limit = getattr(error, "limit", None)
            message = (
                error.description
                if limit is not None and limit.error_message
                else "Please wait a minute before trying again."
            )
        if error.code == 413:
            from instructor_portal.uploads import format_size

            largest = format_size(current_app.config["HANDOUT_MAX_BYTES"])
            message = f"Files can be at most {largest}. Please go back and choose a smaller file."
        return render_error(error.code, message)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def database_unavailable(error: Exception):
        return render_unavailable(error)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        log.exception("Unhandled error on %s %s", request.method, request.path)
        from instructor_portal.extensions import db

        db.session.rollback()
        return render_error(InternalServerError.code)

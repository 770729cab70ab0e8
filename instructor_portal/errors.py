"""Domain errors and the friendly pages shown for HTTP errors."""

import logging

from flask import current_app, render_template, request
from flask_wtf.csrf import CSRFError
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


def render_error(code: int, message: str | None = None):
    return render_template("errors/error.html", code=code, title=TITLES.get(code, "Error"), message=message), code


def register_error_handlers(app) -> None:
    """Render every HTTP error as a page in the site's layout, never a stack trace."""

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, "The form had expired or was sent from somewhere else. Please go back, reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        message = None
        if error.code == 429:
            message = "Please wait a minute before trying again."
        if error.code == 413:
            from instructor_portal.uploads import format_size

            largest = format_size(current_app.config["HANDOUT_MAX_BYTES"])
            message = f"Files can be at most {largest}. Please go back and choose a smaller file."
        return render_error(error.code, message)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        log.exception("Unhandled error on %s %s", request.method, request.path)
        from instructor_portal.extensions import db

        db.session.rollback()
        return render_error(InternalServerError.code)

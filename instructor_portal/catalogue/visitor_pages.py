"""Serve cached public pages to visitors in front of Flask, with validators a browser or proxy can revalidate.

A request with none of our cookies cannot be signed in, carry a flashed message or a baby's
dates, so the page it gets is every visitor's page. For those, this WSGI layer reads the
catalogue version (one round trip) and answers from the cache before Flask builds a request
context, runs the sign-in loader or renders anything. Only pages ``cached_for_visitors``
stored are ever found, so everything else, and every miss, goes on to Flask, which builds
and stores the page.
"""

from __future__ import annotations

from flask import Flask
from flask_login.config import COOKIE_NAME
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.http import is_resource_modified, parse_cookie

from instructor_portal.catalogue.cache import VERSION_IN_ENVIRON, page_key, stored_page, version_reader
from instructor_portal.clock import utcnow
from instructor_portal.extensions import cache
from instructor_portal.security import fixed_headers

HTML = ("Content-Type", "text/html; charset=utf-8")


class VisitorPages:
    """The WSGI layer: visitors' cached pages, answered without Flask."""

    def __init__(self, app: Flask, wsgi_app):
        self.wsgi_app = wsgi_app
        self.static = (app.static_url_path or "/static").rstrip("/") + "/"
        self.cookies = {app.config["SESSION_COOKIE_NAME"], app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)}
        self.store = app.extensions["cache"][cache]
        self.versions = version_reader(app)
        self.security = fixed_headers(app)

    def __call__(self, environ, start_response):
        if not self._for_every_visitor(environ):
            return self.wsgi_app(environ, start_response)
        try:
            version = self.versions.read()
        except SQLAlchemyError:  # Flask answers with the "try again shortly" page
            return self.wsgi_app(environ, start_response)
        if version is None:
            return self.wsgi_app(environ, start_response)
        entry = stored_page(self.store, page_key(version, environ))
        if entry is None or entry.until <= utcnow():
            environ[VERSION_IN_ENVIRON] = version  # Flask builds the page without reading it again
            return self.wsgi_app(environ, start_response)
        headers = [*entry.validators, *self.security(environ.get("wsgi.url_scheme") == "https")]
        if _unchanged_for(environ, entry.validators):
            start_response("304 Not Modified", headers)
            return []
        start_response("200 OK", [HTML, ("Content-Length", str(len(entry.body))), *headers])
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [entry.body]

    def _for_every_visitor(self, environ) -> bool:
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD") or environ.get("PATH_INFO", "").startswith(self.static):
            return False
        return "HTTP_COOKIE" not in environ or not self.cookies & parse_cookie(environ).keys()


def _unchanged_for(environ, validators: tuple[tuple[str, str], ...]) -> bool:
    """Whether the browser's copy (If-None-Match, or If-Modified-Since) is this page."""
    if "HTTP_IF_NONE_MATCH" not in environ and "HTTP_IF_MODIFIED_SINCE" not in environ:
        return False
    values = dict(validators)
    return not is_resource_modified(environ, etag=values["ETag"].strip('"'), last_modified=values["Last-Modified"])


def serve_visitor_pages(app: Flask) -> None:
    """Put the layer in front of the app's own WSGI callable."""
    app.wsgi_app = VisitorPages(app, app.wsgi_app)

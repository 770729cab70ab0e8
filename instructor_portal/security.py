"""Security headers on every response, and no copies of personal pages kept by browsers or proxies.

One after-request hook rather than a library, because a few responses carry stricter headers
of their own (a handout is sandboxed) and those must win.
"""

from flask import Flask, g, request
from flask.wrappers import Response

#: Nothing runs but our own files (there is no inline script or style), nothing frames us, forms go only to us and to Stripe.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'; form-action 'self' {checkout}"
)
HSTS = "max-age=31536000; includeSubDomains"


def fixed_headers(app: Flask):
    """A function of whether the request came over HTTPS, giving the headers every response carries."""
    # The pay button's form is answered with a redirect to Stripe's page, and form-action covers that redirect.
    production = app.config["ENV_NAME"] == "production"
    checkout = "https://checkout.stripe.com" if production else "https://checkout.stripe.com http://127.0.0.1:*"
    always = [
        ("Content-Security-Policy", CSP.format(checkout=checkout)),
        ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
    ]
    with_hsts = [*always, ("Strict-Transport-Security", HSTS)]

    def headers(secure: bool) -> list[tuple[str, str]]:
        return with_hsts if production and secure else always

    return headers


def register(app: Flask) -> None:
    """Add the headers to every response the app sends."""
    headers_for = fixed_headers(app)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        headers = response.headers
        for name, value in headers_for(request.is_secure):
            headers.setdefault(name, value)
        # Whatever a signed-in person is shown (bookings, children, registers, money, files) is
        # theirs alone: no shared cache keeps it, and the browser does not keep it on disk.
        user = g.get("_login_user")
        if user is not None and user.is_authenticated:
            headers["Cache-Control"] = "private, no-store"
        return response

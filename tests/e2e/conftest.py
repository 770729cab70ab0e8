"""A live server on loopback, Debian's Chromium driven by Playwright, and helpers shared by the browser tests."""

import shutil
import threading

import pytest
from werkzeug.serving import make_server

from tests import factories

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def live_server(app):
    """Serve the test app on a free loopback port for the length of one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    address = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = address  # links in emails and Stripe's return addresses come back here
    yield address
    server.shutdown()
    thread.join()


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip("end-to-end tests need Debian's chromium package (/usr/bin/chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    """A fresh phone-sized browser page with no cookies."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def sign_in(live_server):
    """Sign a user in through the real sign-in form, then land on ``next_path``."""

    def _sign_in(page, user_or_email, next_path: str = "/") -> None:
        page.goto(f"{live_server}/login?next={next_path}")
        page.get_by_label("Email address").fill(getattr(user_or_email, "email", user_or_email))
        page.get_by_label("Password").fill(factories.PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        if getattr(user_or_email, "has_two_step", False):
            page.get_by_label("Code").fill(factories.two_step_code(user_or_email))
            page.get_by_role("button", name="Sign in").click()

    return _sign_in


@pytest.fixture
def assert_fits_phone():
    """Check that a page never scrolls sideways on the phone's screen, once it has its stylesheet."""

    def _assert_fits_phone(page) -> None:
        # A click waits only until the next page starts loading; measured before the stylesheet, it would be unstyled.
        page.wait_for_load_state()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (
            f"{page.url} is {width} px wide, so it scrolls sideways on a {PHONE['width']} px phone"
        )

    return _assert_fits_phone

"""Signing out, a new password or being switched off ends every copy of the session: copied cookies replayed get nothing."""

import pytest

from instructor_portal import create_app
from instructor_portal.accounts.models import Role
from instructor_portal.extensions import db
from tests import factories
from tests.conftest import AuthActions, FreshContextClient, csrf_token_from, post_form

COOKIES = ("session", "remember_token")


def signed_in(app, user, *, remember: bool = False):
    """A browser signed in as ``user``, and a copy of its cookies as an attacker might take them."""
    browser = app.test_client()
    response = AuthActions(browser).login(user, remember=remember)
    assert response.status_code == 302
    return browser, {name: browser.get_cookie(name).value for name in COOKIES if browser.get_cookie(name)}


def replay(app, cookies: dict[str, str], *only: str):
    """A different browser, holding only the copied cookies named (all of them by default)."""
    thief = app.test_client()
    for name, value in cookies.items():
        if not only or name in only:
            thief.set_cookie(name, value)
    return thief


@pytest.mark.parametrize("cookie", ["session", "remember_token"])
def test_a_copied_cookie_works_until_sign_out_and_never_after(app, cookie):
    user = factories.make_user()
    browser, cookies = signed_in(app, user, remember=True)
    assert replay(app, cookies, cookie).get("/account").status_code == 200
    post_form(browser, "/logout", page="/")
    assert browser.get("/account").status_code == 302
    assert replay(app, cookies, cookie).get("/account").status_code == 302


def test_a_new_password_ends_every_sign_in_on_every_browser(app):
    user = factories.make_user()
    _, phone = signed_in(app, user, remember=True)
    _, laptop = signed_in(app, user)
    from instructor_portal.accounts import services

    token = services.make_token(user, services.PASSWORD_RESET)
    post_form(
        app.test_client(),
        f"/password/reset/{token}",
        {"password": "a fresh new passphrase", "confirm": "a fresh new passphrase"},
    )
    for cookies in (phone, laptop):
        assert replay(app, cookies).get("/account").status_code == 302


def test_switching_someone_off_ends_their_sign_ins_at_once(app, login_as, client):
    instructor = factories.make_user(role=Role.INSTRUCTOR)
    _, cookies = signed_in(app, instructor, remember=True)
    assert replay(app, cookies).get("/teach").status_code == 200
    login_as("organiser")
    assert (
        post_form(
            client, f"/organiser/instructors/{instructor.id}/deactivate", page="/organiser/instructors"
        ).status_code
        == 302
    )
    assert replay(app, cookies).get("/teach").status_code == 302


def test_signing_out_on_one_browser_leaves_the_others_signed_in(app):
    user = factories.make_user()
    phone, _ = signed_in(app, user)
    laptop, _ = signed_in(app, user)
    post_form(phone, "/logout", page="/")
    assert laptop.get("/account").status_code == 200


def test_production_cookies_carry_the_host_prefix(app, database_url, tmp_path):
    from config import ProductionConfig

    settings = {
        name: getattr(ProductionConfig, name)
        for name in ("SESSION_COOKIE_NAME", "REMEMBER_COOKIE_NAME", "SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE")
    }
    assert (
        settings["SESSION_COOKIE_NAME"] == "__Host-session"
        and settings["REMEMBER_COOKIE_NAME"] == "__Host-remember_token"
    )
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "UPLOAD_STORAGE_PATH": str(tmp_path), **settings}
    )
    app.test_client_class = FreshContextClient
    with app.app_context():
        user = factories.make_user()
        client = app.test_client()
        page = client.get("/login", base_url="https://portal.test").get_data(as_text=True)
        response = client.post(
            "/login",
            base_url="https://portal.test",
            headers={"Referer": "https://portal.test/login"},
            data={
                "csrf_token": csrf_token_from(page),
                "email": user.email,
                "password": factories.PASSWORD,
                "remember": "y",
            },
        )
        assert response.status_code == 302
        cookies = response.headers.getlist("Set-Cookie")
        for name in ("__Host-session", "__Host-remember_token"):
            [cookie] = [c for c in cookies if c.startswith(f"{name}=")]
            assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie
        db.session.remove()
        db.engine.dispose()

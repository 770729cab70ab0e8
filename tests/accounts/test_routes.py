import re
from datetime import date, timedelta

import pyotp
import pytest

from instructor_portal.accounts import services
from instructor_portal.accounts.models import Role, User
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from tests import factories
from tests.conftest import post_form

GOOD = {
    "full_name": "Amara Okafor",
    "email": "amara@example.org",
    "phone": "",
    "password": "gentle strokes daily",
    "confirm": "gentle strokes daily",
}


def user_count() -> int:
    return db.session.scalar(db.select(db.func.count(User.id)))


def confirmation_link() -> str:
    return latest_link("/confirm/")


def test_parent_signs_up_confirms_the_address_and_is_signed_in(client):
    response = post_form(client, "/register", GOOD)
    assert response.status_code == 200
    assert "We have sent a message to <strong>amara@example.org</strong>" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302  # not until the address is confirmed
    assert db.session.scalars(db.select(User)).one().role == Role.PARENT
    assert client.get(confirmation_link()).headers["Location"] == "/account/children/new"
    assert "Amara Okafor" in client.get("/account").get_data(as_text=True)
    assert client.get(confirmation_link()).status_code == 400  # once is enough


def test_signing_in_before_confirming_sends_the_link_again(client, auth):
    post_form(client, "/register", GOOD)
    response = auth.login("amara@example.org", GOOD["password"])
    assert response.status_code == 422
    assert "Please confirm your email address first" in response.get_data(as_text=True)
    assert (
        db.session.scalar(
            db.select(db.func.count(OutboxEmail.id)).where(OutboxEmail.subject.startswith("Confirm your email"))
        )
        == 2
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"full_name": ""}, "Enter your name."),
        ({"email": "not-an-email"}, "Enter an email address like name@example.org."),
        ({"password": "short", "confirm": "short"}, "Use at least 10 characters."),
        ({"confirm": "something different"}, "The two passwords do not match."),
        ({"password": "password123", "confirm": "password123"}, "too easy to guess"),
    ],
)
def test_sign_up_shows_field_errors_and_creates_nothing(client, changes, message):
    response = post_form(client, "/register", {**GOOD, **changes})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert user_count() == 0


def test_sign_up_with_a_taken_email_looks_the_same_and_tells_the_owner_instead(app, client):
    fresh = post_form(client, "/register", {**GOOD, "email": "new.parent@example.org"})
    factories.make_user(email="amara@example.org")
    taken = post_form(app.test_client(), "/register", {**GOOD, "email": "AMARA@example.org"})

    def page(response):
        return response.get_data(as_text=True).replace("new.parent@example.org", "amara@example.org")

    assert (taken.status_code, page(taken)) == (fresh.status_code, page(fresh))
    assert user_count() == 2
    owner = db.session.scalars(db.select(OutboxEmail).where(OutboxEmail.to_address == "amara@example.org")).one()
    assert owner.subject.endswith("account") and "you already have one" in owner.body_text


def test_form_without_csrf_token_is_refused_with_a_friendly_page(client):
    response = client.post("/register", data=GOOD)
    assert response.status_code == 400
    assert "The form had expired" in response.get_data(as_text=True)
    assert user_count() == 0


@pytest.mark.parametrize(
    ("role", "home"), [("parent", "/account"), ("instructor", "/teach"), ("organiser", "/organiser")]
)
def test_login_sends_each_role_to_its_home(client, auth, role, home):
    user = factories.make_user(role=role)
    response = auth.login(user)
    assert response.status_code == 302
    assert response.headers["Location"] == home


def test_wrong_password_re_renders_with_one_message(client, auth):
    user = factories.make_user()
    response = auth.login(user, "wrong password here")
    assert response.status_code == 422
    assert "That email and password do not match an account." in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_login_follows_a_safe_next_but_not_an_external_one(client):
    user = factories.make_user()
    ok = post_form(client, "/login?next=/classes", {"email": user.email, "password": factories.PASSWORD})
    assert ok.headers["Location"] == "/classes"
    post_form(client, "/logout", page="/")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = post_form(client, f"/login?next={target}", {"email": user.email, "password": factories.PASSWORD})
        assert response.headers["Location"] == "/account", target
        post_form(client, "/logout", page="/")


def test_logout_needs_a_post_with_csrf(client, login_as):
    login_as("parent")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/account").status_code == 200
    response = post_form(client, "/logout", page="/")
    assert response.status_code == 302
    assert client.get("/account").status_code == 302


def test_session_cookie_is_httponly_and_samesite(client):
    user = factories.make_user()
    response = post_form(client, "/login", {"email": user.email, "password": factories.PASSWORD})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_login_attempts_are_rate_limited(app, client):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    user = factories.make_user()
    responses = [post_form(client, "/login", {"email": user.email, "password": "wrong password x"}) for _ in range(4)]
    assert [r.status_code for r in responses[:3]] == [422, 422, 422]
    assert responses[3].status_code == 429
    page = responses[3].get_data(as_text=True)
    assert "Too many attempts" in page
    assert "Traceback" not in page


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/account", {"parent", "instructor", "organiser"}),
        ("/teach", {"instructor", "organiser"}),
        ("/organiser", {"organiser"}),
    ],
)
@pytest.mark.parametrize("role", [None, "parent", "instructor", "organiser"])
def test_each_page_checks_the_role(client, login_as, path, allowed, role):
    if role is None:
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
        return
    login_as(role)
    assert client.get(path).status_code == (200 if role in allowed else 403)


def latest_link(path_prefix: str) -> str:
    email = db.session.scalars(db.select(OutboxEmail).order_by(OutboxEmail.id.desc())).first()
    match = re.search(rf"http://portal\.test({path_prefix}[^\s\"<]+)", email.body_text)
    assert match, email.body_text
    return match.group(1)


def test_password_reset_by_email_link_works_once(client):
    user = factories.make_user()
    response = post_form(client, "/password/forgot", {"email": user.email})
    assert response.status_code == 302
    link = latest_link("/password/reset/")
    assert client.get(link).status_code == 200
    response = post_form(client, link, {"password": "a fresh new passphrase", "confirm": "a fresh new passphrase"})
    assert response.headers["Location"] == "/login"  # the link does not sign anyone in: the new password does
    assert client.get("/account").status_code == 302
    assert services.authenticate(user.email, "a fresh new passphrase") == user
    used = client.get(link)
    assert used.status_code == 400
    assert "already been used" in used.get_data(as_text=True)


def test_forgot_password_says_the_same_for_unknown_addresses(client):
    known = factories.make_user()
    pages = []
    for email in (known.email, "nobody@example.org"):
        response = post_form(client, "/password/forgot", {"email": email}, follow_redirects=True)
        pages.append(re.sub(r'value="[^"]*"', "", response.get_data(as_text=True)))
    assert pages[0] == pages[1]
    assert db.session.scalar(db.select(db.func.count(OutboxEmail.id))) == 1


def test_reset_form_refuses_a_weak_password_and_keeps_the_old_one(client):
    user = factories.make_user()
    link = f"/password/reset/{services.make_token(user, services.PASSWORD_RESET)}"
    response = post_form(client, link, {"password": "short", "confirm": "short"})
    assert response.status_code == 422
    assert "Use at least 10 characters." in response.get_data(as_text=True)
    assert services.authenticate(user.email, factories.PASSWORD) == user


def test_garbage_token_gives_a_friendly_page(client):
    response = client.get("/password/reset/not-a-real-token")
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


def test_invited_instructor_sets_a_password_then_signs_in_with_it_and_lands_on_teaching(client, auth):
    services.invite_user(full_name="Priya Shah", email="priya@example.org", role=Role.INSTRUCTOR, invited_by=None)
    link = latest_link("/welcome/")
    page = client.get(link).get_data(as_text=True)
    assert "Welcome, Priya" in page
    response = post_form(client, link, {"password": "soothing circles always", "confirm": "soothing circles always"})
    assert response.headers["Location"] == "/login"
    assert client.get("/teach").status_code == 302
    assert auth.login("priya@example.org", "soothing circles always").headers["Location"] == "/teach"
    assert (
        client.get("/teach").headers["Location"] == "/account/two-step"
    )  # families' details wait for two-step sign-in
    client.get("/account/two-step")
    secret = db.session.scalars(db.select(User.totp_secret).where(User.email == "priya@example.org")).one()
    post_form(client, "/account/two-step", {"code": pyotp.TOTP(secret).now()})
    assert client.get("/teach").status_code == 200


def test_changing_the_password_signs_out_other_sessions(app, client):
    user = factories.make_user()
    other_device = app.test_client()
    post_form(other_device, "/login", {"email": user.email, "password": factories.PASSWORD})
    assert other_device.get("/account").status_code == 200
    link = f"/password/reset/{services.make_token(user, services.PASSWORD_RESET)}"
    post_form(client, link, {"password": "a fresh new passphrase", "confirm": "a fresh new passphrase"})
    assert other_device.get("/account").status_code == 302


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_after_signing_up_the_parent_adds_a_child_then_returns_to_booking(client):
    post_form(client, "/register?next=/classes/7/book", GOOD)
    response = client.get(confirmation_link())
    assert response.headers["Location"] == "/account/children/new?next=/classes/7/book"
    response = post_form(
        client,
        "/account/children/new?next=/classes/7/book",
        {"first_name": "Ada", "last_name": "Okafor", "date_of_birth": (date.today() - timedelta(weeks=10)).isoformat()},
    )
    assert response.headers["Location"] == "/classes/7/book"


def test_sign_up_ignores_an_external_next(client):
    post_form(client, "/register?next=https://evil.example/", GOOD)
    assert client.get(confirmation_link()).headers["Location"] == "/account/children/new"

"""Guessing passwords is slowed per account as well as per address; sign-up and reset are limited and reveal nobody."""

from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from tests import factories
from tests.conftest import post_form, text


def from_address(n: int) -> dict:
    return {"environ_base": {"REMOTE_ADDR": f"203.0.113.{n}"}}


def emails_to(address: str) -> list[OutboxEmail]:
    return db.session.scalars(db.select(OutboxEmail).where(OutboxEmail.to_address == address)).all()


def test_wrong_passwords_for_one_account_from_many_addresses_are_slowed_and_its_owner_told_once(app, client):
    app.config.update(ACCOUNT_LOGIN_RATE_LIMIT="5 per 15 minutes", LOGIN_RATE_LIMIT="100 per minute")
    user = factories.make_user()
    answers = [
        post_form(
            client, "/login", {"email": user.email, "password": f"guess number {n}"}, **from_address(n)
        ).status_code
        for n in range(25)
    ]
    assert answers == [422] * 5 + [429] * 20
    paused = post_form(client, "/login", {"email": user.email, "password": factories.PASSWORD}, **from_address(99))
    assert paused.status_code == 429
    assert "Too many wrong passwords have been tried for this email address" in text(paused)
    [warning] = emails_to(user.email)
    assert warning.subject.startswith("Someone is trying to sign in to your")
    other = factories.make_user()
    assert (
        post_form(
            client, "/login", {"email": other.email, "password": factories.PASSWORD}, **from_address(7)
        ).status_code
        == 302
    )


def test_an_address_with_no_account_is_paused_the_same_way(app, client):
    app.config.update(ACCOUNT_LOGIN_RATE_LIMIT="2 per 15 minutes", LOGIN_RATE_LIMIT="100 per minute")
    answers = [
        post_form(
            client, "/login", {"email": "nobody@example.org", "password": f"guess {n}"}, **from_address(n)
        ).status_code
        for n in range(3)
    ]
    assert answers == [422, 422, 429]
    assert emails_to("nobody@example.org") == []


def test_signing_up_is_limited_per_address(app, client):
    app.config["SIGN_UP_RATE_LIMIT"] = "2 per hour"
    form = {
        "full_name": "Amara Okafor",
        "phone": "",
        "password": "gentle strokes daily",
        "confirm": "gentle strokes daily",
    }
    answers = [
        post_form(client, "/register", {**form, "email": f"parent{n}@example.org"}).status_code for n in range(3)
    ]
    assert answers == [200, 200, 429]


def test_reset_links_for_one_address_are_limited_so_nobody_can_flood_an_inbox(app, client):
    app.config["RESET_RATE_LIMIT"] = "2 per hour"
    user = factories.make_user()
    answers = [
        post_form(client, "/password/forgot", {"email": user.email}, **from_address(n)).status_code for n in range(3)
    ]
    assert answers == [302, 302, 429]
    assert len(emails_to(user.email)) == 2

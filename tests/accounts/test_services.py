from datetime import timedelta

import pytest

from instructor_portal.accounts import services, sign_ins
from instructor_portal.accounts.models import Role, User
from instructor_portal.audit import AuditEntry
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from tests import factories


def test_sign_up_stores_an_unconfirmed_parent_with_an_argon2_hash_and_lower_cased_email(app):
    services.sign_up_parent(full_name=" Amara Okafor ", email=" Amara@Example.ORG ", password="gentle strokes daily")
    user = db.session.scalars(db.select(User)).one()
    assert (user.role, user.email_verified_at) == (Role.PARENT, None)
    assert user.email == "amara@example.org"
    assert user.full_name == "Amara Okafor"
    assert user.password_hash.startswith("$argon2id$")
    assert "gentle strokes daily" not in user.password_hash


def test_sign_up_with_a_taken_email_whatever_its_case_makes_no_account_and_tells_the_owner(app):
    factories.make_user(email="sam@example.org")
    services.sign_up_parent(full_name="Sam", email="SAM@example.org", password="gentle strokes daily")
    assert db.session.scalar(db.select(db.func.count(User.id))) == 1
    [email] = db.session.scalars(db.select(OutboxEmail)).all()
    assert email.to_address == "sam@example.org" and "/password/forgot" in email.body_text


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "at least 10"),
        ("password123", "too easy"),
        ("aaaaaaaaaaaa", "too easy"),
        ("x" * 201, "at most 200"),
        ("amara.okafor!", "name or email"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(app, password, message):
    with pytest.raises(services.AccountError, match=message):
        services.sign_up_parent(full_name="Amara", email="amara.okafor@example.org", password=password)
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0


def test_authenticate_accepts_the_right_password_and_records_the_time(app):
    user = factories.make_user()
    assert services.authenticate(user.email.upper(), factories.PASSWORD) == user
    assert user.last_login_at is not None


@pytest.mark.parametrize("email_known", [True, False])
def test_authenticate_gives_the_same_message_for_wrong_password_and_unknown_email(app, email_known):
    user = factories.make_user()
    email = user.email if email_known else "nobody@example.org"
    with pytest.raises(services.AccountError) as caught:
        services.authenticate(email, "not the password at all")
    assert caught.value.message == "That email and password do not match an account."


def test_authenticate_refuses_a_switched_off_account(app):
    user = factories.make_user(active=False)
    with pytest.raises(services.AccountError, match="switched off"):
        services.authenticate(user.email, factories.PASSWORD)


def test_invited_user_has_no_password_and_gets_an_invitation_email(app):
    organiser = factories.make_user(role=Role.ORGANISER)
    user = services.invite_user(
        full_name="Priya Shah", email="Priya@example.org", role=Role.INSTRUCTOR, invited_by=organiser
    )
    assert user.password_hash is None
    assert user.profile is not None
    email = db.session.scalars(db.select(OutboxEmail)).one()
    assert email.to_address == "priya@example.org"
    assert "http://portal.test/welcome/" in email.body_text
    entry = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "user.invited")).one()
    assert (entry.actor_id, entry.subject_id, entry.data) == (organiser.id, user.id, {"role": "instructor"})
    with pytest.raises(services.AccountError):
        services.authenticate("priya@example.org", "")


def test_parents_cannot_be_invited(app):
    with pytest.raises(services.AccountError, match="sign themselves up"):
        services.invite_user(full_name="P", email="p@example.org", role=Role.PARENT, invited_by=None)


def test_invitation_token_sets_the_password_once(app):
    user = services.invite_user(
        full_name="Priya Shah", email="priya@example.org", role=Role.INSTRUCTOR, invited_by=None
    )
    token = services.make_token(user, services.INVITATION)
    services.set_password_from_token(token, services.INVITATION, "soothing circles always")
    assert services.authenticate("priya@example.org", "soothing circles always") == user
    with pytest.raises(services.AccountError, match="already been used"):
        services.set_password_from_token(token, services.INVITATION, "another password here")


def test_a_reset_token_is_not_an_invitation_token(app):
    user = factories.make_user()
    token = services.make_token(user, services.PASSWORD_RESET)
    with pytest.raises(services.AccountError, match="not valid"):
        services.user_for_token(token, services.INVITATION)


def test_reset_token_expires(app):
    user = factories.make_user()
    token = services.make_token(user, services.PASSWORD_RESET)
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    with pytest.raises(services.AccountError, match="expired"):
        services.user_for_token(token, services.PASSWORD_RESET)


def test_tampered_token_is_refused(app):
    user = factories.make_user()
    token = services.make_token(user, services.PASSWORD_RESET)
    with pytest.raises(services.AccountError, match="not valid"):
        services.user_for_token(token[:-2] + ("A" if token[-1] != "A" else "B") + token[-1], services.PASSWORD_RESET)


def test_password_reset_is_queued_only_for_known_active_accounts(app):
    user = factories.make_user()
    factories.make_user(email="off@example.org", active=False)
    services.request_password_reset("nobody@example.org")
    services.request_password_reset("off@example.org")
    services.request_password_reset(user.email.upper())
    emails = db.session.scalars(db.select(OutboxEmail)).all()
    assert [e.to_address for e in emails] == [user.email]
    assert "/password/reset/" in emails[0].body_text


def test_a_sign_in_works_until_it_ends_runs_out_or_its_password_changes(app):
    user = factories.make_user()
    token = sign_ins.start_sign_in(user).sign_in_token
    assert sign_ins.load_user(token) == user
    assert (
        sign_ins.load_user(token, now=utcnow() + timedelta(hours=13)) is None
    )  # without "keep me signed in": 12 hours
    sign_ins.end_sign_in(token)
    assert sign_ins.load_user(token) is None
    kept = sign_ins.start_sign_in(user, remember=True).sign_in_token
    assert sign_ins.load_user(kept, now=utcnow() + timedelta(days=29)) == user
    services.set_password_from_token(
        services.make_token(user, services.PASSWORD_RESET), services.PASSWORD_RESET, "a brand new passphrase"
    )
    assert sign_ins.load_user(kept) is None
    assert sign_ins.load_user("") is None and sign_ins.load_user("x" * 500) is None

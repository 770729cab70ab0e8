"""Two-step sign-in: staff set it up before seeing families' details, codes work once, recovery codes, resets by an organiser."""

import pyotp
import pytest

from instructor_portal.accounts.models import User
from instructor_portal.audit import AuditEntry
from instructor_portal.extensions import db
from tests import factories
from tests.conftest import post_form, text


def sign_in_with_password(client, user):
    return post_form(client, "/login", {"email": user.email, "password": factories.PASSWORD})


def test_staff_without_two_step_are_sent_to_set_it_up_before_seeing_families(client, auth):
    instructor = factories.make_user(role="instructor", two_step=False)
    assert auth.login(instructor).status_code == 302
    response = client.get("/teach")
    assert response.headers["Location"] == "/account/two-step"
    setup = text(client.get("/account/two-step"))
    assert 'src="data:image/png;base64,' in setup  # the QR code, drawn here
    db.session.refresh(instructor)
    wrong = post_form(client, "/account/two-step", {"code": "000000"})
    assert wrong.status_code == 422 and "That code is not right" in text(wrong)
    shown = text(post_form(client, "/account/two-step", {"code": pyotp.TOTP(instructor.totp_secret).now()}))
    assert "Two-step sign-in is on" in shown and shown.count("<code>") == 10
    assert client.get("/teach").status_code == 200


def test_signing_in_needs_the_apps_code_and_a_code_works_only_once(app, client):
    instructor = factories.make_user(role="instructor")
    assert sign_in_with_password(client, instructor).headers["Location"] == "/login/two-step"
    assert client.get("/teach").status_code == 302  # the password alone signs nobody in
    wrong = post_form(client, "/login/two-step", {"code": "123456"})
    assert wrong.status_code == 422 and "That code is not right, or has been used already" in text(wrong)
    code = factories.two_step_code(instructor)
    assert post_form(client, "/login/two-step", {"code": code}).headers["Location"] == "/teach"
    other = app.test_client()
    sign_in_with_password(other, instructor)
    assert post_form(other, "/login/two-step", {"code": code}).status_code == 422  # overheard, and replayed


def test_a_recovery_code_signs_in_once(app, client, login_as):
    parent = login_as("parent")
    client.get("/account/two-step")
    db.session.refresh(parent)
    page = text(post_form(client, "/account/two-step", {"code": pyotp.TOTP(parent.totp_secret).now()}))
    recovery = page.split("<code>")[1].split("</code>")[0]
    post_form(client, "/logout", page="/")
    sign_in_with_password(client, parent)
    assert post_form(client, "/login/two-step", {"code": recovery.upper()}).status_code == 302
    post_form(client, "/logout", page="/")
    sign_in_with_password(client, parent)
    assert post_form(client, "/login/two-step", {"code": recovery}).status_code == 422
    assert db.session.scalars(
        db.select(AuditEntry.action).where(AuditEntry.action == "user.recovery_code_used")
    ).all() == ["user.recovery_code_used"]


def test_guessing_codes_is_limited(client):
    instructor = factories.make_user(role="instructor")
    sign_in_with_password(client, instructor)
    answers = [post_form(client, "/login/two-step", {"code": f"{n:06d}"}).status_code for n in range(6)]
    assert answers == [422] * 5 + [429]


def test_a_second_step_left_too_long_means_signing_in_again(client, monkeypatch):
    from instructor_portal.accounts import routes

    instructor = factories.make_user(role="instructor")
    sign_in_with_password(client, instructor)
    later = routes.time.time() + routes.TWO_STEP_SECONDS + 1
    monkeypatch.setattr(routes.time, "time", lambda: later)
    response = post_form(client, "/login/two-step", {"code": factories.two_step_code(instructor)}, page="/login")
    assert response.headers["Location"] == "/login"


def test_an_organiser_resets_a_colleagues_two_step_which_ends_their_sign_ins(app, client, login_as):
    instructor = factories.make_user(role="instructor")
    colleague = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(colleague).login(instructor)
    assert colleague.get("/teach").status_code == 200
    login_as("organiser")
    assert "Reset two-step sign-in" in text(client.get("/organiser/instructors"))
    post_form(client, f"/organiser/instructors/{instructor.id}/reset-two-step", page="/organiser/instructors")
    assert colleague.get("/teach").status_code == 302
    user = db.session.get(User, instructor.id)
    assert (user.totp_secret, user.totp_enabled_at) == (None, None)
    assert (
        db.session.scalars(db.select(AuditEntry.action).where(AuditEntry.subject_id == instructor.id)).all()[-1]
        == "user.two_step_reset"
    )


@pytest.mark.parametrize("role", ["instructor", "organiser"])
def test_staff_cannot_turn_their_own_two_step_off(client, login_as, role):
    login_as(role)
    assert "Instructors and organisers keep it on" in text(client.get("/account/two-step"))
    assert post_form(client, "/account/two-step/off", page="/account/two-step").status_code == 403


def test_a_parent_may_turn_it_on_and_off_again(client, login_as):
    parent = login_as("parent")
    client.get("/account/two-step")
    db.session.refresh(parent)
    post_form(client, "/account/two-step", {"code": pyotp.TOTP(parent.totp_secret).now()})
    assert "Two-step sign-in is on" in text(client.get("/account/two-step"))
    post_form(client, "/account/two-step/off", page="/account/two-step")
    db.session.refresh(parent)
    assert parent.totp_enabled_at is None
    assert sign_in_with_password(client, parent).headers["Location"] == "/account"

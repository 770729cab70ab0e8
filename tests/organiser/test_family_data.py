"""A family can take a copy of everything held about them, and ask to be erased; an organiser carries it out."""

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from instructor_portal.accounts.models import Child, SignIn, User
from instructor_portal.audit import AuditEntry
from instructor_portal.booking.models import Booking, BookingPlace, BookingStatus, PaymentMethod
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from instructor_portal.organiser import family_data
from instructor_portal.organiser.models import ErasureRequest
from instructor_portal.payments.models import Payment
from instructor_portal.waitlist.models import WaitlistEntry
from instructor_portal.waitlist.services import join_waitlist
from tests import factories
from tests.conftest import count, post_form, text


@pytest.fixture
def family(app):
    """A parent with a baby with care notes: one booking on a finished course, one paid on a course still to come."""
    parent = factories.make_user(full_name="Amira Hassan", email="amira@example.org")
    baby = factories.make_child(parent, first_name="Yusuf", last_name="Hassan", care_notes="Reflux")
    past = factories.make_course(
        title="Spring babies", sessions=2, first_session=datetime.now(UTC) - timedelta(days=60)
    )
    coming = factories.make_course(
        title="Winter babies", price_pence=4500, first_session=datetime.now(UTC) + timedelta(days=30)
    )
    factories.make_booking(past, [baby])
    booking = factories.make_booking(coming, [baby], amount_paid_pence=4500)
    factories.make_payment(booking, method=PaymentMethod.BANK_TRANSFER)  # given back by hand, so settled at once
    other = factories.make_child(first_name="Zara", last_name="Other")
    factories.make_booking(coming, [other])
    full = factories.make_course(title="Summer babies", places=1, first_session=datetime.now(UTC) + timedelta(days=40))
    factories.make_booking(full, [factories.make_child()])
    join_waitlist(parent, full, [baby])
    return parent, booking


def unzip(content: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def test_a_parent_downloads_everything_about_their_family_and_nobody_elses(client, login_as, family):
    parent, _ = family
    login_as(parent)
    assert "Download everything we hold about you" in text(client.get("/account/data"))
    response = post_form(client, "/account/data.zip", page="/account/data")
    assert response.mimetype == "application/zip" and response.headers["Cache-Control"] == "private, no-store"
    files = unzip(response.data)
    assert set(files) == {"summary.html", "data.json"}
    data = json.loads(files["data.json"])
    assert data["account"]["email"] == "amira@example.org"
    assert [(c["first_name"], c["care_notes"]) for c in data["children"]] == [("Yusuf", "Reflux")]
    assert sorted(b["course"] for b in data["bookings"]) == ["Spring babies", "Winter babies"]
    assert [(w["course"], w["children"], w["status"]) for w in data["waiting_lists"]] == [
        ("Summer babies", ["Yusuf"], "waiting")
    ]
    assert [p["amount_pence"] for p in data["payments"]] == [4500]
    assert "Yusuf" in files["summary.html"] and "Reflux" in files["summary.html"]
    assert "Zara" not in files["summary.html"] + files["data.json"]
    assert db.session.scalars(
        db.select(AuditEntry.action).where(AuditEntry.action == "family.data_exported")
    ).all() == ["family.data_exported"]


def test_asking_to_be_erased_needs_the_password_and_is_recorded_once(client, login_as, family):
    parent, _ = family
    login_as(parent)
    wrong = post_form(client, "/account/data", {"password": "not my password", "confirm": "y"})
    assert wrong.status_code == 422 and "That is not your password." in text(wrong)
    assert count(ErasureRequest) == 0
    asked = post_form(
        client,
        "/account/data",
        {"password": factories.PASSWORD, "confirm": "y", "note": "Moving away"},
        follow_redirects=True,
    )
    assert "We have your request" in text(asked) and "You asked on" in text(asked)
    family_data.request_erasure(parent)
    assert count(ErasureRequest) == 1


def test_erasing_a_family_cancels_what_is_to_come_refunds_it_and_keeps_payments_with_nobody_named(app, family):
    parent, booking = family
    organiser = factories.make_user(role="organiser")
    sign_in = SignIn(token="t" * 40, user_id=parent.id, expires_at=datetime.now(UTC) + timedelta(days=1))
    db.session.add(sign_in)
    db.session.commit()
    erasure = family_data.request_erasure(parent, note="Moving away")
    family_data.erase_family(erasure, by=organiser)
    user = db.session.get(User, parent.id)
    assert (user.full_name, user.email, user.phone, user.password_hash, user.active) == (
        f"Erased family {user.id}",
        f"erased-{user.id}@erased.invalid",
        None,
        None,
        False,
    )
    db.session.refresh(booking)
    assert booking.status == BookingStatus.CANCELLED and booking.amount_refunded_pence == 4500
    assert db.session.scalars(db.select(Child).where(Child.first_name == "Yusuf")).all() == []
    assert count(WaitlistEntry) == 0
    initials = db.session.scalars(
        db.select(BookingPlace.child_initial).where(
            BookingPlace.booking_id.in_(db.select(Booking.id).where(Booking.parent_id == parent.id))
        )
    ).all()
    assert initials == ["Y.", "Y."]
    assert db.session.scalars(db.select(Payment.amount_pence).where(Payment.booking_id == booking.id)).all() == [4500]
    assert db.session.scalars(db.select(OutboxEmail).where(OutboxEmail.to_address == "amira@example.org")).all() == []
    assert db.session.get(SignIn, sign_in.id).ended_at is not None
    assert (erasure.completed_by_id, erasure.note) == (organiser.id, "")
    with pytest.raises(family_data.FamilyDataError):
        family_data.erase_family(erasure, by=organiser)


def test_organisers_see_requests_carry_them_out_and_export_a_family_for_a_subject_access_request(
    client, login_as, family
):
    parent, _ = family
    family_data.request_erasure(parent, note="Moving away")
    login_as("organiser")
    page = text(client.get("/organiser/families"))
    assert "Amira Hassan" in page and "Moving away" in page
    copy = post_form(client, "/organiser/families/data.zip", {"email": "AMIRA@example.org"}, page="/organiser/families")
    assert json.loads(unzip(copy.data)["data.json"])["account"]["full_name"] == "Amira Hassan"
    unknown = post_form(
        client,
        "/organiser/families/data.zip",
        {"email": "nobody@example.org"},
        page="/organiser/families",
        follow_redirects=True,
    )
    assert "No parent or carer has an account with that email address." in text(unknown)
    erasure = db.session.scalars(db.select(ErasureRequest)).one()
    done = post_form(
        client, f"/organiser/families/erasures/{erasure.id}/erase", page="/organiser/families", follow_redirects=True
    )
    assert "The family's account and details are erased" in text(done).replace("&#39;", "'")
    assert "No family has asked to be erased." in text(client.get("/organiser/families"))


@pytest.mark.parametrize("who", ["parent", "instructor"])
def test_only_organisers_reach_families_data(client, login_as, family, who):
    login_as(who)
    assert client.get("/organiser/families").status_code == 403

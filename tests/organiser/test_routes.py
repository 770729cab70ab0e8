from datetime import time

import pytest

from instructor_portal.accounts.models import Role, User
from instructor_portal.catalogue.models import CourseStatus, Venue
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from instructor_portal.organisation import Organisation
from tests import factories
from tests.conftest import count, post_form, text

VENUE = {
    "name": "Redland Children's Centre",
    "address": "14 Park Road",
    "town": "Bristol",
    "postcode": "bs6 5ab",
    "step_free_access": "y",
    "baby_changing": "y",
    "travel_notes": "Bus 9 stops outside.",
    "active": "y",
}
SETTINGS = {
    "name": "Connected Babies",
    "contact_email": "hello@connected.example",
    "contact_phone": "0117 496 0000",
    "postal_address": "12 Gloucester Road\r\nBristol BS7 8AA",
    "currency": "gbp",
    "timezone": "Europe/London",
    "default_cancellation_notice_days": "5",
    "bank_transfer_details": "Sort code 00-00-00, account 12345678",
    "hold_minutes": "20",
    "waitlist_offer_hours": "12",
    "makeup_cap": "1",
    "retention_months": "36",
    "corrected_age_cutoff_months": "18",
    "reminder_day_before_at": "19:15",
    "reminder_morning_at": "07:00",
}


# Who may see what

PAGES = [
    "/organiser",
    "/organiser/venues",
    "/organiser/venues/new",
    "/organiser/venues/{venue}/edit",
    "/organiser/instructors",
    "/organiser/instructors/new",
    "/organiser/settings",
    "/organiser/outbox",
    "/organiser/retention",
]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(
    ("who", "status"), [("anonymous", 302), ("parent", 403), ("instructor", 403), ("organiser", 200)]
)
def test_organiser_pages_are_for_organisers_only(client, login_as, page, who, status):
    venue = factories.make_venue()
    if who != "anonymous":
        login_as(who)
    response = client.get(page.format(venue=venue.id))
    assert response.status_code == status
    if status == 302:
        assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("action", ["resend", "deactivate", "activate"])
@pytest.mark.parametrize(("who", "status"), [("anonymous", 302), ("parent", 403), ("instructor", 403)])
def test_staff_actions_are_for_organisers_only(client, login_as, action, who, status):
    invited = factories.make_user(role="instructor", password=None)
    if who != "anonymous":
        login_as(who)
    response = post_form(
        client, f"/organiser/instructors/{invited.id}/{action}", page="/login" if who == "anonymous" else "/"
    )
    assert response.status_code == status
    db.session.expire_all()
    assert invited.active is True
    assert count(OutboxEmail) == 0


@pytest.mark.parametrize("page", ["/organiser/venues/424242/edit", "/organiser/venues/99999999999999999999/edit"])
def test_unknown_venue_gets_a_friendly_404(client, login_as, page):
    login_as("organiser")
    response = client.get(page)
    assert response.status_code == 404
    assert "Page not found" in text(response)


# Overview


def test_dashboard_shows_every_course_with_its_instructor_and_counts(client, login_as):
    published = factories.make_course(title="Tuesday babies", venue=factories.make_venue(name="Redland Library"))
    draft = factories.make_course(title="Premature group", status=CourseStatus.DRAFT, sessions=0)
    login_as("organiser")
    page = text(client.get("/organiser"))
    assert published.title in page and draft.title in page
    assert published.instructor.full_name in page and published.venue.name in page
    assert "Published courses</dt><dd>1</dd>" in page
    assert "Drafts</dt><dd>1</dd>" in page


# Venues


def test_add_a_venue(client, login_as):
    login_as("organiser")
    response = post_form(client, "/organiser/venues/new", VENUE)
    assert response.status_code == 302
    venue = db.session.scalars(db.select(Venue)).one()
    assert (venue.postcode, venue.step_free_access, venue.pram_parking, venue.active) == ("BS6 5AB", True, False, True)
    assert "Redland Children&#39;s Centre added." in text(client.get(response.headers["Location"]))


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Enter the venue&#39;s name."),
        ({"address": ""}, "address", "Enter the address."),
        ({"town": "   "}, "town", "Enter the town or city."),
        ({"postcode": ""}, "postcode", "Enter the postcode."),
        ({"postcode": "12345"}, "postcode", "Enter a UK postcode, such as BS6 5AB."),
        ({"postcode": "BS6 5AB BS6 5AB BS6 5AB"}, "postcode", "Field cannot be longer than 20 characters."),
        ({"name": "x" * 121}, "name", "Field cannot be longer than 120 characters."),
    ],
)
def test_add_venue_refuses_bad_input_and_saves_nothing(client, login_as, changes, field, message):
    login_as("organiser")
    response = post_form(client, "/organiser/venues/new", {**VENUE, **changes})
    assert response.status_code == 422
    assert f'id="{field}-error"' in text(response)
    assert message in text(response)
    assert count(Venue) == 0


def test_edit_a_venue_and_retire_it(client, login_as):
    venue = factories.make_venue(name="Old name")
    login_as("organiser")
    assert 'value="Old name"' in text(client.get(f"/organiser/venues/{venue.id}/edit"))
    response = post_form(client, f"/organiser/venues/{venue.id}/edit", {**VENUE, "active": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert (venue.name, venue.active) == ("Redland Children's Centre", False)
    assert "Retired" in text(client.get("/organiser/venues"))


def test_edit_venue_with_a_bad_postcode_changes_nothing(client, login_as):
    venue = factories.make_venue(name="Old name", postcode="BS6 5AB")
    login_as("organiser")
    response = post_form(client, f"/organiser/venues/{venue.id}/edit", {**VENUE, "postcode": "BS6"})
    assert response.status_code == 422
    db.session.expire_all()
    assert (venue.name, venue.postcode) == ("Old name", "BS6 5AB")


# Instructors and organisers


def test_instructors_page_shows_who_has_set_a_password(client, login_as):
    factories.make_user(role="instructor", full_name="Ada Invited", password=None)
    factories.make_user(role="instructor", full_name="Bo Ready")
    factories.make_user(role="parent", full_name="Cat Parent")
    login_as("organiser")
    page = text(client.get("/organiser/instructors"))
    assert "Ada Invited" in page and "Invited; no password yet" in page and "Resend invitation" in page
    assert "Bo Ready" in page and "Password set" in page
    assert "Cat Parent" not in page


@pytest.mark.parametrize("role", ["instructor", "organiser"])
def test_invite_someone_who_then_gets_an_email(client, login_as, role):
    login_as("organiser")
    response = post_form(
        client, "/organiser/instructors/new", {"full_name": "Dee New", "email": "Dee@Example.org", "role": role}
    )
    assert response.status_code == 302
    user = db.session.scalars(db.select(User).where(User.email == "dee@example.org")).one()
    assert (user.role, user.password_hash) == (Role(role), None)
    assert db.session.scalars(db.select(OutboxEmail.to_address)).one() == "dee@example.org"
    assert "Invitation sent to dee@example.org." in text(client.get(response.headers["Location"]))


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "TAKEN@example.org"}, "email", "Someone with this email already has an account."),
        ({"email": "not-an-email"}, "email", "Enter an email address like name@example.org."),
        ({"email": ""}, "email", "Enter their email address."),
        ({"full_name": ""}, "full_name", "Enter their name."),
        ({"role": "parent"}, "role", "Choose instructor or organiser."),
    ],
)
def test_invite_refuses_bad_input_and_invites_nobody(client, login_as, changes, field, message):
    factories.make_user(role="parent", email="taken@example.org")
    login_as("organiser")
    users = count(User)
    response = post_form(
        client,
        "/organiser/instructors/new",
        {"full_name": "Dee New", "email": "dee@example.org", "role": "instructor", **changes},
    )
    assert response.status_code == 422
    assert f'id="{field}-error"' in text(response)
    assert message in text(response)
    assert count(User) == users
    assert count(OutboxEmail) == 0


def test_resend_an_invitation(client, login_as):
    invited = factories.make_user(role="instructor", password=None)
    login_as("organiser")
    response = post_form(client, f"/organiser/instructors/{invited.id}/resend", page="/organiser/instructors")
    assert response.status_code == 302
    assert db.session.scalars(db.select(OutboxEmail.to_address)).one() == invited.email
    assert "A new invitation is on its way" in text(client.get(response.headers["Location"]))


def test_resend_to_someone_with_a_password_explains_why_not(client, login_as):
    ready = factories.make_user(role="instructor")
    login_as("organiser")
    response = post_form(
        client, f"/organiser/instructors/{ready.id}/resend", page="/organiser/instructors", follow_redirects=True
    )
    assert "has already set a password" in text(response)
    assert count(OutboxEmail) == 0


@pytest.mark.parametrize("action", ["resend", "deactivate", "activate"])
def test_staff_actions_on_parents_or_unknown_ids_give_404(client, login_as, action):
    parent = factories.make_user(role="parent", password=None)
    login_as("organiser")
    for user_id in (parent.id, 424242):
        response = post_form(client, f"/organiser/instructors/{user_id}/{action}", page="/organiser/instructors")
        assert response.status_code == 404
    db.session.expire_all()
    assert parent.active is True
    assert count(OutboxEmail) == 0


def test_switch_an_instructor_off_and_on(client, login_as):
    instructor = factories.make_user(role="instructor")
    login_as("organiser")
    post_form(client, f"/organiser/instructors/{instructor.id}/deactivate", page="/organiser/instructors")
    db.session.expire_all()
    assert instructor.active is False
    response = post_form(client, f"/organiser/instructors/{instructor.id}/activate", page="/organiser/instructors")
    assert response.status_code == 302
    db.session.expire_all()
    assert instructor.active is True


def test_an_organiser_cannot_switch_themselves_off(client, login_as):
    organiser = login_as("organiser")
    response = post_form(
        client,
        f"/organiser/instructors/{organiser.id}/deactivate",
        page="/organiser/instructors",
        follow_redirects=True,
    )
    assert "You cannot switch off your own account" in text(response)
    db.session.expire_all()
    assert organiser.active is True


# Settings


def test_settings_show_the_defaults_then_save_every_field(client, login_as):
    login_as("organiser")
    assert 'value="Instructor Portal"' in text(client.get("/organiser/settings"))
    response = post_form(client, "/organiser/settings", SETTINGS)
    assert response.status_code == 302
    organisation = db.session.scalars(db.select(Organisation)).one()
    assert (
        organisation.name,
        organisation.contact_email,
        organisation.contact_phone,
        organisation.postal_address,
        organisation.currency,
        organisation.timezone,
        organisation.default_cancellation_notice_days,
        organisation.bank_transfer_details,
        organisation.hold_minutes,
        organisation.waitlist_offer_hours,
        organisation.makeup_cap,
        organisation.retention_months,
        organisation.corrected_age_cutoff_months,
        organisation.reminder_day_before_at,
        organisation.reminder_morning_at,
    ) == (
        "Connected Babies",
        "hello@connected.example",
        "0117 496 0000",
        "12 Gloucester Road\r\nBristol BS7 8AA",
        "GBP",
        "Europe/London",
        5,
        "Sort code 00-00-00, account 12345678",
        20,
        12,
        1,
        36,
        18,
        time(19, 15),
        time(7, 0),
    )
    page = text(client.get("/organiser/settings"))
    assert "Settings saved." in page
    assert "<title>Settings · Connected Babies</title>" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Enter the organisation&#39;s name."),
        ({"contact_email": "nope"}, "contact_email", "Enter an email address like name@example.org."),
        ({"currency": "pounds"}, "currency", "Enter the currency as a three-letter code, such as GBP."),
        ({"currency": ""}, "currency", "Enter the currency code."),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "Choose a time zone from the list, such as Europe/London."),
        (
            {"default_cancellation_notice_days": "-1"},
            "default_cancellation_notice_days",
            "Enter between 0 and 365 days.",
        ),
        ({"hold_minutes": "0"}, "hold_minutes", "Enter between 1 and 1,440 minutes."),
        ({"hold_minutes": "lots"}, "hold_minutes", "Enter a whole number."),
        ({"waitlist_offer_hours": "0"}, "waitlist_offer_hours", "Enter between 1 and 168 hours (a week)."),
        ({"makeup_cap": "-2"}, "makeup_cap", "Enter between 0 and 20."),
        ({"retention_months": "99999999999999999999"}, "retention_months", "Enter between 1 and 120 months."),
        ({"corrected_age_cutoff_months": ""}, "corrected_age_cutoff_months", "Enter the number of months."),
        ({"postal_address": "x" * 501}, "postal_address", "Keep the address to 500 characters."),
        (
            {"reminder_day_before_at": "6pm"},
            "reminder_day_before_at",
            "Enter a time such as 10:30, using the 24-hour clock.",
        ),
        (
            {"reminder_morning_at": "25:00"},
            "reminder_morning_at",
            "Enter a time such as 10:30, using the 24-hour clock.",
        ),
        ({"reminder_morning_at": ""}, "reminder_morning_at", "Enter a time such as 10:30, using the 24-hour clock."),
    ],
)
def test_settings_refuse_bad_input_and_save_nothing(client, login_as, changes, field, message):
    login_as("organiser")
    response = post_form(client, "/organiser/settings", {**SETTINGS, **changes})
    assert response.status_code == 422
    assert f'id="{field}-error"' in text(response)
    assert message in text(response)
    assert count(Organisation) == 0


def test_settings_let_organisers_allow_instructors_to_refund_their_own_courses(client, login_as):
    login_as("organiser")
    assert "Instructors may refund bookings on their own courses" in text(client.get("/organiser/settings"))
    assert post_form(client, "/organiser/settings", {**SETTINGS, "allow_instructor_refunds": "y"}).status_code == 302
    assert db.session.scalars(db.select(Organisation.allow_instructor_refunds)).one() is True
    assert post_form(client, "/organiser/settings", SETTINGS).status_code == 302
    db.session.expire_all()
    assert db.session.scalars(db.select(Organisation.allow_instructor_refunds)).one() is False

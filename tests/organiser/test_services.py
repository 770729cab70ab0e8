from datetime import UTC, datetime, timedelta

import pytest

from instructor_portal.accounts.models import Role
from instructor_portal.audit import AuditEntry
from instructor_portal.catalogue.models import CourseStatus, SessionStatus, Venue
from instructor_portal.extensions import db
from instructor_portal.organisation import DEFAULTS, Organisation, get_organisation
from instructor_portal.organiser import services
from instructor_portal.organiser.services import OrganiserError
from tests import factories

VENUE = {
    "name": "Redland Children's Centre",
    "address": "14 Park Road",
    "town": "Bristol",
    "postcode": "bs6 5ab",
    "step_free_access": True,
    "pram_parking": False,
    "baby_changing": True,
    "travel_notes": "Bus 9 stops outside.",
    "active": True,
}


@pytest.fixture
def organiser(app):
    return factories.make_user(role="organiser")


def organisation_rows() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Organisation))


# Settings


def test_get_organisation_gives_the_defaults_until_settings_are_saved(app):
    organisation = get_organisation()
    assert (organisation.name, organisation.timezone, organisation.currency) == (
        DEFAULTS["name"],
        "Europe/London",
        "GBP",
    )
    assert organisation_rows() == 0


def test_update_settings_creates_the_row_the_first_time_then_updates_it(organiser):
    services.update_settings(actor=organiser, name="Connected Babies", currency="eur", hold_minutes=20)
    services.update_settings(actor=organiser, timezone="Europe/Dublin")
    organisation = db.session.scalars(db.select(Organisation)).one()
    assert (organisation.name, organisation.currency, organisation.hold_minutes, organisation.timezone) == (
        "Connected Babies",
        "EUR",
        20,
        "Europe/Dublin",
    )
    assert get_organisation() is organisation
    changes = list(
        db.session.scalars(
            db.select(AuditEntry.data).where(AuditEntry.action == "settings.updated").order_by(AuditEntry.id)
        )
    )
    assert changes == [{"changed": ["currency", "hold_minutes", "name"]}, {"changed": ["timezone"]}]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"currency": "pounds"}, "currency", "three-letter code"),
        ({"currency": "G1P"}, "currency", "three-letter code"),
        ({"timezone": "Europe/Bristol"}, "timezone", "time zone from the list"),
        ({"timezone": ""}, "timezone", "time zone from the list"),
    ],
)
def test_update_settings_refuses_bad_values_and_saves_nothing(organiser, changes, field, message):
    with pytest.raises(OrganiserError, match=message) as caught:
        services.update_settings(actor=organiser, name="Changed", **changes)
    assert caught.value.field == field
    assert organisation_rows() == 0


def test_update_settings_refuses_unknown_names(organiser):
    with pytest.raises(TypeError, match="colour"):
        services.update_settings(actor=organiser, colour="purple")


# Venues


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("bs6 5ab", "BS6 5AB"),
        ("BS65AB", "BS6 5AB"),
        ("  sw1a   1aa ", "SW1A 1AA"),
        ("m1 1ae", "M1 1AE"),
        ("EC1A1BB", "EC1A 1BB"),
        ("b33 8th", "B33 8TH"),
        ("cr2 6xh", "CR2 6XH"),
        ("dn55 1pt", "DN55 1PT"),
    ],
)
def test_normalise_postcode_writes_it_as_royal_mail_does(typed, stored):
    assert services.normalise_postcode(typed) == stored


@pytest.mark.parametrize("typed", ["", "BS6", "12345", "BS6 5A", "BS6 5ABC", "B$6 5AB", "not a postcode", "BS6 AAB"])
def test_normalise_postcode_refuses_what_is_not_a_uk_postcode(typed):
    with pytest.raises(OrganiserError, match="UK postcode") as caught:
        services.normalise_postcode(typed)
    assert caught.value.field == "postcode"


def test_create_venue_saves_it_with_a_tidy_postcode(organiser):
    venue = services.create_venue(actor=organiser, **VENUE)
    assert (venue.postcode, venue.step_free_access, venue.pram_parking) == ("BS6 5AB", True, False)
    assert db.session.scalars(db.select(AuditEntry.action)).all() == ["venue.created"]


def test_create_venue_with_a_bad_postcode_saves_nothing(organiser):
    with pytest.raises(OrganiserError):
        services.create_venue(actor=organiser, **{**VENUE, "postcode": "nowhere"})
    assert db.session.scalar(db.select(db.func.count()).select_from(Venue)) == 0


def test_update_venue_changes_it_and_can_retire_it(organiser):
    venue = factories.make_venue(postcode="BS6 5AB")
    services.update_venue(venue, actor=organiser, **{**VENUE, "postcode": "bs1 4dj", "active": False})
    db.session.expire_all()
    assert (venue.name, venue.postcode, venue.active) == ("Redland Children's Centre", "BS1 4DJ", False)


def test_list_venues_puts_those_in_use_first(app):
    retired = factories.make_venue(name="Alpha Hall", active=False)
    in_use = factories.make_venue(name="Zeta Studio")
    assert services.list_venues() == [in_use, retired]


# Instructors and organisers


def test_list_staff_leaves_out_parents(organiser):
    instructor = factories.make_user(role="instructor", full_name="Bea Jones")
    switched_off = factories.make_user(role="instructor", full_name="Cy Brown", active=False)
    factories.make_user(role="parent")
    assert set(services.list_staff()) == {organiser, instructor, switched_off}
    assert set(services.list_staff(active_only=True)) == {organiser, instructor}


def test_set_user_active_switches_sign_in_off_and_on(organiser):
    instructor = factories.make_user(role="instructor")
    services.set_user_active(instructor, active=False, actor=organiser)
    assert instructor.active is False
    services.set_user_active(instructor, active=True, actor=organiser)
    assert instructor.active is True
    assert db.session.scalars(db.select(AuditEntry.action).order_by(AuditEntry.id)).all() == [
        "user.deactivated",
        "user.activated",
    ]


def test_an_organiser_cannot_switch_themselves_off(organiser):
    with pytest.raises(OrganiserError, match="your own account"):
        services.set_user_active(organiser, active=False, actor=organiser)
    db.session.expire_all()
    assert organiser.active is True


def test_parents_are_not_managed_as_staff(organiser):
    parent = factories.make_user(role=Role.PARENT)
    with pytest.raises(OrganiserError, match="Only instructors"):
        services.set_user_active(parent, active=False, actor=organiser)


# Overview


def test_dashboard_counts_courses_sessions_people_and_places(organiser):
    now = datetime(2027, 3, 1, 9, tzinfo=UTC)
    instructor = factories.make_user(role="instructor")
    factories.make_user(role="instructor", active=False)
    factories.make_course(instructor=instructor, first_session=now + timedelta(days=2), sessions=3)
    factories.make_course(instructor=instructor, first_session=now + timedelta(days=3), status=CourseStatus.DRAFT)
    cancelled_session = factories.make_course(instructor=instructor, first_session=now + timedelta(days=1), sessions=1)
    cancelled_session.sessions[0].status = SessionStatus.CANCELLED
    db.session.commit()
    factories.make_venue(active=False)
    counts = services.dashboard_counts(now=now)
    assert counts == {
        "published": 2,
        "draft": 1,
        "cancelled": 0,
        "sessions_this_week": 1,
        "instructors": 1,
        "venues": 3,
    }


def test_update_settings_switches_instructor_refunds_on(organiser):
    assert get_organisation().allow_instructor_refunds is False
    services.update_settings(actor=organiser, allow_instructor_refunds=True)
    assert db.session.scalars(db.select(Organisation)).one().allow_instructor_refunds is True

"""Instructors' credentials: recorded with clear refusals, alerted once 30 days ahead, lapsed insurance stops publishing."""

import io
import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from instructor_portal.accounts.models import Role
from instructor_portal.audit import AuditEntry
from instructor_portal.catalogue.models import CourseStatus
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from instructor_portal.organisation import local_today
from instructor_portal.teaching import credentials, services
from instructor_portal.teaching.models import Credential, CredentialKind
from instructor_portal.uploads import StoredFile
from tests import factories
from tests.conftest import count, post_form, race, text
from tests.files import MARKDOWN, PDF, PNG, files_on_disk

#: Noon in London on 1 March 2027 (GMT, so local and UTC dates agree).
NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
TODAY = date(2027, 3, 1)


@pytest.fixture
def instructor(app):
    return factories.make_user(role=Role.INSTRUCTOR, full_name="Hannah Okafor")


@pytest.fixture
def organiser(app):
    return factories.make_user(role=Role.ORGANISER, full_name="Olu Organiser")


def record(instructor, kind=CredentialKind.INSURANCE, **values):
    defaults = {
        CredentialKind.INSURANCE: {"provider": "Balens", "expires_on": TODAY + timedelta(days=200)},
        CredentialKind.CIMI: {"issued_on": date(2019, 5, 4), "reference": "CIMI-1234"},
        CredentialKind.DBS: {"issued_on": date(2025, 1, 10), "expires_on": date(2028, 1, 10)},
        CredentialKind.FIRST_AID: {"issued_on": date(2025, 9, 1), "expires_on": date(2028, 9, 1)},
    }[kind]
    return credentials.record_credential(instructor, kind, actor=instructor, **{"now": NOW, **defaults, **values})


def emails_to(address: str) -> list[OutboxEmail]:
    return db.session.scalars(db.select(OutboxEmail).where(OutboxEmail.to_address == address)).all()


# --- Recording --------------------------------------------------------------------------------


def test_an_instructor_records_each_credential_and_a_change_replaces_it_with_an_audit_entry(instructor):
    for kind in CredentialKind:
        record(instructor, kind)
    first = record(instructor, CredentialKind.INSURANCE, expires_on=date(2028, 4, 1), reference="POL-9")
    assert count(Credential) == 4
    assert (first.provider, first.expires_on, first.reference) == ("Balens", date(2028, 4, 1), "POL-9")
    last = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert (last.action, last.data["changed"]) == ("credential.recorded", ["expires_on", "reference"])


@pytest.mark.parametrize(
    ("kind", "values", "field", "message"),
    [
        (CredentialKind.INSURANCE, {"provider": ""}, "provider", "Enter the name of your insurer."),
        (CredentialKind.INSURANCE, {"expires_on": None}, "expires_on", "Enter the date your insurance expires."),
        (CredentialKind.CIMI, {"reference": "  "}, "reference", "Enter your certificate number."),
        (CredentialKind.CIMI, {"issued_on": None}, "issued_on", "Enter the date you were certified."),
        (
            CredentialKind.DBS,
            {"issued_on": date(2026, 5, 1), "expires_on": date(2026, 4, 30)},
            "expires_on",
            "The expiry date must be after the date it was issued.",
        ),
        (
            CredentialKind.FIRST_AID,
            {"issued_on": TODAY + timedelta(days=1)},
            "issued_on",
            "This date is in the future.",
        ),
        (CredentialKind.CIMI, {"reference": "x" * 61}, "reference", "Keep the number to 60 characters or fewer."),
    ],
)
def test_bad_details_are_refused_with_a_message_and_nothing_is_written(instructor, kind, values, field, message):
    with pytest.raises(credentials.CredentialError, match=message) as refused:
        record(instructor, kind, **values)
    assert refused.value.field == field
    assert count(Credential) == 0 and count(AuditEntry) == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (MARKDOWN, "This file is plain text. Upload a PDF, or a photo or scan saved as JPEG, PNG or WebP."),
        (b"<html><script>alert(1)</script></html>", "Web pages, SVG images and scripts cannot be uploaded."),
        (b"\x00\x01binary", "This is not a kind of file we can take."),
        (b"", "Choose a document to upload."),
    ],
)
def test_a_copy_that_is_not_a_pdf_or_an_image_is_refused_and_nothing_is_stored(app, instructor, data, message):
    with pytest.raises(DomainError, match=message):
        record(instructor, document=io.BytesIO(data))
    assert count(Credential) == 0 and count(StoredFile) == 0
    assert files_on_disk(app) == []


def test_a_copy_too_large_is_refused(app, instructor):
    app.config["CREDENTIAL_MAX_BYTES"] = 50
    with pytest.raises(DomainError, match="The document is larger than 50 bytes."):
        record(instructor, document=io.BytesIO(PDF))
    assert count(Credential) == 0


def test_only_the_instructor_or_an_organiser_changes_a_credential(instructor, organiser):
    other = factories.make_user(role=Role.INSTRUCTOR)
    with pytest.raises(credentials.CredentialError, match="only change your own"):
        credentials.record_credential(instructor, "insurance", actor=other, provider="X", expires_on=date(2030, 1, 1))
    credentials.record_credential(instructor, "insurance", actor=organiser, provider="X", expires_on=date(2030, 1, 1))
    assert count(Credential) == 1


# --- Lapsed insurance stops publishing ---------------------------------------------------------


def test_lapsed_insurance_stops_publishing_a_new_course_with_a_clear_message(instructor, organiser):
    course = factories.make_course(
        instructor=instructor, status=CourseStatus.DRAFT, first_session=NOW + timedelta(days=10)
    )
    record(instructor, expires_on=TODAY - timedelta(days=1), issued_on=date(2026, 2, 28))
    with pytest.raises(services.TeachingError, match="Your insurance expired on Sun 28 Feb 2027"):
        services.publish_course(course, actor=instructor, now=NOW)
    with pytest.raises(services.TeachingError, match="Hannah Okafor's insurance expired"):
        services.publish_course(course, actor=organiser, now=NOW)
    db.session.refresh(course)
    assert course.status == CourseStatus.DRAFT
    # Valid through its expiry day, and renewed insurance lets the course be published.
    record(instructor, expires_on=TODAY)
    services.publish_course(course, actor=instructor, now=NOW)
    assert course.status == CourseStatus.PUBLISHED


def test_insurance_not_yet_recorded_does_not_stop_publishing(instructor):
    course = factories.make_course(
        instructor=instructor, status=CourseStatus.DRAFT, first_session=NOW + timedelta(days=10)
    )
    services.publish_course(course, actor=instructor, now=NOW)
    assert course.status == CourseStatus.PUBLISHED


def test_the_publish_button_shows_the_refusal_and_changes_nothing(client, login_as, instructor):
    course = factories.make_course(instructor=instructor, status=CourseStatus.DRAFT)
    credentials.record_credential(
        instructor, "insurance", actor=instructor, provider="Balens", expires_on=local_today() - timedelta(days=2)
    )
    login_as(instructor)
    response = post_form(client, f"/teach/courses/{course.id}/publish", page=f"/teach/courses/{course.id}")
    assert response.status_code == 302
    assert "so new courses cannot be published" in text(client.get(response.headers["Location"]))
    db.session.refresh(course)
    assert course.status == CourseStatus.DRAFT


# --- Alerts 30 days ahead, once per expiry date -------------------------------------------------


def test_the_instructor_and_the_organisers_are_emailed_once_30_days_before_an_expiry(instructor, organiser):
    away = factories.make_user(role=Role.ORGANISER, active=False)
    record(instructor, expires_on=TODAY + timedelta(days=31))
    record(instructor, CredentialKind.CIMI)  # no expiry: never alerted
    assert credentials.send_expiry_alerts(now=NOW) == 0
    assert credentials.send_expiry_alerts(now=NOW + timedelta(days=1)) == 1
    assert credentials.send_expiry_alerts(now=NOW + timedelta(days=2)) == 0
    [own] = emails_to(instructor.email)
    assert own.subject == "Your insurance expires on Thu 1 Apr 2027"
    assert "/teach/credentials" in own.body_text and "cannot be published" in own.body_text
    [copy] = emails_to(organiser.email)
    assert copy.subject == "Hannah Okafor's insurance expires on Thu 1 Apr 2027"
    assert "/organiser/credentials" in copy.body_html
    assert emails_to(away.email) == []


def test_a_renewed_expiry_date_is_announced_again_when_it_comes_near(instructor, organiser):
    record(instructor, expires_on=TODAY + timedelta(days=10))
    assert credentials.send_expiry_alerts(now=NOW) == 1
    record(instructor, expires_on=TODAY + timedelta(days=375))
    assert credentials.send_expiry_alerts(now=NOW) == 0
    assert credentials.send_expiry_alerts(now=NOW + timedelta(days=350)) == 1
    assert len(emails_to(instructor.email)) == 2


def test_lapsed_credentials_and_switched_off_instructors_are_not_alerted(instructor, organiser):
    record(instructor, expires_on=TODAY - timedelta(days=1), issued_on=date(2026, 1, 1))
    gone = factories.make_user(role=Role.INSTRUCTOR, active=False)
    record(gone, expires_on=TODAY + timedelta(days=5))
    assert credentials.send_expiry_alerts(now=NOW) == 0


@pytest.fixture
def workers_both_find_it_due(monkeypatch):
    """Hold each worker at its claim until both have found the credential due, so they claim at the same moment."""
    both = threading.Barrier(2, timeout=30)
    real_claim = credentials._claim

    def claim_together(credential_id: int, *, checked: bool = True) -> bool:
        both.wait()
        return real_claim(credential_id) if checked else True

    return claim_together


def race_two_workers(racing_app) -> int:
    outcomes = race(racing_app, lambda: credentials.send_expiry_alerts(now=NOW), [(), ()])
    assert all(isinstance(outcome, int) for outcome in outcomes), outcomes
    return sum(outcomes.elements())


def test_control_without_the_claim_two_workers_send_the_alert_twice(
    app, racing_app, instructor, organiser, workers_both_find_it_due, monkeypatch
):
    record(instructor, expires_on=TODAY + timedelta(days=20))
    monkeypatch.setattr(credentials, "_claim", lambda ident: workers_both_find_it_due(ident, checked=False))
    assert race_two_workers(racing_app) == 2
    db.session.expire_all()
    assert len(emails_to(instructor.email)) == 2


def test_two_workers_at_once_send_each_alert_once(
    app, racing_app, instructor, organiser, workers_both_find_it_due, monkeypatch
):
    record(instructor, expires_on=TODAY + timedelta(days=20))
    monkeypatch.setattr(credentials, "_claim", workers_both_find_it_due)
    assert race_two_workers(racing_app) == 1
    db.session.expire_all()
    assert len(emails_to(instructor.email)) == 1 and len(emails_to(organiser.email)) == 1


# --- Pages --------------------------------------------------------------------------------------


def test_the_instructor_records_insurance_with_a_copy_on_the_credentials_page(client, login_as, instructor):
    login_as(instructor)
    page = client.get("/teach/credentials")
    assert page.status_code == 200 and "Not recorded" in text(page)
    response = post_form(
        client,
        "/teach/credentials/insurance",
        {
            "insurance-provider": "Balens",
            "insurance-expires_on": "2031-05-31",
            "insurance-document": (io.BytesIO(PDF), "policy.pdf"),
        },
        page="/teach/credentials",
    )
    assert response.status_code == 302
    page = text(client.get("/teach/credentials"))
    assert "Insurance saved." in page and "Valid until Sat 31 May 2031" in page
    credential = db.session.scalars(db.select(Credential)).one()
    served = client.get(f"/teach/credentials/{credential.id}/document", buffered=True)
    assert served.status_code == 200 and served.data == PDF
    assert served.headers["Content-Type"] == "application/pdf"
    assert served.headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"insurance-provider": "", "insurance-expires_on": "2031-05-31"}, "Enter the name of your insurer."),
        ({"insurance-provider": "Balens", "insurance-expires_on": "31/02/2031"}, "Enter a real date"),
        (
            {"insurance-provider": "Balens", "insurance-issued_on": "2026-06-01", "insurance-expires_on": "2026-05-31"},
            "The expiry date must be after the date it was issued.",
        ),
        (
            {
                "insurance-provider": "Balens",
                "insurance-expires_on": "2031-05-31",
                "insurance-document": (MARKDOWN, "policy.pdf"),
            },
            "This file is plain text.",
        ),
    ],
)
def test_a_refused_credential_form_says_why_with_422_and_saves_nothing(client, login_as, instructor, data, message):
    login_as(instructor)
    # A file is made afresh for each run: the form's upload closes the one it was sent.
    data = {
        name: (io.BytesIO(value[0]), value[1]) if isinstance(value, tuple) else value for name, value in data.items()
    }
    response = post_form(client, "/teach/credentials/insurance", data, page="/teach/credentials")
    assert response.status_code == 422
    assert message in text(response), [line for line in text(response).splitlines() if "error" in line]
    assert count(Credential) == 0 and count(StoredFile) == 0


def test_an_unknown_kind_of_credential_is_not_found(client, login_as, instructor):
    login_as(instructor)
    assert post_form(client, "/teach/credentials/passport", {}, page="/teach/credentials").status_code == 404


@pytest.mark.parametrize(("who", "status"), [("owner", 200), ("organiser", 200), ("other", 404), ("parent", 403)])
def test_a_credential_copy_is_only_for_its_instructor_and_organisers(client, login_as, instructor, who, status):
    credential = record(instructor, document=io.BytesIO(PNG))
    viewer = {
        "owner": instructor,
        "organiser": factories.make_user(role=Role.ORGANISER),
        "other": factories.make_user(role=Role.INSTRUCTOR),
        "parent": factories.make_user(role=Role.PARENT),
    }[who]
    login_as(viewer)
    assert client.get(f"/teach/credentials/{credential.id}/document", buffered=True).status_code == status


def test_a_signed_out_visitor_is_sent_to_sign_in_for_a_copy(client, instructor):
    credential = record(instructor, document=io.BytesIO(PNG))
    assert client.get(f"/teach/credentials/{credential.id}/document").status_code == 302


def test_the_organiser_sees_what_has_lapsed_expires_within_60_days_or_is_missing(client, login_as, instructor):
    today = local_today()
    record(instructor, expires_on=today - timedelta(days=3), issued_on=today - timedelta(days=400), now=None)
    credentials.record_credential(
        instructor,
        "dbs",
        actor=instructor,
        issued_on=today - timedelta(days=700),
        expires_on=today + timedelta(days=40),
    )
    credentials.record_credential(
        instructor,
        "first_aid",
        actor=instructor,
        issued_on=today - timedelta(days=10),
        expires_on=today + timedelta(days=90),
    )
    rows = credentials.credentials_watch()
    assert [(row.kind, row.status, row.days_left) for row in rows] == [
        (CredentialKind.INSURANCE, credentials.CredentialStatus.LAPSED, -3),
        (CredentialKind.DBS, credentials.CredentialStatus.EXPIRING, 40),
        (CredentialKind.CIMI, credentials.CredentialStatus.MISSING, None),
    ]
    login_as(factories.make_user(role=Role.ORGANISER))
    page = text(client.get("/organiser/credentials"))
    assert "Hannah Okafor" in page and "Lapsed" in page and "(3 days ago)" in page and "(in 40 days)" in page
    assert "First aid" not in page

"""Care notes about a child's health are kept only with the parent's recorded consent, and go when it is withdrawn."""

from datetime import date, timedelta

from instructor_portal.accounts.models import CARE_NOTES_CONSENT, CARE_NOTES_CONSENT_VERSION, Child
from instructor_portal.attendance.export_filters import RegisterExportError, RegisterFilters
from instructor_portal.attendance.exports import export_registers
from instructor_portal.audit import AuditEntry
from instructor_portal.extensions import db
from tests import factories
from tests.conftest import post_form, text

BABY = {"first_name": "Ada", "last_name": "Okafor", "date_of_birth": (date.today() - timedelta(weeks=10)).isoformat()}


def test_the_form_says_who_sees_the_notes_and_asks_for_agreement_in_those_words(client, login_as):
    login_as("parent")
    page = text(client.get("/account/children/new"))
    assert "Only the instructor of a course your child is booked on and the organiser see this." in page
    assert CARE_NOTES_CONSENT.replace("'", "&#39;") in page


def test_notes_without_agreement_are_refused_and_nothing_is_kept(client, login_as):
    login_as("parent")
    response = post_form(client, "/account/children/new", {**BABY, "care_notes": "Born at 30 weeks"})
    assert response.status_code == 422
    assert "Tick the box to agree to these notes being kept, or leave the notes empty." in text(response)
    assert db.session.scalar(db.select(db.func.count(Child.id))) == 0


def test_agreeing_records_when_and_to_which_wording_and_withdrawing_deletes_the_notes(client, login_as):
    parent = login_as("parent")
    post_form(client, "/account/children/new", {**BABY, "care_notes": "Born at 30 weeks", "care_notes_consent": "y"})
    child = db.session.scalars(db.select(Child)).one()
    assert (child.care_notes, child.care_notes_consent_version) == ("Born at 30 weeks", CARE_NOTES_CONSENT_VERSION)
    assert child.care_notes_consent_at is not None
    edit = text(client.get(f"/account/children/{child.id}/edit"))
    assert "You agreed on" in edit and "Withdraw and delete the notes" in edit
    post_form(client, f"/account/children/{child.id}/care-notes/withdraw", page=f"/account/children/{child.id}/edit")
    db.session.refresh(child)
    assert (child.care_notes, child.care_notes_consent_at, child.care_notes_consent_version) == ("", None, None)
    assert db.session.scalars(db.select(AuditEntry.action).where(AuditEntry.subject_id == child.id)).all() == [
        "child.care_notes_withdrawn"
    ]
    assert parent.id == child.parent_id


def test_only_organisers_can_export_care_notes(app):
    instructor = factories.make_user(role="instructor")
    course = factories.make_course(instructor=instructor)
    factories.make_booking(course, [factories.make_child(care_notes="Reflux")])
    try:
        export_registers(RegisterFilters(course=course), "csv", by=instructor, care_notes=True)
    except RegisterExportError as error:
        assert "Only organisers can export care notes" in error.message
    else:
        raise AssertionError("an instructor exported care notes")
    export = export_registers(
        RegisterFilters(course=course), "csv", by=factories.make_user(role="organiser"), care_notes=True
    )
    assert "Reflux" in "".join(export.chunks)

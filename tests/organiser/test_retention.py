"""Children's records go after the retention period: registers keep counts and initials, the audit log says how many, never whose."""

from datetime import UTC, datetime, timedelta

import pytest

from instructor_portal.accounts.models import Child
from instructor_portal.attendance.export_filters import RegisterFilters
from instructor_portal.attendance.exports import export_registers
from instructor_portal.attendance.services import build_register
from instructor_portal.audit import AuditEntry
from instructor_portal.booking.models import BookingPlace
from instructor_portal.extensions import db
from instructor_portal.organisation import DEFAULTS, Organisation
from instructor_portal.organiser.retention import find_old_records, purge_old_records, retention_cutoff
from tests import factories
from tests.conftest import count, post_form, text

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def history(app):
    """An organisation keeping records 12 months; a course that ended 13 months ago, and one that ended last month."""
    db.session.add(Organisation(**{**DEFAULTS, "retention_months": 12}))
    db.session.commit()
    old = factories.make_course(title="Autumn 2025 family course", sessions=2, first_session=NOW - timedelta(days=410))
    recent = factories.make_course(
        title="Autumn 2026 family course", sessions=2, first_session=NOW - timedelta(days=40)
    )
    ada = factories.make_child(
        first_name="Ada", last_name="Lovelace", care_notes="Reflux; prefers to stay on the tummy."
    )
    ben = factories.make_child(first_name="Ben", last_name="Okri")
    cara = factories.make_child(first_name="Cara", last_name="Jones")
    factories.make_booking(old, [ada])
    factories.make_booking(old, [ben])
    factories.make_booking(old, [cara])
    factories.make_booking(recent, [cara])  # Cara came back: her record stays
    return old, recent


def test_the_cut_off_is_whole_calendar_months_back():
    assert retention_cutoff(datetime(2026, 3, 31, 12, tzinfo=UTC), 1) == datetime(2026, 2, 28, 12, tzinfo=UTC)
    assert retention_cutoff(datetime(2026, 12, 1, tzinfo=UTC), 24) == datetime(2024, 12, 1, tzinfo=UTC)


def test_a_dry_run_says_what_would_go_and_removes_nothing(history):
    old, _ = history
    report = purge_old_records(dry_run=True, now=NOW)
    assert report.children == 2
    assert [(entry.course.id, entry.children) for entry in report.courses] == [(old.id, 2)]
    assert report.summary(dry_run=True).startswith(
        "Would remove 2 children's records from 1 course that ended before 1 Dec 2025"
    )
    assert count(Child) == 3 and count(AuditEntry) == 0


def test_records_past_the_period_go_and_registers_keep_counts_and_initials(history):
    old, recent = history
    report = purge_old_records(now=NOW)
    assert report.children == 2
    assert sorted(db.session.scalars(db.select(Child.first_name))) == ["Cara"]
    places = db.session.scalars(
        db.select(BookingPlace).where(BookingPlace.course_id == old.id).order_by(BookingPlace.id)
    ).all()
    assert [(place.child_id is None, place.child_initial) for place in places] == [
        (True, "A."),
        (True, "B."),
        (False, None),
    ]
    names = [row.child_name for row in build_register(old.sessions[0])]
    assert sorted(names) == ["A. (record removed)", "B. (record removed)", "Cara"]
    export = export_registers(
        RegisterFilters(course=old), "csv", by=factories.make_user(role="organiser"), care_notes=True
    )
    exported = "".join(chunk if isinstance(chunk, str) else chunk.decode() for chunk in export.chunks)
    assert "A. (record removed)" in exported and "Lovelace" not in exported and "Reflux" not in exported
    assert find_old_records(now=NOW).children == 0
    assert purge_old_records(now=NOW).children == 0  # running it again changes nothing


def test_the_audit_log_says_how_many_went_and_from_where_never_whose(history):
    old, _ = history
    purge_old_records(now=NOW)
    [entry] = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "retention.purged")).all()
    assert (entry.data["children"], entry.data["course_ids"], entry.data["retention_months"]) == (2, [old.id], 12)
    assert "Ada" not in str(entry.data) and "Lovelace" not in str(entry.data)


def test_the_purge_command_reports_and_can_only_look(history, runner):
    looked = runner.invoke(args=["purge-old-data", "--dry-run"])
    assert looked.exit_code == 0 and looked.output.startswith("Would remove 2 children's records from 1 course")
    assert count(Child) == 3
    removed = runner.invoke(args=["purge-old-data"])
    assert removed.exit_code == 0 and removed.output.startswith("Removed 2 children's records")
    assert count(Child) == 1


def test_organisers_see_what_would_go_and_remove_it_only_when_they_confirm(client, login_as, history):
    login_as("organiser")
    page = text(client.get("/organiser/retention"))
    assert "Due for removal: 2 children" in page and "Autumn 2025 family course" in page
    assert "Autumn 2026" not in page and "Ada" not in page
    refused = post_form(client, "/organiser/retention", {}, follow_redirects=True)
    assert "Tick the box to confirm" in text(refused)
    assert count(Child) == 3
    done = post_form(client, "/organiser/retention", {"confirm": "yes"}, follow_redirects=True)
    assert "Removed 2 children&#39;s records" in text(done)
    assert count(Child) == 1
    assert "No child&#39;s record is older than the retention period." in text(client.get("/organiser/retention"))

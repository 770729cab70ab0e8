"""The funder's PDF: one referrer's figures, read back with pypdf, names only when ticked, and every download audited."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader

from instructor_portal.attendance.models import AttendanceMark, AttendanceStatus
from instructor_portal.audit import AuditEntry
from instructor_portal.booking.models import VoucherKind, VoucherRedemption
from instructor_portal.catalogue.models import Track
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from instructor_portal.organisation import DEFAULTS, Organisation, local_today
from instructor_portal.organiser import funder_report
from instructor_portal.organiser.funder_pdf import funder_pdf
from instructor_portal.organiser.report_scope import ReportError
from instructor_portal.teaching import evaluations
from tests import factories
from tests.conftest import count, post_form

NEONATAL = "Neonatal outreach team, Southmead Hospital"
NOW = datetime.now(UTC).replace(microsecond=0)


def days_ago(days: int) -> datetime:
    return (NOW - timedelta(days=days)).replace(hour=10, minute=0, second=0)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def referred(course, voucher, first_name: str, *, came: int, last_name: str = "Smith"):
    """Book a child on ``course`` with ``voucher`` and mark them present at its first ``came`` sessions."""
    booking = factories.make_booking(course, [factories.make_child(first_name=first_name, last_name=last_name)])
    db.session.add(VoucherRedemption(voucher=voucher, booking=booking, discount_pence=course.price_pence))
    for session in course.sessions[:came]:
        db.session.add(
            AttendanceMark(
                place=booking.places[0], session=session, status=AttendanceStatus.PRESENT, marked_at=session.starts_at
            )
        )
    db.session.commit()
    return booking


@pytest.fixture
def scene(app):
    """Five children referred by the neonatal team, four of them funded, on three courses.

    Finished: Ava came 2 of 3 (complete), Ben 1 of 3 (not), Dan 3 of 3 with a 10%-off referral code
    (complete), and Eve 1 of 1 on an adoptive course (complete). Cara's course is still running.
    So: 5 families, 5 places, 4 funded, 8 sessions attended, 3 of 4 finished places complete: 75%.
    """
    db.session.add(Organisation(**{**DEFAULTS, "name": "Connected Babies Bristol"}))
    funded = factories.make_voucher(kind=VoucherKind.FUNDED, value=0, referrer=NEONATAL)
    discount = factories.make_voucher(referrer=NEONATAL)
    other = factories.make_voucher(kind=VoucherKind.FUNDED, value=0, referrer="Health visitors, Bath")
    finished = factories.make_course(title="Gentle Touch", sessions=3, first_session=days_ago(50))
    running = factories.make_course(title="Gentle Touch again", sessions=2, first_session=days_ago(3))
    adoptive = factories.make_course(
        title="Nurturing Touch", sessions=1, track=Track.ADOPTIVE_FOSTER, first_session=days_ago(20)
    )
    earlier = factories.make_course(title="Long ago", sessions=1, first_session=days_ago(400))
    referred(finished, funded, "Ava", came=2)
    referred(finished, funded, "Ben", came=1)
    referred(finished, discount, "Dan", came=3)
    referred(running, funded, "Cara", came=1)
    referred(adoptive, funded, "Eve", came=1, last_name="Jones")
    referred(finished, other, "Olly", came=3)  # another referrer's family
    referred(earlier, funded, "Zoe", came=1)  # before the period
    return {"from": local_today() - timedelta(days=90), "to": local_today()}


def test_the_report_counts_the_referrers_families_places_and_completions(scene):
    report = funder_report.build_funder_report(NEONATAL, scene["from"], scene["to"], now=NOW)
    assert report.families == 5 and len(report.places) == 5
    assert report.places_funded == 4 and report.sessions_attended == 8
    assert (report.completed, report.finished, report.completion_rate) == (3, 4, 75.0)
    assert all(place.child is None for place in report.places)


def test_the_pdf_names_the_organisation_and_gives_the_figures_without_names(scene):
    content = funder_report.download_funder_report(
        NEONATAL, scene["from"], scene["to"], by=factories.make_user(role="organiser"), names=False, now=NOW
    )
    words = pdf_text(content)
    assert "Connected Babies Bristol: funder's report" in words
    assert f"Referrer: {NEONATAL}" in words
    for line in (
        "Families referred: 5",
        "Places referred: 5",
        "Places funded: 4",
        "Sessions attended: 8",
        "Completion rate: 75% (3 of 4 places on finished courses)",
    ):
        assert line in words
    assert "N-1 of N" in words  # the rule is stated
    assert "Gentle Touch" in words and "Still running" in words
    assert not any(name in words for name in ("Ava", "Ben", "Cara", "Dan", "Eve", "Smith", "Olly", "Zoe"))
    assert "Evaluation results" not in words  # none exist yet, so the section is left out


def test_names_appear_only_when_ticked_and_adoptive_courses_keep_their_privacy(scene):
    content = funder_report.download_funder_report(
        NEONATAL, scene["from"], scene["to"], by=factories.make_user(role="organiser"), names=True, now=NOW
    )
    words = pdf_text(content)
    assert "Ava Smith" in words and "Cara Smith" in words
    assert "Eve J." in words and "Jones" not in words
    assert "Olly" not in words


def test_every_download_is_audited_with_whether_names_went_out(scene):
    organiser = factories.make_user(role="organiser")
    for names in (False, True):
        funder_report.download_funder_report(NEONATAL, scene["from"], scene["to"], by=organiser, names=names)
    entries = db.session.scalars(
        db.select(AuditEntry).where(AuditEntry.action == funder_report.AUDIT_ACTION).order_by(AuditEntry.id)
    ).all()
    assert [entry.data["children_names"] for entry in entries] == [False, True]
    assert all(entry.actor_id == organiser.id and entry.data["referrer"] == NEONATAL for entry in entries)
    assert entries[0].data["date_from"] == scene["from"].isoformat()


def test_the_evaluation_section_shows_results_once_there_are_some(scene):
    report = funder_report.build_funder_report(NEONATAL, scene["from"], scene["to"], now=NOW)
    with_results = funder_report.FunderReport(
        **{**report.__dict__, "evaluations": (funder_report.EvaluationResult("Confidence reading cues", 4, 4.5),)}
    )
    words = pdf_text(funder_pdf(with_results))
    assert "Evaluation results" in words and "Confidence reading cues" in words and "4.5" in words


def test_a_referrer_nobody_names_is_refused_and_nothing_is_audited(scene):
    with pytest.raises(ReportError) as refused:
        funder_report.download_funder_report(
            "Someone else", scene["from"], scene["to"], by=factories.make_user(role="organiser"), names=True
        )
    assert refused.value.field == "referrer"
    assert count(AuditEntry) == 0


# --- through the page ---------------------------------------------------------------------------


def test_the_organiser_downloads_the_pdf_from_the_form(client, login_as, scene):
    login_as("organiser")
    response = post_form(
        client,
        "/organiser/reports/funder",
        {"referrer": NEONATAL, "date_from": scene["from"].isoformat(), "date_to": scene["to"].isoformat()},
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "Places funded: 4" in pdf_text(response.data)
    assert (
        db.session.scalars(db.select(AuditEntry.data).where(AuditEntry.action == funder_report.AUDIT_ACTION)).one()[
            "children_names"
        ]
        is False
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"referrer": ""}, "Choose who referred the families."),
        ({"referrer": "Made up"}, "Choose a referrer from the list."),
        ({"date_from": ""}, "Enter the first day of the period."),
        ({"date_to": "31/02/2027"}, "Enter a real date, such as 14/03/2027."),
        ({"date_from": "2027-03-02", "date_to": "2027-03-01"}, "The &#34;To&#34; date must be on or after"),
        ({"date_from": "2020-01-01", "date_to": "2026-01-01"}, "Choose a range of 5 years or less."),
    ],
)
def test_bad_input_gets_a_message_a_422_and_writes_nothing(client, login_as, scene, changes, message):
    login_as("organiser")
    before = count(AuditEntry)
    form = {"referrer": NEONATAL, "date_from": "2027-01-01", "date_to": "2027-03-31", "include_names": "y", **changes}
    response = post_form(client, "/organiser/reports/funder", form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(AuditEntry) == before


def test_the_evaluation_results_of_the_referred_familys_courses_are_in_the_report(scene):
    assert evaluations.send_evaluations(now=NOW) > 0
    emails = db.session.scalars(db.select(OutboxEmail).where(OutboxEmail.subject == "How was Gentle Touch?")).all()
    tokens = [re.search(r"/evaluations/(\S+)", email.body_text).group(1) for email in emails]
    assert len(tokens) == 4  # Ava, Ben, Dan and Olly's families on the finished course
    for token, score in zip(tokens[:2], (5, 4), strict=True):
        evaluations.answer_evaluation(token, scores={q.id: score for q in evaluations.asked_questions()}, now=NOW)
    report = funder_report.build_funder_report(NEONATAL, scene["from"], scene["to"], now=NOW)
    assert [question.text for question in evaluations.asked_questions()] == [r.question for r in report.evaluations]
    assert all((result.responses, result.average) == (2, 4.5) for result in report.evaluations)
    assert "Evaluation results" in pdf_text(funder_pdf(report))

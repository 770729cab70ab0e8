"""Find a local instructor: by town or postcode prefix and by track, showing only current credentials."""

from datetime import UTC, date, datetime, timedelta

import pytest

from instructor_portal.accounts.models import Role
from instructor_portal.catalogue.finder import InstructorFilters, find_instructors
from instructor_portal.catalogue.models import CourseStatus, Track
from instructor_portal.organisation import local_today
from instructor_portal.teaching.credentials import record_credential
from instructor_portal.teaching.models import CredentialKind
from tests.catalogue.test_cache import page
from tests.conftest import text
from tests.factories import make_course, make_user, make_venue

NEXT_WEEK = (datetime.now(UTC) + timedelta(days=7)).replace(hour=10, minute=0, second=0, microsecond=0)


@pytest.fixture
def instructors(app):
    """Bea teaches premature babies in Bristol (BS6); Cal teaches families in Bath (BA1) and online; Di only says "North Somerset"."""
    bea = make_user(role=Role.INSTRUCTOR, full_name="Bea Brown")
    cal = make_user(role=Role.INSTRUCTOR, full_name="Cal Carter")
    di = make_user(role=Role.INSTRUCTOR, full_name="Di Dunn")
    bea.profile.area, cal.profile.area, di.profile.area = "", "", "North Somerset and Weston"
    bristol = make_venue(town="Bristol", postcode="BS6 5AB")
    bath = make_venue(town="Bath", postcode="BA1 2QH")
    make_course(
        instructor=bea, venue=bristol, track=Track.PREMATURE, title="Neonatal graduates", first_session=NEXT_WEEK
    )
    make_course(instructor=cal, venue=bath, track=Track.FAMILY, first_session=NEXT_WEEK)
    make_course(instructor=cal, venue=None, is_online=True, track=Track.ANTENATAL, status=CourseStatus.DRAFT)
    return bea, cal, di


def names(filters: InstructorFilters) -> list[str]:
    return [entry.instructor.full_name for entry in find_instructors(filters)]


@pytest.mark.parametrize(
    ("filters", "found"),
    [
        (InstructorFilters(), ["Bea Brown", "Cal Carter", "Di Dunn"]),
        (InstructorFilters(place="bristol"), ["Bea Brown"]),
        (InstructorFilters(place="Bri"), ["Bea Brown"]),
        (InstructorFilters(place="bs6"), ["Bea Brown"]),
        (InstructorFilters(place="BS6 5"), ["Bea Brown"]),
        (InstructorFilters(place="BA1"), ["Cal Carter"]),
        (InstructorFilters(place="somerset"), ["Di Dunn"]),
        (InstructorFilters(place="weston"), ["Di Dunn"]),
        (InstructorFilters(place="100%_"), []),
        (InstructorFilters(track=Track.PREMATURE), ["Bea Brown"]),
        (InstructorFilters(track=Track.FAMILY, place="bath"), ["Cal Carter"]),
        (InstructorFilters(track=Track.FAMILY, place="bristol"), []),
        # A draft course teaches nothing yet.
        (InstructorFilters(track=Track.ANTENATAL), []),
    ],
)
def test_instructors_are_found_by_town_postcode_area_and_track(instructors, filters, found):
    assert names(filters) == found


def test_only_current_credentials_are_shown_in_words(instructors):
    bea, cal, _ = instructors
    today = local_today()
    record_credential(bea, "cimi", actor=bea, issued_on=date(2019, 5, 4), reference="C-1")
    record_credential(bea, "insurance", actor=bea, provider="Balens", expires_on=today)
    record_credential(bea, "dbs", actor=bea, issued_on=date(2024, 1, 1), expires_on=today + timedelta(days=300))
    record_credential(
        cal, "insurance", actor=cal, provider="Balens", issued_on=date(2024, 1, 1), expires_on=today - timedelta(days=1)
    )
    record_credential(cal, CredentialKind.FIRST_AID, actor=cal, issued_on=date(2025, 1, 1), expires_on=date(2029, 1, 1))
    shown = {entry.instructor.full_name: entry.credentials for entry in find_instructors(InstructorFilters())}
    assert shown == {
        "Bea Brown": ["CIMI certified since 2019", "Insured", "DBS checked"],
        "Cal Carter": ["First-aid trained"],
        "Di Dunn": [],
    }


def test_the_finder_page_searches_by_get_and_shows_credentials_and_next_courses(client, instructors):
    bea, _, _ = instructors
    record_credential(bea, "cimi", actor=bea, issued_on=date(2019, 5, 4), reference="C-1")
    response = client.get("/instructors?place=BS6&track=premature")
    assert response.status_code == 200
    html = text(response)
    assert "Bea Brown" in html and "Cal Carter" not in html
    assert "CIMI certified since 2019" in html and "Neonatal graduates" in html
    assert "C-1" not in html  # numbers stay with the organisers
    assert "CIMI certified since 2019" in text(client.get(f"/instructors/{bea.id}"))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("track=hovercraft", "Choose a kind of class from the list."),
        ("place=" + "x" * 81, "Use at most 80 characters."),
    ],
)
def test_a_bad_filter_is_ignored_with_a_message_never_an_error(client, instructors, query, message):
    response = client.get(f"/instructors?{query}")
    assert response.status_code == 200
    html = text(response)
    assert message in html
    assert "Bea Brown" in html and "Cal Carter" in html


def test_no_match_says_so(client, instructors):
    assert "No instructor matches that search" in text(client.get("/instructors?place=Leeds"))


def test_a_new_credential_shows_at_once_to_visitors_served_from_the_cache(client, instructors):
    bea, _, _ = instructors
    assert "DBS checked" not in page(client, "/instructors")[0]
    record_credential(bea, "dbs", actor=bea, issued_on=date(2024, 1, 1), expires_on=local_today() + timedelta(days=90))
    assert "DBS checked" in page(client, "/instructors")[0]

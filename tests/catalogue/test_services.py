"""Finding courses and instructors, tested through the services without HTTP."""

from datetime import UTC, date, datetime, timedelta

import pytest

from instructor_portal.accounts.models import Role
from instructor_portal.catalogue.finder import InstructorFilters, find_instructors
from instructor_portal.catalogue.models import CourseStatus, SessionStatus, Track
from instructor_portal.catalogue.services import (
    CourseFilters,
    check_course_eligibility,
    get_public_course,
    get_public_instructor,
    search_courses,
)
from instructor_portal.extensions import db
from tests.factories import make_course, make_session, make_user, make_venue

#: A fixed "now" in British Summer Time, so local dates and UTC differ by an hour.
NOW = datetime(2030, 6, 1, 9, 0, tzinfo=UTC)


def at(day: int, hour: int = 9, month: int = 6) -> datetime:
    """A UTC moment in June 2030 (10:00 local for the default hour)."""
    return datetime(2030, month, day, hour, 0, tzinfo=UTC)


def titles(page) -> list[str]:
    return [item.course.title for item in page.items]


def search(now: datetime = NOW, page: int = 1, per_page: int = 50, **filters):
    return search_courses(CourseFilters(**filters), page=page, per_page=per_page, now=now)


def test_lists_upcoming_published_courses_soonest_first(app):
    make_course(title="Later", first_session=at(20))
    make_course(title="Sooner", first_session=at(10))
    make_course(title="Draft", first_session=at(5), status=CourseStatus.DRAFT)
    make_course(title="Cancelled", first_session=at(5), status=CourseStatus.CANCELLED)
    make_course(title="Finished", first_session=at(1, month=3))
    assert titles(search()) == ["Sooner", "Later"]


def test_course_already_under_way_is_listed_with_its_next_session(app):
    course = make_course(title="Under way", first_session=at(20, month=5), sessions=5)
    listing = search().items[0]
    assert listing.course == course
    assert listing.first_session_at == at(20, month=5)
    assert listing.next_session_at == at(3)  # 20 May + 2 weeks
    assert listing.session_count == 5


def test_cancelled_sessions_do_not_count(app):
    course = make_course(title="One left", first_session=at(10), sessions=2)
    course.sessions[0].status = SessionStatus.CANCELLED
    only_future_session_cancelled = make_course(title="All cancelled", first_session=at(10), sessions=1)
    only_future_session_cancelled.sessions[0].status = SessionStatus.CANCELLED
    db.session.commit()
    [listing] = search().items
    assert listing.course.title == "One left"
    assert (listing.first_session_at, listing.session_count) == (at(17), 1)


def test_places_left_are_the_course_places_until_bookings_exist(app):
    make_course(places=6, first_session=at(10))
    assert search().items[0].places_left == 6


def test_filters_by_track(app):
    make_course(title="Family", track=Track.FAMILY, first_session=at(10))
    make_course(title="Premature", track=Track.PREMATURE, first_session=at(11))
    assert titles(search(track=Track.PREMATURE)) == ["Premature"]


def test_filters_by_childs_age_at_the_first_session(app):
    make_course(title="Young babies", age_min=6, age_max=20, first_session=at(10))
    make_course(title="Older babies", age_min=20, age_max=52, first_session=at(11))
    make_course(title="Antenatal", track=Track.ANTENATAL, age_min=None, age_max=None, first_session=at(12))
    page = search(born=date(2030, 3, 1))  # 14 weeks old on 10 June
    assert titles(page) == ["Young babies"]
    assert page.items[0].eligibility.age == 14
    assert titles(search(born=date(2030, 8, 1))) == ["Antenatal"]  # due after the first sessions


def test_child_born_early_is_matched_by_corrected_age(app):
    make_course(
        title="Premature", track=Track.PREMATURE, uses_corrected_age=True, age_min=0, age_max=8, first_session=at(10)
    )
    make_course(title="Family", age_min=6, age_max=40, first_session=at(11))
    born, due = date(2030, 3, 1), date(2030, 5, 10)  # 14 weeks old, 4 weeks corrected
    assert titles(search(born=born)) == ["Family"]
    page = search(born=born, due=due)
    assert titles(page) == ["Premature", "Family"]
    assert page.items[0].eligibility.corrected is True


def test_date_range_uses_local_dates_inclusively(app):
    # 23:30 on 9 June in London is 22:30 UTC; 00:30 on 11 June is 23:30 UTC on the 10th.
    make_course(title="Late on the 9th", first_session=datetime(2030, 6, 9, 22, 30, tzinfo=UTC))
    make_course(title="On the 10th", first_session=at(10))
    make_course(title="Just after midnight on the 11th", first_session=datetime(2030, 6, 10, 23, 30, tzinfo=UTC))
    assert titles(search(date_from=date(2030, 6, 10), date_to=date(2030, 6, 10))) == ["On the 10th"]
    assert titles(search(date_to=date(2030, 6, 9))) == ["Late on the 9th"]
    assert titles(search(date_from=date(2030, 6, 11))) == ["Just after midnight on the 11th"]


@pytest.mark.parametrize(
    ("place", "expected"),
    [
        ("bris", ["Bristol BS6"]),
        ("BRISTOL", ["Bristol BS6"]),
        ("bath", ["Bath BA1"]),
        ("bs6", ["Bristol BS6"]),
        ("bs65", ["Bristol BS6"]),
        ("BS6 5A", ["Bristol BS6"]),
        ("bs7", []),
        ("online", ["Online"]),
        ("Online ", ["Online"]),
        ("%", []),
        ("b_", []),
    ],
)
def test_filters_by_town_postcode_or_online(app, place, expected):
    make_course(title="Bristol BS6", venue=make_venue(town="Bristol", postcode="BS6 5AB"), first_session=at(10))
    make_course(title="Bath BA1", venue=make_venue(town="Bath", postcode="BA1 1SU"), first_session=at(11))
    make_course(title="Online", is_online=True, online_link="https://meet.example/x", first_session=at(12))
    assert titles(search(place=place)) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("sunflower", ["Sunflower course"]),  # title, any case
        ("SUNFLOWER", ["Sunflower course"]),
        ("towel", ["Sunflower course"]),  # description
        ("lighthouse", ["Harbour course"]),  # venue name
        ("weston", ["Harbour course"]),  # venue town
        ("okafor", ["Harbour course"]),  # instructor name
        ("harbour okafor", ["Harbour course"]),  # every word must match somewhere
        ("sunflower okafor", []),
        ("50%", ["Harbour course"]),  # % is a character, not a wildcard
        ("%", ["Harbour course"]),
        ("_", []),
        ("zzz", []),
    ],
)
def test_free_text_search(app, q, expected):
    make_course(title="Sunflower course", description="Bring a towel.", first_session=at(10))
    make_course(
        title="Harbour course",
        description="50% off for siblings.",
        instructor=make_user(role=Role.INSTRUCTOR, full_name="Hannah Okafor"),
        venue=make_venue(name="Lighthouse Rooms", town="Weston"),
        first_session=at(11),
    )
    assert titles(search(q=q)) == expected


def test_paginates_in_first_session_order(app):
    for day in range(10, 15):
        make_course(title=f"Day {day}", first_session=at(day))
    first = search(per_page=2)
    assert (first.number, first.pages, first.total, first.has_prev, first.has_next) == (1, 3, 5, False, True)
    assert titles(first) == ["Day 10", "Day 11"]
    last = search(per_page=2, page=3)
    assert titles(last) == ["Day 14"]
    assert (last.has_prev, last.has_next) == (True, False)


@pytest.mark.parametrize(("asked", "shown"), [(0, 1), (-4, 1), (99, 3), (10**30, 3)])
def test_out_of_range_page_numbers_are_clamped(app, asked, shown):
    for day in range(10, 15):
        make_course(first_session=at(day))
    assert search(per_page=2, page=asked).number == shown


def test_empty_catalogue_has_one_empty_page(app):
    page = search()
    assert (page.items, page.number, page.pages, page.total, page.has_prev, page.has_next) == (
        [],
        1,
        1,
        0,
        False,
        False,
    )


def test_public_course_hides_drafts_and_unknown_ids(app):
    draft = make_course(status=CourseStatus.DRAFT)
    assert get_public_course(draft.id) is None
    assert get_public_course(draft.id + 1000) is None
    assert get_public_course(0) is None
    assert get_public_course(2**40) is None


def test_public_course_shows_cancelled_courses_with_all_sessions(app):
    course = make_course(status=CourseStatus.CANCELLED, sessions=3, first_session=at(10))
    course.sessions[1].status = SessionStatus.CANCELLED
    db.session.commit()
    listing = get_public_course(course.id, now=NOW)
    assert listing.course.status == CourseStatus.CANCELLED
    assert not listing.is_upcoming
    assert len(listing.course.sessions) == 3
    assert listing.session_count == 2


def test_course_eligibility_needs_a_scheduled_session(app):
    course = make_course(sessions=1, first_session=at(10))
    course.sessions[0].status = SessionStatus.CANCELLED
    db.session.commit()
    listing = get_public_course(course.id, now=NOW)
    assert check_course_eligibility(listing, born=date(2030, 1, 1)) is None


def test_course_eligibility_uses_the_local_date_of_the_first_session(app):
    # 23:30 UTC on 9 June is already 10 June in London: the baby is 6 weeks old that day.
    course = make_course(age_min=6, age_max=None, first_session=datetime(2030, 6, 9, 23, 30, tzinfo=UTC))
    listing = get_public_course(course.id, now=NOW)
    result = check_course_eligibility(listing, born=date(2030, 4, 29))
    assert (result.eligible, result.age) == (True, 6)


def test_directory_lists_only_listed_active_instructors_with_upcoming_courses(app):
    shown = make_user(role=Role.INSTRUCTOR, full_name="Bea Shown")
    unlisted = make_user(role=Role.INSTRUCTOR, full_name="Una Listed")
    unlisted.profile.listed = False
    make_user(role=Role.INSTRUCTOR, full_name="Ina Active", active=False)
    make_user(role=Role.ORGANISER, full_name="Org Aniser")
    make_user(role=Role.PARENT, full_name="Pa Rent")
    make_user(role=Role.INSTRUCTOR, full_name="Abe Early")
    db.session.commit()
    make_course(title="Upcoming", instructor=shown, first_session=at(10))
    make_course(title="Draft", instructor=shown, first_session=at(10), status=CourseStatus.DRAFT)
    make_course(title="Past", instructor=shown, first_session=at(1, month=3))
    directory = find_instructors(InstructorFilters(), now=NOW)
    assert [entry.instructor.full_name for entry in directory] == ["Abe Early", "Bea Shown"]
    assert [listing.course.title for listing in directory[1].courses] == ["Upcoming"]
    assert directory[0].courses == []
    assert get_public_instructor(shown.id, now=NOW).profile.area == "Bristol"
    assert get_public_instructor(unlisted.id, now=NOW) is None
    assert get_public_instructor(2**40) is None


def test_course_is_no_longer_upcoming_once_its_last_session_has_started(app):
    course = make_course(sessions=1, first_session=NOW - timedelta(minutes=30))
    make_session(course, starts_at=NOW - timedelta(days=7))
    assert search().total == 0


def test_places_left_counts_confirmed_places_and_live_holds_only(app):
    from instructor_portal.booking.models import BookingStatus
    from tests.factories import make_booking, make_child

    course = make_course(places=6)
    make_booking(course, [make_child(), make_child()])
    make_booking(course, status=BookingStatus.AWAITING_PAYMENT)
    make_booking(
        course, status=BookingStatus.AWAITING_PAYMENT, hold_expires_at=datetime.now(UTC) - timedelta(minutes=1)
    )
    make_booking(course, status=BookingStatus.CANCELLED)
    [listing] = search_courses(CourseFilters()).items
    assert listing.places_left == 3

"""The waiting list's services: joining, leaving, offers in turn, twins, ageing out, lapsing, booking an offer."""

from datetime import UTC, datetime, timedelta

import pytest

from instructor_portal.booking import rules
from instructor_portal.booking import services as booking_services
from instructor_portal.booking.cancellation import cancel_booking
from instructor_portal.booking.models import BookingStatus
from instructor_portal.catalogue.models import CourseStatus
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from instructor_portal.waitlist import offers, services
from instructor_portal.waitlist.models import EntryStatus, WaitlistEntry
from tests import factories

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BORN = NOW.date() - timedelta(weeks=12)


@pytest.fixture
def full_course(app):
    """A course of two places, both booked, starting in a fortnight."""
    course = factories.make_course(places=2, first_session=NOW + timedelta(days=14))
    bookings = [factories.make_booking(course, [factories.make_child(born=BORN)]) for _ in range(2)]
    return course, bookings


def family(children: int = 1, **child):
    parent = factories.make_user(role="parent")
    return parent, [factories.make_child(parent, born=child.get("born", BORN)) for _ in range(children)]


def emails_to(user, subject_part: str) -> list[OutboxEmail]:
    return [
        email
        for email in db.session.scalars(db.select(OutboxEmail).where(OutboxEmail.to_address == user.email))
        if subject_part in email.subject
    ]


def test_a_family_joins_a_full_course_and_sees_its_place_in_the_queue(full_course):
    course, _ = full_course
    first, second = family(), family(children=2)
    one = services.join_waitlist(first[0], course, first[1], now=NOW)
    two = services.join_waitlist(second[0], course, second[1], now=NOW + timedelta(minutes=1))
    assert (one.places, two.places) == (1, 2)
    assert [services.position(one), services.position(two)] == [1, 2]
    assert services.waiting_count(course) == 2
    services.leave_waitlist(one, parent=first[0], now=NOW)
    assert one.status == EntryStatus.LEFT
    assert services.position(two) == 1


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("twice", "already on this course's waiting list"),
        ("booked_child", "already has a place"),
        ("too_young", "this course is for babies from 6 weeks"),
        ("not_full", "has places free"),
        ("no_children", "Choose at least one child"),
        ("someone_elses_child", "your own family"),
        ("cancelled", "cancelled"),
    ],
)
def test_joining_is_refused_with_a_reason_and_changes_nothing(full_course, setup, message):
    course, bookings = full_course
    parent, children = family()
    if setup == "twice":
        services.join_waitlist(parent, course, children, now=NOW)
    elif setup == "booked_child":
        children = bookings[0].children
        parent = bookings[0].parent
    elif setup == "too_young":
        children = [factories.make_child(parent, born=NOW.date() - timedelta(weeks=2))]
    elif setup == "not_full":
        cancel_booking(bookings[0], by=bookings[0].parent, now=NOW)
    elif setup == "no_children":
        children = []
    elif setup == "someone_elses_child":
        children = [factories.make_child(born=BORN)]
    elif setup == "cancelled":
        course.status = CourseStatus.CANCELLED
        db.session.commit()
    before = db.session.scalar(db.select(db.func.count(WaitlistEntry.id)))
    with pytest.raises(services.WaitlistError, match=message):
        services.join_waitlist(parent, course, children, now=NOW)
    assert db.session.scalar(db.select(db.func.count(WaitlistEntry.id))) == before


def test_a_cancellation_offers_the_place_to_the_first_family_who_books_it(full_course):
    course, bookings = full_course
    parent, children = family()
    entry = services.join_waitlist(parent, course, children, now=NOW)
    cancel_booking(bookings[0], by=bookings[0].parent, now=NOW)
    # The freed place belongs to the family waiting for it: nobody books past the list, even before the offer.
    assert rules.places_left(course, now=NOW) == 0
    intruder, theirs = family()
    with pytest.raises(booking_services.CourseFull):
        booking_services.book_places(intruder, course, theirs, accept_terms=True, now=NOW)
    assert offers.offer_places(course, now=NOW) == [entry]
    assert entry.status == EntryStatus.OFFERED
    assert entry.offer_expires_at == NOW + timedelta(hours=24)
    assert rules.places_left(course, now=NOW) == 0
    assert len(emails_to(parent, "A place is free for you")) == 1
    with pytest.raises(booking_services.CourseFull):
        booking_services.book_places(intruder, course, theirs, accept_terms=True, now=NOW)

    booking = booking_services.book_places(parent, course, children, accept_terms=True, now=NOW, offer=entry)
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    assert (entry.status, entry.booking_id) == (EntryStatus.BOOKED, booking.id)
    assert rules.places_left(course, now=NOW) == 0


def test_an_offer_is_booked_once_and_only_by_its_family(full_course):
    course, bookings = full_course
    parent, children = family()
    entry = services.join_waitlist(parent, course, children, now=NOW)
    cancel_booking(bookings[0], by=bookings[0].parent, now=NOW)
    offers.offer_places(course, now=NOW)
    other, theirs = family()
    with pytest.raises(booking_services.BookingError, match="not yours"):
        booking_services.book_places(other, course, theirs, accept_terms=True, now=NOW, offer=entry)
    booking_services.book_places(parent, course, children, accept_terms=True, now=NOW, offer=entry)
    with pytest.raises(booking_services.BookingError, match="offer has ended"):
        booking_services.book_places(parent, course, children, accept_terms=True, now=NOW, offer=entry)


def test_an_offer_that_lapses_goes_to_the_next_family(full_course):
    course, bookings = full_course
    (first, mine), (second, theirs) = family(), family()
    one = services.join_waitlist(first, course, mine, now=NOW)
    two = services.join_waitlist(second, course, theirs, now=NOW + timedelta(minutes=1))
    cancel_booking(bookings[0], by=bookings[0].parent, now=NOW)
    offers.offer_places(course, now=NOW)
    later = NOW + timedelta(hours=25)
    with pytest.raises(booking_services.BookingError, match="offer has ended"):
        booking_services.book_places(first, course, mine, accept_terms=True, now=later, offer=one)
    assert offers.offer_places(course, now=later) == [two]
    assert one.status == EntryStatus.LAPSED
    assert len(emails_to(first, "Your offered place has gone")) == 1


def test_declining_offers_the_place_to_the_next_family(full_course):
    course, bookings = full_course
    (first, mine), (second, theirs) = family(), family()
    one = services.join_waitlist(first, course, mine, now=NOW)
    two = services.join_waitlist(second, course, theirs, now=NOW + timedelta(minutes=1))
    cancel_booking(bookings[0], by=bookings[0].parent, now=NOW)
    offers.offer_places(course, now=NOW)
    assert offers.decline_offer(one, parent=first, now=NOW) == [two]
    assert (one.status, two.status) == (EntryStatus.DECLINED, EntryStatus.OFFERED)


def test_twins_keep_their_place_at_the_front_until_two_places_are_free(full_course):
    course, bookings = full_course
    (twins_parent, twins), (single_parent, single) = family(children=2), family()
    twins_entry = services.join_waitlist(twins_parent, course, twins, now=NOW)
    single_entry = services.join_waitlist(single_parent, course, single, now=NOW + timedelta(minutes=1))
    cancel_booking(bookings[0], by=bookings[0].parent, now=NOW)
    assert offers.offer_places(course, now=NOW) == []
    assert (twins_entry.status, single_entry.status) == (EntryStatus.WAITING, EntryStatus.WAITING)
    cancel_booking(bookings[1], by=bookings[1].parent, now=NOW)
    assert offers.offer_places(course, now=NOW) == [twins_entry]
    booking = booking_services.book_places(twins_parent, course, twins, accept_terms=True, now=NOW, offer=twins_entry)
    assert len(booking.places) == 2


def test_staff_can_offer_a_free_place_to_a_family_further_down(full_course):
    course, bookings = full_course
    (twins_parent, twins), (single_parent, single) = family(children=2), family()
    services.join_waitlist(twins_parent, course, twins, now=NOW)
    single_entry = services.join_waitlist(single_parent, course, single, now=NOW + timedelta(minutes=1))
    organiser = factories.make_user(role="organiser")
    with pytest.raises(services.WaitlistError, match="needs 1 places and 0 are free"):
        offers.offer_by_hand(single_entry, by=organiser, now=NOW)
    cancel_booking(bookings[0], by=bookings[0].parent, now=NOW)
    offers.offer_by_hand(single_entry, by=organiser, now=NOW)
    assert single_entry.status == EntryStatus.OFFERED


def test_a_baby_who_grows_out_of_the_ages_is_taken_off_with_courses_that_fit(app):
    start = NOW + timedelta(days=30)
    course = factories.make_course(places=1, first_session=start, age_min=6, age_max=26)
    factories.make_booking(course, [factories.make_child(born=BORN)])
    factories.make_course(places=4, first_session=start, age_min=6, age_max=52, title="Older babies")
    parent, children = family(born=NOW.date() - timedelta(weeks=19))
    entry = services.join_waitlist(parent, course, children, now=NOW)
    # The first session moves back eight weeks: by then the baby is 31 weeks old.
    for session in course.sessions:
        session.starts_at += timedelta(weeks=8)
        session.ends_at += timedelta(weeks=8)
    db.session.commit()
    offers.offer_places(course, now=NOW)
    assert entry.status == EntryStatus.CLOSED
    assert "outside this course's ages" in entry.closed_reason
    [email] = emails_to(parent, "Waiting list closed")
    assert "Older babies" in email.body_text


def test_an_offer_close_to_the_first_session_is_shortened(app):
    course = factories.make_course(first_session=NOW + timedelta(hours=10))
    assert offers.offer_expiry(course, now=NOW) == NOW + timedelta(hours=5)
    soon = factories.make_course(first_session=NOW + timedelta(minutes=90))
    assert offers.offer_expiry(soon, now=NOW) == NOW + timedelta(hours=1)


def test_a_cancelled_course_closes_its_list(full_course):
    course, _ = full_course
    parent, children = family()
    entry = services.join_waitlist(parent, course, children, now=NOW)
    course.status = CourseStatus.CANCELLED
    db.session.commit()
    offers.sweep_waitlists(now=NOW)
    assert entry.status == EntryStatus.CLOSED
    assert len(emails_to(parent, "Waiting list closed")) == 1


def test_staff_remove_an_entry_with_a_message(full_course):
    course, _ = full_course
    parent, children = family()
    entry = services.join_waitlist(parent, course, children, now=NOW)
    instructor = course.instructor
    with pytest.raises(services.WaitlistError, match="short message"):
        services.remove_entry(entry, by=instructor, message="  ")
    assert entry.status == EntryStatus.WAITING
    services.remove_entry(entry, by=instructor, message="This course is for babies born early.")
    assert entry.status == EntryStatus.REMOVED
    [email] = emails_to(parent, "Waiting list")
    assert "babies born early" in email.body_text


def test_a_course_not_yet_open_for_booking_takes_a_waiting_list_and_offers_when_it_opens(app):
    course = factories.make_course(
        places=3, first_session=NOW + timedelta(days=30), booking_opens_at=NOW + timedelta(days=2)
    )
    parent, children = family()
    entry = services.join_waitlist(parent, course, children, now=NOW)
    assert offers.offer_places(course, now=NOW) == []
    assert offers.offer_places(course, now=NOW + timedelta(days=2, minutes=1)) == [entry]


def test_the_sweep_offers_on_every_list_and_is_safe_to_run_twice(full_course):
    course, bookings = full_course
    parent, children = family()
    entry = services.join_waitlist(parent, course, children, now=NOW)
    cancel_booking(bookings[0], by=bookings[0].parent, now=NOW)
    assert offers.sweep_waitlists(now=NOW) == 1
    assert offers.sweep_waitlists(now=NOW) == 0
    assert entry.offers_made == 1
    assert len(emails_to(parent, "A place is free")) == 1


def test_staff_move_an_entry_up_the_list_and_it_is_offered_first(full_course):
    course, bookings = full_course
    (first, mine), (second, theirs) = family(), family()
    one = services.join_waitlist(first, course, mine, now=NOW)
    two = services.join_waitlist(second, course, theirs, now=NOW)  # the same instant: joined second by id
    organiser = factories.make_user(role="organiser")
    with pytest.raises(services.WaitlistError, match="already first"):
        services.move_entry(one, by=organiser, up=True)
    services.move_entry(two, by=organiser, up=True)
    assert [services.position(two), services.position(one)] == [1, 2]
    cancel_booking(bookings[0], by=bookings[0].parent, now=NOW)
    assert offers.offer_places(course, now=NOW) == [two]


def test_an_offer_on_a_course_cancelled_since_cannot_be_booked(full_course):
    course, bookings = full_course
    parent, children = family()
    entry = services.join_waitlist(parent, course, children, now=NOW)
    cancel_booking(bookings[0], by=bookings[0].parent, now=NOW)
    offers.offer_places(course, now=NOW)
    course.status = CourseStatus.CANCELLED
    db.session.commit()
    with pytest.raises(booking_services.BookingError, match="cancelled"):
        booking_services.book_places(parent, course, children, accept_terms=True, now=NOW, offer=entry)
    assert entry.status == EntryStatus.OFFERED and entry.booking_id is None

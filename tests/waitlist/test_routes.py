"""The waiting list's pages: joining from a full course, the family's lists, taking up an offer, and the staff's view."""

from datetime import UTC, datetime, timedelta

import pytest

from instructor_portal.booking.cancellation import cancel_booking
from instructor_portal.booking.models import Booking, BookingStatus
from instructor_portal.catalogue.models import CourseStatus
from instructor_portal.extensions import db
from instructor_portal.queue import huey
from instructor_portal.waitlist import offers, services
from instructor_portal.waitlist.models import EntryStatus, WaitlistEntry
from tests import factories
from tests.conftest import count, post_form


@pytest.fixture
def full_course(app):
    course = factories.make_course(
        places=1, first_session=datetime.now(UTC) + timedelta(days=14), title="Tuesday babies"
    )
    booking = factories.make_booking(course)
    return course, booking


def test_a_full_course_invites_families_to_the_waiting_list(client, full_course):
    course, _ = full_course
    waiting = factories.make_child()
    services.join_waitlist(waiting.parent, course, [waiting])
    page = client.get(f"/classes/{course.id}").get_data(as_text=True)
    assert "join the waiting list" in page and "1 family is waiting" in page
    assert f"/login?next=/classes/{course.id}/waitlist" in page.replace("%2F", "/")
    listing = client.get("/classes").get_data(as_text=True)
    assert "join the waiting list (1 waiting)" in listing


def test_a_parent_joins_sees_their_place_and_leaves(client, login_as, full_course):
    course, _ = full_course
    parent = login_as("parent")
    child = factories.make_child(parent, first_name="Ada")
    assert "Ada" in client.get(f"/classes/{course.id}/waitlist").get_data(as_text=True)
    response = post_form(client, f"/classes/{course.id}/waitlist", {"children": [child.id]})
    assert response.headers["Location"] == "/account/waiting-lists"
    page = client.get("/account/waiting-lists").get_data(as_text=True)
    assert "Tuesday babies" in page and "You are number 1 on the list" in page
    # Joining again says where they are instead of adding a second entry.
    assert client.get(f"/classes/{course.id}/waitlist").headers["Location"] == "/account/waiting-lists"
    [entry] = db.session.scalars(db.select(WaitlistEntry)).all()
    post_form(client, f"/account/waiting-lists/{entry.id}/leave", page="/account/waiting-lists")
    db.session.refresh(entry)
    assert entry.status == EntryStatus.LEFT


def test_joining_without_choosing_a_child_is_refused_and_changes_nothing(client, login_as, full_course):
    course, _ = full_course
    parent = login_as("parent")
    factories.make_child(parent)
    response = post_form(client, f"/classes/{course.id}/waitlist", {})
    assert response.status_code == 422
    assert "Choose at least one child" in response.get_data(as_text=True)
    assert count(WaitlistEntry) == 0


def test_the_offer_link_books_the_held_place_through_the_normal_payment_path(client, login_as, full_course):
    course, booking = full_course
    parent = login_as("parent")
    child = factories.make_child(parent)
    entry = services.join_waitlist(parent, course, [child])
    cancel_booking(booking, by=booking.parent)
    offers.offer_places(course)
    page = client.get(f"/account/waiting-lists/{entry.id}/offer").get_data(as_text=True)
    assert "We are holding this place for you until" in page
    refused = post_form(client, f"/account/waiting-lists/{entry.id}/offer", {})
    assert refused.status_code == 422 and "agree to the course terms" in refused.get_data(as_text=True)
    response = post_form(client, f"/account/waiting-lists/{entry.id}/offer", {"accept_terms": "y"})
    new = db.session.scalars(db.select(Booking).where(Booking.parent_id == parent.id)).one()
    assert response.headers["Location"] == f"/bookings/{new.id}/pay"
    assert new.status == BookingStatus.AWAITING_PAYMENT
    db.session.refresh(entry)
    assert entry.status == EntryStatus.BOOKED


def test_declining_from_the_account_page_passes_the_place_on(client, login_as, full_course):
    course, booking = full_course
    parent = login_as("parent")
    entry = services.join_waitlist(parent, course, [factories.make_child(parent)])
    cancel_booking(booking, by=booking.parent)
    offers.offer_places(course)
    post_form(client, f"/account/waiting-lists/{entry.id}/decline", page="/account/waiting-lists")
    db.session.refresh(entry)
    assert entry.status == EntryStatus.DECLINED


def test_another_familys_entry_is_not_found(client, login_as, full_course):
    course, _ = full_course
    other = factories.make_child()
    entry = services.join_waitlist(other.parent, course, [other])
    login_as("parent")
    assert client.get(f"/account/waiting-lists/{entry.id}/offer").status_code == 404
    assert client.post(f"/account/waiting-lists/{entry.id}/leave").status_code in (400, 404)
    db.session.refresh(entry)
    assert entry.status == EntryStatus.WAITING


def test_an_expired_offer_says_so_and_books_nothing(client, login_as, full_course):
    course, booking = full_course
    parent = login_as("parent")
    entry = services.join_waitlist(parent, course, [factories.make_child(parent)])
    cancel_booking(booking, by=booking.parent)
    offers.offer_places(course)
    entry.offer_expires_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    page = client.get(f"/account/waiting-lists/{entry.id}/offer").get_data(as_text=True)
    assert "This offer has ended" in page
    assert count(Booking) == 1


def test_the_instructor_sees_the_list_offers_by_hand_and_removes_with_a_message(client, login_as, full_course):
    course, booking = full_course
    login_as(course.instructor)
    twins_parent = factories.make_user(role="parent")
    twins = [factories.make_child(twins_parent), factories.make_child(twins_parent)]
    single = factories.make_child()
    services.join_waitlist(twins_parent, course, twins)
    second = services.join_waitlist(single.parent, course, [single])
    cancel_booking(booking, by=booking.parent)
    page = client.get(f"/teach/courses/{course.id}/waiting-list").get_data(as_text=True)
    assert twins_parent.full_name in page and "Waiting for 2 places" in page
    url = f"/teach/courses/{course.id}/waiting-list"
    post_form(client, f"/teach/waiting-list/{second.id}/offer", page=url)
    db.session.refresh(second)
    assert second.status == EntryStatus.OFFERED
    first = db.session.scalars(db.select(WaitlistEntry).where(WaitlistEntry.parent_id == twins_parent.id)).one()
    post_form(client, f"/teach/waiting-list/{first.id}/remove", {"message": ""}, page=url)
    db.session.refresh(first)
    assert first.status == EntryStatus.WAITING
    post_form(client, f"/teach/waiting-list/{first.id}/remove", {"message": "Please book the twins' course."}, page=url)
    db.session.refresh(first)
    assert first.status == EntryStatus.REMOVED


def test_another_instructor_cannot_see_or_change_the_list(client, login_as, full_course):
    course, _ = full_course
    child = factories.make_child()
    entry = services.join_waitlist(child.parent, course, [child])
    login_as("instructor")
    assert client.get(f"/teach/courses/{course.id}/waiting-list").status_code == 404
    response = post_form(client, f"/teach/waiting-list/{entry.id}/remove", {"message": "x"}, page="/teach")
    assert response.status_code == 404
    db.session.refresh(entry)
    assert entry.status == EntryStatus.WAITING


def test_a_family_cancelling_puts_the_offer_on_the_queue_at_once(client, login_as, full_course):
    course, booking = full_course
    waiting = factories.make_child()
    entry = services.join_waitlist(waiting.parent, course, [waiting])
    huey.flush()
    login_as(booking.parent)
    post_form(client, f"/bookings/{booking.id}/cancel", {"reason": "Moving away"})
    [job] = [task for task in huey.pending() if task.name == "offer_freed_places"]
    huey.execute(job)
    db.session.refresh(entry)
    assert entry.status == EntryStatus.OFFERED


def test_the_instructor_moves_a_family_down_the_list(client, login_as, full_course):
    course, _ = full_course
    first, second = factories.make_child(), factories.make_child()
    one = services.join_waitlist(first.parent, course, [first])
    two = services.join_waitlist(second.parent, course, [second])
    login_as(course.instructor)
    post_form(client, f"/teach/waiting-list/{one.id}/move-down", page=f"/teach/courses/{course.id}/waiting-list")
    assert [entry.id for entry in services.queue(course)] == [two.id, one.id]
    assert client.post(f"/teach/waiting-list/{one.id}/move-sideways").status_code == 404


def test_a_course_whose_booking_has_not_opened_offers_its_waiting_list(client, login_as):
    course = factories.make_course(
        first_session=datetime.now(UTC) + timedelta(days=30), booking_opens_at=datetime.now(UTC) + timedelta(days=3)
    )
    login_as("parent")
    page = client.get(f"/classes/{course.id}").get_data(as_text=True)
    assert "Booking for this course has not opened yet. Join the waiting list" in page
    assert f'href="/classes/{course.id}/waitlist"' in page
    cancelled = factories.make_course(status=CourseStatus.CANCELLED)
    assert "/waitlist" not in client.get(f"/classes/{cancelled.id}").get_data(as_text=True)

"""The "Book for a family" page on the instructor's course page, through the client."""

from datetime import date, timedelta

import pytest

from instructor_portal.accounts.models import Child, Role, User
from instructor_portal.audit import AuditEntry
from instructor_portal.booking.models import Booking, BookingStatus, PaymentMethod
from instructor_portal.catalogue.models import CourseStatus
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from tests import factories
from tests.conftest import count, post_form, text

BORN = (date.today() - timedelta(weeks=12)).isoformat()


@pytest.fixture
def owner(app):
    return factories.make_user(role=Role.INSTRUCTOR)


@pytest.fixture
def course(owner):
    return factories.make_course(instructor=owner, title="Tuesday babies")


def page(course, email: str = "") -> str:
    return f"/teach/courses/{course.id}/book-for-family" + (f"?email={email}" if email else "")


def new_family(**changes) -> dict:
    """A valid walk-in booking form for a family with no account, as a browser sends it."""
    data = {
        "email": "walk.in@example.org",
        "full_name": "Sam Walkin",
        "phone": "07700 900123",
        "child": "new",
        "first_name": "Maya",
        "last_name": "Walkin",
        "date_of_birth": BORN,
        "due_date": "",
        "payment": "pay_at_venue",
        "voucher_code": "",
        "terms_agreed": "y",
    }
    return {key: value for key, value in {**data, **changes}.items() if value is not None}


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("parent", 403), ("another instructor", 404), ("owner", 200), ("organiser", 200)],
)
def test_the_page_is_for_the_courses_instructor_and_organisers(client, login_as, owner, course, who, status):
    if who == "owner":
        login_as(owner)
    elif who == "another instructor":
        login_as("instructor")
    elif who != "anonymous":
        login_as(who)
    assert client.get(page(course)).status_code == status


def test_the_course_page_links_to_it_while_the_course_is_published(client, login_as, owner, course):
    login_as(owner)
    assert page(course) in text(client.get(f"/teach/courses/{course.id}"))
    draft = factories.make_course(instructor=owner, status=CourseStatus.DRAFT)
    assert page(draft) not in text(client.get(f"/teach/courses/{draft.id}"))


def test_an_instructor_books_a_walk_in_family_and_sees_them_on_the_roster(client, login_as, owner, course):
    login_as(owner)
    finding = client.get(page(course, "walk.in@example.org"))
    assert finding.status_code == 200
    assert "Nobody has an account with walk.in@example.org yet" in text(finding)
    response = post_form(client, page(course), new_family(), page=page(course, "walk.in@example.org"))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/teach/courses/{course.id}"
    roster = client.get(f"/teach/courses/{course.id}")
    assert "Place booked for Sam Walkin: confirmed" in text(roster)
    assert "Maya" in text(roster) and "Sam Walkin" in text(roster)
    booking = db.session.scalars(db.select(Booking)).one()
    assert (booking.status, booking.payment_method) == (BookingStatus.CONFIRMED, PaymentMethod.PAY_AT_VENUE)
    assert [e.to_address for e in db.session.scalars(db.select(OutboxEmail))] == ["walk.in@example.org"] * 2


def test_an_existing_parent_is_found_with_their_children_and_sees_the_booking_in_their_account(
    app, login_as, owner, course
):
    child = factories.make_child(first_name="Noah")
    booked = factories.make_child(child.parent, first_name="Ivy")
    factories.make_booking(course, [booked])
    staff = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(staff).login(owner)
    finding = text(staff.get(page(course, child.parent.email)))
    assert f"Booking for <strong>{child.parent.full_name}</strong>" in finding
    assert f'value="{child.id}"' in finding and "Ivy</strong>: Ivy already has a place" in finding
    response = post_form(
        staff,
        page(course),
        {"email": child.parent.email, "child": str(child.id), "payment": "card_link", "terms_agreed": "y"},
        page=page(course, child.parent.email),
    )
    assert response.status_code == 422  # no card payments set up here, so no card link is offered
    response = post_form(
        staff,
        page(course),
        {"email": child.parent.email, "child": str(child.id), "payment": "pay_at_venue", "terms_agreed": "y"},
        page=page(course, child.parent.email),
    )
    assert response.status_code == 302
    family = app.test_client()
    AuthActions(family).login(child.parent)
    assert course.title in text(family.get("/account/bookings"))


def test_a_card_link_is_offered_when_card_payment_is_set_up(client, login_as, owner, course, stripe_server):
    child = factories.make_child()
    # The family booked with this instructor before, so the instructor may see them.
    earlier = factories.make_course(instructor=owner, status=CourseStatus.CANCELLED)
    factories.make_booking(earlier, [factories.make_child(child.parent)], status=BookingStatus.CANCELLED)
    login_as(owner)
    assert "Email the parent a link to pay by card" in text(client.get(page(course, child.parent.email)))
    response = post_form(
        client,
        page(course),
        {"email": child.parent.email, "child": str(child.id), "payment": "card_link", "terms_agreed": "y"},
        page=page(course, child.parent.email),
    )
    assert response.status_code == 302
    booking = db.session.scalars(db.select(Booking).where(Booking.course_id == course.id)).one()
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    [email] = db.session.scalars(db.select(OutboxEmail)).all()
    assert f"/bookings/{booking.id}/pay" in email.body_text


REFUSALS = [
    ({"terms_agreed": None}, "Confirm that the family agreed to the course terms."),
    ({"full_name": ""}, "Enter their name."),
    ({"payment": None}, "Choose how the family will pay."),
    ({"payment": "cheque"}, "Choose how the family will pay."),
    ({"first_name": ""}, "Enter the child&#39;s first name."),
    ({"date_of_birth": "31/02/2027"}, "Enter a real date, such as 14/03/2027."),
    ({"date_of_birth": "99999-01-01"}, "Enter a real date, such as 14/03/2027."),
    ({"date_of_birth": (date.today() + timedelta(days=2)).isoformat()}, "The date of birth cannot be in the future."),
    ({"date_of_birth": (date.today() - timedelta(weeks=70)).isoformat()}, "Maya: "),
    ({"email": "not-an-email"}, "Enter an email address like name@example.org."),
    ({"child": "99999999999999999999"}, "Choose one of the family&#39;s children, or add a child."),
    ({"child": "12345"}, "Choose one of this family&#39;s children."),
    ({"payment": "funded"}, "Enter the funded code the family was given."),
    ({"payment": "funded", "voucher_code": "NOPE"}, "We do not recognise that code."),
]


@pytest.mark.parametrize(("changes", "message"), REFUSALS)
def test_bad_input_gets_a_field_message_a_422_and_writes_nothing(client, login_as, owner, course, changes, message):
    login_as(owner)
    users = count(User)
    response = post_form(client, page(course), new_family(**changes), page=page(course, "walk.in@example.org"))
    assert response.status_code == 422
    assert message in text(response)
    assert (count(Booking), count(Child), count(OutboxEmail), count(User)) == (0, 0, 0, users)


def test_a_staff_email_is_refused_when_looking_up_and_when_booking(client, login_as, owner, course):
    login_as(owner)
    organiser = factories.make_user(role=Role.ORGANISER)
    finding = client.get(page(course, organiser.email))
    assert finding.status_code == 422
    assert "This email belongs to a staff account" in text(finding)
    response = post_form(client, page(course), new_family(email=organiser.email), page=page(course))
    assert response.status_code == 422
    assert "This email belongs to a staff account" in text(response)
    assert count(Booking) == 0


def test_a_full_course_is_refused_with_a_message(client, login_as, owner):
    full = factories.make_course(instructor=owner, places=1)
    factories.make_booking(full)
    login_as(owner)
    response = post_form(client, page(full), new_family(), page=page(full, "walk.in@example.org"))
    assert response.status_code == 422
    assert "full" in text(response)
    assert count(Booking) == 1 and count(Child) == 1


def test_an_instructor_looking_up_a_family_not_on_their_courses_sees_nothing_of_them(client, login_as, owner, course):
    stranger = factories.make_child(first_name="Rosa")
    login_as(owner)
    response = client.get(page(course, stranger.parent.email))
    body = text(response)
    assert response.status_code == 422 and "details stay private" in body
    assert "Rosa" not in body and stranger.parent.full_name not in body


def test_staff_tick_both_twins_and_book_them_together(client, login_as, owner, course):
    first = factories.make_child(first_name="Ada")
    second = factories.make_child(first.parent, first_name="Ben")
    earlier = factories.make_course(instructor=owner, status=CourseStatus.CANCELLED)
    factories.make_booking(earlier, [first], status=BookingStatus.CANCELLED)
    login_as(owner)
    response = post_form(
        client,
        page(course),
        {
            "email": first.parent.email,
            "child": [str(first.id), str(second.id)],
            "payment": "pay_at_venue",
            "terms_agreed": "y",
        },
        page=page(course, first.parent.email),
    )
    assert response.status_code == 302
    booking = db.session.scalars(db.select(Booking).where(Booking.course_id == course.id)).one()
    assert sorted(child.first_name for child in booking.children) == ["Ada", "Ben"]


def test_a_walk_in_baby_born_early_is_added_with_weeks_at_birth_and_agreed_care_notes(client, login_as, owner, course):
    login_as(owner)
    details = {"gestation_weeks": "32", "care_notes": "Reflux; feeds little and often.", "care_notes_consent": "y"}
    response = post_form(client, page(course), new_family(**details), page=page(course, "walk.in@example.org"))
    assert response.status_code == 302
    child = db.session.scalars(db.select(Child)).one()
    assert (child.gestation_weeks, child.care_notes) == (32, "Reflux; feeds little and often.")
    assert child.care_notes_consent_at is not None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"care_notes": "Reflux"}, "Tick the box to confirm the family agreed to these notes being kept"),
        ({"first_name": ""}, "Enter the child's first name."),
        ({"date_of_birth": ""}, "Enter the child's date of birth, or the due date if the baby is not born yet."),
        ({"gestation_weeks": "19"}, "Weeks of pregnancy at birth must be between 22 and 42."),
    ],
)
def test_a_walk_in_childs_details_are_refused_in_words_for_staff(client, login_as, owner, course, changes, message):
    login_as(owner)
    response = post_form(client, page(course), new_family(**changes), page=page(course, "walk.in@example.org"))
    assert response.status_code == 422
    assert message.replace("'", "&#39;") in text(response)
    assert "your child" not in text(response).lower()
    assert count(Booking) == count(Child) == count(User) - 1 == 0


def test_each_look_up_of_a_familys_details_is_audited_and_a_refused_one_is_not(client, login_as, owner, course):
    known = factories.make_child()
    earlier = factories.make_course(instructor=owner, status=CourseStatus.CANCELLED)
    factories.make_booking(earlier, [known], status=BookingStatus.CANCELLED)
    stranger = factories.make_child()
    login_as(owner)
    assert client.get(page(course, known.parent.email)).status_code == 200
    assert client.get(page(course, stranger.parent.email)).status_code == 422
    assert client.get(page(course, "nobody@example.org")).status_code == 200
    [entry] = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "family.looked_up")).all()
    assert (entry.actor_id, entry.subject_id) == (owner.id, known.parent.id)

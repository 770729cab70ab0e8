"""The message pages: write, preview, send, and the copies kept, for the course's instructor and for organisers."""

import html
import re

import pytest

from instructor_portal.accounts.models import Role
from instructor_portal.booking.models import BookingStatus
from instructor_portal.extensions import db
from instructor_portal.messages.models import GroupMessage
from instructor_portal.notifications.models import OutboxEmail
from tests import factories
from tests.conftest import count, post_form, text
from tests.messages.conftest import family, send

HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')
MESSAGE = {"audience": "", "subject": "", "body": "The room has changed:\nwe meet in the hall."}


def compose_url(course, **query) -> str:
    return f"/teach/courses/{course.id}/messages/new" + "".join(f"?{k}={v}" for k, v in query.items())


def preview(client, course, **fields):
    """Fill in the message form and press Preview."""
    return post_form(client, f"/teach/courses/{course.id}/messages/preview", MESSAGE | fields, page=compose_url(course))


def send_from(page) -> dict:
    """What the preview's Send button posts: its hidden fields, exactly as the page holds them."""
    return {name: html.unescape(value) for name, value in HIDDEN.findall(text(page))}


def press_send(client, course, page):
    return client.post(f"/teach/courses/{course.id}/messages", data=send_from(page))


def test_signed_out_visitors_are_sent_to_sign_in_and_parents_are_refused(scene, login_as, client):
    message = send(scene.course, scene.instructor).message
    pages = [compose_url(scene.course), f"/teach/messages/{message.id}"]
    assert [client.get(page).status_code for page in pages] == [302, 302]
    login_as("parent")
    assert [client.get(page).status_code for page in pages] == [403, 403]


@pytest.mark.parametrize(("who", "status"), [("owner", 200), ("other", 404), ("organiser", 200)])
def test_another_instructor_gets_404_and_an_organiser_may_write_to_any_course(scene, login_as, client, who, status):
    users = {"owner": lambda: scene.instructor, "other": lambda: factories.make_user(role=Role.INSTRUCTOR)}
    login_as(users.get(who, lambda: factories.make_user(role=Role.ORGANISER))())
    message = send(scene.course, scene.instructor).message
    assert client.get(compose_url(scene.course)).status_code == status
    assert client.get(f"/teach/messages/{message.id}").status_code == status
    # A form sent with a real token from elsewhere still previews or sends nothing on another's course.
    token_page = "/teach/courses/new"
    assert post_form(
        client, f"/teach/courses/{scene.course.id}/messages/preview", MESSAGE, page=token_page
    ).status_code == (200 if status == 200 else 404)
    sent = post_form(
        client, f"/teach/courses/{scene.course.id}/messages", MESSAGE | {"send_key": "a" * 32}, page=token_page
    )
    assert sent.status_code == (302 if status == 200 else 404)


def test_the_preview_shows_exactly_what_families_get_and_who_and_sends_nothing(scene, login_as, client):
    login_as(scene.instructor)
    page = preview(client, scene.course, subject="Room change")
    body = text(page)
    assert page.status_code == 200
    assert "Nothing has been sent yet. It goes to 3 families" in body
    assert 'Amira Khan <span class="hint">(BabyAmira0, BabyAmira1)</span>' in body
    assert "Ben Jones" in body and "Cara Holder" in body
    assert "Dan Cancelled" not in body and "Eve Expired" not in body and "Fay Lapsed" not in body
    assert "Hello Amira," in body and "The room has changed:\nwe meet in the hall." in body
    assert "Room change" in body and "jo@example.org" in body
    assert "Send to 3 families" in body
    assert count(OutboxEmail) == count(GroupMessage) == 0


def test_sending_from_the_preview_queues_the_emails_and_shows_the_copy_with_each_familys_status(
    scene, login_as, client
):
    login_as(scene.instructor)
    sent = press_send(client, scene.course, preview(client, scene.course))
    message = db.session.scalars(db.select(GroupMessage)).one()
    assert sent.status_code == 302 and sent.headers["Location"] == f"/teach/messages/{message.id}"
    assert message.body == "The room has changed:\nwe meet in the hall."  # the line break survives the hidden field
    assert count(OutboxEmail) == 3
    page = text(client.get(sent.headers["Location"]))
    assert "Message sent to 3 families." in page
    assert page.count("badge-delivery-queued") == 3
    course_page = text(client.get(f"/teach/courses/{scene.course.id}"))
    assert "Tuesday babies: a message from Jo Teacher" in course_page
    assert "3 families: 3 queued" in course_page
    assert "Every family booked on the course" in course_page
    assert "Amira Khan" in course_page.split("messages-heading")[-1]


def test_pressing_send_twice_sends_once(scene, login_as, client):
    login_as(scene.instructor)
    page = preview(client, scene.course)
    press_send(client, scene.course, page)
    again = press_send(client, scene.course, page)
    assert again.status_code == 302
    assert "already been sent, so it was not sent again" in text(client.get(again.headers["Location"]))
    assert count(GroupMessage) == 1 and count(OutboxEmail) == 3


def test_families_who_book_or_cancel_after_the_preview_are_added_or_left_out_and_the_sender_is_told(
    scene, login_as, client
):
    login_as(scene.instructor)
    page = preview(client, scene.course)
    scene.single.status = BookingStatus.CANCELLED
    scene.single.places[0].live = False
    db.session.commit()
    family(scene.course, "Nia Newcomer")
    sent = press_send(client, scene.course, page)
    note = text(client.get(sent.headers["Location"]))
    assert "Nia Newcomer booked since your preview, so got it too." in note
    assert "1 family in the preview no longer had a place, so did not get it." in note
    assert "ben@example.org" not in {e.to_address for e in db.session.scalars(db.select(OutboxEmail))}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"body": "   "}, "Write the message you want to send to the families."),
        ({"body": "x" * 5001}, "Keep the message to 5,000 characters or fewer. This one has 5,001."),
        ({"subject": "x" * 151}, "Keep the subject to 150 characters or fewer."),
        ({"audience": "999999"}, "Choose the whole course or one of its sessions."),
    ],
)
def test_a_refused_message_shows_why_and_keeps_what_was_typed(scene, login_as, client, fields, message):
    login_as(scene.instructor)
    page = preview(client, scene.course, **fields)
    assert page.status_code == 422
    assert message in text(page)
    assert count(GroupMessage) == count(OutboxEmail) == 0


def test_a_course_with_no_families_is_refused_on_the_page(login_as, client):
    instructor = login_as("instructor")
    course = factories.make_course(instructor=instructor)
    page = preview(client, course)
    assert page.status_code == 422
    assert "No families are booked on this course yet." in text(page)


def test_a_sessions_link_chooses_that_session_and_its_message_says_so(scene, login_as, client):
    login_as(scene.instructor)
    session = scene.session
    form = text(client.get(compose_url(scene.course, session=session.id)))
    assert f'<option selected value="{session.id}">' in form
    sent = press_send(client, scene.course, preview(client, scene.course, audience=str(session.id)))
    assert sent.status_code == 302
    message = db.session.scalars(db.select(GroupMessage)).one()
    assert message.session == session
    assert len(message.recipients) == 2  # the hold still being paid is not on the register
    assert "Families at the session on" in text(client.get(f"/teach/messages/{message.id}"))


def test_change_the_message_brings_the_preview_back_into_the_form(scene, login_as, client):
    login_as(scene.instructor)
    fields = send_from(preview(client, scene.course, subject="Room change"))
    page = client.post(compose_url(scene.course), data=fields)
    assert page.status_code == 200
    assert 'value="Room change"' in text(page) and "we meet in the hall.</textarea>" in text(page)
    assert count(GroupMessage) == 0


def test_sending_is_rate_limited_per_sender_with_the_friendly_page(app, scene, login_as, client):
    app.config["GROUP_MESSAGE_RATE_LIMIT"] = "2 per hour"
    login_as(scene.instructor)
    refused = client.post(
        f"/teach/courses/{scene.course.id}/messages", data=send_from(preview(client, scene.course)) | {"body": ""}
    )
    assert refused.status_code == 422  # a refused message does not count
    for _ in range(2):
        assert press_send(client, scene.course, preview(client, scene.course)).status_code == 302
    limited = press_send(client, scene.course, preview(client, scene.course))
    assert limited.status_code == 429
    assert "sending is paused for a while" in text(limited) and "Traceback" not in text(limited)
    assert count(GroupMessage) == 2


def test_the_organisers_page_lists_recent_messages_and_opens_the_form_for_any_course(scene, login_as, client):
    send(scene.course, scene.instructor, subject="Room change")
    other = factories.make_course(title="Friday babies")
    family(other, "Gus Visitor")
    send(other, other.instructor, subject="Bring a towel")
    login_as("organiser")
    page = text(client.get("/organiser/messages"))
    assert page.index("Bring a towel") < page.index("Room change")
    assert "3 families: 3 queued" in page and "Friday babies" in page
    picked = client.get(f"/organiser/messages?course={other.id}")
    assert picked.status_code == 302 and picked.headers["Location"] == compose_url(other)
    assert client.get("/organiser/messages?course=nonsense").status_code == 200

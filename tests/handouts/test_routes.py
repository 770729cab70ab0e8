"""Handout pages through the test client: upload, download for every role, the pages that list them, bad input."""

import io
import re

import pytest

from instructor_portal.accounts.models import Role
from instructor_portal.extensions import db
from instructor_portal.handouts.models import Handout
from instructor_portal.uploads import StoredFile
from tests import factories
from tests.conftest import count, post_form, text
from tests.files import MARKDOWN, PDF, PNG, files_on_disk
from tests.handouts.conftest import upload


def manage_url(course) -> str:
    return f"/teach/courses/{course.id}/handouts"


def upload_form(*, data: bytes = PDF, filename: str = "strokes.pdf", **fields) -> dict:
    """The upload form's fields; ``file`` may be given as (bytes, name)."""
    data, filename = fields.pop("file", (data, filename))
    return {
        "title": "Week 1 strokes",
        "description": "Legs and feet.",
        "release_rule": "on_booking",
        "session": "",
        "release_session": "",
        "file": (io.BytesIO(data), filename),
        **fields,
    }


def fetch(client, handout_id: int):
    """Download a handout; buffered, so the test client closes the file as a server would."""
    return client.get(f"/handouts/{handout_id}", buffered=True)


def sign_in(login_as, scene, who: str):
    """Sign in as one of the people around the scene's course; "anonymous" stays signed out."""
    if who == "anonymous":
        return None
    if who == "instructor":
        return login_as(scene.instructor)
    if who == "booked parent":
        return login_as(scene.parent)
    return login_as(who.split()[-1])


def test_instructor_uploads_a_handout_and_sees_it_listed(client, login_as, scene):
    login_as(scene.instructor)

    response = post_form(client, manage_url(scene.course), upload_form())

    assert response.status_code == 302
    handout = db.session.scalars(db.select(Handout)).one()
    assert (handout.title, handout.description, handout.original_filename) == (
        "Week 1 strokes",
        "Legs and feet.",
        "strokes.pdf",
    )
    page = text(client.get(manage_url(scene.course)))
    assert "Week 1 strokes uploaded." in page
    assert f'href="/handouts/{handout.id}"' in page and "Once booked" in page


def test_instructor_uploads_a_handout_for_one_session_released_at_its_start(client, login_as, scene):
    login_as(scene.instructor)
    session = scene.session(3)

    response = post_form(
        client, manage_url(scene.course), upload_form(session=str(session.id), release_rule="session_start")
    )

    assert response.status_code == 302
    handout = db.session.scalars(db.select(Handout)).one()
    assert (handout.session_id, handout.release_session_id) == (session.id, session.id)
    page = text(client.get(manage_url(scene.course)))
    assert re.search(r"From the session on <time[^>]*>Tue 19 Mar 2030, 10:00am</time>", page)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": "x" * 121}, "Keep the title to 120 characters or fewer."),
        ({"title": ""}, "Give the handout a title."),
        ({"file": (PNG, "strokes.pdf")}, "This file is a PNG image but its name ends in .pdf."),
        ({"file": (b"", "strokes.pdf")}, "The file is empty."),
        ({"file": (PDF, "../../etc/passwd.pdf")}, "must be a plain name without folders"),
        ({"file": (PDF, "..\\x.pdf")}, "must be a plain name without folders"),
        ({"file": (b"<html><script>alert(1)</script>", "page.html")}, "names ending in .html cannot be handouts"),
        ({"file": (b"", "")}, "Choose a file to upload."),
        ({"release_rule": "session_start"}, "Choose the session from whose start families can download it."),
        ({"release_rule": "whenever"}, "Choose when families can download it."),
        ({"session": "abc"}, "Choose one of this course&#39;s sessions."),
    ],
)
def test_bad_uploads_are_shown_again_with_a_message_and_nothing_is_stored(
    app, client, login_as, scene, fields, message
):
    login_as(scene.instructor)

    response = post_form(client, manage_url(scene.course), upload_form(**fields))

    assert response.status_code == 422
    assert message in text(response)
    assert (count(Handout), count(StoredFile), files_on_disk(app)) == (0, 0, [])


def test_a_release_session_from_another_course_is_refused(app, client, login_as, scene):
    login_as(scene.instructor)
    other = factories.make_course(instructor=scene.instructor, sessions=1)

    response = post_form(
        client,
        manage_url(scene.course),
        upload_form(release_rule="session_start", release_session=str(other.sessions[0].id)),
    )

    assert response.status_code == 422
    assert "Choose one of this course&#39;s sessions." in text(response)
    assert (count(StoredFile), files_on_disk(app)) == (0, [])


def test_a_file_over_the_limit_is_refused_with_the_limit(app, client, login_as, scene):
    app.config["HANDOUT_MAX_BYTES"] = 2048
    login_as(scene.instructor)

    response = post_form(client, manage_url(scene.course), upload_form(data=PDF + b" " * 4096))

    assert response.status_code == 422
    assert "The file is larger than 2 KB, the most a handout can be." in text(response)
    assert (count(StoredFile), files_on_disk(app)) == (0, [])


def test_a_giant_request_gets_a_friendly_page(app, client, login_as, scene):
    app.config.update(HANDOUT_MAX_BYTES=2048, MAX_CONTENT_LENGTH=4096)
    login_as(scene.instructor)

    response = post_form(client, manage_url(scene.course), upload_form(data=PDF + b" " * 10_000))

    assert response.status_code == 413
    assert "That file is too large" in text(response) and "Files can be at most 2 KB." in text(response)
    assert count(StoredFile) == 0


@pytest.mark.parametrize(
    ("who", "status"),
    [("instructor", 200), ("organiser", 200), ("other instructor", 404), ("booked parent", 403), ("anonymous", 302)],
)
def test_only_the_course_instructor_and_organisers_manage_its_handouts(client, login_as, scene, who, status):
    sign_in(login_as, scene, who)

    page = client.get(manage_url(scene.course))
    posted = post_form(client, manage_url(scene.course), upload_form(), page="/login" if who == "anonymous" else "/")

    assert (page.status_code, posted.status_code) == (status, 302 if status == 200 else status)
    assert count(StoredFile) == (1 if status == 200 else 0)


@pytest.mark.parametrize(
    ("who", "released", "status"),
    [
        ("instructor", True, 200),
        ("instructor", False, 200),
        ("organiser", False, 200),
        ("booked parent", True, 200),
        ("booked parent", False, 404),
        ("unbooked parent", True, 404),
        ("other instructor", True, 404),
        ("anonymous", True, 404),
    ],
)
def test_who_can_download(client, login_as, scene, who, released, status):
    rule = {} if released else {"release_rule": "session_start", "release_session_id": scene.session(2).id}
    handout = upload(scene.course, scene.instructor, **rule)  # the course starts in 2030: week 2 is far off
    sign_in(login_as, scene, who)

    response = fetch(client, handout.id)

    assert response.status_code == status
    if status == 200:
        assert response.data == PDF
    else:
        assert "Page not found" in text(response) and "Location" not in response.headers


def test_a_missing_or_huge_id_is_404(client, login_as, scene):
    login_as("organiser")

    assert [fetch(client, n).status_code for n in (1, 2**40)] == [404, 404]


def test_downloads_carry_safe_headers(client, login_as, scene):
    handout = upload(scene.course, scene.instructor, title="Week 1: strokes / légs", filename="w1.pdf")
    login_as(scene.parent)

    response = fetch(client, handout.id)

    assert response.headers["Content-Type"] == "application/pdf"
    assert (
        response.headers["Content-Disposition"]
        == "inline; filename=\"Week 1 strokes legs.pdf\"; filename*=UTF-8''Week%201%20strokes%20l%C3%A9gs.pdf"
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Security-Policy"].startswith("sandbox")


def test_text_handouts_are_served_as_plain_text(client, login_as, scene):
    handout = upload(scene.course, scene.instructor, data=MARKDOWN, filename="notes.md")
    login_as(scene.parent)

    response = fetch(client, handout.id)

    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.data == MARKDOWN


def test_families_downloads_are_counted_and_shown_to_the_instructor(client, login_as, auth, scene):
    handout = upload(scene.course, scene.instructor)
    login_as(scene.parent)
    fetch(client, handout.id)
    fetch(client, handout.id)
    auth.logout()
    login_as(scene.instructor)
    fetch(client, handout.id)

    db.session.refresh(handout)
    assert handout.download_count == 2
    page = text(client.get(f"/teach/courses/{scene.course.id}"))
    assert "Manage handouts" in page
    assert re.search(r"Week 1 strokes</a>.*?Once booked</td>\s*<td>2</td>", page, re.DOTALL)


def test_the_booking_page_lists_released_handouts_and_the_next_one(client, login_as, scene):
    upload(scene.course, scene.instructor, title="Welcome leaflet", description="What to expect.")
    upload(
        scene.course,
        scene.instructor,
        title="Week 2 strokes",
        data=PNG,
        filename="w2.png",
        release_rule="session_start",
        release_session_id=scene.session(2).id,
    )
    login_as(scene.parent)

    page = text(client.get(f"/account/bookings/{scene.booking.id}"))

    assert "Welcome leaflet" in page and "What to expect." in page
    assert "Week 2 strokes</a>" not in page
    assert "Next handout:</strong> Week 2 strokes from" in page and "Tue 12 Mar 2030, 10:00am" in page


def test_the_booking_page_says_when_the_next_handout_comes_after_the_course(client, login_as, scene):
    upload(scene.course, scene.instructor, title="Keep going at home", release_rule="after_course")
    login_as(scene.parent)

    page = text(client.get(f"/account/bookings/{scene.booking.id}"))

    assert "No handouts yet." in page
    assert "Next handout:</strong> Keep going at home after the course ends." in page


def test_retired_handouts_disappear_for_families(client, login_as, auth, scene):
    handout = upload(scene.course, scene.instructor)
    login_as(scene.instructor)

    response = post_form(client, f"/teach/handouts/{handout.id}/retire", page=manage_url(scene.course))

    assert response.status_code == 302
    auth.logout()
    login_as(scene.parent)
    assert fetch(client, handout.id).status_code == 404
    assert "Week 1 strokes" not in text(client.get(f"/account/bookings/{scene.booking.id}"))


def test_editing_changes_the_rule(client, login_as, scene):
    handout = upload(scene.course, scene.instructor)
    login_as(scene.instructor)
    url = f"/teach/handouts/{handout.id}/edit"
    assert 'value="Week 1 strokes"' in text(client.get(url))

    response = post_form(
        client,
        url,
        {
            "title": "Week 2 strokes",
            "description": "",
            "release_rule": "session_start",
            "session": "",
            "release_session": str(scene.session(2).id),
        },
    )

    assert response.status_code == 302
    db.session.refresh(handout)
    assert (handout.title, handout.release_session_id) == ("Week 2 strokes", scene.session(2).id)
    refused = post_form(client, url, {"title": "x" * 121, "release_rule": "on_booking"})
    assert refused.status_code == 422 and "Keep the title to 120 characters or fewer." in text(refused)


def test_replacing_serves_the_new_version_at_the_same_link(app, client, login_as, auth, scene):
    handout = upload(scene.course, scene.instructor)
    login_as(scene.instructor)
    url = f"/teach/handouts/{handout.id}/replace"

    refused = post_form(
        client, url, {"replace-file": (io.BytesIO(PNG), "v2.pdf")}, page=f"/teach/handouts/{handout.id}/edit"
    )
    assert refused.status_code == 422 and "This file is a PNG image but its name ends in .pdf." in text(refused)
    assert (count(StoredFile), len(files_on_disk(app))) == (1, 1)

    response = post_form(
        client, url, {"replace-file": (io.BytesIO(PNG), "v2.png")}, page=f"/teach/handouts/{handout.id}/edit"
    )

    assert response.status_code == 302
    auth.logout()
    login_as(scene.parent)
    new_version = fetch(client, handout.id)
    assert (new_version.data, new_version.headers["Content-Type"]) == (PNG, "image/png")


def test_organiser_library_then_instructor_attaches_then_family_downloads(app, client, login_as, auth, scene):
    organiser = login_as("organiser")
    assert 'href="/organiser/handouts"' in text(client.get("/organiser"))
    response = post_form(
        client,
        "/organiser/handouts",
        {
            "title": "Reading your baby's cues",
            "description": "For every course.",
            "file": (io.BytesIO(MARKDOWN), "cues.md"),
        },
    )
    assert response.status_code == 302
    item = db.session.scalars(db.select(Handout)).one()
    assert item.course_id is None and item.uploaded_by == organiser
    auth.logout()

    login_as(scene.instructor)
    assert "Reading your baby&#39;s cues" in text(client.get(manage_url(scene.course)))
    response = post_form(
        client,
        f"{manage_url(scene.course)}/attach",
        {
            "attach-library_handout": str(item.id),
            "attach-release_rule": "on_booking",
            "attach-session": "",
            "attach-release_session": "",
        },
        page=manage_url(scene.course),
    )
    assert response.status_code == 302
    again = post_form(
        client,
        f"{manage_url(scene.course)}/attach",
        {"attach-library_handout": str(item.id), "attach-release_rule": "on_booking"},
        page=manage_url(scene.course),
    )
    assert again.status_code == 422 and "That handout is already on this course." in text(again)
    attached = db.session.scalars(db.select(Handout).where(Handout.course_id == scene.course.id)).one()
    assert (count(StoredFile), len(files_on_disk(app))) == (1, 1)
    auth.logout()

    login_as(scene.parent)
    assert fetch(client, item.id).status_code == 404  # the library copy itself is staff-only
    assert fetch(client, attached.id).data == MARKDOWN


@pytest.mark.parametrize(("who", "status"), [("instructor", 403), ("parent", 403), ("anonymous", 302)])
def test_only_organisers_keep_the_library(client, login_as, who, status):
    if who != "anonymous":
        login_as(who)

    assert client.get("/organiser/handouts").status_code == status


def test_instructors_cannot_change_library_items(client, login_as):
    organiser = factories.make_user(role=Role.ORGANISER)
    item = upload(None, organiser, title="Cues", data=MARKDOWN, filename="cues.md")
    login_as("instructor")

    assert client.get(f"/teach/handouts/{item.id}/edit").status_code == 404
    assert fetch(client, item.id).status_code == 200  # but may look before attaching it

"""When the database is down, locked or slow, or file storage fails: a friendly page, never a stack trace, and nothing half-written."""

import errno
import io
import socket
from datetime import UTC, datetime, timedelta

import pytest

from instructor_portal import create_app, uploads
from instructor_portal.booking.models import Booking, BookingStatus
from instructor_portal.extensions import db
from instructor_portal.handouts.models import Handout
from instructor_portal.uploads import StoredFile
from tests import factories
from tests.conftest import count, lock_held_elsewhere, post_form, text
from tests.files import PDF, files_on_disk

PUBLIC_PAGES = [
    "/",
    "/classes",
    "/classes/1",
    "/instructors",
    "/instructors/1",
    "/login",
    "/register",
    "/password/forgot",
]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def database_down(tmp_path_factory):
    """The app pointed at a PostgreSQL server that is not there: every connection is refused."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://portal@127.0.0.1:{_closed_port()}/portal",
            "UPLOAD_STORAGE_PATH": str(tmp_path_factory.mktemp("uploads")),
        }
    )
    return app.test_client()


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_every_page_says_the_site_is_unavailable_when_the_database_is_down(database_down, path):
    response = database_down.get(path)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "Temporarily unavailable" in text(response) and "Nothing was saved" in text(response)
    assert "Traceback" not in text(response)


def test_a_form_sent_while_the_database_is_down_gets_the_same_page(database_down):
    response = database_down.post("/login", data={"email": "parent@example.org", "password": "demo-pass-123"})
    assert response.status_code == 503
    assert "Temporarily unavailable" in text(response)


def test_healthz_names_the_database_as_the_part_that_is_down(database_down):
    response = database_down.get("/healthz")
    assert response.status_code == 503
    assert response.json == {
        "status": "unavailable",
        "database": "unreachable",
        "storage": "ok",
        "queue": "unknown (no database)",
    }


def test_healthz_names_storage_that_cannot_be_written(app, client, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    app.config["UPLOAD_STORAGE_PATH"] = str(tmp_path / "a-file" / "uploads")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json == {
        "status": "unavailable",
        "database": "ok",
        "storage": "not writable",
        "queue": "no worker has run yet",
    }


def test_a_locked_database_gets_the_busy_page_and_healthz_says_so(app, client):
    course_id = factories.make_course().id
    with lock_held_elsewhere("courses", course_id, exclusive=True):
        page = client.get(f"/classes/{course_id}")
        health = client.get("/healthz")
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    assert "We are busy just now" in text(page)
    assert (health.status_code, health.json["database"]) == (503, "busy")
    assert client.get(f"/classes/{course_id}").status_code == 200


def test_a_booking_that_waits_too_long_for_its_course_is_told_to_try_again_and_nothing_is_saved(app, client, login_as):
    parent = login_as("parent")
    child = factories.make_child(parent)
    course = factories.make_course(price_pence=0, first_session=datetime.now(UTC) + timedelta(days=14))
    form = {"children": [child.id], "accept_terms": "y"}
    with lock_held_elsewhere("courses", course.id):
        response = post_form(client, f"/classes/{course.id}/book", form)
    assert response.status_code == 503
    assert "We are busy just now" in text(response)
    assert count(Booking) == 0
    response = post_form(client, f"/classes/{course.id}/book", form)
    assert response.status_code == 302
    assert db.session.scalars(db.select(Booking.status)).one() == BookingStatus.CONFIRMED


def test_the_sweeper_skips_a_busy_course_and_catches_up_on_its_next_run(app, runner):
    course = factories.make_course()
    held = factories.make_booking(
        course, status=BookingStatus.AWAITING_PAYMENT, hold_expires_at=datetime.now(UTC) - timedelta(minutes=1)
    )
    with lock_held_elsewhere("courses", course.id):
        result = runner.invoke(args=["expire-holds"])
    assert result.exit_code == 0, result.output
    assert "Released 0 expired holds." in result.output
    db.session.refresh(held)
    assert held.status == BookingStatus.AWAITING_PAYMENT
    assert "Released 1 expired hold." in runner.invoke(args=["expire-holds"]).output


# --- File storage ---------------------------------------------------------------------------------


@pytest.fixture
def handout_page(client, login_as):
    instructor = login_as("instructor")
    course = factories.make_course(instructor=instructor)
    return f"/teach/courses/{course.id}/handouts"


def handout_form() -> dict:
    return {
        "title": "Week 1 strokes",
        "description": "",
        "release_rule": "on_booking",
        "session": "",
        "release_session": "",
        "file": (io.BytesIO(PDF), "strokes.pdf"),
    }


def test_an_upload_to_storage_that_cannot_be_written_is_refused_and_nothing_is_kept(
    app, client, handout_page, tmp_path
):
    (tmp_path / "a-file").write_text("not a folder")
    app.config["UPLOAD_STORAGE_PATH"] = str(tmp_path / "a-file" / "uploads")
    response = post_form(client, handout_page, handout_form())
    assert response.status_code == 422
    assert "our file storage is full or cannot be written to. Nothing was saved" in text(response)
    assert (count(Handout), count(StoredFile)) == (0, 0)


def test_an_upload_when_the_disk_is_full_is_refused_and_leaves_no_partial_file(app, client, handout_page, monkeypatch):
    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(
        uploads.os, "fsync", disk_full
    )  # the bytes are written; making them durable fails, as on a full disk
    response = post_form(client, handout_page, handout_form())
    assert response.status_code == 422
    assert "Nothing was saved" in text(response)
    assert (count(Handout), count(StoredFile), files_on_disk(app)) == (0, 0, [])


def test_a_file_whose_row_cannot_be_committed_is_removed_again(app, handout_page, client, monkeypatch):
    from sqlalchemy.exc import OperationalError

    def database_gone():
        raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(db.session, "commit", database_gone)
    response = post_form(client, handout_page, handout_form())
    monkeypatch.undo()
    assert response.status_code == 503
    assert (count(Handout), count(StoredFile), files_on_disk(app)) == (0, 0, [])

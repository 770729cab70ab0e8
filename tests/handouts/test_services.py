"""The handout services, called directly: type checks, storage, release rules and access."""

import io
from datetime import timedelta

import pytest

from instructor_portal.accounts.models import Role
from instructor_portal.audit import AuditEntry
from instructor_portal.booking.models import BookingStatus
from instructor_portal.extensions import db
from instructor_portal.handouts import services
from instructor_portal.handouts.models import Handout, ReleaseRule
from instructor_portal.handouts.services import HandoutError
from instructor_portal.uploads import StoredFile
from tests import factories
from tests.conftest import count
from tests.files import JPEG, MARKDOWN, PDF, PNG, WEBP, files_on_disk
from tests.handouts.conftest import FIRST_SESSION, upload, week


@pytest.mark.parametrize(
    ("data", "filename", "content_type"),
    [
        (PDF, "strokes.pdf", "application/pdf"),
        (PNG, "holds.png", "image/png"),
        (JPEG, "holds.jpg", "image/jpeg"),
        (JPEG, "holds.JPEG", "image/jpeg"),
        (WEBP, "holds.webp", "image/webp"),
        (MARKDOWN, "notes.md", "text/plain"),
        (b"Warm your hands first.\r\n\tThen ask your baby.\n", "notes.txt", "text/plain"),
        ("\ufeffCues: yawning, looking away.".encode(), "cues.txt", "text/plain"),
    ],
)
def test_each_kind_is_recognised_from_its_content(scene, data, filename, content_type):
    handout = upload(scene.course, scene.instructor, data=data, filename=filename)

    assert handout.stored_file.content_type == content_type
    assert handout.stored_file.size == len(data)
    assert handout.original_filename == filename


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (PNG, "strokes.pdf", "This file is a PNG image but its name ends in .pdf."),
        (PDF, "holds.png", "This file is a PDF document but its name ends in .png."),
        (MARKDOWN, "notes.pdf", "This file is plain text but its name ends in .pdf."),
        (JPEG, "notes.txt", "This file is a JPEG image but its name ends in .txt."),
        (b"", "strokes.pdf", "The file is empty."),
        (PDF, "strokes.html", "names ending in .html cannot be handouts"),
        (PDF, "strokes.svg", "names ending in .svg cannot be handouts"),
        (PDF, "strokes", "names ending without an extension cannot be handouts"),
        (b"<!DOCTYPE html><p>Hello</p>", "notes.txt", "Web pages, SVG images and scripts cannot be uploaded."),
        (b"  \n<html><body>Hi</body></html>", "notes.md", "Web pages, SVG images and scripts cannot be uploaded."),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "notes.txt", "Web pages"),
        (b"<svg onload=alert(1)>", "notes.md", "Web pages"),
        ("\ufeff#!/bin/sh\nrm -rf /\n".encode(), "notes.txt", "Web pages"),
        (b"# Notes\n\nSee <script>alert(1)</script>\n", "notes.md", "Web pages"),
        (b"MZ\x90\x00\x03\x00\x00\x00", "notes.txt", "This is not a kind of file we can take."),
        (b"GIF89a\x01\x00\x01\x00", "notes.txt", "This is not a kind of file we can take."),
        (b"hello\x00world", "notes.txt", "This is not a kind of file we can take."),
        (b"\xff\xfe\x00\x00latin", "notes.txt", "This is not a kind of file we can take."),
        (PDF, "../../etc/passwd.pdf", "must be a plain name without folders"),
        (PDF, "..\\x.pdf", "must be a plain name without folders"),
        (PDF, ".hidden.pdf", "must be a plain name without folders"),
        (PDF, "", "Choose a file to upload."),
        (PDF, "a" * 300 + ".pdf", "The file's name is too long."),
    ],
)
def test_bad_files_are_refused_and_nothing_is_stored(app, scene, data, filename, message):
    with pytest.raises(HandoutError, match=None) as refused:
        upload(scene.course, scene.instructor, data=data, filename=filename)

    assert message.lower() in refused.value.message.lower()
    assert refused.value.field == "file"
    assert (count(Handout), count(StoredFile), files_on_disk(app)) == (0, 0, [])


def test_a_file_over_the_size_limit_is_refused_with_the_limit(app, scene):
    app.config["HANDOUT_MAX_BYTES"] = 1024

    with pytest.raises(HandoutError) as refused:
        upload(scene.course, scene.instructor, data=PDF + b" " * 1024)

    assert refused.value.message.startswith("The file is larger than 1 KB, the most a handout can be.")
    assert (count(StoredFile), files_on_disk(app)) == (0, [])
    upload(scene.course, scene.instructor, data=PDF + b" " * (1024 - len(PDF)))  # exactly the limit is fine


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": "x" * 121}, "title", "Keep the title to 120 characters or fewer."),
        ({"title": "   "}, "title", "Give the handout a title."),
        ({"description": "x" * 501}, "description", "Keep the description to 500 characters or fewer."),
        ({"release_rule": "whenever"}, "release_rule", "Choose when families can download it."),
        ({"release_rule": "session_start"}, "release_session", "Choose the session from whose start"),
    ],
)
def test_bad_details_are_refused_before_the_file_is_stored(app, scene, fields, field, message):
    with pytest.raises(HandoutError) as refused:
        upload(scene.course, scene.instructor, **fields)

    assert (refused.value.field, refused.value.message.startswith(message)) == (field, True)
    assert (count(StoredFile), files_on_disk(app)) == (0, [])


def test_a_session_from_another_course_is_refused(app, scene):
    other = factories.make_course(sessions=1)

    for fields, field in [
        ({"release_rule": "session_start", "release_session_id": other.sessions[0].id}, "release_session"),
        ({"session_id": other.sessions[0].id}, "session"),
    ]:
        with pytest.raises(HandoutError) as refused:
            upload(scene.course, scene.instructor, **fields)
        assert (refused.value.field, refused.value.message) == (field, "Choose one of this course's sessions.")
    assert (count(StoredFile), files_on_disk(app)) == (0, [])


def test_files_are_stored_by_a_random_key_outside_static_with_their_checksum(app, scene):
    handout = upload(scene.course, scene.instructor, filename="week 1 strokes.pdf")

    stored = handout.stored_file
    [path] = files_on_disk(app)
    assert path.name == stored.key and path.parent.name == stored.key[:2]
    assert "strokes" not in str(path) and "static" not in str(path)
    assert path.read_bytes() == PDF
    import hashlib

    assert stored.sha256 == hashlib.sha256(PDF).hexdigest()


def test_the_same_file_uploaded_twice_is_stored_once(app, scene):
    first = upload(scene.course, scene.instructor, title="Week 1 strokes")
    second = upload(
        factories.make_course(), scene.instructor, title="Copy for another course", filename="other-name.pdf"
    )

    assert first.stored_file_id == second.stored_file_id
    assert (count(Handout), count(StoredFile), len(files_on_disk(app))) == (2, 1, 1)


def test_a_stored_file_missing_from_disk_is_written_again(app, scene):
    first = upload(scene.course, scene.instructor)
    files_on_disk(app)[0].unlink()

    second = upload(scene.course, scene.instructor, title="Again")

    assert second.stored_file_id == first.stored_file_id
    assert [path.read_bytes() for path in files_on_disk(app)] == [PDF]


def test_replacing_keeps_the_handout_and_serves_the_new_version(app, scene):
    handout = upload(scene.course, scene.instructor)
    old_file = handout.stored_file_id

    services.replace_handout(handout, actor=scene.instructor, filename="strokes-v2.png", stream=io.BytesIO(PNG))

    assert handout.stored_file_id != old_file
    assert (handout.original_filename, handout.stored_file.content_type) == ("strokes-v2.png", "image/png")
    assert services.download_name(handout) == "Week 1 strokes.png"
    download = services.open_download(scene.parent, handout.id, now=FIRST_SESSION)
    assert download.stream.read() == PNG
    download.stream.close()
    assert db.session.scalars(db.select(AuditEntry.action).order_by(AuditEntry.id)).all() == [
        "handout.uploaded",
        "handout.replaced",
    ]


def test_a_bad_replacement_changes_nothing(app, scene):
    handout = upload(scene.course, scene.instructor)

    with pytest.raises(HandoutError):
        services.replace_handout(handout, actor=scene.instructor, filename="strokes.pdf", stream=io.BytesIO(PNG))

    db.session.refresh(handout)
    assert (handout.original_filename, count(StoredFile), len(files_on_disk(app))) == ("strokes.pdf", 1, 1)


def test_retired_handouts_leave_families_but_not_staff(scene):
    handout = upload(scene.course, scene.instructor)

    services.retire_handout(handout, actor=scene.instructor, now=FIRST_SESSION)

    assert not services.can_download(scene.parent, handout, now=week(2))
    assert services.can_download(scene.instructor, handout, now=week(2))
    assert services.family_handouts(scene.booking, now=week(2)).released == []
    with pytest.raises(HandoutError, match="retired"):
        services.retire_handout(handout, actor=scene.instructor)
    with pytest.raises(HandoutError, match="retired"):
        services.update_handout(handout, actor=scene.instructor, title="New title")


def test_release_rules_follow_the_clock(scene):
    on_booking = upload(scene.course, scene.instructor, title="Welcome")
    week_two = upload(
        scene.course,
        scene.instructor,
        title="Week 2 strokes",
        data=PNG,
        filename="w2.png",
        release_rule=ReleaseRule.SESSION_START,
        release_session_id=scene.session(2).id,
    )
    after = upload(
        scene.course,
        scene.instructor,
        title="Keep going at home",
        data=MARKDOWN,
        filename="home.md",
        release_rule=ReleaseRule.AFTER_COURSE,
    )
    course_end = scene.session(3).ends_at
    before_week_two = week(2) - timedelta(minutes=1)

    assert [services.is_released(h, now=before_week_two) for h in (on_booking, week_two, after)] == [True, False, False]
    assert [services.is_released(h, now=week(2)) for h in (on_booking, week_two, after)] == [True, True, False]
    assert [services.is_released(h, now=course_end) for h in (on_booking, week_two, after)] == [True, True, True]

    early = services.family_handouts(scene.booking, now=before_week_two)
    assert (early.released, early.coming_next) == ([on_booking], week_two)
    later = services.family_handouts(scene.booking, now=week(2))
    assert (later.released, later.coming_next) == ([on_booking, week_two], after)
    assert services.family_handouts(scene.booking, now=course_end).coming_next is None


def test_a_session_handout_is_released_from_its_own_session_when_none_is_named(scene):
    handout = upload(scene.course, scene.instructor, release_rule="session_start", session_id=scene.session(3).id)

    assert (handout.session, handout.release_session) == (scene.session(3), scene.session(3))
    assert services.release_time(handout) == week(3)


def test_moving_the_release_session_moves_the_release(scene):
    handout = upload(
        scene.course, scene.instructor, release_rule="session_start", release_session_id=scene.session(2).id
    )

    services.update_handout(
        handout,
        actor=scene.instructor,
        title="Week 3 strokes",
        release_rule="session_start",
        release_session_id=scene.session(3).id,
    )

    assert services.release_time(handout) == week(3)
    assert not services.can_download(scene.parent, handout, now=week(2))


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("instructor", True),
        ("organiser", True),
        ("booked parent", True),
        ("other instructor", False),
        ("unbooked parent", False),
        ("cancelled parent", False),
        ("awaiting-payment parent", False),
    ],
)
def test_who_can_download_a_released_handout(scene, who, allowed):
    handout = upload(scene.course, scene.instructor)
    user = {"instructor": scene.instructor, "booked parent": scene.parent}.get(who)
    if user is None and who.endswith("parent") and who != "unbooked parent":
        status = BookingStatus.CANCELLED if who.startswith("cancelled") else BookingStatus.AWAITING_PAYMENT
        user = factories.make_booking(scene.course, status=status).parent
    user = user or factories.make_user(role=Role.PARENT if who.endswith("parent") else who.split()[-1])

    assert services.can_download(user, handout, now=FIRST_SESSION) is allowed


def test_only_families_downloads_are_counted(scene):
    handout = upload(scene.course, scene.instructor)

    for user in (scene.parent, scene.parent, scene.instructor, factories.make_user(role=Role.ORGANISER)):
        services.open_download(user, handout.id, now=FIRST_SESSION).stream.close()

    db.session.refresh(handout)
    assert handout.download_count == 2


def test_library_handouts_are_attached_without_uploading_again(app, scene):
    organiser = factories.make_user(role=Role.ORGANISER)
    item = upload(
        None,
        organiser,
        title="Reading your baby's cues",
        data=MARKDOWN,
        filename="cues.md",
        description="A leaflet for every course.",
    )

    attached = services.attach_library_handout(
        scene.course,
        item.id,
        actor=scene.instructor,
        release_rule="session_start",
        release_session_id=scene.session(2).id,
    )

    assert (attached.source, attached.stored_file_id, attached.title) == (item, item.stored_file_id, item.title)
    assert (count(StoredFile), len(files_on_disk(app))) == (1, 1)
    assert services.library_handouts() == [item]
    assert not services.can_download(scene.parent, item, now=week(2))
    assert services.can_download(scene.parent, attached, now=week(2))
    with pytest.raises(HandoutError, match="already on this course"):
        services.attach_library_handout(scene.course, item.id, actor=scene.instructor)


def test_replacing_a_library_handout_updates_the_courses_that_share_its_file(scene):
    organiser = factories.make_user(role=Role.ORGANISER)
    item = upload(None, organiser, title="Cues", data=MARKDOWN, filename="cues.md")
    attached = services.attach_library_handout(scene.course, item.id, actor=scene.instructor)

    services.replace_handout(item, actor=organiser, filename="cues.pdf", stream=io.BytesIO(PDF))

    db.session.refresh(attached)
    assert attached.stored_file_id == item.stored_file_id


@pytest.mark.parametrize("bad_id", [None, 0, 2**40])
def test_attaching_needs_a_live_library_handout(scene, bad_id):
    course_handout = upload(scene.course, scene.instructor)
    for handout_id in (bad_id, course_handout.id):
        with pytest.raises(HandoutError, match="Choose a handout from the library."):
            services.attach_library_handout(scene.course, handout_id, actor=scene.instructor)


def test_no_handouts_until_the_place_is_confirmed(scene):
    upload(scene.course, scene.instructor)
    held = factories.make_booking(scene.course, status=BookingStatus.AWAITING_PAYMENT)

    assert services.family_handouts(held, now=FIRST_SESSION) == services.FamilyHandouts([], None)


def test_download_names_are_safe(scene):
    handout = upload(
        scene.course, scene.instructor, title='Week 3: "tummy" / chest\r\n<b>strokes</b> für Babys', filename="w3.PDF"
    )

    assert services.download_name(handout) == "Week 3 tummy chest b strokes b für Babys.pdf"


def test_size_labels():
    assert [services.format_size(n) for n in (1, 12, 1024, 1536, 20 * 1024 * 1024)] == [
        "1 byte",
        "12 bytes",
        "1 KB",
        "1.5 KB",
        "20 MB",
    ]

"""An instructor's photo: checked from its content, stored once, shown on the public profile."""

import io

import pytest

from instructor_portal.accounts.models import Role
from instructor_portal.extensions import db
from instructor_portal.teaching import profiles, services
from instructor_portal.uploads import StoredFile
from tests import factories
from tests.conftest import count, post_form, text
from tests.files import JPEG, MARKDOWN, PDF, PNG, WEBP, files_on_disk

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.fixture
def instructor(app):
    return factories.make_user(role=Role.INSTRUCTOR, full_name="Hannah Okafor")


def upload(client, data: bytes, filename: str = "me.jpg"):
    return post_form(client, "/teach/profile/photo", {"photo": (io.BytesIO(data), filename)}, page="/teach/profile")


@pytest.mark.parametrize(("data", "content_type"), [(JPEG, "image/jpeg"), (PNG, "image/png"), (WEBP, "image/webp")])
def test_a_photo_shows_on_the_public_profile_and_directory(client, login_as, instructor, data, content_type):
    login_as(instructor)
    response = upload(client, data)
    assert response.status_code == 302
    assert "Photo saved." in text(client.get("/teach/profile"))
    photo_id = instructor.profile.photo_file_id
    address = f"/instructors/{instructor.id}/photo?v={photo_id}"
    assert address in text(client.get(f"/instructors/{instructor.id}"))
    assert address in text(client.get("/instructors"))

    served = client.get(address, buffered=True)
    assert served.status_code == 200
    assert served.data == data
    assert served.headers["Content-Type"] == content_type
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age=86400" in served.headers["Cache-Control"]


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "me.jpg", "Choose a photo to upload."),
        (SVG, "me.svg", "Web pages, SVG images and scripts cannot be uploaded."),
        (PDF, "me.jpg", "This file is a PDF document. Upload a photo saved as JPEG, PNG or WebP."),
        (MARKDOWN, "me.jpg", "This file is plain text."),
        (
            b"\x00\x00\x00\x18ftypheic",
            "me.heic",
            "This is not a kind of file we can take. Upload a photo saved as JPEG, PNG or WebP.",
        ),
    ],
)
def test_anything_but_a_photo_is_refused_and_nothing_is_stored(
    app, client, login_as, instructor, data, filename, message
):
    login_as(instructor)
    response = upload(client, data, filename)
    assert response.status_code == 422
    assert message in text(response)
    db.session.expire_all()
    assert instructor.profile.photo_file_id is None
    assert (count(StoredFile), files_on_disk(app)) == (0, [])


def test_a_photo_over_the_limit_is_refused_with_the_limit(app, client, login_as, instructor):
    app.config["PHOTO_MAX_BYTES"] = 1024
    login_as(instructor)
    response = upload(client, JPEG + b"\x00" * 1024)
    assert response.status_code == 422
    assert "The photo is larger than 1 KB." in text(response)
    assert count(StoredFile) == 0


def test_replacing_and_removing_the_photo(app, client, login_as, instructor):
    login_as(instructor)
    upload(client, JPEG)
    first = instructor.profile.photo_file_id
    upload(client, PNG, "me.png")
    db.session.expire_all()
    second = instructor.profile.photo_file_id
    assert second != first
    assert client.get(f"/instructors/{instructor.id}/photo?v={second}", buffered=True).data == PNG

    response = post_form(client, "/teach/profile/photo/remove", page="/teach/profile")
    assert response.status_code == 302
    db.session.expire_all()
    assert instructor.profile.photo_file_id is None
    assert client.get(f"/instructors/{instructor.id}/photo").status_code == 404
    assert "/photo" not in text(client.get(f"/instructors/{instructor.id}"))


def test_the_same_photo_twice_is_stored_once(app, instructor):
    other = factories.make_user(role=Role.INSTRUCTOR)
    profiles.set_profile_photo(instructor, actor=instructor, stream=io.BytesIO(JPEG))
    profiles.set_profile_photo(other, actor=other, stream=io.BytesIO(JPEG))
    assert instructor.profile.photo_file_id == other.profile.photo_file_id
    assert (count(StoredFile), len(files_on_disk(app))) == (1, 1)


def test_only_listed_instructors_photos_are_served(client, instructor):
    profiles.set_profile_photo(instructor, actor=instructor, stream=io.BytesIO(JPEG))
    assert client.get(f"/instructors/{instructor.id}/photo", buffered=True).status_code == 200
    instructor.profile.listed = False
    db.session.commit()
    assert client.get(f"/instructors/{instructor.id}/photo").status_code == 404
    parent = factories.make_user(role=Role.PARENT)
    for user_id in (parent.id, 0, 10**12):
        assert client.get(f"/instructors/{user_id}/photo").status_code == 404


def test_one_instructor_cannot_change_anothers_photo(app, instructor):
    other = factories.make_user(role=Role.INSTRUCTOR)
    with pytest.raises(services.TeachingError, match="You can only change your own profile."):
        profiles.set_profile_photo(instructor, actor=other, stream=io.BytesIO(JPEG))
    assert count(StoredFile) == 0


@pytest.mark.parametrize(("who", "status"), [("anonymous", 302), ("parent", 403)])
def test_families_and_visitors_cannot_upload_a_photo(client, login_as, who, status):
    if who == "parent":
        login_as("parent")
    # A real token from a page they can see, so only the role rule can stop them.
    page = "/login" if who == "anonymous" else "/account"
    response = post_form(client, "/teach/profile/photo", {"photo": (io.BytesIO(JPEG), "me.jpg")}, page=page)
    assert response.status_code == status
    assert count(StoredFile) == 0

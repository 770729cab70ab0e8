"""The shared upload pieces: two uploads of the same content at the same moment."""

import pytest

from instructor_portal.extensions import db
from instructor_portal.uploads import StoredFile, UploadError, commit_upload
from tests.conftest import count


def test_an_upload_that_loses_the_race_for_the_same_content_gets_a_message_and_nothing_half_saved(app):
    db.session.add(StoredFile(key="a" * 32, sha256="f" * 64, size=3, content_type="image/png"))
    db.session.commit()
    # What a second upload of the same bytes writes when it looked before the first one committed.
    db.session.add(StoredFile(key="b" * 32, sha256="f" * 64, size=3, content_type="image/png"))

    with pytest.raises(UploadError, match="uploaded at the same moment") as refused:
        commit_upload(field="photo")

    assert refused.value.field == "photo"
    assert count(StoredFile) == 1

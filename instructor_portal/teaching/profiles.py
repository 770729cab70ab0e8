"""An instructor's public profile: the words families read and the photo beside them."""

from __future__ import annotations

from typing import BinaryIO

from flask import current_app

from instructor_portal import audit
from instructor_portal.accounts.models import InstructorProfile, Role, User
from instructor_portal.extensions import db
from instructor_portal.teaching.services import TeachingError
from instructor_portal.uploads import IMAGES, accept_upload, commit_upload, store_file


def _own_profile(user: User, actor: User) -> InstructorProfile:
    if actor.id != user.id and actor.role != Role.ORGANISER:
        raise TeachingError("You can only change your own profile.")
    if user.profile is None:
        user.profile = InstructorProfile()
    return user.profile


def update_profile(
    user: User, *, actor: User, bio: str, area: str, qualifications: str, listed: bool
) -> InstructorProfile:
    """Save what families see of ``user`` in the public instructor directory."""
    profile = _own_profile(user, actor)
    profile.bio, profile.area, profile.qualifications, profile.listed = (
        bio.strip(),
        area.strip(),
        qualifications.strip(),
        listed,
    )
    audit.record(actor, "profile.updated", user, listed=listed)
    db.session.commit()
    return profile


PHOTO_TYPES = "a photo saved as JPEG, PNG or WebP"


def set_profile_photo(user: User, *, actor: User, stream: BinaryIO | None) -> InstructorProfile:
    """Check an uploaded photo is a JPEG, PNG or WebP image of a sensible size and show it on the public profile."""
    limit = current_app.config["PHOTO_MAX_BYTES"]
    data, kind = accept_upload(stream, IMAGES, noun="photo", wanted=PHOTO_TYPES, limit=limit, field="photo")
    profile = _own_profile(user, actor)
    profile.photo = store_file(data, kind, field="photo")
    audit.record(actor, "profile.photo_changed", user, sha256=profile.photo.sha256)
    commit_upload(field="photo")
    return profile


def remove_profile_photo(user: User, *, actor: User) -> InstructorProfile:
    """Stop showing a photo on the public profile."""
    profile = _own_profile(user, actor)
    profile.photo = None
    audit.record(actor, "profile.photo_removed", user)
    db.session.commit()
    return profile

"""Handouts: check and store uploads, attach library items, release them to booked families, serve downloads.

A file's type is read from its first bytes (instructor_portal.uploads.sniff), never from its
name, and the name's extension must then agree with what the content is. Everything is
checked before anything is stored, so a refused upload leaves no trace.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import BinaryIO

from flask import current_app
from sqlalchemy import select, update

from instructor_portal import audit
from instructor_portal.accounts.models import Role, User
from instructor_portal.booking.models import Booking, BookingPlace, BookingStatus
from instructor_portal.booking.rules import last_session_end
from instructor_portal.catalogue.models import Course, CourseSession
from instructor_portal.clock import utcnow
from instructor_portal.db import MAX_ID
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db
from instructor_portal.handouts.models import DESCRIPTION_MAX, TITLE_MAX, Handout, ReleaseRule
from instructor_portal.permissions import can_manage_course
from instructor_portal.uploads import (
    CONTROL_CHARACTERS,
    JPEG,
    PDF,
    PNG,
    TEXT,
    WEBP,
    FileKind,
    UploadError,
    commit_upload,
    format_size,
    get_storage,
    read_at_most,
    sniff,
    store_file,
)

log = logging.getLogger(__name__)

TITLE_MISSING = "Give the handout a title."
TITLE_TOO_LONG = f"Keep the title to {TITLE_MAX} characters or fewer."
DESCRIPTION_TOO_LONG = f"Keep the description to {DESCRIPTION_MAX} characters or fewer."
FILE_MISSING = "Choose a file to upload."
NOT_A_SESSION = "Choose one of this course's sessions."
EARLIEST, LATEST = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
ALLOWED_TYPES = "a PDF, a PNG, JPEG or WebP image, or a plain-text (.txt) or Markdown (.md) file"


class HandoutError(DomainError):
    """A handout could not be uploaded, changed or attached."""


KINDS = (PDF, PNG, JPEG, WEBP, TEXT)
EXTENSIONS = {extension for kind in KINDS for extension in kind.extensions}


# --- Checking a file -------------------------------------------------------------------------


def max_size() -> int:
    return current_app.config["HANDOUT_MAX_BYTES"]


def clean_filename(filename: str | None) -> str:
    """The uploaded file's name if it is a plain name; names with folders or hidden-file dots are refused."""
    name = (filename or "").strip()
    if not name:
        raise HandoutError(FILE_MISSING, field="file")
    if "/" in name or "\\" in name or name.startswith(".") or CONTROL_CHARACTERS.search(name):
        raise HandoutError(
            "The file's name must be a plain name without folders, such as week-3-strokes.pdf. Rename it and try again.",
            field="file",
        )
    if len(name) > 255:
        raise HandoutError(
            "The file's name is too long. Shorten it to 255 characters or fewer and try again.", field="file"
        )
    return name


def check_file(filename: str | None, data: bytes) -> tuple[FileKind, str]:
    """Refuse a file that is empty, too large, of a type we do not take or named for another type; return its kind and name."""
    name = clean_filename(filename)
    extension = PurePosixPath(name).suffix.lower()
    if extension not in EXTENSIONS:
        ending = f"in {extension}" if extension else "without an extension"
        raise HandoutError(
            f"Files with names ending {ending} cannot be handouts. Upload {ALLOWED_TYPES}.", field="file"
        )
    if not data:
        raise HandoutError("The file is empty. Choose the file again, or check it opens on your device.", field="file")
    if len(data) > max_size():
        raise HandoutError(
            f"The file is larger than {format_size(max_size())}, the most a handout can be. "
            "Make it smaller (for example, save the PDF at a lower quality) and try again.",
            field="file",
        )
    try:
        kind = sniff(data, wanted=ALLOWED_TYPES)
    except UploadError as refused:
        raise HandoutError(refused.message, field="file") from None
    if extension not in kind.extensions:
        raise HandoutError(f"This file is {kind.label} but its name ends in {extension}.", field="file")
    return kind, name


# --- Details and release rules ----------------------------------------------------------------


def _details(title: str | None, description: str | None) -> dict[str, str]:
    title, description = (title or "").strip(), (description or "").strip()
    if not title:
        raise HandoutError(TITLE_MISSING, field="title")
    if len(title) > TITLE_MAX:
        raise HandoutError(TITLE_TOO_LONG, field="title")
    if len(description) > DESCRIPTION_MAX:
        raise HandoutError(DESCRIPTION_TOO_LONG, field="description")
    return {"title": title, "description": description}


def _course_session(course: Course, session_id: int | None, *, field: str) -> CourseSession | None:
    if session_id is None:
        return None
    session = next((session for session in course.sessions if session.id == session_id), None)
    if session is None:
        raise HandoutError(NOT_A_SESSION, field=field)
    return session


def _release(
    course: Course | None, release_rule: ReleaseRule | str, session_id: int | None, release_session_id: int | None
) -> dict:
    """Check a release rule against the course; a library item has none until it is attached to a course."""
    if course is None:
        return {"release_rule": ReleaseRule.ON_BOOKING, "session": None, "release_session": None}
    try:
        rule = ReleaseRule(release_rule)
    except ValueError:
        raise HandoutError("Choose when families can download it.", field="release_rule") from None
    session = _course_session(course, session_id, field="session")
    release_session = _course_session(course, release_session_id, field="release_session")
    if rule == ReleaseRule.SESSION_START:
        release_session = release_session or session
        if release_session is None:
            raise HandoutError("Choose the session from whose start families can download it.", field="release_session")
    else:
        release_session = None
    return {"release_rule": rule, "session": session, "release_session": release_session}


# --- Changing handouts ------------------------------------------------------------------------


def upload_handout(
    course: Course | None,
    *,
    actor: User,
    title: str,
    description: str = "",
    filename: str | None,
    stream: BinaryIO,
    release_rule: ReleaseRule | str = ReleaseRule.ON_BOOKING,
    session_id: int | None = None,
    release_session_id: int | None = None,
) -> Handout:
    """Check and store an uploaded file as a handout on ``course``, or in the organisers' library when it is None."""
    fields = {**_details(title, description), **_release(course, release_rule, session_id, release_session_id)}
    data = read_at_most(stream, max_size())
    kind, name = check_file(filename, data)
    stored = store_file(data, kind, field="file")
    handout = Handout(course=course, stored_file=stored, original_filename=name, uploaded_by=actor, **fields)
    db.session.add(handout)
    audit.record(actor, "handout.uploaded", handout, title=handout.title, sha256=stored.sha256, library=course is None)
    commit_upload(field="file")
    return handout


def attach_library_handout(
    course: Course,
    library_handout_id: int | None,
    *,
    actor: User,
    release_rule: ReleaseRule | str = ReleaseRule.ON_BOOKING,
    session_id: int | None = None,
    release_session_id: int | None = None,
) -> Handout:
    """Put a standard handout from the organisers' library on a course, sharing its file rather than uploading it again."""
    item = (
        db.session.get(Handout, library_handout_id) if library_handout_id and 0 < library_handout_id <= MAX_ID else None
    )
    if item is None or not item.is_library_item or item.is_retired:
        raise HandoutError("Choose a handout from the library.", field="library_handout")
    already = select(Handout.id).where(
        Handout.course_id == course.id, Handout.source_id == item.id, Handout.retired_at.is_(None)
    )
    if db.session.scalars(already).first() is not None:
        raise HandoutError("That handout is already on this course.", field="library_handout")
    handout = Handout(
        course=course,
        source=item,
        stored_file=item.stored_file,
        title=item.title,
        description=item.description,
        original_filename=item.original_filename,
        uploaded_by=actor,
        **_release(course, release_rule, session_id, release_session_id),
    )
    db.session.add(handout)
    audit.record(actor, "handout.attached", handout, library_handout_id=item.id)
    db.session.commit()
    return handout


def _refuse_if_retired(handout: Handout) -> None:
    if handout.is_retired:
        raise HandoutError("This handout has been retired, so it can no longer be changed.")


def update_handout(
    handout: Handout,
    *,
    actor: User,
    title: str,
    description: str = "",
    release_rule: ReleaseRule | str = ReleaseRule.ON_BOOKING,
    session_id: int | None = None,
    release_session_id: int | None = None,
) -> Handout:
    """Change a handout's title, description and when families can download it."""
    _refuse_if_retired(handout)
    fields = {**_details(title, description), **_release(handout.course, release_rule, session_id, release_session_id)}
    audit.record_changes(actor, "handout.updated", handout, fields)
    db.session.commit()
    return handout


def replace_handout(handout: Handout, *, actor: User, filename: str | None, stream: BinaryIO) -> Handout:
    """Point a handout at a new version of its file; its link stays the same and serves the new version."""
    _refuse_if_retired(handout)
    data = read_at_most(stream, max_size())
    kind, name = check_file(filename, data)
    previous = handout.stored_file
    stored = store_file(data, kind, field="file")
    handout.stored_file = stored
    handout.original_filename = name
    db.session.flush()
    if handout.is_library_item:
        # Courses that attached this library handout and still share its file get the new version too.
        db.session.execute(
            update(Handout)
            .where(Handout.source_id == handout.id, Handout.stored_file_id == previous.id)
            .values(stored_file_id=stored.id)
            .execution_options(synchronize_session="fetch")
        )
    audit.record(actor, "handout.replaced", handout, previous_sha256=previous.sha256, sha256=stored.sha256)
    commit_upload(field="file")
    return handout


def retire_handout(handout: Handout, *, actor: User, now: datetime | None = None) -> Handout:
    """Withdraw a handout from families (and from the library); staff can still see and download it."""
    _refuse_if_retired(handout)
    handout.retired_at = now or utcnow()
    audit.record(actor, "handout.retired", handout)
    db.session.commit()
    return handout


# --- Reading ----------------------------------------------------------------------------------


def get_handout(handout_id: int) -> Handout | None:
    return db.session.get(Handout, handout_id) if 0 < handout_id <= MAX_ID else None


def course_handouts(course: Course) -> list[Handout]:
    """Every handout on the course, those still offered first, in the order they were added."""
    return list(
        db.session.scalars(
            select(Handout).where(Handout.course_id == course.id).order_by(Handout.retired_at.is_not(None), Handout.id)
        )
    )


def library_handouts(*, include_retired: bool = False) -> list[Handout]:
    """The organisers' standard handouts, by title."""
    query = select(Handout).where(Handout.course_id.is_(None)).order_by(Handout.retired_at.is_not(None), Handout.title)
    if not include_retired:
        query = query.where(Handout.retired_at.is_(None))
    return list(db.session.scalars(query))


def release_time(handout: Handout) -> datetime | None:
    """When families on the course can first download it; None for "as soon as booked" and for a course with no sessions yet."""
    if handout.release_rule == ReleaseRule.SESSION_START:
        return handout.release_session.starts_at
    if handout.release_rule == ReleaseRule.AFTER_COURSE:
        return last_session_end(handout.course)
    return None


def is_released(handout: Handout, *, now: datetime) -> bool:
    if handout.release_rule == ReleaseRule.ON_BOOKING:
        return True
    at = release_time(handout)
    return at is not None and at <= now


def has_confirmed_place(user: User, course: Course) -> bool:
    """Whether the user has a confirmed booking with a place still live on the course."""
    query = (
        select(Booking.id)
        .join(BookingPlace, BookingPlace.booking_id == Booking.id)
        .where(
            Booking.parent_id == user.id,
            Booking.course_id == course.id,
            Booking.status == BookingStatus.CONFIRMED,
            BookingPlace.live,
        )
    )
    return db.session.scalars(query.limit(1)).first() is not None


def can_manage_handout(user: User, handout: Handout) -> bool:
    """Organisers manage the library and every course's handouts; an instructor their own courses' handouts."""
    if handout.is_library_item:
        return user.is_authenticated and user.role == Role.ORGANISER
    return can_manage_course(user, handout.course)


def _staff_may_download(user: User, handout: Handout) -> bool:
    """Those who manage the handout, and any instructor for a library item they might attach."""
    if handout.is_library_item:
        return user.is_authenticated and user.role in (Role.INSTRUCTOR, Role.ORGANISER)
    return can_manage_course(user, handout.course)


def _family_may_download(user: User, handout: Handout, *, now: datetime) -> bool:
    return (
        user.is_authenticated
        and not handout.is_library_item
        and not handout.is_retired
        and is_released(handout, now=now)
        and has_confirmed_place(user, handout.course)
    )


def can_download(user: User, handout: Handout, *, now: datetime | None = None) -> bool:
    """Staff who manage it always; a family only with a confirmed place on the course, once it is released and while it is offered."""
    return _staff_may_download(user, handout) or _family_may_download(user, handout, now=now or utcnow())


@dataclass(frozen=True)
class FamilyHandouts:
    #: Handouts the family can download now, in the order they were released.
    released: list[Handout]
    #: The handout to be released next, or None when nothing more is coming.
    coming_next: Handout | None


def family_handouts(booking: Booking, *, now: datetime | None = None) -> FamilyHandouts:
    """What a booking's family can download now, and which handout comes next; nothing until the place is confirmed."""
    now = now or utcnow()
    if booking.status != BookingStatus.CONFIRMED or not any(place.live for place in booking.places):
        return FamilyHandouts([], None)
    offered = [handout for handout in course_handouts(booking.course) if not handout.is_retired]
    released: list[Handout] = []
    waiting: list[Handout] = []
    for handout in offered:
        (released if is_released(handout, now=now) else waiting).append(handout)

    def released_order(handout: Handout) -> tuple:
        return release_time(handout) or EARLIEST, handout.id  # "once booked" ones come first

    def waiting_order(handout: Handout) -> tuple:
        return release_time(handout) or LATEST, handout.id  # a course with no sessions yet ends last

    return FamilyHandouts(sorted(released, key=released_order), min(waiting, key=waiting_order, default=None))


def download_name(handout: Handout) -> str:
    """A file name made from the title, safe in a header and on any device, with the file's own extension."""
    stem = re.sub(r"[^\w\s().,'-]", " ", handout.title)
    stem = re.sub(r"\s+", " ", stem).strip(" .-")[:100] or "handout"
    return stem + PurePosixPath(handout.original_filename).suffix.lower()


@dataclass(frozen=True)
class Download:
    handout: Handout
    stream: BinaryIO
    content_type: str
    name: str


def open_download(user: User, handout_id: int, *, now: datetime | None = None) -> Download | None:
    """Open the current version of a handout for someone allowed to have it, counting families' downloads; None otherwise."""
    handout = get_handout(handout_id)
    if handout is None:
        return None
    staff = _staff_may_download(user, handout)
    if not staff and not _family_may_download(user, handout, now=now or utcnow()):
        return None
    stored = handout.stored_file
    try:
        stream = get_storage().open(stored.key)
    except FileNotFoundError:
        log.error("Handout %s: stored file %s is missing from storage", handout.id, stored.key)
        return None
    download = Download(handout, stream, stored.content_type, download_name(handout))
    if not staff:
        # One UPDATE adds to the count, so downloads at the same moment are all counted.
        db.session.execute(
            update(Handout).where(Handout.id == handout.id).values(download_count=Handout.download_count + 1)
        )
        db.session.commit()
    return download

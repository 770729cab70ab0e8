"""Files people upload: what they really are, where their bytes live, and the row that records them.

Handouts and instructors' photos both use this. A file's type is read from its first bytes,
never from its name; its bytes are kept once per content (by SHA-256) under a random key,
so nothing a user types ever becomes part of a path. Storage sits behind a small interface,
so object storage can be added later by writing another class with the same three methods.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import Response, current_app, send_file
from sqlalchemy import CheckConstraint, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from instructor_portal.clock import utcnow
from instructor_portal.errors import DomainError, forget_failed_transaction
from instructor_portal.extensions import db

log = logging.getLogger(__name__)


class UploadError(DomainError):
    """An uploaded file was refused; the message says why and what to upload instead."""


@dataclass(frozen=True)
class FileKind:
    #: How the kind is named in a sentence: "This file is a PNG image ...".
    label: str
    content_type: str
    extensions: tuple[str, ...]


PDF = FileKind("a PDF document", "application/pdf", (".pdf",))
PNG = FileKind("a PNG image", "image/png", (".png",))
JPEG = FileKind("a JPEG image", "image/jpeg", (".jpg", ".jpeg"))
WEBP = FileKind("a WebP image", "image/webp", (".webp",))
#: Served as plain text (UTF-8, which the response adds) whatever the name says, so a browser never runs it as a page.
TEXT = FileKind("plain text", "text/plain", (".txt", ".md", ".markdown"))
IMAGES = (PNG, JPEG, WEBP)

#: Openings of web pages, XML (SVG included) and scripts; text that starts so is refused.
MARKUP_OPENINGS = ("<!doctype", "<html", "<head", "<body", "<svg", "<?xml", "<script", "#!")
#: Tags that make text active wherever they appear.
ACTIVE_TAGS = re.compile(r"<\s*(script|svg|html|iframe|object|embed)\b", re.IGNORECASE)
#: Control characters that plain text never holds (tab, newlines and form feed are fine).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def format_size(size: int) -> str:
    """A size as people read it: "20 MB", "1.5 MB", "300 KB" or "12 bytes"."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} {'byte' if size == 1 else 'bytes'}"


def sniff(data: bytes, *, wanted: str) -> FileKind:
    """Tell what the bytes are from their content, or refuse them, saying to upload ``wanted`` instead."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is None or CONTROL_CHARACTERS.search(text):
        raise UploadError(f"This is not a kind of file we can take. Upload {wanted}.", field="file")
    if text.lstrip().lower().startswith(MARKUP_OPENINGS) or ACTIVE_TAGS.search(text):
        raise UploadError(f"Web pages, SVG images and scripts cannot be uploaded. Upload {wanted}.", field="file")
    return TEXT


def read_at_most(stream: BinaryIO, limit: int) -> bytes:
    """Read one byte past ``limit`` at most, so a huge file is refused without holding all of it."""
    return stream.read(limit + 1)


def accept_upload(
    stream: BinaryIO | None, kinds: tuple[FileKind, ...], *, noun: str, wanted: str, limit: int, field: str
) -> tuple[bytes, FileKind]:
    """Read an upload and refuse one that is missing, larger than ``limit`` or not one of ``kinds``; return its bytes and kind.

    ``noun`` names the upload in messages ("photo"), ``wanted`` says what to upload instead.
    """
    data = read_at_most(stream, limit) if stream is not None else b""
    if not data:
        raise UploadError(f"Choose a {noun} to upload.", field=field)
    if len(data) > limit:
        raise UploadError(f"The {noun} is larger than {format_size(limit)}. Choose a smaller one.", field=field)
    kind = sniff(data, wanted=wanted)
    if kind not in kinds:
        raise UploadError(f"This file is {kind.label}. Upload {wanted}.", field=field)
    return data, kind


class StoredFile(db.Model):
    """One file's bytes in storage, kept once however many handouts or photos use it."""

    __tablename__ = "stored_files"
    __table_args__ = (CheckConstraint("size > 0", name="size_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Random name in storage; never derived from what the file was called.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    #: Hex SHA-256 of the content, so the same file uploaded twice is stored once.
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int]
    #: The type found from the content, served as the response's Content-Type.
    content_type: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<StoredFile {self.id} {self.content_type} {self.size}B>"


KEY_PATTERN = re.compile(r"[0-9a-f]{32}")


class FileStorage(Protocol):
    def save(self, data: bytes) -> str:
        """Store the bytes under a new random key and return the key."""

    def open(self, key: str) -> BinaryIO:
        """Open a stored file for reading; FileNotFoundError when it is missing."""

    def exists(self, key: str) -> bool:
        """Say whether a file is stored under the key."""

    def delete(self, key: str) -> None:
        """Remove the file stored under the key, if there is one."""

    def check(self) -> None:
        """Raise OSError unless a file could be stored now."""


class LocalStorage:
    """Files on local disk, at ``<root>/<first two characters of the key>/<key>``."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not KEY_PATTERN.fullmatch(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key[:2] / key

    def save(self, data: bytes) -> str:
        """Write to a temporary file beside the target, then rename it, so no reader ever sees half a file."""
        key = secrets.token_hex(16)
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return key

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=self.root, prefix=".health-") as probe:
            probe.write(b"ok")


def get_storage() -> FileStorage:
    """The storage the app is configured with."""
    return LocalStorage(current_app.config["UPLOAD_STORAGE_PATH"])


#: The session.info key listing the files saved in this transaction, removed again if it fails.
SAVED = "stored_keys"


def commit_upload(*, field: str) -> None:
    """Commit the transaction that stored a file; if it fails, remove the file again, so no file outlives its row.

    If another upload stored the same content at the same moment, say so.
    """
    saved = db.session.info.pop(SAVED, [])
    try:
        db.session.commit()
    except BaseException as error:
        forget_failed_transaction()
        storage = get_storage()
        for key in saved:
            storage.delete(key)
        if isinstance(error, IntegrityError):  # the unique checksum: the other upload's row won
            raise UploadError(
                "The same file was being uploaded at the same moment. Please try again.", field=field
            ) from None
        raise


def store_file(data: bytes, kind: FileKind, *, field: str) -> StoredFile:
    """The stored file for these bytes, saving them only if the same content is not stored already; commit with commit_upload.

    A storage that cannot be written (full, or not allowed) gets UploadError naming ``field``, and nothing is kept.
    """
    digest = hashlib.sha256(data).hexdigest()
    storage = get_storage()
    stored = db.session.scalars(select(StoredFile).where(StoredFile.sha256 == digest)).first()
    if stored is not None and storage.exists(stored.key):
        return stored
    try:
        key = storage.save(data)
    except OSError as error:
        log.error("Could not store an upload of %s bytes: %s", len(data), error)
        db.session.rollback()
        raise UploadError(
            "We could not save the file just now: our file storage is full or cannot be written to. Nothing was saved; "
            "please try again later, and tell the organiser if it keeps happening.",
            field=field,
        ) from None
    db.session.info.setdefault(SAVED, []).append(key)
    if stored is None:
        stored = StoredFile(key=key, sha256=digest, size=len(data), content_type=kind.content_type)
        db.session.add(stored)
    else:  # the row outlived its file (say, a database restored elsewhere)
        stored.key = key
    return stored


def send_private_file(stream: BinaryIO, *, content_type: str, name: str) -> Response:
    """A download for one person's eyes: never cached, never sniffed, and inert should a browser open it as a page."""
    response = send_file(stream, mimetype=content_type, download_name=name, max_age=None, conditional=False)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response

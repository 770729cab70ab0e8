"""Where handout files live: a small interface, and the local-disk implementation behind it.

Files are kept by a random key, never by the name they were uploaded with, so nothing a
user types ever becomes part of a path. Object storage can be added later by writing
another class with the same three methods.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app

KEY_PATTERN = re.compile(r"[0-9a-f]{32}")


class HandoutStorage(Protocol):
    def save(self, data: bytes) -> str:
        """Store the bytes under a new random key and return the key."""

    def open(self, key: str) -> BinaryIO:
        """Open a stored file for reading; FileNotFoundError when it is missing."""

    def exists(self, key: str) -> bool:
        """Say whether a file is stored under the key."""


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


def get_storage() -> HandoutStorage:
    """The storage the app is configured with."""
    return LocalStorage(current_app.config["HANDOUT_STORAGE_PATH"])

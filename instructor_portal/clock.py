"""The one source of "now"; services accept ``now=`` so tests never sleep."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)

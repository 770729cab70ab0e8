"""An append-only log of who did what, written in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from instructor_portal.clock import utcnow
from instructor_portal.extensions import db


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    #: Dotted verb such as "course.published" or "user.invited".
    action: Mapped[str] = mapped_column(String(80), index=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int | None]
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action} {self.subject_type}:{self.subject_id}>"


def record(actor, action: str, subject, **data: Any) -> AuditEntry:
    """Add an audit entry to the current transaction; the caller's service commits it."""
    if getattr(subject, "id", 0) is None:
        db.session.flush()  # give a new subject its id
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        action=action,
        subject_type=type(subject).__name__,
        subject_id=getattr(subject, "id", None),
        data=data,
    )
    db.session.add(entry)
    return entry


def record_changes(actor, action: str, subject, values: Mapping[str, Any]) -> list[str]:
    """Set each of ``values`` that differs on ``subject`` and audit which fields changed; the caller commits."""
    changed = sorted(name for name, value in values.items() if getattr(subject, name) != value)
    for name in changed:
        setattr(subject, name, values[name])
    record(actor, action, subject, changed=changed)
    return changed

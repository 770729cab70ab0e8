"""Flags for the organiser: money that needs a person's eye (a late payment, a refund that failed, a mismatch with Stripe)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from instructor_portal import audit
from instructor_portal.accounts.models import User
from instructor_portal.booking.models import Booking
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.payments.models import FlagKind, Payment, PaymentFlag
from instructor_portal.payments.services import PaymentError


def flag(
    kind: FlagKind, message: str, *, booking: Booking | None = None, payment: Payment | None = None
) -> PaymentFlag:
    """Record something the organiser must look at; the caller commits."""
    entry = PaymentFlag(kind=kind, message=message, booking=booking, payment=payment)
    db.session.add(entry)
    return entry


FLAG_LABELS = {
    FlagKind.MISMATCH: "Does not match Stripe",
    FlagKind.LATE_PAYMENT_CONFIRMED: "Paid late, place confirmed",
    FlagKind.LATE_PAYMENT_REFUNDED: "Paid late, refunded",
    FlagKind.REFUND_FAILED: "Refund failed",
}


@dataclass(frozen=True)
class ResolvedFlag:
    """A flag that was dealt with, and who dealt with it."""

    flag: PaymentFlag
    resolved_by: User | None


def count_open_flags() -> int:
    """Count the flags nobody has resolved yet."""
    return db.session.scalar(select(func.count(PaymentFlag.id)).where(PaymentFlag.resolved_at.is_(None)))


def open_flags() -> list[PaymentFlag]:
    """List the flags still to look at, newest first."""
    return list(
        db.session.scalars(
            select(PaymentFlag)
            .where(PaymentFlag.resolved_at.is_(None))
            .options(selectinload(PaymentFlag.booking))
            .order_by(PaymentFlag.created_at.desc(), PaymentFlag.id.desc())
        )
    )


def resolved_flags(*, limit: int = 50) -> list[ResolvedFlag]:
    """List the most recently resolved flags with who resolved them."""
    rows = db.session.execute(
        select(PaymentFlag, User)
        .outerjoin(User, User.id == PaymentFlag.resolved_by_id)
        .where(PaymentFlag.resolved_at.is_not(None))
        .options(selectinload(PaymentFlag.booking))
        .order_by(PaymentFlag.resolved_at.desc(), PaymentFlag.id.desc())
        .limit(limit)
    )
    return [ResolvedFlag(flag, user) for flag, user in rows]


def resolve_flag(flag: PaymentFlag, *, by: User, now: datetime | None = None) -> PaymentFlag:
    """Mark a flag as dealt with; a second click (or a colleague's at the same moment) finds it already resolved."""
    now = now or utcnow()
    changed = db.session.execute(
        update(PaymentFlag)
        .where(PaymentFlag.id == flag.id, PaymentFlag.resolved_at.is_(None))
        .values(resolved_at=now, resolved_by_id=by.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        db.session.rollback()
        raise PaymentError("This has already been marked as resolved.")
    audit.record(by, "payment_flag.resolved", flag, kind=flag.kind.value, booking_id=flag.booking_id)
    db.session.commit()
    db.session.refresh(flag)
    return flag

"""What places on a course cost: the list price, the sibling discount and a voucher, in exact pence.

Every sum is integer arithmetic in minor units; a percentage is rounded half up to a
whole penny, and the parts of a price always add up to its total.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import datetime

from sqlalchemy import func, select

from instructor_portal.booking.capacity import BookingError, holds_places
from instructor_portal.booking.models import Booking, Voucher, VoucherKind, VoucherRedemption
from instructor_portal.catalogue.models import Course
from instructor_portal.extensions import db


@dataclass(frozen=True)
class Price:
    """A price in minor units whose parts add up: list less both discounts is the total."""

    list_pence: int
    sibling_discount_pence: int
    voucher_discount_pence: int
    total_pence: int

    def __post_init__(self) -> None:
        if min(astuple(self)) < 0 or self.list_pence - self.discount_pence != self.total_pence:
            raise ValueError(f"the parts of {self!r} do not add up")

    @property
    def discount_pence(self) -> int:
        return self.sibling_discount_pence + self.voucher_discount_pence


def percent_of(pence: int, percent: int) -> int:
    """``percent`` per cent of ``pence``, rounded half up to a whole penny, without floats."""
    return (pence * percent + 50) // 100


def price_places(course: Course, places: int, *, voucher: Voucher | None = None) -> Price:
    """Price ``places`` places on ``course``: the sibling discount off each place after the first, then the voucher."""
    list_pence = course.price_pence * places
    sibling = percent_of(course.price_pence, course.sibling_discount_percent) * max(places - 1, 0)
    remaining = list_pence - sibling
    if voucher is None:
        off = 0
    elif voucher.kind == VoucherKind.PERCENT:
        off = percent_of(remaining, voucher.value)
    elif voucher.kind == VoucherKind.FIXED:
        off = min(voucher.value, remaining)
    else:
        off = remaining
    return Price(list_pence, sibling, off, remaining - off)


def normalise_code(code: str) -> str:
    """A voucher code as it is stored: without surrounding spaces, in capitals."""
    return code.strip().upper()


def voucher_uses(voucher_id, now: datetime):
    """A scalar subquery counting the bookings that use a voucher and still hold their places; ``voucher_id`` may be a column."""
    return (
        select(func.count(VoucherRedemption.id))
        .join(Booking, Booking.id == VoucherRedemption.booking_id)
        .where(VoucherRedemption.voucher_id == voucher_id, holds_places(now))
        .scalar_subquery()
    )


def find_voucher(code: str, *, course: Course, now: datetime) -> Voucher:
    """Return the voucher a family typed if it can be used on ``course`` now; raise BookingError saying why not."""

    def refuse(reason: str) -> BookingError:
        return BookingError(reason, field="voucher_code")

    if course.is_free:
        raise refuse("This course is free, so no code is needed.")
    voucher = db.session.scalars(
        select(Voucher).where(Voucher.code == normalise_code(code)).execution_options(populate_existing=True)
    ).first()
    if voucher is None:
        raise refuse("We do not recognise that code. Check it and try again, or leave it blank.")
    if not voucher.active:
        raise refuse("This code is no longer in use.")
    if voucher.expires_at is not None and now >= voucher.expires_at:
        raise refuse("This code has expired.")
    if voucher.max_uses is not None and db.session.scalar(select(voucher_uses(voucher.id, now))) >= voucher.max_uses:
        raise refuse("This code has been used up.")
    if voucher.course_id is not None and voucher.course_id != course.id:
        raise refuse("This code is for a different course.")
    if voucher.track is not None and voucher.track != course.track:
        raise refuse(f"This code is only for courses on the {voucher.track.label} track.")
    return voucher


def voucher_id(code: str) -> int | None:
    """The id of the voucher with this code, if there is one, so a booking can lock it before checking it."""
    return db.session.scalar(select(Voucher.id).where(Voucher.code == normalise_code(code)))

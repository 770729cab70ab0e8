"""A family's rights over their data: a copy of everything held about them, and erasure when they ask for it.

The copy is a ZIP with a page a person can read (``summary.html``) and the same facts for a
machine (``data.json``). Erasure cancels bookings still to come (refunded under the usual
rules), removes the children's records (registers keep initials and counts), strips the
account of everything that names the person, and keeps payment records with nobody named
on them. Every copy and every erasure is audit-logged.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import render_template
from sqlalchemy import delete, select, update
from sqlalchemy.orm import selectinload

from instructor_portal import audit
from instructor_portal.accounts.family import forget_child
from instructor_portal.accounts.models import Role, SignIn, User
from instructor_portal.accounts.sign_ins import end_every_sign_in
from instructor_portal.attendance.models import AttendanceMark, Makeup
from instructor_portal.booking.models import Booking, BookingPlace, BookingStatus
from instructor_portal.booking.rules import last_session_end
from instructor_portal.calendar_feeds.models import CalendarFeed
from instructor_portal.clock import utcnow
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from instructor_portal.organisation import get_organisation
from instructor_portal.organiser.models import ErasureRequest
from instructor_portal.payments.models import Payment
from instructor_portal.payments.refunds import cancel_booking_and_refund
from instructor_portal.teaching.models import Evaluation
from instructor_portal.waitlist.models import WaitlistEntry


class FamilyDataError(DomainError):
    """A data request could not be taken or carried out; the message says why."""


# --- The copy ------------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value.value if hasattr(value, "value") and not isinstance(value, str) else value


def _row(obj, *fields: str) -> dict[str, Any]:
    return {field: _plain(getattr(obj, field)) for field in fields}


def family_data(user: User) -> dict[str, Any]:
    """Everything held about a parent and their children, as plain data (what data.json holds)."""
    bookings = db.session.scalars(
        select(Booking)
        .where(Booking.parent_id == user.id)
        .order_by(Booking.created_at)
        .options(selectinload(Booking.course), selectinload(Booking.places).selectinload(BookingPlace.child))
    ).all()
    place_ids = [place.id for booking in bookings for place in booking.places]
    marks = db.session.scalars(
        select(AttendanceMark).where(AttendanceMark.place_id.in_(place_ids)).order_by(AttendanceMark.marked_at)
    ).all()
    makeups = db.session.scalars(select(Makeup).where(Makeup.place_id.in_(place_ids)).order_by(Makeup.offered_at)).all()
    payments = db.session.scalars(
        select(Payment)
        .where(Payment.booking_id.in_([b.id for b in bookings]))
        .order_by(Payment.created_at)
        .options(selectinload(Payment.refunds))
    ).all()
    emails = db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.to_address == user.email).order_by(OutboxEmail.id)
    ).all()
    sign_ins = db.session.scalars(select(SignIn).where(SignIn.user_id == user.id).order_by(SignIn.created_at)).all()
    return {
        "organisation": get_organisation().name,
        "made_at": utcnow().isoformat(),
        "account": _row(
            user, "full_name", "email", "phone", "role", "created_at", "email_verified_at", "last_login_at"
        ),
        "children": [
            _row(
                child,
                "first_name",
                "last_name",
                "date_of_birth",
                "due_date",
                "gestation_weeks",
                "care_notes",
                "care_notes_consent_at",
                "care_notes_consent_version",
                "relationship_to_carer",
                "created_at",
            )
            for child in user.children
        ],
        "bookings": [
            {
                **_row(
                    booking,
                    "reference",
                    "status",
                    "payment_method",
                    "amount_pence",
                    "discount_pence",
                    "amount_paid_pence",
                    "amount_refunded_pence",
                    "currency",
                    "created_at",
                    "confirmed_at",
                    "cancelled_at",
                    "cancellation_reason",
                    "medical_clearance",
                    "photo_consent",
                    "terms_accepted_at",
                ),
                "course": booking.course.title,
                "children": [
                    place.child.first_name if place.child else place.child_initial for place in booking.places
                ],
            }
            for booking in bookings
        ],
        "evaluations": [
            {
                **_row(evaluation, "sent_at", "answered_at", "comment", "may_quote"),
                "course": evaluation.booking.course.title,
                "answers": [{"question": answer.question.text, "score": answer.score} for answer in evaluation.answers],
            }
            for evaluation in db.session.scalars(
                select(Evaluation)
                .where(Evaluation.booking_id.in_([booking.id for booking in bookings]))
                .order_by(Evaluation.sent_at)
            )
        ],
        "waiting_lists": [
            {
                **_row(entry, "status", "places", "queued_at", "offered_at", "offer_expires_at", "closed_reason"),
                "course": entry.course.title,
                "children": [child.first_name for child in entry.children],
            }
            for entry in db.session.scalars(select(WaitlistEntry).where(WaitlistEntry.parent_id == user.id))
        ],
        "attendance": [
            {
                "course": mark.session.course.title,
                "session": _plain(mark.session.starts_at),
                "status": mark.status.label,
                "note": mark.note,
            }
            for mark in marks
        ],
        "make_ups": [
            {"session": _plain(m.session.starts_at), "course": m.session.course.title, "status": _plain(m.status)}
            for m in makeups
        ],
        "payments": [
            _row(
                payment,
                "method",
                "status",
                "amount_pence",
                "amount_refunded_pence",
                "currency",
                "created_at",
                "succeeded_at",
            )
            for payment in payments
        ],
        "refunds": [
            _row(refund, "amount_pence", "status", "reason", "created_at")
            for payment in payments
            for refund in payment.refunds
        ],
        "emails": [_row(email, "subject", "status", "created_at", "sent_at") for email in emails],
        "sign_ins": [_row(sign_in, "created_at", "expires_at", "ended_at", "remember") for sign_in in sign_ins],
        # Only that the feed is on, and since when: its address is never kept.
        "calendar_feeds": [
            _row(feed, "issued_at")
            for feed in db.session.scalars(select(CalendarFeed).where(CalendarFeed.user_id == user.id))
        ],
    }


@dataclass(frozen=True)
class DataCopy:
    filename: str
    content: bytes


def export_family_data(user: User, *, by: User) -> DataCopy:
    """Make the ZIP of everything held about ``user`` (for themselves, or for an organiser answering a request); audited."""
    if user.role != Role.PARENT:
        raise FamilyDataError("Only parents' and carers' data is exported here.")
    data = family_data(user)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("summary.html", render_template("accounts/data_summary.html", data=data))
        archive.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False))
    audit.record(by, "family.data_exported", user, for_themselves=by.id == user.id)
    db.session.commit()
    return DataCopy(f"my-data-{utcnow():%Y-%m-%d}.zip", buffer.getvalue())


# --- Erasure ------------------------------------------------------------------------------------------


def request_erasure(user: User, *, note: str = "") -> ErasureRequest:
    """Record a parent's request to be erased, for an organiser to carry out; asking twice keeps the first."""
    if user.role != Role.PARENT:
        raise FamilyDataError("Only parents' and carers' accounts are erased here; ask an organiser.")
    open_request = pending_erasure(user)
    if open_request is not None:
        return open_request
    erasure = ErasureRequest(user=user, note=note.strip()[:2000])
    db.session.add(erasure)
    audit.record(user, "family.erasure_requested", user)
    db.session.commit()
    return erasure


def pending_erasure(user: User) -> ErasureRequest | None:
    """The parent's request to be erased that is still to be carried out, if there is one."""
    return db.session.scalars(
        select(ErasureRequest).where(ErasureRequest.user_id == user.id, ErasureRequest.completed_at.is_(None))
    ).first()


def open_erasure_requests() -> list[ErasureRequest]:
    """The requests still to carry out, oldest first."""
    return list(
        db.session.scalars(
            select(ErasureRequest)
            .where(ErasureRequest.completed_at.is_(None))
            .order_by(ErasureRequest.requested_at)
            .options(selectinload(ErasureRequest.user))
        )
    )


def erase_family(erasure: ErasureRequest, *, by: User, now: datetime | None = None) -> ErasureRequest:
    """Carry out an erasure: cancel what is still to come, remove the children's records, and strip the account of the person."""
    now = now or utcnow()
    if erasure.completed_at is not None:
        raise FamilyDataError("This request has already been carried out.")
    user = erasure.user
    for booking in db.session.scalars(
        select(Booking).where(
            Booking.parent_id == user.id, Booking.status.in_([BookingStatus.CONFIRMED, BookingStatus.AWAITING_PAYMENT])
        )
    ).all():
        if (last_session_end(booking.course) or now) > now:
            cancel_booking_and_refund(booking, by=by, reason="The family asked for their data to be erased.", now=now)
    # Off every waiting list first: an entry names the children about to be forgotten.
    db.session.execute(delete(WaitlistEntry).where(WaitlistEntry.parent_id == user.id))
    for child in list(user.children):
        forget_child(child)
    db.session.execute(delete(OutboxEmail).where(OutboxEmail.to_address == user.email))
    # Their scores stay in the anonymous results; what they wrote in their own words goes.
    db.session.execute(
        update(Evaluation)
        .where(Evaluation.booking_id.in_(select(Booking.id).where(Booking.parent_id == user.id)))
        .values(comment="", may_quote=False)
    )
    end_every_sign_in(user, now=now)
    db.session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == user.id))
    user.full_name, user.email, user.phone = f"Erased family {user.id}", f"erased-{user.id}@erased.invalid", None
    user.password_hash, user.active = None, False
    erasure.note, erasure.completed_at, erasure.completed_by = "", now, by
    audit.record(by, "family.erased", user, erasure_id=erasure.id)
    db.session.commit()
    return erasure

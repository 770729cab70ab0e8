"""Writing to the families on a course or one session: who they are, a preview, and sending through the outbox.

A message goes to every family with a live booking on the course (confirmed, or held and
not yet expired), or to everyone on one session's register (``attendance.on_register``:
confirmed families of the course and families there for a make-up). One email per parent,
however many of their children come. Sending records the message, its recipients and their
outbox emails in one transaction, so the copy kept is exactly what was sent.

The audience is counted again when the message is sent: families who cancel after the
preview are left out, families who book after it are included, and the sender is told of
either change.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from flask import render_template
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from instructor_portal import audit
from instructor_portal.accounts.models import User
from instructor_portal.attendance.services import child_name, on_register
from instructor_portal.booking import capacity
from instructor_portal.booking.models import Booking, BookingPlace
from instructor_portal.catalogue.models import Course, CourseSession, CourseStatus, SessionStatus
from instructor_portal.clock import utcnow
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db
from instructor_portal.locks import unit_of_work
from instructor_portal.messages.models import GroupMessage, MessageRecipient
from instructor_portal.notifications.models import OutboxEmail
from instructor_portal.notifications.services import absolute_url, enqueue_email
from instructor_portal.permissions import can_manage_course

#: Longest message and subject accepted: a message is a note to the group, not a newsletter.
BODY_MAX = 5000
SUBJECT_MAX = 150
BODY_MISSING = "Write the message you want to send to the families."
BODY_TOO_LONG = f"Keep the message to {BODY_MAX:,} characters or fewer."
SUBJECT_TOO_LONG = f"Keep the subject to {SUBJECT_MAX} characters or fewer."
NO_FAMILIES = "No families are booked on this course yet."
NO_FAMILIES_AT_SESSION = "No families are on this session's register yet."
NOT_PREVIEWED = "Preview the message before sending it."
#: The send key a preview hands out: 32 hexadecimal characters.
SEND_KEY = re.compile(r"[0-9a-f]{32}")


class MessageError(DomainError):
    """A message could not be previewed or sent; the sentence says why."""


@dataclass(frozen=True)
class Recipient:
    """One family a message reaches: the parent or carer, and the children who bring them, as the register names them."""

    parent: User
    children: tuple[str, ...]


@dataclass(frozen=True)
class Draft:
    """A message checked and ready to send, with the families it would reach now."""

    course: Course
    session: CourseSession | None
    sender: User
    subject: str
    body: str
    recipients: list[Recipient]

    @property
    def parent_ids(self) -> frozenset[int]:
        return frozenset(recipient.parent.id for recipient in self.recipients)


@dataclass(frozen=True)
class Sent:
    """A message sent, and how its audience differed from the preview the sender saw."""

    message: GroupMessage
    #: Families booked since the preview, who got the message too.
    joined: list[str] = field(default_factory=list)
    #: How many families in the preview were no longer booked, so were left out.
    left: int = 0
    #: True when this preview had been sent already, by an earlier click: nothing was sent again.
    repeated: bool = False


# --- Reading ------------------------------------------------------------------------------


def default_subject(course: Course, sender: User) -> str:
    return f"{course.title}: a message from {sender.full_name}"


def audience(course: Course, session: CourseSession | None = None, *, now: datetime | None = None) -> list[Recipient]:
    """The families a message to the course (or to one of its sessions) reaches now, one per parent, in booking order."""
    now = now or utcnow()
    if session is None:
        booked = (BookingPlace.course_id == course.id, BookingPlace.live, capacity.holds_places(now))
    else:
        booked = (on_register(session),)
    places = db.session.scalars(
        select(BookingPlace)
        .join(Booking, Booking.id == BookingPlace.booking_id)
        .join(User, User.id == Booking.parent_id)
        # An erased family keeps its bookings of courses gone by, but no address to write to.
        .where(*booked, User.active)
        .options(selectinload(BookingPlace.child), selectinload(BookingPlace.booking).selectinload(Booking.parent))
        .order_by(Booking.created_at, BookingPlace.id)
    )
    families: dict[int, tuple[User, list[str]]] = {}
    for place in places:
        parent = place.booking.parent
        families.setdefault(parent.id, (parent, []))[1].append(child_name(course, place))
    return [Recipient(parent, tuple(children)) for parent, children in families.values()]


def draft_message(
    course: Course,
    *,
    sender: User,
    body: str,
    subject: str = "",
    session_id: int | None = None,
    now: datetime | None = None,
) -> Draft:
    """Check a message to the course's families (or one session's) and say who it would reach; nothing is saved."""
    if not can_manage_course(sender, course):
        raise MessageError("You can only write to the families on courses you teach.")
    if course.status == CourseStatus.CANCELLED:
        raise MessageError("This course was cancelled, so it has no families to write to.")
    session = _chosen_session(course, session_id)
    body = _clean_body(body)
    subject = " ".join(subject.split())
    if len(subject) > SUBJECT_MAX:
        raise MessageError(SUBJECT_TOO_LONG, field="subject")
    recipients = audience(course, session, now=now)
    if not recipients:
        raise MessageError(NO_FAMILIES if session is None else NO_FAMILIES_AT_SESSION, field="audience")
    return Draft(course, session, sender, subject or default_subject(course, sender), body, recipients)


def preview_text(draft: Draft) -> str:
    """The email's text as the first family will read it; the others differ only in the name they are greeted by."""
    return render_template("emails/group_message.txt", parent=draft.recipients[0].parent, **_email_context(draft))


def course_messages(course: Course) -> list[GroupMessage]:
    """The messages written to the course's families, newest first, each with who it went to and how each email fared."""
    return _messages(GroupMessage.course_id == course.id)


def recent_messages(*, limit: int = 50) -> list[GroupMessage]:
    """The latest messages written to families on any course, newest first, for organisers."""
    return _messages(limit=limit)


def _messages(*where, limit: int | None = None) -> list[GroupMessage]:
    query = (
        select(GroupMessage)
        .where(*where)
        .order_by(GroupMessage.sent_at.desc(), GroupMessage.id.desc())
        .limit(limit)
        .options(
            selectinload(GroupMessage.course),
            selectinload(GroupMessage.sender),
            selectinload(GroupMessage.session),
            selectinload(GroupMessage.recipients).options(
                selectinload(MessageRecipient.parent),
                selectinload(MessageRecipient.outbox_email).load_only(
                    OutboxEmail.status, OutboxEmail.attempts, OutboxEmail.last_error
                ),
            ),
        )
    )
    return list(db.session.scalars(query))


def _chosen_session(course: Course, session_id: int | None) -> CourseSession | None:
    if session_id is None:
        return None
    session = next((s for s in course.sessions if s.id == session_id), None)
    if session is None:
        raise MessageError("Choose the whole course or one of its sessions.", field="audience")
    if session.status == SessionStatus.CANCELLED:
        raise MessageError("That session was cancelled; write to the whole course instead.", field="audience")
    return session


def _clean_body(body: str) -> str:
    # One kind of line break, as browsers send \r\n; PostgreSQL cannot store NUL.
    body = body.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()
    if not body:
        raise MessageError(BODY_MISSING, field="body")
    if len(body) > BODY_MAX:
        raise MessageError(f"{BODY_TOO_LONG} This one has {len(body):,}.", field="body")
    return body


def _email_context(draft: Draft) -> dict:
    """What every family's email shows but the name it greets; built once for the whole group."""
    return {
        "course": draft.course,
        "session": draft.session,
        "sender": draft.sender,
        "body": draft.body,
        "bookings_url": absolute_url("booking.my_bookings"),
        "sent_because": f"your family is booked on {draft.course.title}",
    }


def new_send_key() -> str:
    """A fresh key for one preview, which its Send button carries."""
    return secrets.token_hex(16)


def _sent_with(send_key: str) -> GroupMessage | None:
    return db.session.scalar(select(GroupMessage).where(GroupMessage.send_key == send_key))


# --- Sending ------------------------------------------------------------------------------


def send_message(
    course: Course,
    *,
    sender: User,
    body: str,
    send_key: str,
    subject: str = "",
    session_id: int | None = None,
    previewed: Collection[int] | None = None,
    now: datetime | None = None,
) -> Sent:
    """Send the message to the families it reaches now, one outbox email each, keeping a copy; audited.

    ``send_key`` is the preview's key: the same preview sent twice sends once. ``previewed``
    holds the parents the preview listed, to say who joined or left since.
    """
    now = now or utcnow()
    if not SEND_KEY.fullmatch(send_key or ""):
        raise MessageError(NOT_PREVIEWED)
    if (earlier := _sent_with(send_key)) is not None:
        return Sent(earlier, repeated=True)
    try:
        # No lock: a family cancelling at this very moment gets the message or not, and either is right.
        with unit_of_work():
            draft = draft_message(course, sender=sender, body=body, subject=subject, session_id=session_id, now=now)
            message = GroupMessage(
                course=course,
                session=draft.session,
                sender=sender,
                subject=draft.subject,
                body=draft.body,
                reply_to=sender.email,
                send_key=send_key,
                sent_at=now,
            )
            db.session.add(message)
            db.session.flush()  # the key is taken first: a second click waits here, then finds it taken
            context = _email_context(draft)
            for recipient in draft.recipients:
                email = enqueue_email(
                    recipient.parent.email,
                    "group_message",
                    subject=draft.subject,
                    reply_to=sender.email,
                    parent=recipient.parent,
                    **context,
                )
                message.recipients.append(MessageRecipient(parent=recipient.parent, outbox_email=email))
            seen = frozenset(previewed if previewed is not None else draft.parent_ids)
            joined = [r.parent.full_name for r in draft.recipients if r.parent.id not in seen]
            left = len(seen - draft.parent_ids)
            audit.record(
                sender,
                "message.sent",
                message,
                course_id=course.id,
                session_id=draft.session.id if draft.session else None,
                title=draft.subject,
                characters=len(draft.body),
                families=len(draft.recipients),
                joined_since_preview=len(joined),
                left_since_preview=left,
            )
    except IntegrityError:
        if (earlier := _sent_with(send_key)) is None:
            raise
        return Sent(earlier, repeated=True)
    return Sent(message, joined=joined, left=left)

"""Demo-like data for every email template, in one place: add your template's context here.

``SAMPLES`` maps each template in ``templates/emails`` (without ``.txt``/``.html``) to a function
that takes the demo ``World`` and returns the context its caller passes to ``enqueue_email``.
Booking emails go through ``booking.emails.email_booking``, so theirs starts from ``for_booking``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from instructor_portal.attendance.models import Makeup, MakeupStatus
from instructor_portal.booking.models import Booking, PaymentMethod
from instructor_portal.catalogue.models import Course
from instructor_portal.demo import ORGANISATION
from instructor_portal.extensions import db
from instructor_portal.notifications.services import absolute_url
from instructor_portal.organisation import Organisation
from instructor_portal.payments.emails import PAID_BY, REFUND_ARRIVES
from instructor_portal.payments.models import Payment, Refund
from instructor_portal.reminders.checkins import check_in_links
from instructor_portal.reminders.models import ReminderKind
from instructor_portal.reminders.services import Reminder
from instructor_portal.teaching.models import Credential, CredentialKind
from instructor_portal.waitlist.models import EntryStatus, WaitlistEntry
from tests import factories

FIRST_SESSION = datetime(2030, 3, 5, 10, 0, tzinfo=UTC)


@dataclass
class World:
    """A small organisation like the demo's: one paid booking for two children, a waiting list, a make-up."""

    organisation: Organisation
    course: Course
    booking: Booking
    payment: Payment
    refund: Refund
    entry: WaitlistEntry
    makeup: Makeup


def build_world() -> World:
    organisation = Organisation(
        **{**ORGANISATION, "postal_address": "Connected Babies Bristol Ltd\n12 Gloucester Road\nBristol BS7 8AA"}
    )
    db.session.add(organisation)
    db.session.commit()
    instructor = factories.make_user(role="instructor", full_name="Hannah Reid", phone="07700 900123")
    parent = factories.make_user(full_name="Amira Khan", email="amira@example.org")
    children = [factories.make_child(parent, first_name="Zara"), factories.make_child(parent, first_name="Idris")]
    course = factories.make_course(
        instructor=instructor,
        title="Baby Massage for Families (Tuesday mornings)",
        first_session=FIRST_SESSION,
        min_places=3,
    )
    booking = factories.make_booking(course, children, amount_paid_pence=9000, payment_method=PaymentMethod.CARD)
    payment = factories.make_payment(booking, at=FIRST_SESSION - timedelta(days=20), stripe_payment_intent_id="pi_1")
    refund = factories.make_refund(payment, amount_pence=4500, reason="Zara was unwell for most of the course.")
    other = factories.make_course(instructor=instructor, title="Baby Massage (Saturday)", first_session=FIRST_SESSION)
    entry = WaitlistEntry(
        course=course,
        parent=parent,
        places=1,
        status=EntryStatus.OFFERED,
        children=children[:1],
        offer_expires_at=FIRST_SESSION - timedelta(days=2),
    )
    makeup = Makeup(
        place=booking.places[0],
        missed_session=course.sessions[1],
        session=other.sessions[2],
        status=MakeupStatus.OFFERED,
        offered_at=FIRST_SESSION,
    )
    return World(organisation, course, booking, payment, refund, entry, makeup)


def for_booking(world: World, **extra: Any) -> dict[str, Any]:
    """The context ``booking.emails.email_booking`` gives every booking email."""
    return {
        "booking": world.booking,
        "course": world.course,
        "booking_url": absolute_url("booking.my_booking", booking_id=world.booking.id),
        "classes_url": absolute_url("catalogue.classes"),
        **extra,
    }


def for_entry(world: World, **extra: Any) -> dict[str, Any]:
    """The context ``waitlist.services.tell_family`` gives every waiting-list email."""
    return {
        "entry": world.entry,
        "course": world.course,
        "sent_because": f"you joined the waiting list for {world.course.title}",
        "waitlist_url": absolute_url("waitlist.my_waiting_lists"),
        "classes_url": absolute_url("catalogue.classes"),
        **extra,
    }


def for_makeup(world: World, **extra: Any) -> dict[str, Any]:
    """The context ``attendance.makeups._email_family`` gives every make-up email."""
    return {
        "booking": world.booking,
        "makeup": world.makeup,
        "child_name": "Zara",
        "booking_url": absolute_url("booking.my_booking", booking_id=world.booking.id),
        "was_accepted": True,
        **extra,
    }


def for_account(world: World, because: str, **extra: Any) -> dict[str, Any]:
    return {"user": world.booking.parent, "sent_because": because, **extra}


def for_reminder(world: World) -> dict[str, Any]:
    """The context ``reminders.channels.EmailChannel`` gives the morning reminder of a confirmed family."""
    session = world.course.sessions[0]
    reminder = Reminder(session, world.booking, ReminderKind.MORNING, children=("Zara", "Idris"), makeup=False)
    return for_booking(
        world, reminder=reminder, session=session, when="today", check_in=check_in_links(session, world.booking)
    )


SAMPLES: dict[str, Callable[[World], dict[str, Any]]] = {
    "credential_expiring": lambda w: {
        "sent_because": "you teach with us, and we remind instructors before a credential expires",
        "recipient": w.course.instructor,
        "instructor": w.course.instructor,
        "credential": Credential(
            instructor=w.course.instructor,
            kind=CredentialKind.INSURANCE,
            issued_on=FIRST_SESSION.date() - timedelta(days=335),
            expires_on=FIRST_SESSION.date() + timedelta(days=30),
            provider="Balens",
        ),
        "own": True,
        "page_url": absolute_url("teaching.credentials_page"),
    },
    "group_message": lambda w: {
        "sent_because": f"your family is booked on {w.course.title}",
        "parent": w.booking.parent,
        "course": w.course,
        "session": None,
        "sender": w.course.instructor,
        "body": "The room has changed: we are in the hall this week.\n\nBring a towel and a bottle of water.",
        "bookings_url": absolute_url("booking.my_bookings"),
    },
    "evaluation_request": lambda w: {
        "sent_because": f"your family came to {w.course.title}",
        "parent": w.booking.parent,
        "course": w.course,
        "answer_by": FIRST_SESSION.date() + timedelta(days=95),
        "link": absolute_url("catalogue.classes"),
    },
    "session_reminder": for_reminder,
    "account_exists": lambda w: for_account(
        w,
        "someone tried to sign up with this email address",
        login_url=absolute_url("accounts.login"),
        reset_url=absolute_url("accounts.forgot_password"),
    ),
    "confirm_email": lambda w: for_account(
        w, "this email address was used to sign up", link=absolute_url("accounts.login"), valid_for="3 days"
    ),
    "invitation": lambda w: for_account(
        w, "an account was made for you", link=absolute_url("accounts.login"), valid_for="7 days"
    ),
    "password_reset": lambda w: for_account(
        w, "someone asked to reset your password", link=absolute_url("accounts.login"), valid_for="30 minutes"
    ),
    "sign_in_attempts": lambda w: for_account(
        w, "someone tried many wrong passwords", reset_url=absolute_url("accounts.forgot_password")
    ),
    "booking_confirmed": lambda w: for_booking(w),
    "booking_cancelled": lambda w: for_booking(w),
    "booking_pay_link": lambda w: for_booking(w, pay_url=absolute_url("booking.pay", booking_id=w.booking.id)),
    "course_cancelled": lambda w: for_booking(w, reason="The venue has closed."),
    "payment_failed": lambda w: for_booking(w),
    "session_changed": lambda w: for_booking(
        w, session=w.course.sessions[1], moved_from=w.course.sessions[1].starts_at - timedelta(days=1)
    ),
    "payment_receipt": lambda w: for_booking(
        w, payment=w.payment, paid_on=w.payment.succeeded_at, paid_by=PAID_BY[w.payment.method]
    ),
    "refund_made": lambda w: for_booking(
        w,
        refund=w.refund,
        payment=w.payment,
        booking_cancelled=False,
        late_payment=False,
        arrives=REFUND_ARRIVES[w.payment.method],
    ),
    "makeup_offered": lambda w: for_makeup(w, was_accepted=False),
    "makeup_confirmed": lambda w: for_makeup(w),
    "makeup_cancelled": lambda w: for_makeup(w, reason="The instructor is unwell."),
    "makeup_moved": lambda w: for_makeup(w, moved_from=w.makeup.session.starts_at - timedelta(hours=2)),
    "minimum_warning": lambda w: {
        "course": w.course,
        "recipient": w.course.instructor,
        "sent_because": f"you teach {w.course.title}",
        "booked": 2,
        "decide": FIRST_SESSION - timedelta(days=3),
        "course_url": absolute_url("teaching.course", course_id=w.course.id),
    },
    "waitlist_offer": lambda w: for_entry(w, offer_url=absolute_url("catalogue.classes")),
    "waitlist_lapsed": lambda w: for_entry(w),
    "waitlist_closed": lambda w: for_entry(w, reason="Zara is now older than this course's ages.", suggestions=[]),
    "waitlist_removed": lambda w: for_entry(w, message="This course is for premature babies only."),
}

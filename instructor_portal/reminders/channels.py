"""How a reminder reaches a family: email through the outbox now; a text-message provider would be a second channel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from instructor_portal.notifications.services import absolute_url, enqueue_email
from instructor_portal.organisation import get_organisation
from instructor_portal.reminders.checkins import check_in_links
from instructor_portal.reminders.models import ReminderKind

if TYPE_CHECKING:
    from instructor_portal.reminders.services import Reminder


class Channel(Protocol):
    def send(self, reminder: Reminder) -> None:
        """Queue the reminder in the caller's transaction, so it leaves only if the record that it was sent commits."""


class EmailChannel:
    """Reminders by email, queued in the outbox."""

    def send(self, reminder: Reminder) -> None:
        session, booking = reminder.session, reminder.booking
        when = "today" if reminder.kind == ReminderKind.MORNING else "tomorrow"
        morning = reminder.kind == ReminderKind.MORNING
        enqueue_email(
            booking.parent.email,
            "session_reminder",
            subject=f"{session.course.title} {when}: {get_organisation().name}",
            reminder=reminder,
            session=session,
            course=session.course,
            booking=booking,
            when=when,
            # The check-in is for families on the register: confirmed places, on the morning.
            check_in=check_in_links(session, booking) if morning and reminder.confirmed else None,
            booking_url=absolute_url("booking.my_booking", booking_id=booking.id),
        )

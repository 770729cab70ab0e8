"""The reminders' scheduled job: every few minutes, email the session reminders that are due."""

from instructor_portal.queue import periodic
from instructor_portal.reminders.services import send_due_reminders


@periodic("REMINDER_SWEEP_MINUTES")
def send_reminders() -> None:
    """Send the day-before and morning reminders due now, each once, and nothing for a session already started."""
    send_due_reminders()

"""The waiting list's jobs: offer freed places as soon as they free up, and sweep every list each minute."""

from instructor_portal.catalogue.models import Course
from instructor_portal.extensions import db
from instructor_portal.queue import job, periodic
from instructor_portal.waitlist.offers import offer_places, sweep_waitlists


@job(retries=3, retry_delay=10)
def offer_freed_places(course_id: int) -> None:
    """Offer a course's freed places to its waiting list now, rather than at the next sweep."""
    course = db.session.get(Course, course_id)
    if course is not None:
        offer_places(course)


@periodic("WAITLIST_SWEEP_MINUTES")
def sweep_waiting_lists() -> None:
    """Lapse offers whose time is up, close lists that should close, and offer free places in turn."""
    sweep_waitlists()

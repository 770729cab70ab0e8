"""One rule for who is on a session's register: the register page and the export list the same families everywhere."""

from datetime import timedelta

from instructor_portal.accounts.models import Role
from instructor_portal.attendance import makeups, services
from instructor_portal.attendance.export_filters import RegisterFilters
from instructor_portal.attendance.register_rows import register_lines
from instructor_portal.booking import cancellation as booking_cancellation
from instructor_portal.booking.models import BookingStatus
from instructor_portal.catalogue.models import SessionStatus
from instructor_portal.extensions import db
from instructor_portal.organisation import get_organisation
from instructor_portal.timezones import local_date
from tests import factories
from tests.attendance.conftest import NOW


def page_families(session) -> list[tuple[str, str]]:
    """Who the register page lists at the session, as (parent or carer, course made up from)."""
    rows = services.build_register(session)
    return sorted((row.parent_name, row.makeup_from.title if row.makeup_from else "") for row in rows)


def exported_families(session, organiser) -> list[tuple[str, str]]:
    """Who the export lists at the session (its course's registers on its day), read the same way."""
    day = local_date(session.starts_at, get_organisation().timezone)
    lines = register_lines(RegisterFilters(course=session.course, date_from=day, date_to=day), by=organiser)
    return sorted((line.parent, line.makeup_from) for _, line in lines)


def family(course, parent_name: str, **booking):
    """Book one baby of the parent named on the course, written directly."""
    parent = factories.make_user(full_name=parent_name)
    return factories.make_booking(
        course, [factories.make_child(parent, born=NOW.date() - timedelta(weeks=12))], **booking
    )


def test_the_register_page_and_the_export_list_the_same_families_at_every_session(makeup_scene):
    scene = makeup_scene
    course, other, organiser = scene.course, scene.other, factories.make_user(role=Role.ORGANISER)
    removed = family(course, "Removed Record")
    db.session.delete(removed.places[0].child)
    db.session.commit()
    family(course, "Cancelled Booking", status=BookingStatus.CANCELLED)
    family(course, "Running Hold", status=BookingStatus.AWAITING_PAYMENT)
    family(course, "Lapsed Hold", status=BookingStatus.AWAITING_PAYMENT, hold_expires_at=NOW - timedelta(minutes=1))
    family(course, "Expired Hold", status=BookingStatus.EXPIRED)
    family(other, "Friday Family")

    def offer(booking):
        services.mark_attendance(scene.missed, booking.places[0].id, "absent_other", by=scene.instructor, now=NOW)
        return makeups.offer_makeup(scene.missed, booking.places[0], scene.target, by=scene.instructor, now=NOW)

    makeups.accept_makeup(
        makeups.offer_makeup(scene.missed, scene.place, scene.target, by=scene.instructor, now=NOW),
        by=scene.booking.parent,
        now=NOW,
    )
    withdrawn = makeups.accept_makeup(offer(family(course, "Withdrawn Makeup")), by=scene.instructor, now=NOW)
    makeups.withdraw_makeup(withdrawn, by=scene.instructor, now=NOW)
    cancelled = family(course, "Cancelled After Makeup")
    makeups.accept_makeup(offer(cancelled), by=scene.instructor, now=NOW)
    booking_cancellation.cancel_booking(cancelled, by=organiser, now=NOW)
    offer(family(course, "Only Offered"))
    makeups.decline_makeup(offer(family(course, "Declined Makeup")), by=scene.instructor, now=NOW)
    course.sessions[-1].status = SessionStatus.CANCELLED
    db.session.commit()

    for session in [*course.scheduled_sessions, *other.scheduled_sessions]:
        assert page_families(session) == exported_families(session, organiser), session
    # Not vacuous: each session holds the families expected, and nobody else.
    own = [
        ("Amira Khan", ""),
        ("Declined Makeup", ""),
        ("Only Offered", ""),
        ("Removed Record", ""),
        ("Withdrawn Makeup", ""),
    ]
    assert page_families(scene.missed) == own
    assert page_families(scene.target) == [("Amira Khan", "Tuesday babies"), ("Friday Family", "")]
    # A cancelled session keeps its register on the page but is left out of exports: which sessions, not who is on one.
    assert (page_families(course.sessions[-1]), exported_families(course.sessions[-1], organiser)) == (own, [])

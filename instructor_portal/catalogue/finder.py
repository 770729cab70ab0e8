"""Find a local instructor: the public directory searched by town or postcode and by track, with current credentials.

An instructor is near a place when their own "where you teach" mentions it or they have
published a course there; they teach a track when they have published a course of it. Only
credentials current today are shown, in words a family understands; never their numbers,
dates beyond the year of certification, or copies.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import ColumnElement, exists, or_, select

from instructor_portal.accounts.models import InstructorProfile, User
from instructor_portal.catalogue.models import Course, CourseStatus, Track, Venue
from instructor_portal.catalogue.services import InstructorListing, escape_like, instructor_listings, place_condition
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.organisation import local_today
from instructor_portal.teaching.models import Credential, CredentialKind


@dataclass(frozen=True)
class InstructorFilters:
    """What a family searches the directory by; both optional."""

    #: A town or postcode (prefix), or "online".
    place: str = ""
    track: Track | None = None


def _has_published_course(*where: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists(
        select(Course.id)
        .outerjoin(Venue, Venue.id == Course.venue_id)
        .where(Course.instructor_id == User.id, Course.status == CourseStatus.PUBLISHED, *where)
    )


def _area_mentions(place: str) -> ColumnElement[bool]:
    """The instructor's own "where you teach" has a word starting with ``place``."""
    pattern = escape_like(place)
    return or_(
        InstructorProfile.area.ilike(f"{pattern}%", escape="\\"),
        InstructorProfile.area.ilike(f"% {pattern}%", escape="\\"),
    )


def _conditions(filters: InstructorFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.track is not None:
        conditions.append(_has_published_course(Course.track == filters.track))
    place = filters.place.strip()
    if place:
        conditions.append(or_(_area_mentions(place), _has_published_course(place_condition(place))))
    return conditions


def find_instructors(filters: InstructorFilters, *, now: datetime | None = None) -> list[InstructorListing]:
    """The listed instructors matching ``filters``, by name, with their upcoming courses and current credentials."""
    now = now or utcnow()
    return with_credentials(instructor_listings(now, *_conditions(filters)), today=local_today(now))


def credential_words(credential: Credential) -> str:
    """A current credential as a family reads it, without numbers or documents."""
    if credential.kind == CredentialKind.CIMI:
        return f"CIMI certified since {credential.issued_on.year}" if credential.issued_on else "CIMI certified"
    return {
        CredentialKind.INSURANCE: "Insured",
        CredentialKind.DBS: "DBS checked",
        CredentialKind.FIRST_AID: "First-aid trained",
    }[credential.kind]


def is_current(credential: Credential, *, today: date) -> bool:
    """Issued by today and not yet expired (a credential is valid through its expiry date)."""
    started = credential.issued_on is None or credential.issued_on <= today
    return started and (credential.expires_on is None or credential.expires_on >= today)


def with_credentials(listings: list[InstructorListing], *, today: date) -> list[InstructorListing]:
    """The listings with each instructor's current credentials in words, in one query."""
    if not listings:
        return listings
    held: dict[int, list[Credential]] = {listing.instructor.id: [] for listing in listings}
    for credential in db.session.scalars(select(Credential).where(Credential.instructor_id.in_(held))):
        if is_current(credential, today=today):
            held[credential.instructor_id].append(credential)
    order = list(CredentialKind)
    return [
        replace(
            listing,
            credentials=[
                credential_words(credential)
                for credential in sorted(held[listing.instructor.id], key=lambda c: order.index(c.kind))
            ],
        )
        for listing in listings
    ]

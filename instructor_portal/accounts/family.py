"""A parent's children: adding and changing them with checked dates, care notes by consent, and removing or forgetting a child's record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from instructor_portal import audit
from instructor_portal.accounts.models import CARE_NOTES_CONSENT_VERSION, FULL_TERM_WEEKS, Child, User
from instructor_portal.accounts.services import AccountError
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db

#: Oldest child a family profile takes (adoptive and foster courses go up to age 7).
OLDEST_CHILD_YEARS = 18


#: A due date may fall this far before a birth (a late baby) or after it (born at 22 weeks).
DUE_BEFORE_BIRTH = timedelta(weeks=4)


DUE_AFTER_BIRTH = timedelta(weeks=FULL_TERM_WEEKS - 22)


#: An unborn baby's due date is at most this far ahead.
LONGEST_PREGNANCY_AHEAD = timedelta(weeks=42)


@dataclass(frozen=True)
class ChildDetails:
    """What a parent enters about a child; exactly what the form asks, nothing more."""

    first_name: str
    last_name: str
    date_of_birth: date | None
    due_date: date | None = None
    gestation_weeks: int | None = None
    care_notes: str = ""
    #: Whether the parent ticked agreement to CARE_NOTES_CONSENT; needed for any care notes.
    care_notes_consent: bool = False
    relationship_to_carer: str = ""


def _validate_child(details: ChildDetails, today: date, *, by_staff: bool = False) -> None:
    """Refuse details that cannot be right, in words for the parent, or for staff entering them for a family."""
    your = "the" if by_staff else "your"
    if details.care_notes.strip() and not details.care_notes_consent:
        raise AccountError(
            "Tick the box to confirm the family agreed to these notes being kept, or leave the notes empty."
            if by_staff
            else "Tick the box to agree to these notes being kept, or leave the notes empty.",
            field="care_notes_consent",
        )
    if not details.first_name.strip():
        raise AccountError(f"Enter {your} child's first name.", field="first_name")
    if not details.last_name.strip():
        raise AccountError(f"Enter {your} child's last name.", field="last_name")
    born, due, weeks = details.date_of_birth, details.due_date, details.gestation_weeks
    if born is None:
        if due is None:
            raise AccountError(
                f"Enter {your} child's date of birth, or the due date if {your} baby is not born yet.",
                field="date_of_birth",
            )
        if weeks is not None:
            raise AccountError(
                f"Leave the weeks of pregnancy at birth empty until {your} baby is born.", field="gestation_weeks"
            )
        if not today <= due <= today + LONGEST_PREGNANCY_AHEAD:
            raise AccountError(
                "A due date for a baby not yet born must be between today and 42 weeks from now.", field="due_date"
            )
        return
    if born > today:
        raise AccountError(
            f"The date of birth cannot be in the future. If {your} baby is not born yet, leave it empty and enter the due date.",
            field="date_of_birth",
        )
    if (today - born).days > OLDEST_CHILD_YEARS * 365.25:
        raise AccountError(
            f"Children's profiles are for children under {OLDEST_CHILD_YEARS}. Please check the year of birth.",
            field="date_of_birth",
        )
    if weeks is not None and not 22 <= weeks <= 42:
        raise AccountError("Weeks of pregnancy at birth must be between 22 and 42.", field="gestation_weeks")
    if due is not None and weeks is not None:
        raise AccountError(
            "Give either the due date or the weeks of pregnancy at birth, not both.", field="gestation_weeks"
        )
    if due is not None and not born - DUE_BEFORE_BIRTH <= due <= born + DUE_AFTER_BIRTH:
        raise AccountError(
            "The due date should be within 4 weeks before and 18 weeks after the date of birth. Please check it.",
            field="due_date",
        )


def _apply_child(child: Child, details: ChildDetails, *, now: datetime) -> None:
    child.first_name = details.first_name.strip()
    child.last_name = details.last_name.strip()
    child.date_of_birth = details.date_of_birth
    child.due_date = details.due_date
    child.gestation_weeks = details.gestation_weeks if details.date_of_birth else None
    notes = details.care_notes.strip()
    if notes != child.care_notes:  # new or changed notes, agreed to now in the current wording
        child.care_notes_consent_at, child.care_notes_consent_version = (
            (now, CARE_NOTES_CONSENT_VERSION) if notes else (None, None)
        )
    child.care_notes = notes
    child.relationship_to_carer = details.relationship_to_carer.strip()


def add_child(parent: User, details: ChildDetails, *, today: date | None = None) -> Child:
    """Add a child to the parent's family."""
    child = new_child(parent, details, today=today)
    db.session.commit()
    return child


def new_child(parent: User, details: ChildDetails, *, today: date | None = None, by_staff: bool = False) -> Child:
    """Check a child's details and add the child to the parent's family; the caller commits.

    ``by_staff`` is staff entering the child for a family who phoned, so refusals speak of "the child".
    """
    _validate_child(details, today or utcnow().date(), by_staff=by_staff)
    child = Child(parent=parent, care_notes="")
    _apply_child(child, details, now=utcnow())
    db.session.add(child)
    return child


def update_child(child: Child, details: ChildDetails, *, today: date | None = None) -> Child:
    """Change a child's details."""
    _validate_child(details, today or utcnow().date())
    _apply_child(child, details, now=utcnow())
    db.session.commit()
    return child


def withdraw_care_notes_consent(child: Child, *, now: datetime | None = None) -> Child:
    """Withdraw the parent's consent to the child's care notes, which deletes them."""
    child.care_notes, child.care_notes_consent_at, child.care_notes_consent_version = "", None, None
    audit.record(child.parent, "child.care_notes_withdrawn", child)
    db.session.commit()
    return child


def remove_child(child: Child) -> None:
    """Remove a child who holds no place on a course that has not finished yet."""
    from instructor_portal.booking.models import BookingPlace
    from instructor_portal.catalogue.models import CourseSession

    last_session = (
        db.select(db.func.max(CourseSession.ends_at))
        .where(CourseSession.course_id == BookingPlace.course_id)
        .scalar_subquery()
    )
    booked = db.session.scalar(
        db.select(db.func.count(BookingPlace.id)).where(
            BookingPlace.child_id == child.id, BookingPlace.live, last_session > utcnow()
        )
    )
    if booked:
        raise AccountError(
            f"{child.first_name} has a place on a course that has not finished. Cancel that booking first."
        )
    forget_child(child)
    db.session.commit()


def forget_child(child: Child) -> None:
    """Delete a child's record; places on past courses stay in the registers, naming the child by first initial only.

    The caller commits.
    """
    from instructor_portal.booking.models import BookingPlace

    initial = f"{child.first_name[:1].upper()}." if child.first_name.strip() else ""
    db.session.execute(
        db.update(BookingPlace)
        .where(BookingPlace.child_id == child.id)
        .values(child_initial=initial)
        .execution_options(synchronize_session="fetch")
    )
    db.session.delete(child)

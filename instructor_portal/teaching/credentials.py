"""Instructors' credentials: CIMI certificate, insurance, DBS check and first aid, what is lapsing, and the alerts.

Each instructor keeps one current credential of each kind, with an optional scan of it,
stored like a handout (content sniffed, kept behind the storage interface) and served only to
the instructor and the organisers. Thirty days before an expiry the instructor and every
organiser are emailed once for that expiry date, however many workers run the job. An
instructor whose insurance has lapsed cannot publish new courses.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import BinaryIO

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import joinedload

from instructor_portal import audit
from instructor_portal.accounts.models import Role, User
from instructor_portal.accounts.services import active_organisers
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db
from instructor_portal.notifications.services import absolute_url, enqueue_email
from instructor_portal.organisation import local_today
from instructor_portal.teaching.models import Credential, CredentialKind
from instructor_portal.templating import format_date
from instructor_portal.uploads import IMAGES, PDF, accept_upload, commit_upload, get_storage, store_file

log = logging.getLogger(__name__)

#: How far ahead the organiser's table looks, and how long before an expiry both are emailed.
WATCH_AHEAD = timedelta(days=60)
ALERT_AHEAD = timedelta(days=30)
DOCUMENT_KINDS = (PDF, *IMAGES)
DOCUMENT_TYPES = "a PDF, or a photo or scan saved as JPEG, PNG or WebP"
REFERENCE_MAX, PROVIDER_MAX = 60, 120


class CredentialError(DomainError):
    """A credential could not be recorded."""


class CredentialStatus(StrEnum):
    CURRENT = "current"
    EXPIRING = "expiring"
    LAPSED = "lapsed"
    MISSING = "missing"

    @property
    def label(self) -> str:
        return {"current": "Current", "expiring": "Expires soon", "lapsed": "Lapsed", "missing": "Not recorded"}[
            self.value
        ]


@dataclass(frozen=True)
class Requirement:
    """What an instructor records for one kind of credential, and the words the form uses."""

    issued_label: str
    expires_label: str
    reference_label: str
    provider_label: str
    #: Fields that must be filled in, each with the message for a missing one.
    required: dict[str, str]


REQUIREMENTS = {
    CredentialKind.CIMI: Requirement(
        "Date certified",
        "Renewal date (if any)",
        "Certificate number",
        "Awarded by",
        {"issued_on": "Enter the date you were certified.", "reference": "Enter your certificate number."},
    ),
    CredentialKind.INSURANCE: Requirement(
        "Policy start date",
        "Expiry date",
        "Policy number",
        "Insurer",
        {"provider": "Enter the name of your insurer.", "expires_on": "Enter the date your insurance expires."},
    ),
    CredentialKind.DBS: Requirement(
        "Date of the check",
        "Renewal date",
        "Certificate number",
        "Checked by",
        {"issued_on": "Enter the date of the check.", "expires_on": "Enter the date the check is due for renewal."},
    ),
    CredentialKind.FIRST_AID: Requirement(
        "Date of the course",
        "Expiry date",
        "Certificate number",
        "Course provider",
        {"issued_on": "Enter the date of your first-aid course.", "expires_on": "Enter the date it expires."},
    ),
}


def status_of(credential: Credential | None, *, today: date) -> CredentialStatus:
    """Whether a credential is current, expires within the next 60 days, has lapsed, or was never recorded."""
    if credential is None:
        return CredentialStatus.MISSING
    if credential.expires_on is None or credential.expires_on > today + WATCH_AHEAD:
        return CredentialStatus.CURRENT
    return CredentialStatus.LAPSED if credential.expires_on < today else CredentialStatus.EXPIRING


def instructor_credentials(instructor: User) -> dict[CredentialKind, Credential | None]:
    """The instructor's credential of each kind, None where none is recorded, in the form's order."""
    found = {
        credential.kind: credential
        for credential in db.session.scalars(select(Credential).where(Credential.instructor_id == instructor.id))
    }
    return {kind: found.get(kind) for kind in CredentialKind}


def _checked_values(
    kind: CredentialKind, *, issued_on: date | None, expires_on: date | None, reference: str, provider: str, today: date
) -> dict:
    values = {
        "issued_on": issued_on,
        "expires_on": expires_on,
        "reference": (reference or "").strip(),
        "provider": (provider or "").strip(),
    }
    for field, message in REQUIREMENTS[kind].required.items():
        if values[field] in (None, ""):
            raise CredentialError(message, field=field)
    if len(values["reference"]) > REFERENCE_MAX:
        raise CredentialError(f"Keep the number to {REFERENCE_MAX} characters or fewer.", field="reference")
    if len(values["provider"]) > PROVIDER_MAX:
        raise CredentialError(f"Keep this to {PROVIDER_MAX} characters or fewer.", field="provider")
    if issued_on is not None and issued_on > today:
        raise CredentialError("This date is in the future. Enter the date it was issued.", field="issued_on")
    if issued_on is not None and expires_on is not None and expires_on <= issued_on:
        raise CredentialError("The expiry date must be after the date it was issued.", field="expires_on")
    return values


def record_credential(
    instructor: User,
    kind: CredentialKind | str,
    *,
    actor: User,
    issued_on: date | None = None,
    expires_on: date | None = None,
    reference: str = "",
    provider: str = "",
    document: BinaryIO | None = None,
    now: datetime | None = None,
) -> Credential:
    """Record an instructor's current credential of one kind, with a scan of it if ``document`` is given, replacing the last one.

    Everything is checked before anything is stored, so a refusal leaves no trace.
    """
    if actor.id != instructor.id and actor.role != Role.ORGANISER:
        raise CredentialError("You can only change your own credentials.")
    kind = CredentialKind(kind)
    values = _checked_values(
        kind, issued_on=issued_on, expires_on=expires_on, reference=reference, provider=provider, today=local_today(now)
    )
    upload = None
    if document is not None:
        upload = accept_upload(
            document,
            DOCUMENT_KINDS,
            noun="document",
            wanted=DOCUMENT_TYPES,
            limit=current_app.config["CREDENTIAL_MAX_BYTES"],
            field="document",
        )
    credential = db.session.scalars(
        select(Credential).where(Credential.instructor_id == instructor.id, Credential.kind == kind)
    ).first()
    if credential is None:
        credential = Credential(instructor=instructor, kind=kind)
        db.session.add(credential)
        try:
            db.session.flush()
        except IntegrityError:  # the same kind saved from another tab at the same moment
            db.session.rollback()
            raise CredentialError(
                f"Your {kind.label.lower()} was being saved elsewhere. Reload the page and check it."
            ) from None
    audit.record_changes(actor, "credential.recorded", credential, values)
    if upload is not None:
        credential.document = store_file(*upload, field="document")
        audit.record(actor, "credential.document_uploaded", credential, sha256=credential.document.sha256)
    commit_upload(field="document")
    return credential


def remove_document(credential: Credential, *, actor: User) -> Credential:
    """Take the scan off a credential, keeping what was recorded of it."""
    if not can_view(actor, credential):
        raise CredentialError("You can only change your own credentials.")
    credential.document = None
    audit.record(actor, "credential.document_removed", credential)
    db.session.commit()
    return credential


def lapsed_insurance(instructor: User, *, now: datetime | None = None) -> Credential | None:
    """The instructor's insurance if it has lapsed (its expiry date has passed); None if current or not recorded."""
    insurance = db.session.scalars(
        select(Credential).where(Credential.instructor_id == instructor.id, Credential.kind == CredentialKind.INSURANCE)
    ).first()
    return insurance if status_of(insurance, today=local_today(now)) == CredentialStatus.LAPSED else None


# --- The organiser's table and the alerts ----------------------------------------------------------


@dataclass(frozen=True)
class CredentialWatch:
    """One instructor's credential of one kind that needs looking at: lapsed, expiring or not recorded."""

    instructor: User
    kind: CredentialKind
    credential: Credential | None
    status: CredentialStatus
    #: Days from today to its expiry (negative once lapsed); None when not recorded.
    days_left: int | None


def credentials_watch(*, now: datetime | None = None) -> list[CredentialWatch]:
    """Every active instructor's credential that has lapsed, expires within 60 days or is missing, worst first."""
    today = local_today(now)
    instructors = db.session.scalars(
        select(User).where(User.role == Role.INSTRUCTOR, User.active).order_by(User.full_name, User.id)
    ).all()
    credentials = {
        (credential.instructor_id, credential.kind): credential
        for credential in db.session.scalars(
            select(Credential).where(Credential.instructor_id.in_([user.id for user in instructors]))
        )
    }
    rows = []
    for instructor in instructors:
        for kind in CredentialKind:
            credential = credentials.get((instructor.id, kind))
            status = status_of(credential, today=today)
            if status != CredentialStatus.CURRENT:
                days = None if credential is None else (credential.expires_on - today).days
                rows.append(CredentialWatch(instructor, kind, credential, status, days))
    order = [CredentialStatus.LAPSED, CredentialStatus.EXPIRING, CredentialStatus.MISSING]
    return sorted(rows, key=lambda row: (order.index(row.status), row.days_left or 0))


def send_expiry_alerts(*, now: datetime | None = None) -> int:
    """Email the instructor and every organiser about each credential expiring within 30 days, once per expiry date; return how many.

    Safe beside a second worker: each credential is claimed by a conditional UPDATE of the
    expiry date it was announced for, committed with its emails, so only one claim succeeds.
    """
    today = local_today(now)
    due = db.session.scalars(
        select(Credential.id)
        .join(User, User.id == Credential.instructor_id)
        .where(
            User.active,
            Credential.expires_on >= today,
            Credential.expires_on <= today + ALERT_AHEAD,
            or_(Credential.alerted_for.is_(None), Credential.alerted_for != Credential.expires_on),
        )
        .order_by(Credential.id)
    ).all()
    db.session.rollback()  # end the read, so each claim below starts its own transaction with its write
    sent = 0
    for credential_id in due:
        try:
            sent += _alert(credential_id)
        except OperationalError:  # busy; the next run sends it
            db.session.rollback()
            log.warning("Expiry alert for credential %s not sent this time", credential_id, exc_info=True)
    return sent


def _claim(credential_id: int) -> bool:
    """Note the credential's expiry date as announced, unless another worker just did; the caller commits."""
    return bool(
        db.session.execute(
            update(Credential)
            .where(
                Credential.id == credential_id,
                or_(Credential.alerted_for.is_(None), Credential.alerted_for != Credential.expires_on),
            )
            .values(alerted_for=Credential.expires_on)
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def _alert(credential_id: int) -> int:
    if not _claim(credential_id):  # another worker announced it a moment ago
        db.session.rollback()
        return 0
    credential = db.session.scalars(
        select(Credential)
        .where(Credential.id == credential_id)
        .options(joinedload(Credential.instructor))
        .execution_options(populate_existing=True)
    ).one()
    instructor = credential.instructor
    for recipient in [instructor, *active_organisers(besides=instructor.id)]:
        own = recipient.id == instructor.id
        whose = "Your" if own else f"{instructor.full_name}'s"
        enqueue_email(
            recipient.email,
            "credential_expiring",
            subject=f"{whose} {credential.kind.label.lower()} expires on {format_date(credential.expires_on)}",
            sent_because="you teach with us, and we remind instructors before a credential expires"
            if own
            else "you are an organiser, and organisers hear of instructors' credentials expiring",
            recipient=recipient,
            instructor=instructor,
            credential=credential,
            own=own,
            page_url=absolute_url("teaching.credentials_page" if own else "organiser.credentials"),
        )
    audit.record(None, "credential.expiry_alerted", credential, expires_on=credential.expires_on.isoformat())
    db.session.commit()
    return 1


# --- The scan of a credential ---------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    stream: BinaryIO
    content_type: str
    name: str


def can_view(user: User, credential: Credential) -> bool:
    """A credential and its copy are for its instructor and the organisers only."""
    return user.is_authenticated and (user.id == credential.instructor_id or user.role == Role.ORGANISER)


def open_document(credential: Credential) -> Document | None:
    """Open a credential's copy (check ``can_view`` first); None when it has none or its file is missing."""
    stored = credential.document
    if stored is None:
        return None
    try:
        stream = get_storage().open(stored.key)
    except FileNotFoundError:
        log.error("Credential %s: stored file %s is missing from storage", credential.id, stored.key)
        return None
    extension = next(kind for kind in DOCUMENT_KINDS if kind.content_type == stored.content_type).extensions[0]
    name = f"{credential.kind.value.replace('_', '-')}-{credential.instructor_id}{extension}"
    return Document(stream, stored.content_type, name)

"""Import every feature's models so Alembic and ``flask shell`` see all tables."""

from instructor_portal.accounts.models import InstructorProfile, Role, User
from instructor_portal.audit import AuditEntry
from instructor_portal.catalogue.models import AgeUnit, Course, CourseSession, CourseStatus, SessionStatus, Track, Venue
from instructor_portal.notifications.models import OutboxEmail, OutboxStatus
from instructor_portal.organiser.models import Organisation

__all__ = [
    "AgeUnit",
    "AuditEntry",
    "Course",
    "CourseSession",
    "CourseStatus",
    "InstructorProfile",
    "Organisation",
    "OutboxEmail",
    "OutboxStatus",
    "Role",
    "SessionStatus",
    "Track",
    "User",
    "Venue",
]

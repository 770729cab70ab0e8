"""Import every feature's models so Alembic and ``flask shell`` see all tables."""

from instructor_portal.accounts.models import Child, InstructorProfile, Role, User
from instructor_portal.attendance.models import AttendanceChange, AttendanceMark, AttendanceStatus, Makeup, MakeupStatus
from instructor_portal.audit import AuditEntry
from instructor_portal.booking.models import (
    Booking,
    BookingPlace,
    BookingStatus,
    PaymentMethod,
    Voucher,
    VoucherKind,
    VoucherRedemption,
)
from instructor_portal.calendar_feeds.models import CalendarFeed
from instructor_portal.catalogue.models import (
    AgeUnit,
    CatalogueVersion,
    Course,
    CourseSession,
    CourseStatus,
    SessionStatus,
    Track,
    Venue,
)
from instructor_portal.handouts.models import Handout, ReleaseRule
from instructor_portal.messages.models import GroupMessage, MessageRecipient
from instructor_portal.notifications.models import OutboxAttachment, OutboxEmail, OutboxStatus
from instructor_portal.organisation import Organisation
from instructor_portal.organiser.models import ErasureRequest
from instructor_portal.payments.models import (
    FlagKind,
    Payment,
    PaymentFlag,
    PaymentStatus,
    Refund,
    RefundStatus,
    StripeEvent,
)
from instructor_portal.queue import QueueHeartbeat
from instructor_portal.reminders.models import CheckIn, CheckInAnswer, ReminderKind, ReminderOptOut, SentReminder
from instructor_portal.teaching.models import (
    Credential,
    CredentialKind,
    Evaluation,
    EvaluationAnswer,
    EvaluationQuestion,
)
from instructor_portal.uploads import StoredFile
from instructor_portal.waitlist.models import EntryStatus, WaitlistEntry

__all__ = [
    "AgeUnit",
    "AttendanceChange",
    "AttendanceMark",
    "AttendanceStatus",
    "AuditEntry",
    "CheckIn",
    "CheckInAnswer",
    "Booking",
    "BookingPlace",
    "BookingStatus",
    "CalendarFeed",
    "CatalogueVersion",
    "Child",
    "Course",
    "Credential",
    "CredentialKind",
    "FlagKind",
    "GroupMessage",
    "CourseSession",
    "CourseStatus",
    "ErasureRequest",
    "Evaluation",
    "EvaluationAnswer",
    "EvaluationQuestion",
    "Handout",
    "InstructorProfile",
    "Makeup",
    "MessageRecipient",
    "MakeupStatus",
    "Organisation",
    "OutboxAttachment",
    "OutboxEmail",
    "OutboxStatus",
    "Payment",
    "PaymentFlag",
    "PaymentMethod",
    "PaymentStatus",
    "QueueHeartbeat",
    "Refund",
    "RefundStatus",
    "ReleaseRule",
    "ReminderKind",
    "ReminderOptOut",
    "Role",
    "SentReminder",
    "SessionStatus",
    "StoredFile",
    "StripeEvent",
    "Track",
    "User",
    "Venue",
    "Voucher",
    "VoucherKind",
    "VoucherRedemption",
    "WaitlistEntry",
    "EntryStatus",
]

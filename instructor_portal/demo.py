"""Demo data for ``flask seed-demo``: a small, realistic organisation.

Every row is found by its natural key (an email, a venue name, a course title) before it
is created, so running the command again changes nothing.
"""

from __future__ import annotations

from calendar import FRIDAY, MONDAY, SATURDAY, THURSDAY, TUESDAY, WEDNESDAY
from datetime import date, datetime, time, timedelta
from io import BytesIO
from typing import Any

from instructor_portal.accounts.models import CARE_NOTES_CONSENT_VERSION, Child, InstructorProfile, Role, User
from instructor_portal.accounts.services import set_password
from instructor_portal.attendance.models import AttendanceChange, AttendanceMark, AttendanceStatus, Makeup, MakeupStatus
from instructor_portal.booking.models import Booking, BookingPlace, BookingStatus, PaymentMethod, Voucher, VoucherKind
from instructor_portal.catalogue.models import AgeUnit, Course, CourseSession, CourseStatus, Track, Venue
from instructor_portal.clock import utcnow
from instructor_portal.extensions import db
from instructor_portal.handouts.models import Handout
from instructor_portal.handouts.services import upload_handout
from instructor_portal.organisation import DEFAULTS, Organisation
from instructor_portal.payments.models import Payment, PaymentStatus
from instructor_portal.teaching.models import Credential, CredentialKind
from instructor_portal.timezones import local_date, local_to_utc
from instructor_portal.waitlist.models import EntryStatus, WaitlistEntry

PASSWORD = "demo-pass-123"
FRIDAY_COURSE = "Baby Massage for Families (Friday mornings)"
ONLINE_COURSE = "Baby Massage Online (Thursday evenings)"
FULL_COURSE = "First Strokes: a Baby Massage Taster"

ORGANISATION = {
    **DEFAULTS,
    "name": "Connected Babies Bristol",
    "contact_email": "hello@connectedbabies.example.org",
    "contact_phone": "0117 496 0123",
    "postal_address": "Connected Babies Bristol Ltd\n12 Gloucester Road\nBristol BS7 8AA",
    "currency": "GBP",
    "timezone": "Europe/London",
    "bank_transfer_details": (
        "Connected Babies Bristol Ltd\nSort code 60-83-71\nAccount 12345678\n"
        "Please use your booking reference as the payment reference."
    ),
}

PEOPLE: list[dict[str, Any]] = [
    {"email": "organiser@example.org", "full_name": "Olivia Marsh", "role": Role.ORGANISER, "phone": "0117 496 0123"},
    {
        "email": "instructor@example.org",
        "full_name": "Hannah Okafor",
        "role": Role.INSTRUCTOR,
        "profile": {
            "area": "North Bristol and online",
            "qualifications": "CIMI (International Association of Infant Massage); former neonatal nurse",
            "bio": (
                "I spent twelve years as a neonatal nurse before training with the International Association of "
                "Infant Massage. I teach family courses in Redland and gentle courses for babies born early, "
                "and I love seeing parents grow in confidence week by week."
            ),
        },
    },
    {
        "email": "sam.patel@example.org",
        "full_name": "Sam Patel",
        "role": Role.INSTRUCTOR,
        "profile": {
            "area": "Bedminster, South Bristol and Bath",
            "qualifications": "CIMI (International Association of Infant Massage); trauma-informed practice",
            "bio": (
                "A foster carer for eight years, I run nurturing-touch courses for adoptive, foster and kinship "
                "families, and relaxed antenatal workshops for parents-to-be."
            ),
        },
    },
    {"email": "parent@example.org", "full_name": "Jess Williams", "role": Role.PARENT, "phone": "07700 900123"},
    {"email": "amira.hassan@example.org", "full_name": "Amira Hassan", "role": Role.PARENT, "phone": "07700 900456"},
    {"email": "chris.doyle@example.org", "full_name": "Chris Doyle", "role": Role.PARENT},
]

#: The demo staff's authenticator secret: `pyotp.TOTP(DEMO_TWO_STEP_SECRET).now()` is their current code (README).
DEMO_TWO_STEP_SECRET = "DEMOPORTALSTAFFCODESJBSWY3DPEHPK"

#: Children by parent; ages are in weeks before today so the demo stays current.
CHILDREN: list[dict[str, Any]] = [
    # Twins born at 31 weeks: 16 weeks old, but a corrected age of 7 weeks.
    {
        "parent": "parent@example.org",
        "first_name": "Maya",
        "last_name": "Williams",
        "weeks_old": 16,
        "gestation_weeks": 31,
        "care_notes": "Born at 31 weeks; still on reflux medicine.",
    },
    {
        "parent": "parent@example.org",
        "first_name": "Noah",
        "last_name": "Williams",
        "weeks_old": 16,
        "gestation_weeks": 31,
    },
    {"parent": "amira.hassan@example.org", "first_name": "Yusuf", "last_name": "Hassan", "weeks_old": 10},
    {
        "parent": "chris.doyle@example.org",
        "first_name": "Riley",
        "last_name": "Morgan",
        "weeks_old": 170,
        "relationship_to_carer": "Foster carer",
    },
]

#: Referral codes: a funded place for neonatal outreach referrals, and a welcome discount.
VOUCHERS: list[dict[str, Any]] = [
    {
        "code": "NEONATAL-OUTREACH",
        "kind": VoucherKind.FUNDED,
        "value": 0,
        "max_uses": 10,
        "track": Track.PREMATURE,
        "referrer": "Neonatal outreach team, Southmead Hospital",
    },
    {
        "code": "WELCOME10",
        "kind": VoucherKind.PERCENT,
        "value": 10,
        "max_uses": None,
        "track": None,
        "referrer": "Children's centre newsletter",
    },
]

#: Bookings: (course title, parent, children's first names, how they pay, amount paid in pence).
BOOKINGS: list[dict[str, Any]] = [
    {
        "course": "Gentle Touch: Baby Massage for Babies Born Early",
        "parent": "parent@example.org",
        "children": ["Maya", "Noah"],
        "method": PaymentMethod.PAY_AT_VENUE,
        "paid": 0,
        "medical_clearance": True,
    },
    {
        "course": "Baby Massage for Families (Tuesday mornings)",
        "parent": "amira.hassan@example.org",
        "children": ["Yusuf"],
        "method": PaymentMethod.BANK_TRANSFER,
        "paid": 5500,
        "photo_consent": True,
    },
    {
        "course": "Nurturing Touch for Adoptive, Foster and Kinship Families",
        "parent": "chris.doyle@example.org",
        "children": ["Riley"],
        "method": PaymentMethod.FREE,
        "paid": 0,
    },
    {
        "course": FRIDAY_COURSE,
        "parent": "parent@example.org",
        "children": ["Maya", "Noah"],
        "method": PaymentMethod.BANK_TRANSFER,
        "paid": 11000,
    },
    {
        "course": FULL_COURSE,
        "parent": "parent@example.org",
        "children": ["Maya", "Noah"],
        "method": PaymentMethod.PAY_AT_VENUE,
        "paid": 0,
    },
]

#: Families waiting for a place: (course title, parent, children's first names).
#: Instructors' credentials; expiries in days from today, so the organiser's table always shows one expiring and one lapsed.
CREDENTIALS: list[dict[str, Any]] = [
    {
        "email": "instructor@example.org",
        "kind": CredentialKind.CIMI,
        "issued_on": date(2019, 5, 4),
        "reference": "CIMI-4411",
    },
    {"email": "instructor@example.org", "kind": CredentialKind.INSURANCE, "provider": "Balens", "expires_in": 45},
    {"email": "instructor@example.org", "kind": CredentialKind.DBS, "issued_ago": 400, "expires_in": 330},
    {
        "email": "sam.patel@example.org",
        "kind": CredentialKind.CIMI,
        "issued_on": date(2021, 9, 18),
        "reference": "CIMI-5120",
    },
    {"email": "sam.patel@example.org", "kind": CredentialKind.INSURANCE, "provider": "Towergate", "expires_in": 200},
    {"email": "sam.patel@example.org", "kind": CredentialKind.FIRST_AID, "issued_ago": 1100, "expires_in": -5},
]

WAITING: list[dict[str, Any]] = [{"course": FULL_COURSE, "parent": "amira.hassan@example.org", "children": ["Yusuf"]}]

#: Marks at the Friday course's first two sessions, by child; Noah missed the second.
ATTENDANCE: list[dict[str, Any]] = [
    {"session": 1, "child": "Maya", "status": AttendanceStatus.PRESENT},
    {"session": 1, "child": "Noah", "status": AttendanceStatus.OBSERVING, "note": "Sleepy; mum practised on the doll."},
    {"session": 2, "child": "Maya", "status": AttendanceStatus.LATE},
    {"session": 2, "child": "Noah", "status": AttendanceStatus.ABSENT_IMMUNISED, "note": "Had his jabs yesterday."},
]

#: A handout for the families on the course for babies born early, released as soon as they are booked.
HANDOUT: dict[str, Any] = {
    "course": "Gentle Touch: Baby Massage for Babies Born Early",
    "title": "Reading your baby's cues",
    "description": "How your baby tells you they are ready for touch, and when they need a rest.",
    "filename": "reading-your-babys-cues.md",
    "text": (
        "# Reading your baby's cues\n\n"
        "Babies born early tell us a great deal before they can cry for it.\n\n"
        "## Ready for touch\n\n- Calm, even breathing\n- Looking at your face\n- Relaxed hands and legs\n\n"
        "## Asking for a rest\n\n- Turning or looking away\n- Hiccups, yawning or sneezing\n"
        "- Splayed fingers or arching\n\n"
        "When you see these, stop and rest your hands still on your baby, or simply hold them. "
        "You can always try again later.\n"
    ),
}

VENUES: list[dict[str, Any]] = [
    {
        "name": "Redland Children's Centre",
        "address": "14 Cotham Grove",
        "town": "Bristol",
        "postcode": "BS6 6AL",
        "step_free_access": True,
        "pram_parking": True,
        "baby_changing": True,
        "travel_notes": "Buses 72 and 73 stop on Cotham Road, two minutes' walk. Two-hour street parking on Cotham Grove.",
    },
    {
        "name": "Bloom Studio",
        "address": "Unit 3, 201 North Street",
        "town": "Bristol",
        "postcode": "BS3 1JQ",
        "step_free_access": True,
        "pram_parking": True,
        "baby_changing": True,
        "travel_notes": "Ground-floor studio behind the bakery. Bus 24 to North Street (Greville Road). Pay-and-display car park on Dean Lane.",
    },
    {
        "name": "Southmead Neonatal Family Room",
        "address": "Southmead Hospital, Gate 36, Dorian Way",
        "town": "Bristol",
        "postcode": "BS10 5NB",
        "step_free_access": True,
        "pram_parking": False,
        "baby_changing": True,
        "travel_notes": "Follow the signs to the Women's and Children's entrance; the family room is next to the neonatal unit. Hospital car park (pay on exit).",
    },
    {
        "name": "Widcombe Community Hall",
        "address": "Widcombe Parade",
        "town": "Bath",
        "postcode": "BA2 4JT",
        "step_free_access": False,
        "pram_parking": True,
        "baby_changing": True,
        "travel_notes": "Three steps at the entrance; the instructor will help with prams. Ten minutes' walk from Bath Spa station.",
    },
]

BRING = "- A large towel or blanket\n- A spare nappy and wipes\n- Unscented cold-pressed vegetable oil is provided (we do not use nut oils)"

COURSES: list[dict[str, Any]] = [
    {
        "title": "Baby Massage for Families (Tuesday mornings)",
        "instructor": "instructor@example.org",
        "venue": "Redland Children's Centre",
        "track": Track.FAMILY,
        "status": CourseStatus.PUBLISHED,
        "places": 8,
        "price_pence": 5500,
        "age_unit": AgeUnit.WEEKS,
        "age_min": 6,
        "age_max": 40,
        "sibling_discount_percent": 10,
        "weeks": 5,
        "weekday": TUESDAY,
        "weeks_ahead": 0,
        "at": time(10, 0),
        "minutes": 75,
        "description": (
            "Five relaxed weekly sessions in which you learn a full-body massage routine, one part of the body each week. "
            "There is time to chat, feed and settle your baby, and to share how the week has gone.\n\n"
            "**Suitable from six weeks** (after your postnatal check) until your baby is on the move."
        ),
    },
    {
        "title": "Gentle Touch: Baby Massage for Babies Born Early",
        "instructor": "instructor@example.org",
        "venue": "Southmead Neonatal Family Room",
        "track": Track.PREMATURE,
        "status": CourseStatus.PUBLISHED,
        "places": 5,
        "price_pence": 3000,
        "age_unit": AgeUnit.WEEKS,
        "age_min": 0,
        "age_max": 26,
        "uses_corrected_age": True,
        "weeks": 5,
        "weekday": WEDNESDAY,
        "weeks_ahead": 1,
        "at": time(13, 30),
        "minutes": 60,
        "description": (
            "A small, quiet group for families of babies born early, including neonatal-unit graduates. "
            "We begin gently with containment holds and resting hands, and move to massage strokes only as your "
            "baby shows they are ready.\n\n"
            "Before booking, please check with your baby's medical team that your baby is stable enough for massage."
        ),
    },
    {
        "title": "Nurturing Touch for Adoptive, Foster and Kinship Families",
        "instructor": "sam.patel@example.org",
        "venue": "Bloom Studio",
        "track": Track.ADOPTIVE_FOSTER,
        "status": CourseStatus.PUBLISHED,
        "places": 6,
        "price_pence": 0,
        "age_unit": AgeUnit.MONTHS,
        "age_min": 0,
        "age_max": 84,
        "weeks": 6,
        "weekday": SATURDAY,
        "weeks_ahead": 0,
        "at": time(9, 30),
        "minutes": 60,
        "description": (
            "Six sessions of nurturing touch, story massage and songs for children up to seven and the adults who care "
            "for them. Funded places: there is no charge. You only tell us what you choose to about your family."
        ),
    },
    {
        "title": "Preparing for Baby: Antenatal Massage Evening",
        "instructor": "sam.patel@example.org",
        "venue": "Widcombe Community Hall",
        "track": Track.ANTENATAL,
        "status": CourseStatus.PUBLISHED,
        "places": 10,
        "price_pence": 2000,
        "age_unit": AgeUnit.WEEKS,
        "weeks": 2,
        "weekday": MONDAY,
        "weeks_ahead": 1,
        "at": time(19, 0),
        "minutes": 90,
        "description": "Two evenings for expectant parents: practise on a doll, learn how to read a newborn's cues, and meet other parents-to-be.",
    },
    {
        "title": "Colic and Wind Relief Workshop",
        "instructor": "instructor@example.org",
        "venue": "Redland Children's Centre",
        "track": Track.WORKSHOP,
        "status": CourseStatus.PUBLISHED,
        "places": 8,
        "price_pence": 1500,
        "age_unit": AgeUnit.WEEKS,
        "age_min": 4,
        "age_max": 26,
        "weeks": 1,
        "weekday": FRIDAY,
        "weeks_ahead": 2,
        "at": time(11, 0),
        "minutes": 90,
        "description": "A one-off workshop: the massage strokes and holds that ease wind and colic, and how to fit them into your day.",
    },
    {
        # Small and full, so its waiting list has a family on it.
        "title": FULL_COURSE,
        "instructor": "instructor@example.org",
        "venue": "Redland Children's Centre",
        "track": Track.WORKSHOP,
        "status": CourseStatus.PUBLISHED,
        "places": 2,
        "price_pence": 1500,
        "age_unit": AgeUnit.WEEKS,
        "age_min": 4,
        "age_max": 26,
        "weeks": 1,
        "weekday": WEDNESDAY,
        "weeks_ahead": 1,
        "at": time(10, 0),
        "minutes": 60,
        "description": "A one-hour taster for parents of young babies: a few simple strokes, and time to ask questions.",
    },
    {
        "title": ONLINE_COURSE,
        "instructor": "sam.patel@example.org",
        "venue": None,
        "online_link": "https://meet.example.org/connected-babies-thursday",
        "track": Track.FAMILY,
        "status": CourseStatus.PUBLISHED,
        "places": 10,
        "price_pence": 4000,
        "age_unit": AgeUnit.WEEKS,
        "age_min": 6,
        "age_max": 52,
        "weeks": 5,
        "weekday": THURSDAY,
        "weeks_ahead": 0,
        "at": time(19, 30),
        "minutes": 60,
        "description": "The family course from home, on a video call. Have your baby on a towel on the floor in front of the screen.",
    },
    {
        # Under way, so its register has marks and a make-up to show.
        "title": FRIDAY_COURSE,
        "instructor": "instructor@example.org",
        "venue": "Redland Children's Centre",
        "track": Track.FAMILY,
        "status": CourseStatus.PUBLISHED,
        "places": 8,
        "price_pence": 5500,
        "age_unit": AgeUnit.WEEKS,
        "age_min": 6,
        "age_max": 40,
        "weeks": 5,
        "weekday": FRIDAY,
        "weeks_ahead": -3,
        "at": time(10, 0),
        "minutes": 75,
        "description": "The family course on Friday mornings: a full-body massage routine learned over five weeks.",
    },
    {
        "title": "Summer Baby Massage (Bath)",
        "instructor": "sam.patel@example.org",
        "venue": "Widcombe Community Hall",
        "track": Track.FAMILY,
        "status": CourseStatus.DRAFT,
        "places": 8,
        "price_pence": 5000,
        "age_unit": AgeUnit.WEEKS,
        "age_min": 6,
        "age_max": 40,
        "weeks": 5,
        "weekday": TUESDAY,
        "weeks_ahead": 8,
        "at": time(10, 0),
        "minutes": 60,
        "description": "Dates to be confirmed.",
    },
]


def seed(*, now: datetime | None = None) -> list[str]:
    """Load the demo organisation, people, venues and courses, creating only what is missing."""
    now = now or utcnow()
    organisation, line = _seed_organisation()
    report = [line]
    users: dict[str, User] = {}
    for person in PEOPLE:
        users[person["email"]], line = _seed_person(person)
        report.append(line)
    venues: dict[str, Venue] = {}
    for details in VENUES:
        venues[details["name"]], line = _seed_venue(details)
        report.append(line)
    report.extend(_seed_course(details, users, venues, organisation.timezone, now) for details in COURSES)
    today = local_date(now, organisation.timezone)
    report.extend(_seed_child(details, users, today) for details in CHILDREN)
    db.session.flush()
    report.extend(_seed_booking(details, users, now) for details in BOOKINGS)
    report.extend(_seed_waiting(details, users, now) for details in WAITING)
    report.extend(_seed_voucher(details) for details in VOUCHERS)
    report.extend(_seed_credential(details, users, today) for details in CREDENTIALS)
    db.session.flush()
    report.extend(_seed_mark(details, users["instructor@example.org"]) for details in ATTENDANCE)
    report.append(_seed_makeup(users["instructor@example.org"], now))
    db.session.commit()
    report.append(_seed_handout(HANDOUT))
    if not any(line.startswith("Created") for line in report):
        report.append("Nothing new: the demo data was already loaded.")
    return report


def _seed_organisation() -> tuple[Organisation, str]:
    organisation = db.session.scalars(db.select(Organisation).order_by(Organisation.id).limit(1)).first()
    if organisation is not None:
        return organisation, f"Organisation settings for {organisation.name} already there."
    organisation = Organisation(**ORGANISATION)
    db.session.add(organisation)
    return organisation, f"Created organisation settings for {organisation.name}."


def _seed_person(details: dict[str, Any]) -> tuple[User, str]:
    user = db.session.scalars(db.select(User).where(User.email == details["email"])).first()
    if user is not None:
        return user, f"{user.role.label} {user.email} already there."
    user = User(
        email=details["email"],
        full_name=details["full_name"],
        role=details["role"],
        phone=details.get("phone"),
        email_verified_at=utcnow(),
    )
    if details["role"] != Role.PARENT:  # staff sign in with two steps; the README says how to get the demo's codes
        user.totp_secret, user.totp_enabled_at = DEMO_TWO_STEP_SECRET, utcnow()
    set_password(user, PASSWORD)
    if "profile" in details:
        user.profile = InstructorProfile(**details["profile"])
    db.session.add(user)
    return user, f"Created {user.role.label.lower()} {user.email} (password {PASSWORD})."


def _seed_venue(details: dict[str, Any]) -> tuple[Venue, str]:
    venue = db.session.scalars(db.select(Venue).where(Venue.name == details["name"])).first()
    if venue is not None:
        return venue, f"Venue {venue.name} already there."
    venue = Venue(**details)
    db.session.add(venue)
    return venue, f"Created venue {venue.name}."


def _seed_course(
    details: dict[str, Any], users: dict[str, User], venues: dict[str, Venue], tz_name: str, now: datetime
) -> str:
    if db.session.scalars(db.select(Course.id).where(Course.title == details["title"])).first() is not None:
        return f"Course {details['title']!r} already there."
    schedule = {key: details[key] for key in ("weeks", "weekday", "weeks_ahead", "at", "minutes")}
    fields = {key: value for key, value in details.items() if key not in {*schedule, "instructor", "venue"}}
    course = Course(
        **fields,
        instructor=users[details["instructor"]],
        venue=venues[details["venue"]] if details["venue"] else None,
        is_online=details["venue"] is None,
        published_at=now if details["status"] == CourseStatus.PUBLISHED else None,
    )
    today = local_date(now, tz_name)
    # The first session falls on the course's weekday, at least a day from now.
    days_until = (schedule["weekday"] - today.weekday()) % 7 or 7
    first_day = today + timedelta(days=days_until, weeks=schedule["weeks_ahead"])
    course.sessions = [
        _session(first_day + timedelta(weeks=week), schedule["at"], schedule["minutes"], tz_name)
        for week in range(schedule["weeks"])
    ]
    db.session.add(course)
    status = "draft" if details["status"] == CourseStatus.DRAFT else "published"
    return f"Created {status} course {course.title!r} with {schedule['weeks']} session(s)."


def _session(day: date, at: time, minutes: int, tz_name: str) -> CourseSession:
    starts_at = local_to_utc(day, at, tz_name)
    return CourseSession(starts_at=starts_at, ends_at=starts_at + timedelta(minutes=minutes))


def _seed_child(details: dict[str, Any], users: dict[str, User], today: date) -> str:
    parent = users[details["parent"]]
    if any(child.first_name == details["first_name"] for child in parent.children):
        return f"Child {details['first_name']} of {parent.email} already there."
    fields = {key: value for key, value in details.items() if key not in {"parent", "weeks_old"}}
    if fields.get("care_notes"):  # as a parent agrees to them on the form
        fields.update(care_notes_consent_at=utcnow(), care_notes_consent_version=CARE_NOTES_CONSENT_VERSION)
    parent.children.append(Child(**fields, date_of_birth=today - timedelta(weeks=details["weeks_old"])))
    return f"Created child {details['first_name']} for {parent.email}."


def _seed_booking(details: dict[str, Any], users: dict[str, User], now: datetime) -> str:
    parent = users[details["parent"]]
    course = db.session.scalars(db.select(Course).where(Course.title == details["course"])).one()
    if db.session.scalars(
        db.select(Booking.id).where(Booking.course_id == course.id, Booking.parent_id == parent.id)
    ).first():
        return f"Booking for {parent.email} on {course.title!r} already there."
    children = [child for child in parent.children if child.first_name in details["children"]]
    booking = Booking(
        reference=f"DEMO{len(details['children'])}{course.id:03d}{parent.id:03d}"[:12],
        course=course,
        parent=parent,
        status=BookingStatus.CONFIRMED,
        payment_method=details["method"],
        amount_pence=course.price_pence * len(children),
        amount_paid_pence=details["paid"],
        currency=course.currency,
        terms_accepted_at=now,
        confirmed_at=now,
        medical_clearance=details.get("medical_clearance", False),
        photo_consent=details.get("photo_consent", False),
        places=[BookingPlace(course_id=course.id, child=child) for child in children],
    )
    db.session.add(booking)
    if details["paid"]:
        # Money received is a payment like any other, so the ledger and the booking agree.
        db.session.add(
            Payment(
                booking=booking,
                method=details["method"],
                status=PaymentStatus.SUCCEEDED,
                amount_pence=details["paid"],
                currency=course.currency,
                received_on=now.date(),
                succeeded_at=now,
                note="Paid by bank transfer.",
            )
        )
    return f"Created booking for {', '.join(details['children'])} on {course.title!r}."


def _seed_waiting(details: dict[str, Any], users: dict[str, User], now: datetime) -> str:
    parent = users[details["parent"]]
    course = db.session.scalars(db.select(Course).where(Course.title == details["course"])).one()
    if db.session.scalars(
        db.select(WaitlistEntry.id).where(WaitlistEntry.course_id == course.id, WaitlistEntry.parent_id == parent.id)
    ).first():
        return f"Waiting-list entry for {parent.email} on {course.title!r} already there."
    children = [child for child in parent.children if child.first_name in details["children"]]
    db.session.add(
        WaitlistEntry(
            course=course,
            parent=parent,
            children=children,
            places=len(children),
            status=EntryStatus.WAITING,
            queued_at=now,
        )
    )
    return f"Created waiting-list entry for {', '.join(details['children'])} on {course.title!r}."


def _friday_place(first_name: str) -> BookingPlace:
    return db.session.scalars(
        db.select(BookingPlace)
        .join(Course)
        .join(Child)
        .where(Course.title == FRIDAY_COURSE, Child.first_name == first_name)
    ).one()


def _nth_session(course_title: str, number: int) -> CourseSession:
    course = db.session.scalars(db.select(Course).where(Course.title == course_title)).one()
    return sorted(course.sessions, key=lambda session: session.starts_at)[number - 1]


def _seed_mark(details: dict[str, Any], instructor: User) -> str:
    place, session = _friday_place(details["child"]), _nth_session(FRIDAY_COURSE, details["session"])
    what = f"{details['child']} at session {details['session']} of {FRIDAY_COURSE!r}"
    if db.session.scalars(
        db.select(AttendanceMark.id).where(AttendanceMark.place == place, AttendanceMark.session == session)
    ).first():
        return f"Attendance of {what} already there."
    note = details.get("note", "")
    db.session.add(
        AttendanceMark(
            place=place,
            session=session,
            status=details["status"],
            note=note,
            marked_by=instructor,
            marked_at=session.starts_at,
            changes=[
                AttendanceChange(
                    to_status=details["status"], to_note=note, changed_by=instructor, changed_at=session.starts_at
                )
            ],
        )
    )
    return f"Created attendance of {what}: {details['status'].label}."


def _seed_makeup(instructor: User, now: datetime) -> str:
    """Offer Noah, who missed the Friday course's second session, the second session of the online course."""
    place, missed = _friday_place("Noah"), _nth_session(FRIDAY_COURSE, 2)
    if db.session.scalars(db.select(Makeup.id).where(Makeup.place == place, Makeup.missed_session == missed)).first():
        return "Make-up offer for Noah already there."
    db.session.add(
        Makeup(
            place=place,
            missed_session=missed,
            session=_nth_session(ONLINE_COURSE, 2),
            status=MakeupStatus.OFFERED,
            offered_by=instructor,
            offered_at=now,
        )
    )
    return f"Created a make-up offer for Noah on {ONLINE_COURSE!r}."


def _seed_voucher(details: dict[str, Any]) -> str:
    if db.session.scalars(db.select(Voucher.id).where(Voucher.code == details["code"])).first():
        return f"Voucher {details['code']} already there."
    db.session.add(Voucher(**details))
    return f"Created voucher {details['code']}."


def _seed_credential(details: dict[str, Any], users: dict[str, User], today: date) -> str:
    instructor, kind = users[details["email"]], details["kind"]
    found = db.select(Credential.id).where(Credential.instructor_id == instructor.id, Credential.kind == kind)
    if db.session.scalars(found).first():
        return f"{instructor.full_name}'s {kind.label.lower()} already there."
    issued = details.get("issued_on")
    if "issued_ago" in details:
        issued = today - timedelta(days=details["issued_ago"])
    expires = today + timedelta(days=details["expires_in"]) if "expires_in" in details else None
    db.session.add(
        Credential(
            instructor=instructor,
            kind=kind,
            issued_on=issued,
            expires_on=expires,
            reference=details.get("reference", ""),
            provider=details.get("provider", ""),
        )
    )
    return f"Created {instructor.full_name}'s {kind.label.lower()}."


def _seed_handout(details: dict[str, Any]) -> str:
    course = db.session.scalars(db.select(Course).where(Course.title == details["course"])).one()
    if db.session.scalars(
        db.select(Handout.id).where(Handout.course_id == course.id, Handout.title == details["title"])
    ).first():
        return f"Handout {details['title']!r} already there."
    upload_handout(
        course,
        actor=course.instructor,
        title=details["title"],
        description=details["description"],
        filename=details["filename"],
        stream=BytesIO(details["text"].encode()),
    )
    return f"Created handout {details['title']!r} on {course.title!r}."

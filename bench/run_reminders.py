"""Measure the session reminders: how long one run takes to build and queue 1,000 morning reminders.

    .venv/bin/python bench/run_reminders.py [--families 1000] [--per-session 8]

It migrates a throw-away SQLite database (or BENCH_DATABASE_URL, for PostgreSQL), fills it with
sessions on one morning, each with its families (a family of twins now and then, a course online
now and then), then times ``send_due_reminders`` at the morning time: the reminders are read,
recorded once each, written from their templates with their check-in links, and queued in the
outbox. A second run, which finds every reminder already sent, is timed too.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: 10:00 in London on a June morning, and the default morning reminder at 07:30.
START = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
MORNING = datetime(2026, 6, 10, 6, 30, tzinfo=UTC)


def fill(*, families: int, per_session: int) -> None:
    """Sessions on one morning, each with ``per_session`` families, written in one transaction."""
    from instructor_portal.accounts.models import Child, Role, User
    from instructor_portal.booking.models import Booking, BookingPlace, BookingStatus
    from instructor_portal.catalogue.models import Course, CourseSession, CourseStatus, Track, Venue
    from instructor_portal.extensions import db

    instructor = User(email="teacher@example.org", full_name="Jo Teacher", phone="07700 900123", role=Role.INSTRUCTOR)
    venue = Venue(name="Southmead Children's Centre", address="1 Park Road", town="Bristol", postcode="BS10 5AB")
    db.session.add_all([instructor, venue])
    sessions = -(-families // per_session)
    made = 0
    for n in range(sessions):
        online = n % 10 == 0
        course = Course(
            instructor=instructor,
            venue=None if online else venue,
            is_online=online,
            online_link="https://meet.example.org/babies" if online else None,
            title=f"Baby massage {n}",
            what_to_bring="A towel, a spare nappy and a drink for you.",
            track=Track.FAMILY,
            status=CourseStatus.PUBLISHED,
            places=per_session * 2,
        )
        begins = START + timedelta(minutes=15 * (n % 8))
        course.sessions.append(CourseSession(starts_at=begins, ends_at=begins + timedelta(hours=1)))
        db.session.add(course)
        db.session.flush()  # its id, for the places
        for _ in range(min(per_session, families - made)):
            made += 1
            parent = User(email=f"family{made}@example.org", full_name=f"Parent {made}", role=Role.PARENT)
            babies = [
                Child(parent=parent, first_name=f"Baby{made}{twin}", last_name="Smith", date_of_birth=date(2026, 3, 1))
                for twin in ("ab" if made % 20 == 0 else "a")
            ]
            db.session.add(
                Booking(
                    reference=f"B{made:07d}",
                    course=course,
                    parent=parent,
                    status=BookingStatus.CONFIRMED,
                    amount_pence=0,
                    currency="GBP",
                    terms_accepted_at=MORNING - timedelta(days=20),
                    places=[BookingPlace(course_id=course.id, child=baby) for baby in babies],
                )
            )
    db.session.commit()


def main() -> None:
    from flask_migrate import upgrade

    from instructor_portal import create_app
    from instructor_portal.extensions import db
    from instructor_portal.notifications.models import OutboxEmail
    from instructor_portal.reminders.services import send_due_reminders

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=1000)
    parser.add_argument("--per-session", type=int, default=8)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="portal-reminders-"))
    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'portal.sqlite'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "UPLOAD_STORAGE_PATH": str(workdir)})
    with app.app_context():
        upgrade()
        fill(families=args.families, per_session=args.per_session)
        db.session.remove()
        started = time.perf_counter()
        sent = send_due_reminders(now=MORNING)
        built = time.perf_counter() - started
        queued = db.session.scalar(db.select(db.func.count(OutboxEmail.id)))
        started = time.perf_counter()
        again = send_due_reminders(now=MORNING + timedelta(minutes=5))
        rerun = time.perf_counter() - started
        db.engine.dispose()
    if (sent, queued, again) != (args.families, args.families, 0):
        raise RuntimeError(
            f"sent {sent}, queued {queued}, then {again} more; expected {args.families}, {args.families}, 0"
        )
    sessions = -(-args.families // args.per_session)
    print(
        f"morning reminders, {args.families} families on {sessions} sessions: built and queued in {built:.2f} s "
        f"({args.families / built:.0f} reminders/s); the next run, with nothing left to send, {1000 * rerun:.0f} ms"
    )


if __name__ == "__main__":
    main()

"""Measure sending a message to a group: the time to enqueue one message to 200 families, beside writing 200 emails directly.

    .venv/bin/python bench/run_group_message.py [--families 200] [--runs 5]

It migrates a throw-away SQLite database (or BENCH_DATABASE_URL, for PostgreSQL), books the
families on one course, then times, best of the runs, each from a fresh database session
as a request would start:

- floor: the same number of outbox rows, their text already written, inserted in one commit;
- message: ``messages.services.send_message``: the audience query, both parts of each
  family's email rendered from its templates, the message, its recipients, the audit entry,
  one commit.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BODY = "The room has changed: we meet in the main hall this week.\n\nBring a towel and a spare nappy.\n" * 3


def fill(families: int) -> int:
    """Book ``families`` families (twins in every tenth) on one course; return its id."""
    from instructor_portal.accounts.models import Child, Role, User
    from instructor_portal.booking.models import Booking, BookingPlace, BookingStatus
    from instructor_portal.extensions import db
    from tests import factories

    course = factories.make_course(places=families * 2, first_session=datetime.now(UTC) + timedelta(days=7))
    now = datetime.now(UTC)
    for n in range(families):
        parent = User(email=f"family{n}@example.org", full_name=f"Parent Family{n}", role=Role.PARENT, active=True)
        babies = [
            Child(
                parent=parent,
                first_name=f"Baby{n}{twin}",
                last_name="Family",
                date_of_birth=now.date() - timedelta(weeks=12),
            )
            for twin in range(2 if n % 10 == 0 else 1)
        ]
        db.session.add(
            Booking(
                reference=f"B{n:07d}",
                course=course,
                parent=parent,
                status=BookingStatus.CONFIRMED,
                amount_pence=0,
                currency="GBP",
                terms_accepted_at=now,
                confirmed_at=now,
                places=[BookingPlace(course_id=course.id, child=child) for child in babies],
            )
        )
    db.session.commit()
    return course.id


def best(times: list[float]) -> str:
    return f"{1000 * min(times):.0f} ms (median {1000 * sorted(times)[len(times) // 2]:.0f} ms)"


def main() -> None:
    from flask_migrate import upgrade

    from instructor_portal import create_app
    from instructor_portal.catalogue.models import Course
    from instructor_portal.extensions import db
    from instructor_portal.messages.services import new_send_key, send_message
    from instructor_portal.notifications.models import OutboxEmail

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="portal-group-message-"))
    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'portal.sqlite'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "UPLOAD_STORAGE_PATH": str(workdir)})
    with app.app_context():
        upgrade()
        course_id = fill(args.families)
        floor, message = [], []
        for _ in range(args.runs):
            db.session.remove()
            started = time.perf_counter()
            db.session.add_all(
                OutboxEmail(to_address=f"family{n}@example.org", subject="A message", body_text=BODY, body_html=BODY)
                for n in range(args.families)
            )
            db.session.commit()
            floor.append(time.perf_counter() - started)

            db.session.remove()
            started = time.perf_counter()
            course = db.session.get(Course, course_id)
            sent = send_message(course, sender=course.instructor, body=BODY, send_key=new_send_key())
            message.append(time.perf_counter() - started)
            if len(sent.message.recipients) != args.families:
                raise RuntimeError(f"sent to {len(sent.message.recipients)} families of {args.families}")
        db.engine.dispose()
    print(f"{args.families} outbox rows written directly: {best(floor)}")
    print(f"one message to {args.families} families:     {best(message)}, {min(message) / min(floor):.1f}x the floor")


if __name__ == "__main__":
    main()

"""Measure the outbox: messages per second to a loopback SMTP server with one and two senders, and how soon a booking's email leaves.

    .venv/bin/python bench/run_outbox.py [--emails 1000] [--bookings 200]

It migrates a throw-away SQLite database (or BENCH_DATABASE_URL, for PostgreSQL) and runs a
real SMTP server (aiosmtpd) on 127.0.0.1. Throughput: the outbox is filled, then one (and
then two) `flask send-outbox` processes empty it at once. Delay: a real worker runs
(`flask worker`, its queue in a SQLite file) while bookings are made one after another; each
email's delay is from its booking's commit to the SMTP server having it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from run_catalogue import free_port  # noqa: E402  (bench/ is this script's folder)

FLASK = str(Path(sys.executable).with_name("flask"))


class Arrivals:
    """An aiosmtpd handler noting when each recipient's message arrived."""

    def __init__(self):
        self.at: dict[str, float] = {}
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            for address in envelope.rcpt_tos:
                self.at.setdefault(address, time.monotonic())
            self.count += 1
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, seconds: float = 300) -> None:
        deadline = time.monotonic() + seconds
        while self.count < count and time.monotonic() < deadline:
            time.sleep(0.01)


def throughput(app, env: dict, arrivals: Arrivals, *, emails: int, senders: int) -> float:
    from instructor_portal.extensions import db
    from instructor_portal.notifications.models import OutboxEmail

    with app.app_context():
        db.session.execute(db.delete(OutboxEmail))
        db.session.add_all(
            OutboxEmail(to_address=f"family{n}@example.org", subject="Your place is confirmed", body_text="Hello " * 50)
            for n in range(emails)
        )
        db.session.commit()
    arrivals.count = 0
    started = time.monotonic()
    processes = [
        subprocess.Popen(
            [FLASK, "--app", "instructor_portal", "send-outbox", "--limit", str(emails)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(senders)
    ]
    for process in processes:
        process.wait()
    arrivals.wait_for(emails)
    if arrivals.count != emails:
        raise RuntimeError(f"{arrivals.count} messages arrived of {emails}")
    return emails / (time.monotonic() - started)


def delays(app, env: dict, arrivals: Arrivals, *, bookings: int) -> list[float]:
    from instructor_portal.booking.services import book_places
    from instructor_portal.extensions import db
    from tests import factories

    worker = subprocess.Popen(
        [FLASK, "--app", "instructor_portal", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with app.app_context():
            course = factories.make_course(
                price_pence=0, places=bookings + 1, first_session=datetime.now(UTC) + timedelta(days=9)
            )
            families = [factories.make_child() for _ in range(bookings)]
            time.sleep(3)  # the worker starting
            committed = {}
            for child in families:
                book_places(child.parent, course, [child], accept_terms=True)
                committed[child.parent.email] = time.monotonic()
                time.sleep(0.05)
            db.session.remove()
        deadline = time.monotonic() + 120
        while not all(address in arrivals.at for address in committed) and time.monotonic() < deadline:
            time.sleep(0.05)
        return [arrivals.at[address] - moment for address, moment in committed.items() if address in arrivals.at]
    finally:
        worker.terminate()
        worker.wait()


def main() -> None:
    from aiosmtpd.controller import Controller
    from flask_migrate import upgrade

    from instructor_portal import create_app

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=1000)
    parser.add_argument("--bookings", type=int, default=200)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="portal-outbox-"))
    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'portal.sqlite'}"
    arrivals = Arrivals()
    smtp = Controller(arrivals, hostname="127.0.0.1", port=free_port())
    smtp.start()
    queue = f"sqlite:///{workdir / 'tasks.sqlite'}"
    settings = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp.port), "TASK_QUEUE_URL": queue}
    env = {
        **os.environ,
        "PORTAL_ENV": "development",
        "DATABASE_URL": database_url,
        "UPLOAD_STORAGE_PATH": str(workdir),
        **settings,
    }
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, **settings, "MAIL_PORT": smtp.port})
    with app.app_context():
        upgrade()
    try:
        for senders in (1, 2):
            rate = throughput(app, env, arrivals, emails=args.emails, senders=senders)
            print(
                f"outbox throughput, {senders} {'sender' if senders == 1 else 'senders'}: {rate:.0f} messages/s ({args.emails} emails)"
            )
        waited = sorted(delays(app, env, arrivals, bookings=args.bookings))
        p99 = statistics.quantiles(waited, n=100)[-1]
        print(
            f"booking commit to SMTP, {len(waited)} of {args.bookings} bookings: median {1000 * statistics.median(waited):.0f} ms, "
            f"p99 {1000 * p99:.0f} ms, slowest {1000 * waited[-1]:.0f} ms"
        )
    finally:
        smtp.stop()


if __name__ == "__main__":
    main()

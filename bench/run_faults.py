"""Drive a real gunicorn server (four workers, production settings) through races and faults, and count what went wrong.

Families book and pay over HTTP as a browser would; Stripe is the project's own test server
on loopback, made slow, silent or deaf on purpose; the hold sweeper runs beside the server
as a second worker would. For each scenario it prints bookings confirmed, places over
capacity (must be 0), payments without a place or a refund (must be 0), 5xx answers and the
95th percentile of the answers' times. Only loopback is used.

    .venv/bin/python bench/run_faults.py            # SQLite in a temporary folder
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench .venv/bin/python bench/run_faults.py
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from run_catalogue import free_port, wait_for  # noqa: E402  (bench/ is this script's folder)

from tests.stripe_server import FakeStripe  # noqa: E402

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
WEBHOOK_SECRET = "whsec_bench"


@dataclass
class Tally:
    """What one scenario's requests met."""

    times: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, started: float, response: requests.Response) -> requests.Response:
        with self.lock:
            self.times.append(time.monotonic() - started)
            self.statuses.append(response.status_code)
        return response

    @property
    def errors(self) -> int:
        return sum(status >= 500 for status in self.statuses)

    @property
    def busy(self) -> int:
        """The 5xx answers that were the friendly 503 "try again" (a lock waited too long, or Stripe's webhook told to retry)."""
        return sum(status == 503 for status in self.statuses)

    @property
    def p95_ms(self) -> float:
        if len(self.times) < 2:
            return 1000 * (self.times[0] if self.times else 0)
        return 1000 * statistics.quantiles(self.times, n=20)[-1]


class Family:
    """A parent in a browser: signed in, reading each form's CSRF token before sending it."""

    def __init__(self, base: str, email: str, password: str, tally: Tally):
        self.base, self.tally = base, tally
        self.http = requests.Session()
        page = self._call("get", "/login")
        signed_in = self._call(
            "post", "/login", data={"csrf_token": CSRF.search(page.text).group(1), "email": email, "password": password}
        )
        if signed_in.status_code != 302:
            raise RuntimeError(f"{email} could not sign in: {signed_in.status_code}")

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        try:
            response = self.http.request(method, f"{self.base}{path}", allow_redirects=False, timeout=60, **kwargs)
        except requests.RequestException:
            # What a browser sees when gunicorn kills a worker that outlived its timeout, or nothing answers: a 5xx.
            response = requests.Response()
            response.status_code = 502
            response._content = b"the server dropped the connection"
        for (
            cookie
        ) in self.http.cookies:  # production marks cookies Secure; this browser talks plain HTTP to loopback only
            cookie.secure = False
        return response

    def send(self, path: str, data: dict) -> requests.Response:
        token = CSRF.search(self._call("get", path).text)
        started = time.monotonic()
        return self.tally.record(
            started, self._call("post", path, data={"csrf_token": token.group(1) if token else "", **data})
        )


class Bench:
    """The database, the fake Stripe and the gunicorn server, and the checks made on them."""

    def __init__(self, database_url: str, workers: int):
        from flask_migrate import upgrade

        from instructor_portal import create_app

        self.stripe = FakeStripe()
        self.app = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": database_url,
                "STRIPE_SECRET_KEY": self.stripe.api_key,
                "STRIPE_API_BASE": self.stripe.url,
                "STRIPE_WEBHOOK_SECRETS": [WEBHOOK_SECRET],
            }
        )
        self.context = self.app.app_context()
        self.context.push()
        upgrade()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "PORTAL_ENV": "production",
            "SECRET_KEY": "f" * 48,
            "DATABASE_URL": database_url,
            "STRIPE_SECRET_KEY": self.stripe.api_key,
            "STRIPE_API_BASE": self.stripe.url,
            "STRIPE_WEBHOOK_SECRETS": WEBHOOK_SECRET,
            "BASE_URL": self.base,
            "RATELIMIT_ENABLED": "0",  # every family signs in from 127.0.0.1
        }
        gunicorn = Path(sys.executable).with_name("gunicorn")
        # --config /dev/null: gunicorn's own defaults, not gunicorn.conf.py's production threads and access log.
        self.server = subprocess.Popen(
            [
                str(gunicorn),
                "--config",
                "/dev/null",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "error",
                "--pythonpath",
                str(ROOT),
                "instructor_portal:create_app()",
            ],
            cwd=ROOT,
            env=env,
        )
        wait_for(self.port)

    def close(self) -> None:
        self.server.terminate()
        self.server.wait()
        self.stripe.stop()
        from instructor_portal.extensions import db

        db.engine.dispose()
        self.context.pop()

    # -- the scene ----------------------------------------------------------------------------

    def course(self, *, places: int, price_pence: int) -> int:
        """Make a course with sessions from a fortnight on, and return its id."""
        from tests import factories

        return factories.make_course(
            places=places, price_pence=price_pence, first_session=datetime.now(UTC) + timedelta(days=14)
        ).id

    def families(self, count: int, tally: Tally) -> list[tuple[Family, int]]:
        from tests import factories

        children = [factories.make_child(born=datetime.now(UTC).date() - timedelta(weeks=12)) for _ in range(count)]
        people = [(child.parent.email, child.id) for child in children]
        with ThreadPoolExecutor(8) as pool:
            return list(
                pool.map(lambda person: (Family(self.base, person[0], factories.PASSWORD, tally), person[1]), people)
            )

    # -- what went wrong ------------------------------------------------------------------------

    def counts(self, course_ids: list[int]) -> tuple[int, int, int]:
        """Bookings confirmed, places over capacity, and succeeded payments with neither a place nor a refund."""
        from instructor_portal.booking.capacity import places_taken
        from instructor_portal.booking.models import Booking, BookingStatus
        from instructor_portal.catalogue.models import Course
        from instructor_portal.extensions import db
        from instructor_portal.payments.models import Payment, PaymentStatus, Refund

        db.session.expire_all()
        now = datetime.now(UTC)
        confirmed = db.session.scalar(
            db.select(db.func.count(Booking.id)).where(
                Booking.course_id.in_(course_ids), Booking.status == BookingStatus.CONFIRMED
            )
        )
        over = sum(
            max(0, db.session.scalar(db.select(places_taken(c.id, now))) - c.places)
            for c in db.session.scalars(db.select(Course).where(Course.id.in_(course_ids)))
        )
        stranded = db.session.scalar(
            db.select(db.func.count(Payment.id))
            .join(Booking, Booking.id == Payment.booking_id)
            .where(
                Booking.course_id.in_(course_ids),
                Payment.status == PaymentStatus.SUCCEEDED,
                Booking.status != BookingStatus.CONFIRMED,
                ~db.select(Refund.id).where(Refund.payment_id == Payment.id).exists(),
            )
        )
        db.session.commit()
        return confirmed, over, stranded


def book(family: Family, course_id: int, child_id: int) -> requests.Response:
    return family.send(f"/classes/{course_id}/book", {"children": child_id, "accept_terms": "y"})


def hold(family: Family, course_id: int, child_id: int) -> str:
    """Book a place on a paid course and return the address of the page that asks how to pay."""
    answer = book(family, course_id, child_id)
    if answer.status_code != 302:
        raise RuntimeError(f"booking was refused ({answer.status_code}): {answer.text[:2000]}")
    return answer.headers["Location"]


def pay_by_card(family: Family, booking_path: str) -> requests.Response:
    return family.send(booking_path, {"method": "card"})


def last_places_race(bench: Bench, tally: Tally) -> list[int]:
    """Forty families book the last three places of a free course at once."""
    course_id = bench.course(places=3, price_pence=0)
    families = bench.families(40, tally)
    tally.times.clear(), tally.statuses.clear()
    with ThreadPoolExecutor(40) as pool:
        list(pool.map(lambda f: book(f[0], course_id, f[1]), families))
    return [course_id]


def late_payments_meet_the_sweeper(bench: Bench, tally: Tally) -> list[int]:
    """Eight families pay after their holds on eight places ran out, while the sweeper runs and six others book."""
    from instructor_portal.booking.holds import expire_holds
    from instructor_portal.booking.models import Booking
    from instructor_portal.extensions import db

    course_id = bench.course(places=8, price_pence=4500)
    payers, bookers = bench.families(8, tally), bench.families(6, tally)
    for family, child_id in payers:
        pay_by_card(family, hold(family, course_id, child_id))
    db.session.execute(
        db.update(Booking)
        .where(Booking.course_id == course_id)
        .values(hold_expires_at=datetime.now(UTC) - timedelta(minutes=1))
    )
    db.session.commit()
    for session in bench.stripe.objects("checkout.session"):
        if session["status"] == "open":
            bench.stripe.complete_session(session["id"])
    events = bench.stripe.events("checkout.session.completed")
    tally.times.clear(), tally.statuses.clear()
    stop = threading.Event()

    def sweep():
        with bench.app.app_context():
            while not stop.is_set():
                expire_holds()
                time.sleep(0.05)

    def deliver(event) -> None:
        for _ in range(10):  # as Stripe does: again later, while the answer is 5xx
            body, headers = bench.stripe.webhook_request(event, WEBHOOK_SECRET)
            started = time.monotonic()
            if tally.record(
                started, requests.post(f"{bench.base}/stripe/webhook", data=body, headers=headers, timeout=60)
            ).ok:
                return
            time.sleep(1)

    sweeper = threading.Thread(target=sweep)
    sweeper.start()
    with ThreadPoolExecutor(16) as pool:
        jobs = [pool.submit(deliver, event) for event in events] + [
            pool.submit(book, f, course_id, c) for f, c in bookers
        ]
        for job in jobs:
            job.result()
    stop.set()
    sweeper.join()
    return [course_id]


def slow_stripe(bench: Bench, tally: Tally) -> list[int]:
    """Stripe takes 40 s to open Checkout for two families while twenty others book a free course."""
    paid_id, free_id = bench.course(places=10, price_pence=4500), bench.course(places=30, price_pence=0)
    payers, others = bench.families(2, Tally()), bench.families(20, tally)
    held = [hold(family, paid_id, child_id) for family, child_id in payers]
    bench.stripe.inject("slow", method="POST", path="/v1/checkout/sessions", times=None, seconds=40)
    tally.times.clear(), tally.statuses.clear()
    with ThreadPoolExecutor(22) as pool:
        card = [pool.submit(pay_by_card, family, path) for (family, _), path in zip(payers, held, strict=True)]
        time.sleep(0.5)
        list(pool.map(lambda f: book(f[0], free_id, f[1]), others))
        answers = [job.result() for job in card]
    bench.stripe.clear_faults()
    told = sum("Card payments are not answering just now" in answer.text for answer in answers)
    print(f"    card families told their place is held while Stripe was slow: {told} of {len(answers)}")
    return [paid_id, free_id]


def lost_answers(bench: Bench, tally: Tally) -> list[int]:
    """Stripe's answers to opening Checkout are lost on every try for five families; then Stripe recovers."""
    course_id = bench.course(places=10, price_pence=4500)
    families = bench.families(8, tally)
    held = [(family, hold(family, course_id, child_id)) for family, child_id in families]
    bench.stripe.inject("lost", method="POST", path="/v1/checkout/sessions", times=None)
    tally.times.clear(), tally.statuses.clear()
    with ThreadPoolExecutor(5) as pool:
        list(pool.map(lambda h: pay_by_card(*h), held[:5]))
    bench.stripe.clear_faults()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda h: pay_by_card(*h), held))
    opened = sum(answer.status_code == 302 for answer in answers)
    per_hold = {}
    for session in bench.stripe.objects("checkout.session"):
        if session["status"] == "open":
            per_hold[session["metadata"]["booking_id"]] = per_hold.get(session["metadata"]["booking_id"], 0) + 1
    print(
        f"    checkouts opened once Stripe answered: {opened} of {len(answers)}; most open sessions for one hold: {max(per_hold.values())}"
    )
    return [course_id]


def database_locked(bench: Bench, tally: Tally) -> list[int]:
    """Another connection holds the course's lock for ten seconds while ten families try to book it."""
    from instructor_portal.extensions import db

    course_id = bench.course(places=10, price_pence=0)
    families = bench.families(10, tally)
    tally.times.clear(), tally.statuses.clear()
    connection = db.engine.raw_connection()
    cursor = connection.cursor()
    if db.engine.dialect.name == "sqlite":
        connection.driver_connection.isolation_level = None
        cursor.execute("BEGIN IMMEDIATE")
    else:
        cursor.execute("SELECT id FROM courses WHERE id = %s FOR UPDATE", (course_id,))
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda f: book(f[0], course_id, f[1]), families))
    cursor.execute("ROLLBACK")
    connection.close()
    busy = sum(answer.status_code == 503 and "Retry-After" in answer.headers for answer in answers)
    print(f"    told the site is busy (503 with Retry-After), nothing saved: {busy} of {len(answers)}")
    return [course_id]


SCENARIOS = [last_places_race, late_payments_meet_the_sweeper, slow_stripe, lost_answers, database_locked]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="portal-faults-"))
    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'portal.sqlite'}"
    bench = Bench(database_url, args.workers)
    print(
        f"{'scenario':<32} {'confirmed':>9} {'over':>5} {'paid, no place':>14} {'5xx':>5} {'of them 503':>11} {'p95 ms':>8}"
    )
    try:
        for scenario in SCENARIOS:
            tally = Tally()
            course_ids = scenario(bench, tally)
            confirmed, over, stranded = bench.counts(course_ids)
            print(
                f"{scenario.__name__:<32} {confirmed:>9} {over:>5} {stranded:>14} {tally.errors:>5} {tally.busy:>11} {tally.p95_ms:>8.0f}"
            )
    finally:
        bench.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

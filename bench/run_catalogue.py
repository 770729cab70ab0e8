"""Measure the public catalogue against a bare Flask route and a plain 50-row list page.

Serves each with gunicorn on 127.0.0.1 and loads the public pages a signed-out visitor sees
(answered from the cache in front of Flask) with wrk, in interleaved rounds, then prints the
median requests per second and each as a fraction of the bare route. Only loopback is used.

    .venv/bin/python bench/run_catalogue.py [--courses 60] [--seconds 5] [--rounds 3] [--connections 16]

BENCH_DATABASE_URL=postgresql+psycopg://... runs the portal on PostgreSQL instead of SQLite.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered on port {port}")


def prepare_portal(database_url: str, courses: int) -> tuple[int, int]:
    """Migrate a fresh database and fill it with ``courses`` upcoming courses and some bookings; return a course's and its instructor's ids."""
    from datetime import UTC, datetime, timedelta

    from flask_migrate import upgrade

    from instructor_portal import create_app
    from instructor_portal.extensions import db
    from tests import factories

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        upgrade()
        instructors = [factories.make_user(role="instructor") for _ in range(4)]
        venues = [factories.make_venue() for _ in range(6)]
        start = datetime.now(UTC) + timedelta(days=3)
        for n in range(courses):
            course = factories.make_course(
                instructor=instructors[n % 4], venue=venues[n % 6], first_session=start + timedelta(days=n), places=8
            )
            if n % 3 == 0:
                factories.make_booking(course)
        ids = course.id, course.instructor_id
        db.engine.dispose()
    return ids


def serve(app_spec: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    # --config /dev/null: gunicorn's own defaults, not gunicorn.conf.py's production threads and access log.
    command = [
        str(gunicorn),
        "--config",
        "/dev/null",
        "--workers",
        "2",
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "--pythonpath",
        f"{ROOT},{ROOT / 'bench'}",
        app_spec,
    ]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
    wait_for(port)
    return process


def load(url: str, seconds: int, connections: int) -> float:
    output = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", url], capture_output=True, text=True, check=True
    ).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        raise RuntimeError(f"{url} answered {non_2xx.group(1)} errors:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--courses", type=int, default=60)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")

    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    portal_db = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'portal.sqlite'}"
    list_db = f"sqlite:///{workdir / 'list.sqlite'}"
    course_id, instructor_id = prepare_portal(portal_db, args.courses)
    portal_env = {"DATABASE_URL": portal_db, "PORTAL_ENV": "production", "SECRET_KEY": "b" * 48}
    apps = {
        "bare": ("apps:bare()", {}),
        "list": ("apps:plain_list()", {"BENCH_LIST_DATABASE_URL": list_db}),
        "portal": ("instructor_portal:create_app()", portal_env),
    }
    targets = [
        ("bare Flask route", "bare", "/"),
        ("plain 50-row list page", "list", "/"),
        ("/ (home), visitor", "portal", "/"),
        (f"/classes ({args.courses} courses), visitor", "portal", "/classes"),
        ("/classes?track=family, visitor", "portal", "/classes?track=family"),
        ("/classes/<id>, visitor", "portal", f"/classes/{course_id}"),
        ("/instructors, visitor", "portal", "/instructors"),
        ("/instructors/<id>, visitor", "portal", f"/instructors/{instructor_id}"),
    ]
    ports = {name: free_port() for name in apps}
    processes = [serve(spec, ports[name], env) for name, (spec, env) in apps.items()]
    rates: dict[str, list[float]] = {name: [] for name, _, _ in targets}
    try:
        for _, app, path in targets:
            load(f"http://127.0.0.1:{ports[app]}{path}", 1, args.connections)  # warm up and fill the cache
        # Interleaved rounds, so a busy moment on the machine costs every target alike.
        for _ in range(args.rounds):
            for name, app, path in targets:
                rates[name].append(load(f"http://127.0.0.1:{ports[app]}{path}", args.seconds, args.connections))
    finally:
        for process in processes:
            process.terminate()
            process.wait()
    bare = statistics.median(rates["bare Flask route"])
    print(f"{'target':<40} {'requests/s':>12} {'of bare':>9}   (medians of {args.rounds} interleaved rounds)")
    for name, _, _ in targets:
        rate = statistics.median(rates[name])
        print(f"{name:<40} {rate:>12.0f} {rate / bare:>9.2f}")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

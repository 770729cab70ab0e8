"""Command-line tasks (``flask --app instructor_portal ...``): thin wrappers over services."""

import click
from flask import Flask

from instructor_portal.accounts.models import Role
from instructor_portal.errors import DomainError


def register(app: Flask) -> None:
    app.cli.add_command(create_organiser)
    app.cli.add_command(send_outbox)
    app.cli.add_command(seed_demo)
    app.cli.add_command(expire_holds)
    app.cli.add_command(send_reminders)
    app.cli.add_command(reconcile_payments)
    app.cli.add_command(purge_old_data)
    app.cli.add_command(worker)


@click.command("create-organiser")
@click.option("--email", required=True, help="Their email address; the invitation goes here.")
@click.option("--name", "full_name", required=True, help="Their full name.")
def create_organiser(email: str, full_name: str) -> None:
    """Invite an organiser (use it for the first one); they set their own password from the emailed link."""
    from instructor_portal.accounts.services import invite_user

    try:
        user = invite_user(full_name=full_name, email=email, role=Role.ORGANISER, invited_by=None)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Invited organiser {user.email}. Run send-outbox to deliver the invitation.")


@click.command("send-outbox")
@click.option("--limit", default=100, show_default=True, help="Most emails to send in this run.")
def send_outbox(limit: int) -> None:
    """Send the email outbox, retrying earlier failures that are due."""
    from instructor_portal.notifications.services import send_outbox as send

    counts = send(limit=limit)
    click.echo(f"Sent {counts['sent']}, will retry {counts['retrying']}, gave up on {counts['failed']}.")


@click.command("expire-holds")
def expire_holds() -> None:
    """Release places held for bookings whose payment time ran out (safe to run from cron at any time)."""
    from instructor_portal.booking.holds import expire_holds as expire

    count = expire()
    click.echo(f"Released {count} expired {'hold' if count == 1 else 'holds'}.")


@click.command("send-reminders")
def send_reminders() -> None:
    """Email the session reminders due now; each goes once, however often this runs."""
    from instructor_portal.reminders.services import send_due_reminders

    count = send_due_reminders()
    click.echo(f"Queued {count} {'reminder' if count == 1 else 'reminders'}.")


@click.command("reconcile-payments")
def reconcile_payments() -> None:
    """Apply whatever Stripe knows that a missed webhook did not tell us; running it twice changes nothing."""
    from instructor_portal.payments.stripe_events import reconcile_payments as reconcile

    counts = reconcile()
    click.echo(
        f"Updated {counts['sessions']} payments from their sessions, applied {counts['events']} missed events, "
        f"completed {counts['refunds']} refunds"
        + (f"; {counts['errors']} left for the next run." if counts["errors"] else ".")
    )


@click.command("seed-demo")
def seed_demo() -> None:
    """Load the demo organisation, people and courses; running it again changes nothing."""
    from instructor_portal.demo import seed

    for line in seed():
        click.echo(line)


@click.command("purge-old-data")
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
def purge_old_data(dry_run: bool) -> None:
    """Remove the children's records of courses that ended longer ago than the organisation's retention period."""
    from instructor_portal.organiser.retention import purge_old_records

    report = purge_old_records(dry_run=dry_run)
    click.echo(report.summary(dry_run=dry_run))


@click.command("worker")
@click.option("--threads", default=2, show_default=True, help="Jobs run at once.")
@click.option("--no-schedule", is_flag=True, help="Run queued jobs only, when another worker runs the schedule.")
def worker(threads: int, no_schedule: bool) -> None:
    """Run the background worker: queued jobs (email, refunds) and the schedule (holds, reconciliation, purge)."""
    from instructor_portal.queue import run_worker

    run_worker(threads=threads, schedule=not no_schedule)

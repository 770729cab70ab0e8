"""The outbox's jobs: deliver new email within seconds of its commit, and sweep up whatever is still due."""

from sqlalchemy import event
from sqlalchemy.orm import Session

from instructor_portal.extensions import db
from instructor_portal.notifications.services import QUEUED, send_outbox
from instructor_portal.queue import enqueue_quietly, job, periodic


@job()
def deliver_outbox() -> None:
    """Send the email that is due now."""
    send_outbox()


@periodic("OUTBOX_SWEEP_MINUTES")
def sweep_outbox() -> None:
    """Send anything still due: retries whose time has come, and email whose prompt delivery was missed."""
    send_outbox()


def _deliver_soon(session: Session) -> None:
    if session.info.pop(QUEUED, False):
        enqueue_quietly(deliver_outbox)


def _forget(session: Session) -> None:
    session.info.pop(QUEUED, None)


if not event.contains(db.session, "after_commit", _deliver_soon):
    event.listen(db.session, "after_commit", _deliver_soon)
    event.listen(db.session, "after_rollback", _forget)

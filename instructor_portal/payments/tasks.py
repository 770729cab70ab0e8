"""The payments' scheduled jobs: catch up with Stripe, and make the refunds still owed."""

from instructor_portal.payments.refunds import send_owed_refunds
from instructor_portal.payments.stripe_events import reconcile_payments
from instructor_portal.queue import periodic


@periodic("RECONCILE_MINUTES")
def reconcile() -> None:
    """Apply whatever a missed webhook or a lost answer from Stripe left behind."""
    reconcile_payments()


@periodic("REFUND_RETRY_MINUTES")
def make_owed_refunds() -> None:
    """Make at Stripe the refunds that could not be made when they were decided."""
    send_owed_refunds()

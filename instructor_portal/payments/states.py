"""Which payment status may follow which: every change goes through ``move``."""

from instructor_portal.payments.models import Payment, PaymentStatus

P = PaymentStatus

#: Allowed transitions. Anything else is either a replay (the status is already the target)
#: or a bug; Stripe may deliver events late or out of order, so replays are normal.
TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    P.PENDING: frozenset({P.PROCESSING, P.SUCCEEDED, P.FAILED, P.EXPIRED}),
    P.PROCESSING: frozenset({P.SUCCEEDED, P.FAILED}),
    # A session that expired in our records can still have been paid at the last moment.
    P.EXPIRED: frozenset({P.SUCCEEDED, P.PROCESSING}),
    P.FAILED: frozenset(),
    P.SUCCEEDED: frozenset(),
}


class TransitionIgnored(Exception):
    """The payment is already in that status: a replayed or duplicated event."""


class InvalidTransition(Exception):
    """The change makes no sense from the payment's current status."""


def move(payment: Payment, target: PaymentStatus) -> None:
    """Change the payment's status if the table allows it; raise to say why not."""
    if payment.status == target:
        raise TransitionIgnored(f"payment {payment.id} is already {target}")
    if target not in TRANSITIONS[payment.status]:
        raise InvalidTransition(f"payment {payment.id} cannot go from {payment.status} to {target}")
    payment.status = target

"""The booking's scheduled job: let go of places whose hold ran out."""

from instructor_portal.booking.holds import expire_holds
from instructor_portal.queue import periodic


@periodic("HOLD_SWEEP_MINUTES")
def release_expired_holds() -> None:
    """Release the places of held bookings whose payment time is up (they never count meanwhile; this frees the rows)."""
    expire_holds()

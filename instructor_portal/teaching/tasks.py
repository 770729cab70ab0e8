"""Teaching's scheduled jobs: minimum numbers, credentials about to expire, and evaluations at the end of a course."""

from instructor_portal.queue import periodic
from instructor_portal.teaching.credentials import send_expiry_alerts
from instructor_portal.teaching.evaluations import send_evaluations
from instructor_portal.teaching.minimum_numbers import check_minimum_numbers


@periodic("MINIMUM_CHECK_MINUTES")
def check_minimum_numbers_to_run() -> None:
    """Warn instructors two days before the decision, and cancel courses still short at it."""
    check_minimum_numbers()


@periodic("CREDENTIAL_CHECK_MINUTES")
def alert_expiring_credentials() -> None:
    """Tell instructors and organisers of credentials expiring within 30 days, once for each expiry date."""
    send_expiry_alerts()


@periodic("EVALUATION_SWEEP_MINUTES")
def send_course_evaluations() -> None:
    """Email an evaluation to each family on a course that has just ended."""
    send_evaluations()

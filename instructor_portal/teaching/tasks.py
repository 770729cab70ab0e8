"""Teaching's scheduled job: courses short of their minimum numbers are warned about, then decided."""

from instructor_portal.queue import periodic
from instructor_portal.teaching.minimum_numbers import check_minimum_numbers


@periodic("MINIMUM_CHECK_MINUTES")
def check_minimum_numbers_to_run() -> None:
    """Warn instructors two days before the decision, and cancel courses still short at it."""
    check_minimum_numbers()

"""The organiser's scheduled job: purge children's records kept longer than the organisation's retention period."""

from instructor_portal.organiser.retention import purge_old_records
from instructor_portal.queue import periodic


@periodic("PURGE_MINUTES")
def purge_old_data() -> None:
    """Remove the children's records of courses that ended longer ago than the retention period."""
    purge_old_records()

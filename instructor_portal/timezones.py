"""Convert between stored UTC times and the organisation's local time."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def to_local(moment: datetime, tz_name: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz_name))


def local_to_utc(day: date, at: time, tz_name: str) -> datetime:
    """Interpret a wall-clock date and time in ``tz_name`` and return it in UTC.

    Each date is converted on its own, so a weekly series keeps its local time across
    the clocks changing.
    """
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz_name)).astimezone(UTC)


def local_date(moment: datetime, tz_name: str) -> date:
    return to_local(moment, tz_name).date()


def next_local_midnight(moment: datetime, tz_name: str) -> datetime:
    """Return, in UTC, the start of the local day after ``moment``."""
    tomorrow = local_date(moment, tz_name) + timedelta(days=1)
    return local_to_utc(tomorrow, time(0), tz_name)

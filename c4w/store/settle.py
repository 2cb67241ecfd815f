"""When a UTC day is complete: once it has ended everywhere, plus the vendor's lag.

A UTC day's events are complete once the day has ended in the latest time zone an organization
may have and the vendor has caught up (its analytics lag about 30 minutes; two hours by default).
The latest time zone on earth is UTC-12, so by default a UTC day settles 14 hours after it ends.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LATEST_TIMEZONE = "Etc/GMT+12"  # UTC-12 (the sign of Etc/ zones is inverted)
SETTLE_LAG = dt.timedelta(hours=2)


def settled_at(
    day: dt.date, latest_timezone: str = LATEST_TIMEZONE, lag: dt.timedelta = SETTLE_LAG
) -> dt.datetime:
    """The UTC moment from which ``day`` (a UTC day) is complete and never fetched again."""
    end_of_day = dt.datetime.combine(
        day + dt.timedelta(days=1), dt.time(), ZoneInfo(latest_timezone)
    )
    return (end_of_day + lag).astimezone(dt.UTC)


def is_settled(
    day: dt.date,
    moment: dt.datetime,
    latest_timezone: str = LATEST_TIMEZONE,
    lag: dt.timedelta = SETTLE_LAG,
) -> bool:
    """Whether ``day`` had settled at ``moment`` (an aware datetime)."""
    return moment >= settled_at(day, latest_timezone, lag)

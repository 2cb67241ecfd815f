"""Facts about the history itself, in DuckDB over the store."""

from __future__ import annotations

import datetime as dt

from c4w.store.store import EventStore


def latest_event(store: EventStore, day: dt.date) -> dt.datetime | None:
    """The time (UTC) of the latest event recorded on UTC day ``day`` (None when the day holds
    no timed event)."""
    sql = "SELECT max(created_at) AS latest FROM events"
    latest = store.query(sql, start=day, end=day).to_pylist()[0]["latest"]
    if latest is None:
        return None
    return latest if latest.tzinfo else latest.replace(tzinfo=dt.UTC)

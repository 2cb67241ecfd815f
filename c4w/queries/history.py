"""Facts about the history itself, in DuckDB over the store."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from c4w import schema
from c4w.store.store import EventStore


def latest_event(store: EventStore, day: dt.date) -> dt.datetime | None:
    """The time (UTC) of the latest event recorded on UTC day ``day`` (None when the day holds
    no timed event)."""
    sql = "SELECT max(created_at) AS latest FROM events"
    latest = store.query(sql, start=day, end=day).to_pylist()[0]["latest"]
    if latest is None:
        return None
    return latest if latest.tzinfo else latest.replace(tzinfo=dt.UTC)


def first_events(store: EventStore, start: dt.date, end: dt.date) -> pd.DataFrame:
    """``c4w.metrics.attribution.first_events`` of the events of UTC days ``start..end`` (every
    type, every location): each contact's first event time, and that of the first event with no
    contact; columns contact_id, created_at, by contact id, the one with no contact last. (The
    test that the two agree: ``tests/test_campaigns_narrow.py``.)"""
    sql = """
        SELECT contact_id, min(created_at) AS first_at FROM events
        WHERE created_at >= ? AND created_at < ?
        GROUP BY contact_id ORDER BY contact_id NULLS LAST
    """
    after = end + dt.timedelta(days=1)
    table = store.query(sql, [_utc(start), _utc(after)], start=start, end=end)
    first = pd.to_datetime(table.column("first_at").to_pandas(), utc=True)
    return pd.DataFrame(
        {
            schema.CONTACT_ID: pd.Series(pd.array(table.column("contact_id"), dtype="str")),
            schema.CREATED_AT: first.astype("datetime64[ns, UTC]").array,
        }
    )


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)

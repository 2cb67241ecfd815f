"""Campaign funnels' figures in DuckDB over the store (twins of ``c4w.metrics.funnels``; the
test that they agree: ``tests/test_queries_funnels.py``)."""

from __future__ import annotations

import datetime as dt

from c4w.store.store import EventStore


def step_types_present(store: EventStore, start: dt.date, end: dt.date) -> list[str]:
    """Event types with an event on UTC days ``start..end`` (every location), most frequent
    first, ties by name: ``c4w.metrics.funnels.step_types_present`` of those days' events."""
    sql = """
        SELECT type, count(*) AS events FROM events
        WHERE type IS NOT NULL AND created_at >= ? AND created_at < ?
        GROUP BY type ORDER BY events DESC, type
    """
    after = end + dt.timedelta(days=1)
    table = store.query(sql, [_utc(start), _utc(after)], start=start, end=end)
    return [str(t) for t in table.column("type").to_pylist()]


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)

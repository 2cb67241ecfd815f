"""The Contact page's look-ups in DuckDB over the store (twins of ``c4w.metrics.contacts``; the
test that they agree: ``tests/test_queries_contacts.py``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from c4w import schema
from c4w.store.store import EventStore


def _placeholders(values: Sequence[str]) -> str:
    return ", ".join("?" for _ in values)


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def has_events(store: EventStore, start: dt.date, end: dt.date, contact_id: str) -> bool:
    """Whether the store holds any event of ``contact_id`` on its days ``start..end`` (every
    location, every type)."""
    sql = "SELECT count(*) AS n FROM (SELECT 1 FROM events WHERE contact_id = ? LIMIT 1)"
    row = store.query(sql, [contact_id], start=start, end=end).to_pylist()[0]
    return row["n"] > 0


def most_active_contacts(
    store: EventStore,
    start: dt.date,
    end: dt.date,
    location_ids: Sequence[str] = (),
    limit: int = 20,
) -> pd.DataFrame:
    """``c4w.metrics.contacts.most_active_contacts`` of the events of UTC days ``start..end``
    (only at ``location_ids`` when given): the ``limit`` contacts with the most events, then the
    most visits, then the earliest first event (as the frame's first-seen order: time, then the
    row's place in its day file); columns contact_id, events, visits, last_seen."""
    where = "contact_id IS NOT NULL AND created_at >= ? AND created_at < ?"
    params: list = [_utc(start), _utc(end + dt.timedelta(days=1))]
    if location_ids:
        where += f" AND location_id IN ({_placeholders(location_ids)})"
        params += list(location_ids)
    sql = f"""
        SELECT
            contact_id,
            count(*) AS events,
            count(*) FILTER (WHERE type = '{schema.VISIT}') AS visits,
            max(created_at) AS last_seen,
            min((created_at, day, file_row_number)) AS first_row
        FROM events WHERE {where}
        GROUP BY contact_id
        ORDER BY events DESC, visits DESC, first_row
        LIMIT {int(limit)}
    """
    table = store.query(sql, params, start=start, end=end, row_numbers=True)
    out = pd.DataFrame(
        {
            schema.CONTACT_ID: pd.Series(table.column("contact_id").to_pylist(), dtype="str"),
            "events": pd.Series(table.column("events").to_pylist(), dtype="int64"),
            "visits": pd.Series(table.column("visits").to_pylist(), dtype="int64"),
        }
    )
    last = pd.Series(table.column("last_seen").to_pylist(), dtype="object")
    out["last_seen"] = pd.to_datetime(last, utc=True).dt.as_unit("ns")
    return out

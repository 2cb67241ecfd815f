"""The Overview's figures in DuckDB over the store (twins of ``c4w.metrics.overview``; the
test that they agree: ``tests/test_queries_overview.py``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from c4w import schema
from c4w.metrics.overview import GUEST_TYPES, REACHED_TYPES
from c4w.store.store import EventStore


def _placeholders(values: Sequence[str]) -> str:
    return ", ".join("?" for _ in values)


def headline_counts(
    store: EventStore,
    start: dt.date,
    end: dt.date,
    location_ids: Sequence[str] = (),
    visit_types: Sequence[str] = (schema.VISIT,),
) -> dict[str, float | int | None]:
    """The Overview's headline counts of UTC days ``start``..``end`` (see
    ``c4w.metrics.overview.overview_kpis``): guests (distinct contacts with a visit, login or
    arrival), contacts reached (with an email or SMS sent), sign-ups, WiFi logins, visits (of
    ``visit_types``) and the median visit length in minutes (visits without a usable length left
    out; None when there is none), only at ``location_ids`` when given."""
    visit_types = list(visit_types)
    where, params = "", []
    if location_ids:
        where = f"WHERE location_id IN ({_placeholders(location_ids)})"
        params = list(location_ids)
    visits = f"type IN ({_placeholders(visit_types)})"
    usable = "isfinite(visit_duration_min) AND visit_duration_min >= 0"
    guest = ", ".join(f"'{name}'" for name in GUEST_TYPES)
    reached = ", ".join(f"'{name}'" for name in REACHED_TYPES)
    sql = f"""
        SELECT
            count(DISTINCT contact_id) FILTER (WHERE type IN ({guest})) AS guests,
            count(DISTINCT contact_id) FILTER (WHERE type IN ({reached})) AS reached,
            count(*) FILTER (WHERE type = '{schema.SIGNUP}') AS signups,
            count(*) FILTER (WHERE type = '{schema.LOGIN}') AS logins,
            count(*) FILTER (WHERE {visits}) AS visits,
            quantile_cont(visit_duration_min, 0.5) FILTER (WHERE {visits} AND {usable})
                AS median_dwell
        FROM events {where}
    """
    row = store.query(sql, visit_types * 2 + params, start=start, end=end).to_pylist()[0]
    return {
        "guests": int(row["guests"]),
        "reached": int(row["reached"]),
        "signups": int(row["signups"]),
        "logins": int(row["logins"]),
        "visits": int(row["visits"]),
        "median_dwell": None if row["median_dwell"] is None else float(row["median_dwell"]),
    }


def events_per_day(store: EventStore, start: dt.date, end: dt.date):
    """Events stored per UTC day and type over ``start``..``end``: columns ``day``, ``type``,
    ``events`` (an arrow table, in day then type order)."""
    return store.query(
        "SELECT day, type, count(*) AS events FROM events GROUP BY day, type ORDER BY day, type",
        start=start,
        end=end,
    )

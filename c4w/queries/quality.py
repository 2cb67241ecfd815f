"""The Data quality page's figures in DuckDB over the store (twins of ``c4w.metrics.quality``;
the test that they agree: ``tests/test_queries_quality.py``).

The events shown are those recorded on the UTC days ``start..end`` at ``location_ids`` (every
location when empty), as the page's context slices them; the rows behind one finding or one
reader problem are read only when asked for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from c4w import schema
from c4w.metrics import quality as qm
from c4w.queries.overview import _period
from c4w.store.store import EventStore

_VISITS = ", ".join(f"'{name}'" for name in schema.VISIT_TYPES)
_IS_VISIT = f"type IN ({_VISITS})"
# the same rows as c4w.metrics.quality.finding_masks, one SQL condition per finding (the clicks
# before an open need the other emails of the contact: see _LATE_CLICKS)
_CONDITIONS = {
    qm.LOCAL_TIME.key: f"(data_problems & {schema.PROBLEM_LOCAL_TIME_MISMATCH}) <> 0",
    qm.ZERO_DURATION.key: f"{_IS_VISIT} AND visit_duration_min = 0",
    # DuckDB orders NaN above every number: left out as pandas' comparison does
    qm.EXTREME_DURATION.key: (
        f"{_IS_VISIT} AND visit_duration_min > {qm.EXTREME_VISIT_MIN} "
        "AND NOT isnan(visit_duration_min)"
    ),
    qm.UNKNOWN_TYPE.key: f"(data_problems & {schema.PROBLEM_UNKNOWN_TYPE}) <> 0",
}
# Email clicks earlier than the same contact's first open of the same email (the communication
# when given, else the campaign), among the events shown (a CTE ``shown``).
_LATE_CLICKS = f"""
    mail AS (
        SELECT
            *,
            min(CASE WHEN type = '{schema.OPEN_EMAIL}' THEN created_at END) OVER (
                PARTITION BY
                    contact_id,
                    communication_id,
                    CASE WHEN communication_id IS NULL THEN campaign_id END
            ) AS first_open
        FROM shown
        WHERE type IN ('{schema.CLICK_EMAIL}', '{schema.OPEN_EMAIL}')
            AND contact_id IS NOT NULL
            AND (communication_id IS NOT NULL OR campaign_id IS NOT NULL)
    ),
    late AS (
        SELECT * FROM mail WHERE type = '{schema.CLICK_EMAIL}' AND created_at < first_open
    )
"""
_COLUMNS = ", ".join(schema.EVENT_COLUMNS)


def _shown(
    start: dt.date, end: dt.date, location_ids: Sequence[str], columns: str = "*"
) -> tuple[str, list]:
    """A CTE ``shown`` of the events on the page, and its parameters."""
    where, params = _period(start, end, location_ids, None)
    return f"shown AS (SELECT {columns} FROM events WHERE {where})", params


def by_day_and_type(
    store: EventStore, start: dt.date, end: dt.date, location_ids: Sequence[str] = ()
) -> pd.DataFrame:
    """``c4w.metrics.quality.by_day_and_type`` of the events shown: events and the rows of each
    finding per UTC day and event type."""
    shown, params = _shown(start, end, location_ids)
    each = ",\n".join(
        f"count(*) FILTER (WHERE {condition}) AS {key}" for key, condition in _CONDITIONS.items()
    )
    late = qm.CLICK_BEFORE_OPEN.key
    sql = f"""
        WITH {shown}, {_LATE_CLICKS},
        cells AS (
            SELECT created_at::DATE AS day, CAST(type AS VARCHAR) AS type, count(*) AS events,
                {each}
            FROM shown GROUP BY ALL
        ),
        late_cells AS (
            SELECT created_at::DATE AS day, count(*) AS {late} FROM late GROUP BY ALL
        )
        SELECT
            strftime(cells.day, '%Y-%m-%d') AS day,
            cells.* EXCLUDE (day),
            CASE WHEN type = '{schema.CLICK_EMAIL}' THEN coalesce(late_cells.{late}, 0)
                ELSE 0 END AS {late}
        FROM cells LEFT JOIN late_cells ON cells.day = late_cells.day
    """
    table = store.query(sql, params, start=start, end=end).to_pydict()
    days = [qm.NO_TIME if day is None else day for day in table["day"]]
    types = [qm.NO_TYPE if kind is None else kind for kind in table["type"]]
    counts = {qm.EVENTS: table["events"]}
    counts.update({f.label: table[f.key] for f in qm.FINDINGS})
    return qm.day_and_type_table(days, types, counts)


def problem_counts(
    store: EventStore, start: dt.date, end: dt.date, location_ids: Sequence[str] = ()
) -> tuple[pd.DataFrame, int]:
    """``c4w.metrics.quality.problems_table`` of the events shown (rows per reader problem,
    columns ``problem``, ``rows``, only the problems found, in the order of
    ``schema.PROBLEM_LABELS``) and how many rows carry any problem."""
    shown, params = _shown(start, end, location_ids, schema.DATA_PROBLEMS)
    each = ", ".join(
        f"count(*) FILTER (WHERE (data_problems & {bit}) <> 0) AS p{bit}"
        for bit in schema.PROBLEM_LABELS
    )
    sql = (
        f"WITH {shown} SELECT count(*) FILTER (WHERE data_problems <> 0) AS any, {each} FROM shown"
    )
    row = store.query(sql, params, start=start, end=end).to_pylist()[0]
    found = [(label, int(row[f"p{bit}"])) for bit, label in schema.PROBLEM_LABELS.items()]
    report = pd.DataFrame([r for r in found if r[1] > 0], columns=["problem", "rows"])
    return report.astype({"problem": "str", "rows": "int64"}), int(row["any"])


def finding_rows(
    store: EventStore,
    start: dt.date,
    end: dt.date,
    location_ids: Sequence[str],
    key: str,
) -> pd.DataFrame:
    """``c4w.metrics.quality.finding_rows``: the events shown behind one finding (``key`` of
    ``FINDINGS``), every column, in the page's order (time, then event id). Only those rows
    are read."""
    if key not in qm.FINDING_BY_KEY:
        raise ValueError(f"unknown finding {key!r}")
    shown, params = _shown(start, end, location_ids)
    if key == qm.CLICK_BEFORE_OPEN.key:
        sql = f"WITH {shown}, {_LATE_CLICKS} SELECT {_COLUMNS} FROM late"
    else:
        sql = f"WITH {shown} SELECT {_COLUMNS} FROM shown WHERE {_CONDITIONS[key]}"
    return _in_order(store, sql, params, start, end)


def problem_rows(
    store: EventStore,
    start: dt.date,
    end: dt.date,
    location_ids: Sequence[str],
    label: str,
) -> pd.DataFrame:
    """``c4w.metrics.quality.problem_rows``: the events shown flagged with one reader problem
    (by its label in ``schema.PROBLEM_LABELS``), every column, in the page's order. Only those
    rows are read."""
    bits = {text: bit for bit, text in schema.PROBLEM_LABELS.items()}
    if label not in bits:
        raise ValueError(f"unknown problem {label!r}")
    shown, params = _shown(start, end, location_ids)
    sql = f"WITH {shown} SELECT {_COLUMNS} FROM shown WHERE (data_problems & {bits[label]}) <> 0"
    return _in_order(store, sql, params, start, end)


def _in_order(
    store: EventStore, sql: str, params: list, start: dt.date, end: dt.date
) -> pd.DataFrame:
    # the order the store keeps each day in (c4w.store.partition.day_table), days in turn
    ordered = f"SELECT * FROM ({sql}) ORDER BY created_at, event_id NULLS LAST"
    return store.read_selected(ordered, params, start=start, end=end)

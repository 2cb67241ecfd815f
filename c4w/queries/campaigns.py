"""The visits the campaign attribution reads, in DuckDB over the store: the page then reads
only the campaign events themselves as a frame (visits are most of the history, and the frame
form held every visit's campaign columns and a copy per step). The same figures as
``c4w.metrics.attribution.visit_starts`` and ``c4w.metrics.campaigns.home_stores`` of the
events of those days (``tests/test_campaigns_narrow.py``)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from c4w import schema
from c4w.store.store import EventStore

_TYPES = ", ".join(f"'{name}'" for name in schema.VISIT_TYPES)
_STARTS = f"""
    WITH visits AS (
        SELECT contact_id, epoch_ns(coalesce(visit_start, created_at)) AS ns
        FROM events
        WHERE type IN ({_TYPES}) AND contact_id IS NOT NULL
            AND coalesce(visit_start, created_at) IS NOT NULL
    )
"""


def visit_starts(store: EventStore, start: dt.date, end: dt.date) -> pd.DataFrame:
    """``c4w.metrics.attribution.visit_starts`` of the events of UTC days ``start..end``:
    ``contact_id`` (a category of the ids present, sorted) and ``start`` of every WiFi and
    geofence visit, sorted by contact and start. The guests' numbers are made in DuckDB, so no
    id travels once per visit."""
    ids = store.query(
        f"{_STARTS} SELECT DISTINCT contact_id FROM visits ORDER BY contact_id",
        start=start,
        end=end,
    ).column("contact_id")
    rows = store.query(
        f"""{_STARTS},
        numbered AS (
            SELECT contact_id, (row_number() OVER (ORDER BY contact_id) - 1)::INTEGER AS code
            FROM (SELECT DISTINCT contact_id FROM visits)
        )
        SELECT code, ns FROM visits JOIN numbered USING (contact_id) ORDER BY code, ns
        """,
        start=start,
        end=end,
    )
    categories = pd.Index(pd.array(ids, dtype="str"), dtype="str")
    codes = rows.column("code").to_numpy()
    ns = rows.column("ns").to_numpy().astype("datetime64[ns]")
    return pd.DataFrame(
        {
            schema.CONTACT_ID: pd.Categorical.from_codes(codes, categories=categories),
            "start": pd.DatetimeIndex(ns).tz_localize("UTC").array,
        }
    )


def home_stores(store: EventStore, start: dt.date, end: dt.date) -> pd.Series:
    """``c4w.metrics.campaigns.home_stores`` of the events of UTC days ``start..end``: each
    contact's home store, the location of most of their WiFi visits (a tie goes to the one
    visited last, then to the first id in order). A Series contact_id -> location_id."""
    table = store.query(
        f"""
        WITH per AS (
            SELECT contact_id, location_id, count(*) AS n, max(created_at) AS last
            FROM events
            WHERE type = '{schema.VISIT}' AND contact_id IS NOT NULL AND location_id IS NOT NULL
            GROUP BY ALL
        )
        SELECT contact_id, first(location_id ORDER BY n DESC, last DESC, location_id) AS home
        FROM per GROUP BY contact_id ORDER BY contact_id
        """,
        start=start,
        end=end,
    )
    if not table.num_rows:
        return pd.Series(dtype=object, name=schema.LOCATION_ID)
    return pd.Series(
        np.asarray(table.column("home").to_pylist(), dtype=object),
        index=pd.Index(pd.array(table.column("contact_id"), dtype="str"), dtype="str"),
        name=schema.LOCATION_ID,
    )

"""The Geofences page's look at every geofence event stored, in DuckDB: only the rows that give
each geofence its latest name, centre, radius, shape and extId, so the page never holds every
geofence event of a long history (the test that the figures agree with those of every row:
``tests/test_queries_geofences.py``)."""

from __future__ import annotations

import pandas as pd

from c4w import schema
from c4w.metrics import geofences as gm
from c4w.store.store import EventStore

# each attribute ``c4w.metrics.geofences`` takes from a geofence's latest event carrying it
_LATEST = (
    schema.GEOFENCE_NAME,
    schema.GEOFENCE_LON,
    schema.GEOFENCE_LAT,
    schema.GEOFENCE_RADIUS_M,
    schema.GEOFENCE_SHAPE,
    schema.GEOFENCE_EXT_ID,
)


def latest_geofence_rows(store: EventStore) -> pd.DataFrame:
    """Of the stored geofence events (``schema.GEOFENCE_TYPES``) with a geofence, the rows
    that carry each geofence's latest value of each attribute, and each geofence's last row,
    with ``gm.GEOFENCE_COLUMNS``, in the order the store keeps them. Given to
    ``gm.geofence_summary`` and ``gm.geofence_ext_ids`` as the history, they give what every
    geofence event stored gives: the same geofences, each with the same latest attributes."""
    fence = f"coalesce({schema.GEOFENCE_ID}, {schema.GEOFENCE_NAME})"
    latest = ", ".join(f"max(place) FILTER (WHERE {name} IS NOT NULL)" for name in _LATEST)
    marks = ", ".join("?" for _ in schema.GEOFENCE_TYPES)
    sql = f"""
        WITH fenced AS (
            SELECT *, {fence} AS fence,
                   row_number() OVER (ORDER BY day, file_row_number) AS place
            FROM events WHERE type IN ({marks}) AND {fence} IS NOT NULL
        ),
        picked AS (
            SELECT unnest([max(place), {latest}]) AS place FROM fenced GROUP BY fence
        )
        SELECT {", ".join(gm.GEOFENCE_COLUMNS)} FROM fenced
        WHERE place IN (SELECT place FROM picked)
        ORDER BY place
    """
    return store.read_selected(sql, list(schema.GEOFENCE_TYPES), row_numbers=True)

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
    # a row's place in the store's order (day, then row in the day file) as one number
    place = "(day - DATE '1970-01-01')::BIGINT * 4294967296 + file_row_number"
    latest = ", ".join(f"max(place) FILTER (WHERE {name} IS NOT NULL)" for name in _LATEST)
    marks = ", ".join("?" for _ in schema.GEOFENCE_TYPES)
    fenced = f"type IN ({marks}) AND {fence} IS NOT NULL"
    # the places are found on a few narrow columns; only the rows picked are read whole
    sql = f"""
        WITH picked AS (
            SELECT unnest([max(place), {latest}]) AS place
            FROM (SELECT *, {place} AS place, {fence} AS fence FROM events WHERE {fenced})
            GROUP BY fence
        )
        SELECT {", ".join(gm.GEOFENCE_COLUMNS)} FROM events
        WHERE {fenced} AND {place} IN (SELECT place FROM picked)
        ORDER BY {place}
    """
    types = list(schema.GEOFENCE_TYPES)
    return store.read_selected(sql, types * 2, row_numbers=True)

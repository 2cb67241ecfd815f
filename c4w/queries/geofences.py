"""The Geofences page's look at every geofence event stored, in DuckDB: only the rows that give
each geofence its latest name, centre, radius, shape and extId, so the page never holds every
geofence event of a long history (the test that the figures agree with those of every row:
``tests/test_queries_geofences.py``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from c4w import schema
from c4w.metrics import geofences as gm
from c4w.metrics.overview import empty_table
from c4w.queries.overview import _period
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


def store_pairs(stores: pd.DataFrame) -> tuple[tuple[str, str], ...]:
    """The (geofence, location id) of each geofence with a store in ``gm.geofence_stores``'
    table, sorted: the key ``walk_ins`` takes."""
    tied = stores.loc[stores["location_id"].notna(), [gm.GEOFENCE, "location_id"]]
    return tuple(
        sorted(zip(tied[gm.GEOFENCE].astype(str), tied["location_id"].astype(str), strict=True))
    )


def walk_ins(
    store: EventStore,
    start: dt.date,
    end: dt.date,
    tied: Sequence[tuple[str, str]],
    minutes: float = gm.WALK_IN_MINUTES,
) -> pd.DataFrame:
    """``gm.walk_ins`` of the geofence arrivals recorded on UTC days ``start..end`` (every
    location) with the WiFi logins and visits of ``start..end`` and the day after, for the
    geofences with a store in ``tied`` (``store_pairs``): per geofence, the arrivals of known
    guests, the walk-ins (the guest's first WiFi login, or visit start, at that store at or
    after the arrival, within ``minutes``), their share, the guests who arrived and who walked
    in, and the median lag in minutes."""
    columns = gm.WALK_IN_TABLE
    if not tied:
        return empty_table(columns)
    arrived, arrived_params = _period(start, end, (), None)
    wifi, wifi_params = _period(start, end + dt.timedelta(days=1), (), None)
    within = int(minutes * 60 * 1_000_000_000)
    visit_or_login = (
        "CASE WHEN type = ? AND visit_start IS NOT NULL THEN visit_start ELSE created_at END"
    )
    # guests and stores are numbered first: the as-of join sorts and matches integers
    sql = f"""
        WITH tied(fence, store) AS (VALUES {", ".join("(?, ?)" for _ in tied)}),
        arrived AS (
            SELECT tied.fence, tied.store, contact_id, epoch_ns(created_at) AS t
            FROM events JOIN tied
              ON coalesce({schema.GEOFENCE_ID}, {schema.GEOFENCE_NAME}) = tied.fence
            WHERE type = ? AND contact_id IS NOT NULL AND {arrived}
        ),
        guests AS (
            SELECT contact_id, row_number() OVER () AS who
            FROM (SELECT DISTINCT contact_id FROM arrived)
        ),
        places AS (
            SELECT store, row_number() OVER () AS place FROM (SELECT DISTINCT store FROM tied)
        ),
        arrivals AS (
            SELECT fence, who, place, t FROM arrived JOIN guests USING (contact_id)
            JOIN places USING (store)
        ),
        wifi AS (
            -- only the guests who arrived, at the geofences' stores: the rest never match
            SELECT who, place, epoch_ns({visit_or_login}) AS t
            FROM events JOIN guests USING (contact_id)
            JOIN places ON events.location_id = places.store
            WHERE type IN (?, ?) AND {wifi}
        ),
        found AS (
            SELECT arrivals.fence, arrivals.who,
                   CASE WHEN wifi.t - arrivals.t <= {within} THEN wifi.t - arrivals.t END AS lag
            FROM arrivals ASOF LEFT JOIN wifi
              ON arrivals.who = wifi.who AND arrivals.place = wifi.place AND wifi.t >= arrivals.t
        )
        SELECT
            fence AS {gm.GEOFENCE},
            count(*) AS arrivals,
            count(lag) AS walk_ins,
            count(DISTINCT who) AS app_users,
            count(DISTINCT who) FILTER (WHERE lag IS NOT NULL) AS users_walked_in,
            median(lag / 60e9) AS median_lag_min
        FROM found GROUP BY fence ORDER BY fence
    """
    values = [
        *(value for pair in tied for value in pair),
        schema.GEO_ARRIVING,
        *arrived_params,
        schema.VISIT,
        *gm.WIFI_TYPES,
        *wifi_params,
    ]
    table = store.query(sql, values, start=start, end=end + dt.timedelta(days=1)).to_pandas()
    if table.empty:
        return empty_table(columns)
    table["walk_in_share"] = table["walk_ins"] / table["arrivals"]
    return table[list(columns)].astype(columns).reset_index(drop=True)


def store_visits(store: EventStore, start: dt.date, end: dt.date) -> dict[str, int]:
    """``gm.store_visits`` of the events of UTC days ``start..end``: WiFi visits per location
    id."""
    where, params = _period(start, end, (), None)
    sql = f"""
        SELECT location_id, count(*) AS visits FROM events
        WHERE type = ? AND location_id IS NOT NULL AND {where} GROUP BY location_id
    """
    table = store.query(sql, [schema.VISIT, *params], start=start, end=end).to_pydict()
    return dict(zip(table["location_id"], table["visits"], strict=True))

"""Geofence activity: arrivals, visits, contacts and dwell per geofence, and WiFi location points.

A geofence is known by its id (its name when the id is missing). Its name, centre, radius and
shape are taken from the latest event that carries them, so a geofence that was redrawn shows
its current circle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from c4w import schema

ARRIVALS_HELP = "Times a contact's phone entered the geofence (geo_arriving events)."
VISITS_HELP = "Completed stays inside the geofence (geo_visit events, sent when the stay ends)."
CONTACTS_HELP = "Different contacts with at least one arrival or visit at the geofence."
DWELL_HELP = "Median length of the completed geofence visits, in minutes."
GEOFENCES_HELP = "Geofences with activity in the selected dates, or seen earlier in the data."

GEOFENCE = "geofence"  # the key column of the summary (id, or name when the id is missing)
SUMMARY_COLUMNS: tuple[str, ...] = (
    GEOFENCE,
    "name",
    "lon",
    "lat",
    "radius_m",
    "shape",
    "arrivals",
    "visits",
    "unique_contacts",
    "median_dwell_min",
)
POINT_COLUMNS: tuple[str, ...] = ("location_id", "name", "lon", "lat", "city", "address")

_ATTRIBUTES = {
    schema.GEOFENCE_NAME: "name",
    schema.GEOFENCE_LON: "lon",
    schema.GEOFENCE_LAT: "lat",
    schema.GEOFENCE_RADIUS_M: "radius_m",
    schema.GEOFENCE_SHAPE: "shape",
}


def _geofence_key(events: pd.DataFrame) -> pd.Series:
    """The geofence each event belongs to, as text (NA when the event has no geofence)."""
    gid = events[schema.GEOFENCE_ID].astype("object")
    name = events[schema.GEOFENCE_NAME].astype("object")
    return gid.where(gid.notna(), name)


_NEEDED = (
    schema.TYPE,
    schema.CONTACT_ID,
    schema.CREATED_AT,
    schema.VISIT_DURATION_MIN,
    *_ATTRIBUTES,
    schema.GEOFENCE_ID,
)


def _geofence_rows(events: pd.DataFrame | None) -> pd.DataFrame:
    """The columns this module needs, for rows that belong to a geofence, with a `geofence`
    key column (only those columns are copied, so a million-row frame stays cheap)."""
    if events is None or events.empty:
        return pd.DataFrame()
    has = events[schema.GEOFENCE_ID].notna() | events[schema.GEOFENCE_NAME].notna()
    rows = events.loc[has.to_numpy(dtype=bool), list(dict.fromkeys(_NEEDED))]
    key = _geofence_key(rows)
    return rows.assign(**{GEOFENCE: key.astype("str")})


def _empty_summary() -> pd.DataFrame:
    return pd.DataFrame(
        {
            GEOFENCE: pd.Series([], dtype="str"),
            "name": pd.Series([], dtype="str"),
            "lon": pd.Series([], dtype="float64"),
            "lat": pd.Series([], dtype="float64"),
            "radius_m": pd.Series([], dtype="float64"),
            "shape": pd.Series([], dtype="str"),
            "arrivals": pd.Series([], dtype="int64"),
            "visits": pd.Series([], dtype="int64"),
            "unique_contacts": pd.Series([], dtype="int64"),
            "median_dwell_min": pd.Series([], dtype="float64"),
        }
    )


def _latest_attributes(rows: pd.DataFrame) -> pd.DataFrame:
    """Per geofence, the last non-missing name, centre, radius and shape (by event time)."""
    cols = list(_ATTRIBUTES)
    part = rows[[GEOFENCE, schema.CREATED_AT, *cols]]
    if not part[schema.CREATED_AT].is_monotonic_increasing:
        part = part.sort_values(schema.CREATED_AT, kind="stable", na_position="first")
    for col in (schema.GEOFENCE_NAME, schema.GEOFENCE_SHAPE):
        part = part.assign(**{col: part[col].astype("object")})
    latest = part.groupby(GEOFENCE, sort=False)[cols].last()
    return latest.rename(columns=_ATTRIBUTES)


def geofence_summary(
    events: pd.DataFrame | None, history: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per geofence: name, lon, lat, radius_m, shape, arrivals, visits, unique_contacts,
    median_dwell_min; does not mutate its inputs.

    Counts come from `events` (the selected dates). Geofences seen only in `history` (e.g. the
    whole loaded frame) still appear, with zero counts, so a quiet geofence is visible as such.
    Sorted by visits, then arrivals, then name.
    """
    rows = _geofence_rows(events)
    past = _geofence_rows(history)
    both = [f for f in (past, rows) if len(f)]
    if not both:
        return _empty_summary()
    columns = [GEOFENCE, schema.CREATED_AT, *_ATTRIBUTES]
    attrs = _latest_attributes(pd.concat([f[columns] for f in both], ignore_index=True))
    summary = attrs.reindex(columns=["name", "lon", "lat", "radius_m", "shape"])

    if len(rows):
        types = rows[schema.TYPE].astype("object")
        arriving = rows.loc[(types == schema.GEO_ARRIVING).to_numpy()]
        visiting = rows.loc[(types == schema.GEO_VISIT).to_numpy()]
        active = rows.loc[types.isin(schema.GEOFENCE_TYPES).to_numpy()]
        arrivals = arriving.groupby(GEOFENCE, sort=False).size()
        visits = visiting.groupby(GEOFENCE, sort=False).size()
        dwell = visiting.groupby(GEOFENCE, sort=False)[schema.VISIT_DURATION_MIN].median()
        pairs = pd.DataFrame(
            {
                GEOFENCE: active[GEOFENCE].to_numpy(),
                "who": pd.factorize(active[schema.CONTACT_ID])[0],
            }
        )
        pairs = pairs.loc[pairs["who"] >= 0].drop_duplicates()
        people = pairs.groupby(GEOFENCE, sort=False).size()
    else:
        arrivals = visits = people = pd.Series(dtype="int64")
        dwell = pd.Series(dtype="float64")
    summary["arrivals"] = arrivals.reindex(summary.index, fill_value=0).astype("int64")
    summary["visits"] = visits.reindex(summary.index, fill_value=0).astype("int64")
    summary["unique_contacts"] = people.reindex(summary.index, fill_value=0).astype("int64")
    summary["median_dwell_min"] = dwell.reindex(summary.index).astype("float64")
    summary = summary.rename_axis(GEOFENCE).reset_index()
    summary[GEOFENCE] = summary[GEOFENCE].astype("str")
    summary["name"] = summary["name"].where(summary["name"].notna(), summary[GEOFENCE])
    summary["name"] = summary["name"].astype("str")
    summary["shape"] = summary["shape"].astype("str")
    for col in ("lon", "lat", "radius_m"):
        summary[col] = pd.to_numeric(summary[col], errors="coerce").astype("float64")
    summary = summary.sort_values(
        ["visits", "arrivals", "name"], ascending=[False, False, True], kind="stable"
    )
    return summary.reset_index(drop=True)[list(SUMMARY_COLUMNS)]


@dataclass(frozen=True)
class GeofenceTotals:
    """Headline figures over a set of geofence events (see the *_HELP definitions)."""

    geofences: int
    arrivals: int
    visits: int
    unique_contacts: int
    median_dwell_min: float


def geofence_totals(events: pd.DataFrame | None) -> GeofenceTotals:
    """Geofences with activity, arrivals, visits, different contacts (each counted once, even
    across geofences) and the median geofence visit length, over `events`."""
    rows = _geofence_rows(events)
    if rows.empty:
        return GeofenceTotals(0, 0, 0, 0, float("nan"))
    types = rows[schema.TYPE].astype("object")
    active = rows.loc[types.isin(schema.GEOFENCE_TYPES).to_numpy()]
    visits = rows.loc[(types == schema.GEO_VISIT).to_numpy()]
    dwell = visits[schema.VISIT_DURATION_MIN].median() if len(visits) else float("nan")
    return GeofenceTotals(
        geofences=int(active[GEOFENCE].nunique()),
        arrivals=int((types == schema.GEO_ARRIVING).sum()),
        visits=len(visits),
        unique_contacts=int(active[schema.CONTACT_ID].astype("object").nunique()),
        median_dwell_min=float(dwell) if pd.notna(dwell) else float("nan"),
    )


COLUMN_LABELS: dict[str, str] = {
    "name": "Geofence",
    GEOFENCE: "Geofence id",
    "lon": "Longitude",
    "lat": "Latitude",
    "radius_m": "Radius (m)",
    "shape": "Shape",
    "arrivals": "Arrivals",
    "visits": "Visits",
    "unique_contacts": "Contacts",
    "median_dwell_min": "Median dwell (min)",
    "total_dwell_min": "Total dwell (min)",
    "last_seen": "Last seen (UTC)",
}


def readable(table: pd.DataFrame) -> pd.DataFrame:
    """The same table with column names in the user's words, the name first (contact_id is kept
    as it is, so tables can link to the Contact page)."""
    out = table.rename(columns=COLUMN_LABELS)
    if "Geofence" in out.columns:
        out = out[["Geofence", *[c for c in out.columns if c != "Geofence"]]]
    return out


def mappable(summary: pd.DataFrame) -> pd.DataFrame:
    """Geofences whose centre is a valid coordinate (others cannot be drawn on a map)."""
    ok = summary["lon"].between(-180, 180) & summary["lat"].between(-90, 90)
    return summary.loc[ok].reset_index(drop=True)


def geofence_events(events: pd.DataFrame, geofence: str) -> pd.DataFrame:
    """The events of one geofence (by summary key); does not mutate `events`."""
    if events is None or events.empty:
        return events.iloc[0:0] if events is not None else pd.DataFrame()
    key = _geofence_key(events)
    return events.loc[(key == geofence).fillna(False).to_numpy(dtype=bool)]


def geofence_daily(events: pd.DataFrame) -> pd.DataFrame:
    """Arrivals and visits per UTC day (columns day, arrivals, visits) over geofence events."""
    if events is None or events.empty:
        return pd.DataFrame(
            {
                "day": pd.Series([], dtype="datetime64[ns]"),
                "arrivals": pd.Series([], dtype="int64"),
                "visits": pd.Series([], dtype="int64"),
            }
        )
    types = events[schema.TYPE].astype("object")
    day = events[schema.CREATED_AT].dt.tz_convert("UTC").dt.tz_localize(None).dt.floor("D")
    frame = pd.DataFrame(
        {
            "day": day.to_numpy(),
            "arrivals": (types == schema.GEO_ARRIVING).to_numpy(dtype=np.int64),
            "visits": (types == schema.GEO_VISIT).to_numpy(dtype=np.int64),
        }
    )
    frame = frame.loc[frame["day"].notna() & ((frame["arrivals"] + frame["visits"]) > 0)]
    out = frame.groupby("day", sort=True)[["arrivals", "visits"]].sum().reset_index()
    return out.astype({"arrivals": "int64", "visits": "int64"})


def geofence_contacts(events: pd.DataFrame) -> pd.DataFrame:
    """Per contact over geofence events: arrivals, visits, total_dwell_min, last_seen.

    Most visits first. Meant for the events of one geofence, to find its regulars.
    """
    cols = ["arrivals", "visits", "total_dwell_min", "last_seen"]
    if events is None or events.empty:
        return pd.DataFrame(
            {
                schema.CONTACT_ID: pd.Series([], dtype="str"),
                **{c: pd.Series([], dtype="float64") for c in cols},
            }
        )
    types = events[schema.TYPE].astype("object")
    is_visit = (types == schema.GEO_VISIT).to_numpy()
    frame = pd.DataFrame(
        {
            schema.CONTACT_ID: events[schema.CONTACT_ID].astype("object").to_numpy(),
            "arrivals": (types == schema.GEO_ARRIVING).to_numpy(dtype=np.int64),
            "visits": is_visit.astype(np.int64),
            "total_dwell_min": np.where(
                is_visit, events[schema.VISIT_DURATION_MIN].to_numpy(dtype=float), np.nan
            ),
            "last_seen": events[schema.CREATED_AT].dt.tz_localize(None).to_numpy(),
        }
    )
    frame = frame.loc[frame[schema.CONTACT_ID].notna() & (frame["arrivals"] + frame["visits"] > 0)]
    out = frame.groupby(schema.CONTACT_ID, sort=False).agg(
        arrivals=("arrivals", "sum"),
        visits=("visits", "sum"),
        total_dwell_min=("total_dwell_min", lambda s: s.sum(min_count=1)),
        last_seen=("last_seen", "max"),
    )
    out = out.reset_index().sort_values(
        ["visits", "arrivals", schema.CONTACT_ID], ascending=[False, False, True], kind="stable"
    )
    out[schema.CONTACT_ID] = out[schema.CONTACT_ID].astype("str")
    out["last_seen"] = pd.to_datetime(out["last_seen"], utc=True)
    return out.reset_index(drop=True)


def wifi_location_points(
    locations: pd.DataFrame | None, location_ids: Sequence[str] | None = None
) -> pd.DataFrame:
    """WiFi locations with known coordinates (location_id, name, lon, lat, city, address),
    only those in `location_ids` when it is not empty.

    Coordinates that are missing, out of range or exactly 0, 0 (a common placeholder) are left
    out. Does not mutate `locations`.
    """
    empty = pd.DataFrame(
        {c: pd.Series([], dtype="float64" if c in ("lon", "lat") else "str") for c in POINT_COLUMNS}
    )
    if locations is None or locations.empty or not {"lat", "lng"} <= set(locations.columns):
        return empty
    lat = pd.to_numeric(locations["lat"], errors="coerce")
    lon = pd.to_numeric(locations["lng"], errors="coerce")
    ok = lat.between(-90, 90) & lon.between(-180, 180) & ~((lat == 0) & (lon == 0))
    if location_ids:
        ok &= locations["id"].astype("object").isin(set(map(str, location_ids)))
    if not ok.any():
        return empty

    def text(col: str) -> np.ndarray:
        if col not in locations.columns:
            return np.full(int(ok.sum()), "", dtype=object)
        return locations.loc[ok, col].astype("object").fillna("").astype(str).to_numpy()

    points = pd.DataFrame(
        {
            "location_id": text("id"),
            "name": text("name"),
            "lon": lon[ok].to_numpy(dtype=float),
            "lat": lat[ok].to_numpy(dtype=float),
            "city": text("city"),
            "address": text("address"),
        }
    )
    points["name"] = points["name"].where(points["name"] != "", points["location_id"])
    return points.reset_index(drop=True)

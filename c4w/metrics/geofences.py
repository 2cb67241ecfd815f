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
from c4w.metrics.overview import (
    NAT_NS,
    codes_and_labels,
    empty_table,
    shared_codes,
    time_ns,
    type_mask,
)

ARRIVALS_HELP = "Times a contact's phone entered the geofence (geo_arriving events)."
VISITS_HELP = "Completed stays inside the geofence (geo_visit events, sent when the stay ends)."
CONTACTS_HELP = "Different contacts with at least one arrival or visit at the geofence."
DWELL_HELP = "Median length of the completed geofence visits, in minutes."
GEOFENCES_HELP = "Geofences with activity in the selected dates, or seen earlier in the data."

GEOFENCE = "geofence"  # the key column of the summary (id, or name when the id is missing)
# What the figures read: of the chosen dates, the geofence events (only they carry a geofence);
# for walk-ins, the WiFi logins and visits (the stores' weight on the map is their visits).
IN_DATES_TYPES = schema.GEOFENCE_TYPES
WIFI_TYPES = (schema.LOGIN, schema.VISIT)
# the columns of the WiFi rows the walk-ins and the map's store weights read
WIFI_COLUMNS = (
    schema.TYPE,
    schema.CONTACT_ID,
    schema.CREATED_AT,
    schema.LOCATION_ID,
    schema.VISIT_START,
)
# the columns of the geofence rows (of the dates and of the whole history) the figures read
GEOFENCE_COLUMNS: tuple[str, ...] = (
    schema.TYPE,
    schema.CONTACT_ID,
    schema.CREATED_AT,
    schema.GEOFENCE_ID,
    schema.GEOFENCE_NAME,
    schema.GEOFENCE_EXT_ID,
    schema.GEOFENCE_SHAPE,
    schema.GEOFENCE_LON,
    schema.GEOFENCE_LAT,
    schema.GEOFENCE_RADIUS_M,
    schema.VISIT_START,
    schema.VISIT_DURATION_MIN,
)
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
        arriving = rows.loc[type_mask(rows, (schema.GEO_ARRIVING,))]
        visiting = rows.loc[type_mask(rows, (schema.GEO_VISIT,))]
        active = rows.loc[type_mask(rows, schema.GEOFENCE_TYPES)]
        arrivals = arriving.groupby(GEOFENCE, sort=False).size()
        visits = visiting.groupby(GEOFENCE, sort=False).size()
        dwell = visiting.groupby(GEOFENCE, sort=False)[schema.VISIT_DURATION_MIN].median()
        # geofences and guests as integer codes: no text per row
        fence, fences = pd.factorize(active[GEOFENCE])
        pairs = pd.DataFrame({"fence": fence, "who": pd.factorize(active[schema.CONTACT_ID])[0]})
        pairs = pairs.loc[pairs["who"] >= 0].drop_duplicates()
        per_fence = pairs.groupby("fence", sort=False).size()
        people = pd.Series(per_fence.to_numpy(), index=fences[per_fence.index.to_numpy()])
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
    "store": "Store",
    "radius_m": "Radius (m)",
    "arrivals": "Arrivals",
    "visits": "Visits",
    "walk_in_share": "Walk-in share (%)",
    "median_dwell_min": "Median dwell (min)",
    "median_lag_min": "Median lag to login (min)",
    "walk_ins": "Walk-ins",
    "app_users": "App users arrived",
    "users_walked_in": "App users walked in",
    "unique_contacts": "Contacts",
    "total_dwell_min": "Total dwell (min)",
    "last_seen": "Last seen (UTC)",
    "shape": "Shape",
    "link_rule": "Store found by",
    "store_distance_m": "Store distance (m)",
    "lat": "Latitude",
    "lon": "Longitude",
    GEOFENCE: "Geofence id",
    "location_id": "Store id",
}
_LAST = ("Latitude", "Longitude", "Geofence id", "Store id")  # people read lat before lon


def readable(table: pd.DataFrame) -> pd.DataFrame:
    """The same table with column names in the user's words, in the order people read them:
    name, store, radius, arrivals, visits, walk-in share, median dwell, ...; latitude before
    longitude, ids last (contact_id is kept as it is, so tables can link to the Contact page).
    Shares become percentages (41.2)."""
    out = table.copy()
    if "walk_in_share" in out:
        out["walk_in_share"] = (out["walk_in_share"].astype("float64") * 100).round(1)
    out = out.rename(columns=COLUMN_LABELS)
    known = [c for c in COLUMN_LABELS.values() if c in out.columns and c not in _LAST]
    rest = [c for c in out.columns if c not in known and c not in _LAST]
    last = [c for c in _LAST if c in out.columns]
    first = [c for c in rest if c == schema.CONTACT_ID]
    return out[first + known + [c for c in rest if c not in first] + last]


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


# --- geofence to store -------------------------------------------------------------------
WALK_IN_MINUTES = 60  # default window after an arrival
LINK_EXTRA_M = 100  # a store this far outside the circle still counts as the geofence's store
EARTH_RADIUS_M = 6_371_000.0
LINK_RULE_HELP = (
    "A geofence belongs to the WiFi location whose external id (or id) equals the geofence's "
    "extId; failing that, to the nearest WiFi location no farther from the geofence's centre "
    f"than its radius plus {LINK_EXTRA_M} m. Geofences with neither have no store."
)
WALK_IN_HELP = (
    "Of the geofence arrivals by app users, the share followed by a WiFi login, or the start of "
    "a WiFi visit, by the same guest at the geofence's store within {m} minutes. A login before "
    "the arrival, or at another store, does not count."
)
LAG_HELP = "Median time from a geofence arrival to the guest's first WiFi login or visit start "
LAG_HELP += "at its store, over the arrivals that walked in."
LOW_WALK_IN_HELP = (
    "Geofences with a store, at least {n} arrivals and a walk-in share under {share:.0%}: many "
    "people pass by, few come in."
)
LINK_COLUMNS = ("location_id", "store", "link_rule", "store_distance_m")
WALK_IN_COLUMNS = (
    "walk_ins",
    "walk_in_share",
    "app_users",
    "users_walked_in",
    "median_lag_min",
)
# the walk-ins table: column -> dtype
WALK_IN_TABLE: dict[str, str] = {
    GEOFENCE: "str",
    "arrivals": "int64",
    **{
        c: "float64" if c in ("walk_in_share", "median_lag_min") else "int64"
        for c in WALK_IN_COLUMNS
    },
}


def distance_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in metres (haversine; arrays broadcast)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def geofence_ext_ids(events: pd.DataFrame | None) -> pd.Series:
    """The latest extId of each geofence (by summary key) seen in `events`."""
    if events is None or events.empty:
        return pd.Series(dtype="object")
    has = events[schema.GEOFENCE_EXT_ID].notna().to_numpy(dtype=bool)
    part = events.loc[has, [schema.GEOFENCE_ID, schema.GEOFENCE_NAME, schema.GEOFENCE_EXT_ID]]
    key = _geofence_key(part).astype("str")
    return part[schema.GEOFENCE_EXT_ID].astype("object").groupby(key.to_numpy()).last()


def geofence_stores(
    summary: pd.DataFrame,
    locations: pd.DataFrame | None,
    ext_ids: pd.Series | None = None,
    extra_m: float = LINK_EXTRA_M,
) -> pd.DataFrame:
    """The store of each geofence of `summary` (see LINK_RULE_HELP): geofence, location_id,
    store (its name), link_rule ("extId", "distance" or None), store_distance_m."""
    out = pd.DataFrame(
        {
            GEOFENCE: summary[GEOFENCE].astype("str").to_numpy(),
            "location_id": pd.Series([None] * len(summary), dtype="object"),
            "store": pd.Series([None] * len(summary), dtype="object"),
            "link_rule": pd.Series([None] * len(summary), dtype="object"),
            "store_distance_m": np.full(len(summary), np.nan),
        }
    )
    points = wifi_location_points(locations)
    if summary.empty or points.empty:
        return out
    ext = locations.set_index(locations["id"].astype(str))
    by_ext = {
        str(v): k
        for k, v in ext.get("external_id", pd.Series(dtype=object)).items()
        if isinstance(v, str) and v
    }
    by_ext.update({k: k for k in ext.index})
    names = dict(zip(points["location_id"], points["name"], strict=True))
    lat, lon = summary["lat"].to_numpy(float), summary["lon"].to_numpy(float)
    dist = distance_m(
        lat[:, None], lon[:, None], points["lat"].to_numpy()[None, :], points["lon"].to_numpy()
    )
    ext_ids = ext_ids if ext_ids is not None else pd.Series(dtype="object")
    radius = summary["radius_m"].fillna(0).to_numpy(float)
    point_ids = points["location_id"].tolist()
    for i, key in enumerate(out[GEOFENCE]):
        own = ext_ids.get(key)
        loc = by_ext.get(str(own)) if isinstance(own, str) and own else None
        rule = "extId" if loc is not None else None
        if loc is None and np.isfinite(dist[i]).any():
            j = int(np.nanargmin(dist[i]))
            if dist[i, j] <= radius[i] + extra_m:
                loc, rule = point_ids[j], "distance"
        if loc is None:
            continue
        out.at[i, "location_id"] = loc
        out.at[i, "store"] = names.get(loc, str(ext.loc[loc, "name"]) if loc in ext.index else loc)
        out.at[i, "link_rule"] = rule
        if loc in point_ids:
            out.at[i, "store_distance_m"] = float(dist[i, point_ids.index(loc)])
    return out


def _wifi_moments(
    events: pd.DataFrame, rows: np.ndarray, contact: np.ndarray
) -> tuple[pd.DataFrame, pd.Index]:
    """WiFi logins (at their time) and WiFi visits (at their start) among ``rows`` of
    ``events``, whose contact codes are ``contact``: contact, place (a code of the location
    labels returned beside), t."""
    needed = [schema.TYPE, schema.CREATED_AT, schema.VISIT_START, schema.LOCATION_ID]
    part = events[needed].take(rows)
    is_visit = type_mask(part, (schema.VISIT,))
    created = time_ns(part[schema.CREATED_AT])
    start = time_ns(part[schema.VISIT_START])
    t = np.where(is_visit & (start != NAT_NS), start, created)
    place, places = codes_and_labels(part[schema.LOCATION_ID])
    frame = pd.DataFrame({"contact": contact, "place": place, "t": t})
    return frame.loc[(contact >= 0) & (place >= 0) & (t != NAT_NS)], places


def walk_ins(
    events: pd.DataFrame | None,
    stores: pd.DataFrame,
    wifi_events: pd.DataFrame | None = None,
    minutes: float = WALK_IN_MINUTES,
) -> pd.DataFrame:
    """Per geofence with a store (`geofence_stores`): arrivals (geo_arriving events in `events`
    by a known guest), walk_ins (those followed within `minutes` by a WiFi login or visit start
    of the same guest at the store, see WALK_IN_HELP), walk_in_share, app_users (guests who
    arrived), users_walked_in, median_lag_min. WiFi events come from `wifi_events` (default
    `events`), so a walk-in just past the last day can be seen."""
    columns = WALK_IN_TABLE
    tied = stores.loc[stores["location_id"].notna(), [GEOFENCE, "location_id"]]
    if events is None or events.empty or tied.empty:
        return empty_table(columns)
    wifi_source = wifi_events if wifi_events is not None else events
    rows = np.flatnonzero(type_mask(events, (schema.GEO_ARRIVING,)))
    wifi_rows = np.flatnonzero(type_mask(wifi_source, WIFI_TYPES))
    # guests as integer codes shared by the arrivals and the WiFi events: quick to match
    contact, wifi_contact = shared_codes(
        events[schema.CONTACT_ID], rows, wifi_source[schema.CONTACT_ID], wifi_rows
    )
    part = events[[schema.GEOFENCE_ID, schema.GEOFENCE_NAME, schema.CREATED_AT]].take(rows)
    arrivals = pd.DataFrame(
        {
            GEOFENCE: _geofence_key(part).astype("str").array,
            "contact": contact,
            "t": time_ns(part[schema.CREATED_AT]),
        }
    )
    arrivals = arrivals.loc[(arrivals["contact"] >= 0) & (arrivals["t"] != NAT_NS)]
    arrivals = arrivals.merge(tied, on=GEOFENCE, how="inner")
    if arrivals.empty:
        return empty_table(columns)
    wifi, places = _wifi_moments(wifi_source, wifi_rows, wifi_contact)
    # one key per guest and store; an arrival's store the WiFi events never name gets place -1,
    # whose key (place + 1 = 0) no WiFi moment has
    width = len(places) + 1
    store_place = pd.Index(places).get_indexer(arrivals["location_id"].astype(object))
    arrivals["key"] = arrivals["contact"].to_numpy(np.int64) * width + (store_place + 1)
    key = wifi["contact"].to_numpy() * width + wifi["place"].to_numpy() + 1
    wifi = pd.DataFrame({"t": wifi["t"].to_numpy(), "key": key})
    wifi = wifi.assign(wifi_t=wifi["t"]).sort_values("t", kind="stable")
    found = pd.merge_asof(
        arrivals.sort_values("t", kind="stable"),
        wifi,
        on="t",
        by="key",
        direction="forward",
        tolerance=int(minutes * 60 * 1_000_000_000),
    )
    found["lag_min"] = (found["wifi_t"] - found["t"]) / 60e9
    found["walked"] = found["wifi_t"].notna()
    grouped = found.groupby(GEOFENCE, sort=True)
    per_user = found.groupby([GEOFENCE, "contact"])["walked"].any().groupby(level=0)
    out = pd.DataFrame(
        {
            "arrivals": grouped.size(),
            "walk_ins": grouped["walked"].sum(),
            "app_users": per_user.size(),
            "users_walked_in": per_user.sum(),
            "median_lag_min": grouped["lag_min"].median(),
        }
    )
    out["walk_in_share"] = out["walk_ins"] / out["arrivals"]
    out = out.rename_axis(GEOFENCE).reset_index()
    return out[list(columns)].astype(columns)


def with_walk_ins(summary: pd.DataFrame, stores: pd.DataFrame, walk: pd.DataFrame) -> pd.DataFrame:
    """`summary` with its store and walk-in columns added (missing for geofences without a
    store, or without arrivals)."""
    out = summary.merge(stores, on=GEOFENCE, how="left")
    out = out.merge(walk.drop(columns=["arrivals"]), on=GEOFENCE, how="left")
    return out


def low_walk_in(table: pd.DataFrame, min_arrivals: int = 20, below: float = 0.25) -> pd.DataFrame:
    """Geofences of `with_walk_ins(...)` with a store, at least `min_arrivals` arrivals and a
    walk-in share under `below`: the most arrivals first."""
    if table.empty or "walk_in_share" not in table:
        return table.iloc[0:0]
    hit = (
        table["location_id"].notna()
        & (table["arrivals"] >= min_arrivals)
        & (table["walk_in_share"] < below)
    )
    return table.loc[hit].sort_values("arrivals", ascending=False, kind="stable")


def overlaps(summary: pd.DataFrame) -> dict[str, list[str]]:
    """For each geofence key, the names of the other geofences whose circle overlaps its own
    (centres closer than the two radii together)."""
    if len(summary) < 2:
        return {str(k): [] for k in summary.get(GEOFENCE, [])}
    lat, lon = summary["lat"].to_numpy(float), summary["lon"].to_numpy(float)
    radius = summary["radius_m"].fillna(0).to_numpy(float)
    dist = distance_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    touch = (dist < radius[:, None] + radius[None, :]) & ~np.eye(len(summary), dtype=bool)
    names = summary["name"].astype(str).to_numpy()
    return {str(k): names[touch[i]].tolist() for i, k in enumerate(summary[GEOFENCE].astype(str))}


# --- where the map opens ------------------------------------------------------------------
CLUSTER_KM = 60.0


def map_clusters(places: pd.DataFrame, km: float = CLUSTER_KM) -> pd.DataFrame:
    """Places (lat, lon, label, weight, is_store) grouped into clusters: places closer than `km`
    to any place of a cluster join it. Returns cluster, name (the `label` of its stores with the
    most weight, else of its places), places, weight, and the cluster's bounds (min/max lat and
    lon), the heaviest cluster first."""
    columns = {
        "cluster": "int64",
        "name": "str",
        "places": "int64",
        "weight": "float64",
        "lat_min": "float64",
        "lat_max": "float64",
        "lon_min": "float64",
        "lon_max": "float64",
    }
    if places is None or places.empty:
        return empty_table(columns)
    lat, lon = places["lat"].to_numpy(float), places["lon"].to_numpy(float)
    n = len(places)
    parent = np.arange(n)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    near = distance_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :]) < km * 1000
    for i, j in zip(*np.nonzero(np.triu(near, 1)), strict=True):
        a, b = root(int(i)), root(int(j))
        if a != b:
            parent[b] = a
    labels = np.array([root(i) for i in range(n)])
    frame = places.assign(cluster=labels)
    rows = []
    for _key, part in frame.groupby("cluster", sort=False):
        named = part.loc[part.get("is_store", pd.Series(False, index=part.index)).astype(bool)]
        pool = named if len(named) else part
        label = (
            pool["label"]
            .astype(str)
            .value_counts()
            .sort_index()
            .sort_values(ascending=False, kind="stable")
            .index[0]
        )
        rows.append(
            {
                "name": label,
                "places": len(part),
                "weight": float(part["weight"].sum()),
                "lat_min": part["lat"].min(),
                "lat_max": part["lat"].max(),
                "lon_min": part["lon"].min(),
                "lon_max": part["lon"].max(),
            }
        )
    out = pd.DataFrame(rows).sort_values(
        ["weight", "places", "name"], ascending=[False, False, True], kind="stable"
    )
    out.insert(0, "cluster", np.arange(len(out)))
    out["name"] = unique_names(out["name"].tolist())
    return out.reset_index(drop=True).astype(columns)


def unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def store_visits(events: pd.DataFrame) -> dict[str, int]:
    """WiFi visits per location id in `events` (the weight of a store on the map)."""
    at = events.loc[type_mask(events, (schema.VISIT,)), schema.LOCATION_ID]
    return at.astype("object").value_counts().to_dict()


def map_places(
    summary: pd.DataFrame, points: pd.DataFrame, store_visits: dict[str, float] | None = None
) -> pd.DataFrame:
    """Geofences and WiFi locations as places for `map_clusters`: lat, lon, label (a store's
    city, a geofence's name), weight (a geofence's arrivals plus visits, a store's
    `store_visits`), is_store."""
    visits = store_visits or {}
    geo = pd.DataFrame(
        {
            "lat": summary["lat"].to_numpy(float),
            "lon": summary["lon"].to_numpy(float),
            "label": summary["name"].astype(str).to_numpy(),
            "weight": (summary["arrivals"] + summary["visits"]).to_numpy(float),
            "is_store": False,
        }
    )
    stores = pd.DataFrame(
        {
            "lat": points["lat"].to_numpy(float),
            "lon": points["lon"].to_numpy(float),
            "label": [c if c else n for c, n in zip(points["city"], points["name"], strict=True)],
            "weight": [float(visits.get(i, 0.0)) for i in points["location_id"]],
            "is_store": True,
        }
    )
    parts = [f for f in (geo, stores) if len(f)]
    return pd.concat(parts, ignore_index=True) if parts else geo

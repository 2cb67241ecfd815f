"""Stores compared: the headline figures per location (or city, country, time zone, tag), each
against the comparison period, a daily trend, and the stores that moved most.

The figures are the Overview's and the Visits view's own definitions (imported, not rewritten):
WiFi visits, guests, WiFi logins, median visit length, bounce rate, returning share, sign-ups.
Inputs are never modified.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from c4w import schema
from c4w.metrics import overview as om
from c4w.metrics import visits as vm

BY_LOCATION, BY_CITY, BY_COUNTRY, BY_TIMEZONE, BY_TAG = (
    "location",
    "city",
    "country",
    "timezone",
    "tag",
)
GROUPINGS = {
    BY_LOCATION: "Location",
    BY_CITY: "City",
    BY_COUNTRY: "Country",
    BY_TIMEZONE: "Time zone",
    BY_TAG: "Tag",
}
GUESTS_HELP = "Distinct contacts with at least one event of any kind at the location."
# What the figures read: guests count events of any kind at a store, and only geofence events
# never carry one (a type the API adds later is left out). The returning share looks back at
# WiFi visits alone.
EVENT_TYPES = tuple(t for t in schema.KNOWN_TYPES if t not in schema.GEOFENCE_TYPES)
HISTORY_TYPES = (schema.VISIT,)
# the columns the figures read of the chosen and comparison dates (frames are cut to these
# before they are sliced by location)
COLUMNS_READ = (
    schema.TYPE,
    schema.CONTACT_ID,
    schema.CREATED_AT,
    schema.CREATED_AT_LOCAL,
    schema.LOCATION_ID,
    schema.LOCATION_NAME,
    schema.GEOFENCE_ID,
    schema.GEOFENCE_NAME,
    schema.VISIT_START,
    schema.VISIT_START_LOCAL,
    schema.VISIT_DURATION_MIN,
)
# figure -> (label, help, unit, which way is good news)
FIGURES: dict[str, tuple[str, str, str, str]] = {
    "visits": ("WiFi visits", om.VISITS_HELP, "count", "up"),
    "guests": ("Guests", GUESTS_HELP, "count", "up"),
    "logins": ("WiFi logins", om.WIFI_LOGINS_HELP, "count", "up"),
    "median_dwell": ("Median visit (min)", om.MEDIAN_DWELL_HELP, "minutes", "up"),
    "bounce_rate": ("Bounce rate", vm.BOUNCE_RATE_HELP, "share", "down"),
    "returning": ("Returning share", om.RETURNING_SHARE_HELP, "share", "up"),
    "signups": ("New sign-ups", om.NEW_SIGNUPS_HELP, "count", "up"),
}
CHANGE_HELP = (
    "Change against the comparison period (the same number of days just before): in % for "
    "counts and minutes, in percentage points for shares. Empty when the comparison period had "
    "none to compare with."
)
TREND_HELP = "WiFi visits per UTC day over the selected dates."
MOVERS_HELP = (
    "The stores whose WiFi visits changed most against the comparison period, in %, among "
    "stores with at least {n} visits then."
)


def location_tags(locations: pd.DataFrame) -> dict[str, list[str]]:
    """Tags of each location id, from the locations frame's comma-separated `tags` text."""
    out: dict[str, list[str]] = {}
    if locations is None or locations.empty:
        return out
    for loc_id, text in zip(locations["id"], locations.get("tags", pd.Series()), strict=False):
        tags = [t.strip() for t in str(text).split(",")] if isinstance(text, str) else []
        out[str(loc_id)] = [t for t in tags if t]
    return out


def location_groups(locations: pd.DataFrame, by: str = BY_LOCATION) -> dict[str, list[str]]:
    """Group name -> location ids. By location each location is its own group (keyed by id);
    by tag a location is in every group of its tags. Locations without a city, country or time
    zone are grouped under "Unknown"; without a tag, under "No tag"."""
    if locations is None or locations.empty:
        return {}
    ids = locations["id"].astype(str).tolist()
    if by == BY_LOCATION:
        return {i: [i] for i in ids}
    groups: dict[str, list[str]] = {}
    if by == BY_TAG:
        for loc_id, tags in location_tags(locations).items():
            for tag in tags or ["No tag"]:
                groups.setdefault(tag, []).append(loc_id)
        return dict(sorted(groups.items()))
    if by not in (BY_CITY, BY_COUNTRY, BY_TIMEZONE):
        raise ValueError(f"unknown grouping {by!r}")
    for loc_id, value in zip(ids, locations[by], strict=True):
        name = value.strip() if isinstance(value, str) and value.strip() else "Unknown"
        groups.setdefault(name, []).append(loc_id)
    return dict(sorted(groups.items()))


class _ByLocation:
    """A frame's needed columns and its location codes, to take one group's rows quickly."""

    def __init__(self, frame: pd.DataFrame | None) -> None:
        self.frame = None if frame is None else frame[[c for c in COLUMNS_READ if c in frame]]
        if self.frame is not None:
            self.codes, labels = om.codes_and_labels(self.frame[schema.LOCATION_ID])
            self.index = {str(v): i for i, v in enumerate(labels)}

    def at(self, location_ids: Sequence[str]) -> pd.DataFrame | None:
        if self.frame is None:
            return None
        hit = np.zeros(len(self.index) + 1, dtype=bool)  # the last slot: no location (-1)
        hit[[self.index[i] for i in location_ids if i in self.index]] = True
        return self.frame.take(np.flatnonzero(hit[self.codes]))


def store_figures(
    events: pd.DataFrame | None,
    history: pd.DataFrame | None,
    location_ids: Sequence[str],
    bounce_threshold_min: float = vm.DEFAULT_BOUNCE_MIN,
    returning: bool = True,
) -> dict[str, float | None]:
    """The seven figures of `events` at `location_ids`: visits, guests, logins, median_dwell,
    bounce_rate, returning (share, judged with `history` for the time before), signups.
    Counts are 0 and the rest None when there is nothing at those locations; everything is
    None when `events` is None (no comparison days to count)."""
    if events is None:
        return dict.fromkeys(FIGURES)
    if events.empty:
        part = None
    else:
        at = events[schema.LOCATION_ID].isin(list(location_ids)).to_numpy(dtype=bool)
        part = events.loc[at]
    if part is None or part.empty:
        return {
            "visits": 0,
            "guests": 0,
            "logins": 0,
            "median_dwell": None,
            "bounce_rate": None,
            "returning": None,
            "signups": 0,
        }
    codes, _ = om.codes_and_labels(part[schema.CONTACT_ID])
    summary = vm.visit_summary(part, kind=vm.WIFI)
    share = (
        om.returning_share(part, history, HISTORY_TYPES, list(location_ids)).share
        if returning
        else None
    )
    return {
        "visits": summary.visits,
        "guests": int(len(np.unique(codes[codes >= 0]))),
        "logins": int(om.type_mask(part, (schema.LOGIN,)).sum()),
        "median_dwell": summary.median_min,
        "bounce_rate": vm.bounce_rate(part, bounce_threshold_min, kind=vm.WIFI).rate,
        "returning": share,
        "signups": int(om.type_mask(part, (schema.SIGNUP,)).sum()),
    }


def change(now: float | None, before: float | None, unit: str) -> float | None:
    """Relative change (0.25 = +25%) for counts and minutes, difference for shares; None when
    either is missing or, for a relative change, the comparison value is zero."""
    if now is None or before is None or pd.isna(now) or pd.isna(before):
        return None
    if unit == "share":
        return float(now) - float(before)
    if before == 0:
        return None
    return (float(now) - float(before)) / float(before)


def daily_visits(
    events: pd.DataFrame | None, location_ids: Sequence[str], start: dt.date, end: dt.date
) -> list[int]:
    """WiFi visits per UTC day from `start` to `end` at `location_ids` (by the visit's
    `created_at`, as the date filter counts them)."""
    n = (end - start).days + 1
    if events is None or events.empty or n <= 0:
        return [0] * max(n, 0)
    rows = om.type_mask(events, (schema.VISIT,))
    rows &= events[schema.LOCATION_ID].isin(list(location_ids)).to_numpy(dtype=bool)
    ns = om.time_ns(events[schema.CREATED_AT])[rows]
    ns = ns[ns != om.NAT_NS]
    first = (start - dt.date(1970, 1, 1)).days
    day = ns // om.NS_PER_DAY - first
    day = day[(day >= 0) & (day < n)]
    return np.bincount(day, minlength=n).astype(int).tolist()


def store_comparison(
    events: pd.DataFrame,
    previous: pd.DataFrame | None,
    history: pd.DataFrame | None,
    locations: pd.DataFrame,
    start: dt.date,
    end: dt.date,
    by: str = BY_LOCATION,
    bounce_threshold_min: float = vm.DEFAULT_BOUNCE_MIN,
    returning_comparable: bool = True,
) -> pd.DataFrame:
    """One row per location (or group): group, location_ids, name, city, country, timezone,
    tags, then each figure of FIGURES with `<figure>_previous` and `<figure>_change` (see
    `change`), and `trend` (visits per day, see `daily_visits`). Most visits first.

    `previous` None means the comparison days are not in the history: every `_previous` and
    `_change` is then missing. As on the Overview, the previous period's returning share is
    left out unless `returning_comparable` (the history holds the look-back before it too).
    """
    groups = location_groups(locations, by)
    current, earlier, past = _ByLocation(events), _ByLocation(previous), _ByLocation(history)
    now, before = {}, {}
    for key, ids in groups.items():
        here = past.at(ids)  # the history at these locations only, for the returning share
        figures = store_figures(current.at(ids), here, ids, bounce_threshold_min)
        now[key] = {**figures, "trend": daily_visits(current.at(ids), ids, start, end)}
        before[key] = store_figures(
            earlier.at(ids), here, ids, bounce_threshold_min, returning=returning_comparable
        )
    return comparison_table(now, before, locations, by)


def comparison_table(
    now: Mapping[str, Mapping[str, object]],
    before: Mapping[str, Mapping[str, object]],
    locations: pd.DataFrame,
    by: str = BY_LOCATION,
) -> pd.DataFrame:
    """``store_comparison``'s table of each group's figures in the chosen dates (``now``: the
    figures of ``store_figures`` and ``trend``, for every group) and in the comparison period
    (``before``; a group left out has no comparison), by group name as ``location_groups``
    gives them."""
    groups = location_groups(locations, by)
    info = _location_info(locations)
    rows = []
    for key, ids in groups.items():
        figures_now = now[key]
        figures_before = before.get(key) or store_figures(None, None, ids)
        if by == BY_LOCATION:
            meta = info.get(key, {})
            name = meta.get("name") or key
        else:
            meta = {}
            name = key
        row: dict[str, object] = {
            "group": key,
            "location_ids": list(ids),
            "name": name,
            "city": meta.get("city"),
            "country": meta.get("country"),
            "timezone": meta.get("timezone"),
            "tags": ", ".join(sorted({t for i in ids for t in info.get(i, {}).get("tags", [])})),
        }
        for figure, (_label, _help, unit, _better) in FIGURES.items():
            row[figure] = figures_now[figure]
            row[f"{figure}_previous"] = figures_before[figure]
            row[f"{figure}_change"] = change(figures_now[figure], figures_before[figure], unit)
        row["trend"] = list(figures_now["trend"])
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    for figure, (_label, _help, unit, _better) in FIGURES.items():
        cols = [figure, f"{figure}_previous", f"{figure}_change"]
        dtype = "int64" if unit == "count" else "float64"
        table[figure] = pd.to_numeric(table[figure]).astype(dtype)
        table[f"{figure}_previous"] = pd.to_numeric(table[cols[1]]).astype("float64")
        table[f"{figure}_change"] = pd.to_numeric(table[cols[2]]).astype("float64")
    return table.sort_values(
        ["visits", "name"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def _location_info(locations: pd.DataFrame) -> dict[str, dict[str, object]]:
    tags = location_tags(locations)
    out: dict[str, dict[str, object]] = {}
    if locations is None or locations.empty:
        return out
    for row in locations.itertuples(index=False):
        loc_id = str(row.id)
        out[loc_id] = {
            "name": row.name if isinstance(row.name, str) and row.name.strip() else loc_id,
            "city": getattr(row, "city", None),
            "country": getattr(row, "country", None),
            "timezone": getattr(row, "timezone", None),
            "tags": tags.get(loc_id, []),
        }
    return out


def movers(
    table: pd.DataFrame, figure: str = "visits", n: int = 2, min_previous: int = 10
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The `n` rows of `store_comparison` whose `figure` rose most and the `n` that fell most
    (by `<figure>_change`), among rows with at least `min_previous` in the comparison period.
    A row only counts as up when its change is above zero, as down when below."""
    if table.empty:
        return table, table
    ok = table[f"{figure}_previous"].fillna(0) >= min_previous
    ranked = table.loc[ok & table[f"{figure}_change"].notna()]
    ranked = ranked.sort_values(f"{figure}_change", ascending=False, kind="stable")
    up = ranked.loc[ranked[f"{figure}_change"] > 0].head(n)
    down = ranked.loc[ranked[f"{figure}_change"] < 0].iloc[::-1].head(n)
    return up.reset_index(drop=True), down.reset_index(drop=True)


def tag_filter(table: pd.DataFrame, tags: Sequence[str]) -> pd.DataFrame:
    """Rows of `store_comparison` carrying any of `tags` (all rows when `tags` is empty)."""
    if not tags or table.empty:
        return table
    wanted = set(tags)
    keep = [bool(wanted & {t.strip() for t in str(text).split(",")}) for text in table["tags"]]
    return table.loc[keep].reset_index(drop=True)


def readable(table: pd.DataFrame, changes: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The comparison with column names in the user's words: figures, their changes ("... vs
    before"), shares as percentages (0-100), ready for the screen and the CSV."""
    out = pd.DataFrame({"Name": table["name"]})
    for column, label in (("city", "City"), ("country", "Country"), ("timezone", "Time zone")):
        if table[column].notna().any():
            out[label] = table[column]
    out["Tags"] = table["tags"]
    for figure, (label, _help, unit, _better) in FIGURES.items():
        value = table[figure]
        delta = table[f"{figure}_change"]
        if unit == "share":
            out[f"{label} (%)"] = (value * 100).round(1)
            out[f"{label} vs before (points)"] = (delta * 100).round(1)
        else:
            out[label] = value.round(1) if unit == "minutes" else value
            out[f"{label} vs before (%)"] = (delta * 100).round(1)
    out["Visits per day"] = table["trend"]
    out["Location ids"] = [", ".join(ids) for ids in table["location_ids"]]
    return out

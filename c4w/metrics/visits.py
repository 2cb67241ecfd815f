"""Visits: how long guests stay — histogram, length buckets, bounce rate, dwell per place.

A visit is a WiFi `visit` or a geofence `geo_visit` event; its length is `visit_duration_min`.
Visits without a usable length (missing, not a number, negative) are left out of every length
figure and counted separately. A visit's place is its WiFi location, or its geofence for geofence
visits. Everything is computed with numpy over category codes; inputs are never modified.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from c4w import formatting, schema
from c4w.metrics.overview import Kpi, empty_table, place_codes, type_mask

WIFI = "wifi"
GEOFENCE = "geofence"
BOTH = "both"
KIND_TYPES: dict[str, tuple[str, ...]] = {
    WIFI: (schema.VISIT,),
    GEOFENCE: (schema.GEO_VISIT,),
    BOTH: (schema.VISIT, schema.GEO_VISIT),
}
EVENT_TYPES = KIND_TYPES[BOTH]  # every function here looks at these rows only
# ... and these columns only (the time too: a comparison period is cut by it)
COLUMNS_READ: tuple[str, ...] = (
    schema.TYPE,
    schema.CREATED_AT,
    schema.LOCATION_ID,
    schema.LOCATION_NAME,
    schema.GEOFENCE_ID,
    schema.GEOFENCE_NAME,
    schema.VISIT_DURATION_MIN,
)
KIND_LABELS = {schema.VISIT: "WiFi visits", schema.GEO_VISIT: "Geofence visits"}
_KIND_NAMES = [KIND_LABELS[schema.VISIT], KIND_LABELS[schema.GEO_VISIT]]  # by kind code 0, 1
UNKNOWN_PLACE = "Unknown place"
DEFAULT_BUCKET_EDGES: tuple[float, ...] = (5, 15, 30, 60, 120)
DEFAULT_BOUNCE_MIN = 5.0
MAX_BINS = 2000  # a histogram never has more bars than this; longer visits share the last bar

VISITS_HELP = "Visits that ended in the period, of the kinds and places chosen above."
WITHOUT_LENGTH_HELP = "Visits with no usable length (missing or negative); left out of all lengths."
MEDIAN_DWELL_HELP = "Typical visit length in minutes: half the visits were shorter, half longer."
P90_DWELL_HELP = "Nine visits in ten were shorter than this many minutes."
BOUNCE_RATE_HELP = (
    "Share of visits shorter than the bounce threshold (visits without a length left out)."
)
DWELL_HISTOGRAM_HELP = "Number of visits in each band of visit length, in minutes."
DWELL_BUCKETS_HELP = (
    "Visits grouped by length; a visit exactly on a limit counts in the band above."
)
DWELL_BY_PLACE_HELP = "Per place: visits, median and 90th percentile visit length in minutes."


@dataclass(frozen=True)
class _Visits:
    """The chosen visits as arrays: length, type code (0 WiFi, 1 geofence) and place code."""

    duration: np.ndarray  # float minutes, NaN when not usable
    kind: np.ndarray  # 0 = WiFi visit, 1 = geofence visit
    place: np.ndarray  # 0..len(places)-1
    places: list[str]  # place names (unique)
    place_kind: np.ndarray  # kind of each place

    @property
    def valid(self) -> np.ndarray:
        """Visits with a usable length."""
        return np.isfinite(self.duration)


def _visits(events: pd.DataFrame, kind: str = BOTH, places: Sequence[str] | None = None) -> _Visits:
    """Read the visits of `kind` (wifi, geofence, both), optionally only at the named places."""
    types = KIND_TYPES[kind]
    rows = type_mask(events, types)
    duration = events[schema.VISIT_DURATION_MIN].to_numpy(dtype=np.float64, na_value=np.nan)
    duration = duration[rows]
    duration[~(duration >= 0)] = np.nan  # negative: not usable
    if schema.GEO_VISIT in types:
        is_geo = type_mask(events, (schema.GEO_VISIT,))[rows]
    else:
        is_geo = np.zeros(len(duration), dtype=bool)
    place = np.zeros(len(duration), dtype=np.int64)
    names: list[str] = []
    place_kind: list[int] = []
    row_numbers = np.flatnonzero(rows)
    for geo_part, id_col, name_col in (
        (False, schema.LOCATION_ID, schema.LOCATION_NAME),
        (True, schema.GEOFENCE_ID, schema.GEOFENCE_NAME),
    ):
        part = is_geo if geo_part else ~is_geo
        if not part.any():
            continue
        codes, labels = place_codes(events, row_numbers[part], id_col, name_col, UNKNOWN_PLACE)
        place[part] = codes + len(names)
        names += labels
        place_kind += [int(geo_part)] * len(labels)
    if len(set(names)) < len(names):  # a geofence named like a location
        names = [
            f"{n} (geofence)" if k and names.count(n) > 1 else n
            for n, k in zip(names, place_kind, strict=True)
        ]
    visits = _Visits(duration, is_geo.astype(np.int64), place, names, np.array(place_kind, int))
    if places is not None:
        visits = _only_places(visits, places)
    return visits


def _only_places(visits: _Visits, places: Sequence[str]) -> _Visits:
    """Keep the visits at the named places (names not present are ignored)."""
    wanted = set(places)
    keep_place = np.array([p in wanted for p in visits.places], dtype=bool)
    keep = keep_place[visits.place] if len(visits.place) else np.zeros(0, dtype=bool)
    new_code = np.cumsum(keep_place) - 1
    return _Visits(
        visits.duration[keep],
        visits.kind[keep],
        new_code[visits.place[keep]],
        [p for p, k in zip(visits.places, keep_place, strict=True) if k],
        visits.place_kind[keep_place],
    )


def _groups(visits: _Visits, split: str | None) -> tuple[np.ndarray, list[str]]:
    """Group code per visit and group names for a split: None (all), "kind" or "place"."""
    if split is None:
        return np.zeros(len(visits.duration), dtype=np.int64), ["All visits"]
    if split == "kind":
        return visits.kind, list(_KIND_NAMES)
    if split == "place":
        return visits.place, list(visits.places)
    raise ValueError(f"split must be None, 'kind' or 'place', not {split!r}")


def _grouped_lengths(
    events: pd.DataFrame, kind: str, places: Sequence[str] | None, split: str | None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The usable lengths of the chosen visits, the group code of each, and the group names."""
    visits = _visits(events, kind, places)
    group, names = _groups(visits, split)
    valid = visits.valid
    return visits.duration[valid], group[valid], names


def _place_columns(visits: _Visits) -> dict[str, pd.Series]:
    """The place and kind ("WiFi visits" or "Geofence visits") columns, one row per place."""
    return {
        "place": pd.Series(visits.places, dtype="str"),
        "kind": pd.Series([_KIND_NAMES[k] for k in visits.place_kind], dtype="str"),
    }


def _most_visits_first(table: pd.DataFrame) -> pd.DataFrame:
    return table.sort_values(["visits", "place"], ascending=[False, True], ignore_index=True)


def visit_places(events: pd.DataFrame, kind: str = BOTH) -> pd.DataFrame:
    """The places with visits of `kind`: columns place, kind, visits (most visits first)."""
    visits = _visits(events, kind)
    counts = np.bincount(visits.place, minlength=len(visits.places))
    return _most_visits_first(
        pd.DataFrame({**_place_columns(visits), "visits": counts.astype(np.int64)})
    )


def _visit_rows_kept(
    events: pd.DataFrame, kind: str, places: Sequence[str] | None
) -> tuple[np.ndarray, np.ndarray, _Visits]:
    """The positions of the visit events of `kind`, which of them are at `places`, and the
    visits read."""
    rows = np.flatnonzero(type_mask(events, KIND_TYPES[kind]))
    visits = _visits(events, kind)
    keep = np.ones(len(rows), dtype=bool)
    if places is not None:
        wanted = np.array([p in set(places) for p in visits.places] + [False], dtype=bool)
        keep = wanted[visits.place] if len(rows) else keep
    return rows, keep, visits


def visit_count(events: pd.DataFrame, kind: str = BOTH, places: Sequence[str] | None = None) -> int:
    """How many rows `visit_rows` gives, without making them."""
    return int(_visit_rows_kept(events, kind, places)[1].sum())


def visit_rows(
    events: pd.DataFrame, kind: str = BOTH, places: Sequence[str] | None = None
) -> pd.DataFrame:
    """The visit events behind the Visits view, with `visit_kind` and `place` columns added."""
    rows, keep, visits = _visit_rows_kept(events, kind, places)
    out = events.take(rows[keep])
    return out.assign(
        visit_kind=pd.Categorical.from_codes(visits.kind[keep], categories=_KIND_NAMES),
        place=pd.Categorical.from_codes(
            visits.place[keep], categories=pd.Index(visits.places, dtype="str")
        ),
    )


# --- summary and bounce ---------------------------------------------------------------------
@dataclass(frozen=True)
class VisitSummary:
    """Headline figures of the chosen visits (lengths in minutes, None when no length)."""

    visits: int
    with_length: int
    without_length: int
    median_min: float | None
    p90_min: float | None


def visit_summary(
    events: pd.DataFrame, kind: str = BOTH, places: Sequence[str] | None = None
) -> VisitSummary:
    """Count the visits, those without a usable length, and the median and p90 length."""
    visits = _visits(events, kind, places)
    lengths = visits.duration[visits.valid]
    median, p90 = np.percentile(lengths, [50, 90]) if len(lengths) else (None, None)
    return VisitSummary(
        visits=len(visits.duration),
        with_length=len(lengths),
        without_length=len(visits.duration) - len(lengths),
        median_min=None if median is None else float(median),
        p90_min=None if p90 is None else float(p90),
    )


@dataclass(frozen=True)
class BounceRate:
    """Visits shorter than `threshold_min` among the visits with a usable length."""

    threshold_min: float
    bounces: int
    visits: int

    @property
    def rate(self) -> float | None:
        """bounces / visits, or None when no visit has a length."""
        return self.bounces / self.visits if self.visits else None


def bounce_rate(
    events: pd.DataFrame,
    threshold_min: float = DEFAULT_BOUNCE_MIN,
    kind: str = BOTH,
    places: Sequence[str] | None = None,
) -> BounceRate:
    """Share of visits strictly shorter than `threshold_min` minutes (the vendor's bounce)."""
    visits = _visits(events, kind, places)
    lengths = visits.duration[visits.valid]
    return BounceRate(float(threshold_min), int((lengths < threshold_min).sum()), len(lengths))


def visit_kpis(
    events: pd.DataFrame,
    previous: pd.DataFrame | None = None,
    kind: str = BOTH,
    places: Sequence[str] | None = None,
    bounce_threshold_min: float = DEFAULT_BOUNCE_MIN,
) -> list[Kpi]:
    """The Visits view's headline numbers, each with its value over `previous` (the previous
    period of equal length; empty or None: no comparison)."""

    def figures(frame: pd.DataFrame | None) -> dict[str, float | None]:
        if frame is None or frame.empty:
            return dict.fromkeys(("visits", "median", "p90", "bounce", "missing"))
        summary = visit_summary(frame, kind, places)
        return {
            "visits": summary.visits,
            "median": summary.median_min,
            "p90": summary.p90_min,
            "bounce": bounce_rate(frame, bounce_threshold_min, kind, places).rate,
            "missing": summary.without_length,
        }

    now, before = figures(events), figures(previous)
    if events.empty:
        now.update(visits=0, missing=0)
    spec = (
        ("visits", "Visits", VISITS_HELP, "count", "up"),
        ("median", "Median length", MEDIAN_DWELL_HELP, "minutes", "up"),
        ("p90", "90th percentile", P90_DWELL_HELP, "minutes", "up"),
        ("bounce", "Bounce rate", BOUNCE_RATE_HELP, "share", "down"),
        ("missing", "No length recorded", WITHOUT_LENGTH_HELP, "count", "down"),
    )
    return [
        Kpi(key, label, now[key], before[key], text, unit, better)
        for key, label, text, unit, better in spec
    ]


def parse_edges(text: str) -> tuple[list[float], str | None]:
    """Bucket limits typed by the user ("5, 15, 30") and a plain-words problem, if any.

    Anything that is not a positive number makes the default limits come back with a note.
    """
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p.strip()]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    edges = clean_edges(values)
    if not edges or len(edges) != len(parts) or len(edges) > 20:
        default = ", ".join(_fmt(e) for e in DEFAULT_BUCKET_EDGES)
        return list(DEFAULT_BUCKET_EDGES), (
            f"Bucket limits must be up to 20 different positive numbers of minutes, "
            f"like {default}; showing {default}."
        )
    return edges, None


# --- histogram and buckets ----------------------------------------------------------------------
def _fmt(minutes: float) -> str:
    """Minutes as a short number: 5, 2.5."""
    return f"{minutes:g}"


def dwell_histogram(
    events: pd.DataFrame,
    bin_width: float = 5.0,
    max_minutes: float | None = None,
    kind: str = BOTH,
    places: Sequence[str] | None = None,
    split: str | None = None,
) -> pd.DataFrame:
    """Visits per band of length `bin_width` minutes, binned here so charts get a few rows.

    Bands are [0, w), [w, 2w), ...; with `max_minutes`, visits at or beyond the band that holds
    it share one last open band ("≥ 180"). `split` (None, "kind", "place") gives one series per
    group. Columns: group, bin_start, bin_end (inf for the open band), label, visits, share
    (of the group's visits with a length). Empty input gives an empty frame.
    """
    if not bin_width or bin_width <= 0:
        raise ValueError("bin_width must be a positive number of minutes")
    columns = {
        "group": "str",
        "bin_start": "float64",
        "bin_end": "float64",
        "label": "str",
        "visits": "int64",
        "share": "float64",
    }
    lengths, group, names = _grouped_lengths(events, kind, places, split)
    if len(lengths) == 0:
        return empty_table(columns)
    if max_minutes is None:  # closed bands up to the longest visit
        n_closed, has_open = int(np.floor(lengths.max() / bin_width)) + 1, False
    else:  # closed bands up to max_minutes, then one open band
        n_closed, has_open = max(int(np.ceil(float(max_minutes) / bin_width)), 1), True
    if n_closed >= MAX_BINS:
        n_closed, has_open = MAX_BINS - 1, True
    n_bins = n_closed + 1 if has_open else n_closed
    index = np.minimum(np.floor(lengths / bin_width).astype(np.int64), n_bins - 1)
    counts = np.bincount(group * n_bins + index, minlength=len(names) * n_bins)
    counts = counts.reshape(len(names), n_bins)
    present = counts.sum(axis=1) > 0
    starts = np.arange(n_bins) * float(bin_width)
    ends = starts + bin_width
    labels = [f"{_fmt(s)}–{_fmt(e)}" for s, e in zip(starts, ends, strict=True)]
    if has_open:
        ends[-1] = np.inf
        labels[-1] = f"≥ {_fmt(starts[-1])}"
    totals = counts.sum(axis=1, keepdims=True)
    shares = counts / np.maximum(totals, 1)
    g = np.flatnonzero(present)
    return pd.DataFrame(
        {
            "group": pd.Series(np.repeat(np.array(names, dtype=object)[g], n_bins), dtype="str"),
            "bin_start": np.tile(starts, len(g)),
            "bin_end": np.tile(ends, len(g)),
            "label": pd.Series(np.tile(np.array(labels, dtype=object), len(g)), dtype="str"),
            "visits": counts[g].reshape(-1).astype(np.int64),
            "share": shares[g].reshape(-1),
        }
    )


def bucket_labels(edges: Sequence[float]) -> list[str]:
    """Names of the length buckets cut at `edges`: <5 min, 5–15 min, ..., 120+ min."""
    edges = clean_edges(edges)
    if not edges:
        return ["All lengths"]
    labels = [f"<{_fmt(edges[0])} min"]
    labels += [f"{_fmt(a)}–{_fmt(b)} min" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return labels + [f"{_fmt(edges[-1])}+ min"]


def clean_edges(edges: Iterable[float]) -> list[float]:
    """Bucket limits sorted, without repeats, without zero or negative values."""
    return sorted({float(e) for e in edges if np.isfinite(e) and e > 0})


def dwell_buckets(
    events: pd.DataFrame,
    edges: Sequence[float] = DEFAULT_BUCKET_EDGES,
    kind: str = BOTH,
    places: Sequence[str] | None = None,
    split: str | None = None,
) -> pd.DataFrame:
    """Visits per length bucket: [0, e1), [e1, e2), ..., [en, ∞) — exactly 5 min is in 5–15.

    Columns: group, bucket, from_min, to_min (inf for the last), visits, share (of the group's
    visits with a length). Every bucket is listed, also when empty; empty input gives an empty
    frame.
    """
    columns = {
        "group": "str",
        "bucket": "str",
        "from_min": "float64",
        "to_min": "float64",
        "visits": "int64",
        "share": "float64",
    }
    edges = clean_edges(edges)
    lengths, group, names = _grouped_lengths(events, kind, places, split)
    if len(lengths) == 0:
        return empty_table(columns)
    n = len(edges) + 1
    index = np.searchsorted(np.array(edges), lengths, side="right")
    counts = np.bincount(group * n + index, minlength=len(names) * n).reshape(len(names), n)
    totals = counts.sum(axis=1, keepdims=True)
    g = np.flatnonzero(totals[:, 0] > 0)
    starts = np.array([0.0, *edges])
    ends = np.array([*edges, np.inf])
    return pd.DataFrame(
        {
            "group": pd.Series(np.repeat(np.array(names, dtype=object)[g], n), dtype="str"),
            "bucket": pd.Series(bucket_labels(edges) * len(g), dtype="str"),
            "from_min": np.tile(starts, len(g)),
            "to_min": np.tile(ends, len(g)),
            "visits": counts[g].reshape(-1).astype(np.int64),
            "share": (counts / np.maximum(totals, 1))[g].reshape(-1),
        }
    )


def dwell_buckets_table(buckets: pd.DataFrame) -> pd.DataFrame:
    """`dwell_buckets` for download, in the user's words: Group, Visit length, From (minutes),
    To (minutes; empty for the open last bucket), Visits, Share of visits (%)."""
    to_min = buckets["to_min"].astype("float64")
    return pd.DataFrame(
        {
            "Group": buckets["group"].to_numpy(),
            "Visit length": buckets["bucket"].to_numpy(),
            "From (minutes)": buckets["from_min"].to_numpy(),
            "To (minutes)": to_min.where(np.isfinite(to_min)).to_numpy(),
            "Visits": buckets["visits"].to_numpy(),
            "Share of visits (%)": formatting.percent_points(buckets["share"]).to_numpy(),
        }
    )


# --- per place ----------------------------------------------------------------------------------
def _group_quantiles(
    values: np.ndarray, group: np.ndarray, n_groups: int, qs: Sequence[float]
) -> list[np.ndarray]:
    """Per-group quantiles (linear interpolation, as numpy and pandas), NaN for empty groups.

    One sort of a single int64 key (group, length in thousandths of a minute) serves every
    quantile; lengths are non-negative, and whole API minutes stay exact.
    """
    scaled = np.minimum(np.rint(values * 1000), 2**40 - 1).astype(np.int64)
    ordered = np.sort((group.astype(np.int64) << 40) | scaled)
    sorted_values = (ordered & (2**40 - 1)) / 1000.0
    counts = np.bincount(group, minlength=n_groups)
    starts = np.cumsum(counts) - counts
    has = counts > 0
    out = []
    for q in qs:
        result = np.full(n_groups, np.nan)
        pos = q * (counts[has] - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.ceil(pos).astype(np.int64)
        low = sorted_values[starts[has] + lo]
        high = sorted_values[starts[has] + hi]
        result[has] = low + (high - low) * (pos - lo)
        out.append(result)
    return out


def dwell_by_place(
    events: pd.DataFrame,
    kind: str = BOTH,
    places: Sequence[str] | None = None,
    bounce_threshold_min: float = DEFAULT_BOUNCE_MIN,
) -> pd.DataFrame:
    """Visit length per place: place, kind, visits, without_length, median_min, p90_min,
    bounce_rate (share under `bounce_threshold_min`). Most visits first; empty input, empty frame.
    """
    visits = _visits(events, kind, places)
    n = len(visits.places)
    valid = visits.valid
    lengths, place = visits.duration[valid], visits.place[valid]
    counts = np.bincount(visits.place, minlength=n)
    with_length = np.bincount(place, minlength=n)
    bounces = np.bincount(place[lengths < bounce_threshold_min], minlength=n)
    median, p90 = _group_quantiles(lengths, place, n, (0.5, 0.9))
    table = pd.DataFrame(
        {
            **_place_columns(visits),
            "visits": counts.astype(np.int64),
            "without_length": (counts - with_length).astype(np.int64),
            "median_min": median,
            "p90_min": p90,
            "bounce_rate": np.where(with_length > 0, bounces / np.maximum(with_length, 1), np.nan),
        }
    )
    return _most_visits_first(table.loc[table["visits"] > 0])

"""Overview: headline numbers against the previous period, events per day, weekly heatmap.

Also holds the small column readers the other view metrics share (event-type masks, category
codes, nanosecond timestamps), so every view reads the canonical frame the same, fast way:
numpy arrays and category codes, no Python loops over rows, no groupby-apply. Inputs are never
modified.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from c4w import formatting, schema

NS_PER_HOUR = 3_600_000_000_000
NS_PER_DAY = 24 * NS_PER_HOUR
NAT_NS = np.iinfo(np.int64).min  # how a missing time (NaT) reads as int64 nanoseconds
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

RETURNING_LOOKBACK_DAYS = 30  # how far back each visit looks for the guest's previous visit
GUEST_TYPES: tuple[str, ...] = (
    schema.LOGIN,
    schema.VISIT,
    schema.ARRIVING,
    schema.GEO_VISIT,
    schema.GEO_ARRIVING,
)
REACHED_TYPES: tuple[str, ...] = (schema.SEND_EMAIL, schema.SEND_SMS)

GUESTS_HELP = (
    "Distinct guests who were in a store or used the app in the period: a WiFi login, WiFi "
    "visit or arrival, or a geofence visit or arrival. Emails and SMS received do not count."
)
CONTACTS_REACHED_HELP = "Distinct contacts who were sent at least one email or SMS in the period."
NEW_SIGNUPS_HELP = "Sign-ups in the period (signup events): guests who registered."
WIFI_LOGINS_HELP = "WiFi logins in the period (login events), repeat logins included."
VISITS_HELP = "WiFi visits that ended in the period (visit events)."
MEDIAN_DWELL_HELP = (
    "Typical WiFi visit length in minutes: half the visits were shorter, half longer "
    "(visits without a recorded length are left out)."
)
RETURNING_SHARE_HELP = (
    "Share of WiFi visits whose guest had visited before, on a different day (local time), "
    f"within the {RETURNING_LOOKBACK_DAYS} days before the visit. Every visit looks back the "
    "same "
    f"{RETURNING_LOOKBACK_DAYS} days, in this period and in the one it is compared with; first "
    "visits and same-day repeats are not returning."
)
RETURNING_NOT_COMPARABLE = (
    "Returning visits has no change figure: it needs the "
    f"{RETURNING_LOOKBACK_DAYS} days before the comparison days too, and the history does not "
    "reach that far back."
)
EVENTS_PER_DAY_HELP = (
    "Events of each kind per day. Days are UTC days, the same days as the dates in the sidebar, "
    "so the bars add up to the headline numbers."
)
WEEKLY_HEATMAP_HELP = (
    "Average events in each hour of each weekday, local time at each location: at every "
    "location, that hour's events are divided by the number of days on which that local hour "
    "fell inside the chosen dates there (the first and last day are partial in a store's own "
    "time), and the locations' averages are added up."
)


# --- shared column readers ----------------------------------------------------------------------
def type_mask(events: pd.DataFrame, types: Iterable[str]) -> np.ndarray:
    """Boolean array marking the rows whose event type is one of `types` (missing type: False)."""
    wanted = set(types)
    column = events[schema.TYPE]
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = column.cat.categories
        hit = np.fromiter((c in wanted for c in categories), dtype=bool, count=len(categories))
        # code -1 (missing) picks the appended False
        return np.append(hit, False)[column.cat.codes.to_numpy()]
    return column.isin(list(wanted)).to_numpy(dtype=bool, na_value=False)


def empty_table(columns: dict[str, str]) -> pd.DataFrame:
    """A table with no rows and the given column dtypes, so an empty result keeps its shape."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})


def codes_and_labels(
    column: pd.Series, rows: np.ndarray | None = None
) -> tuple[np.ndarray, pd.Index]:
    """Int64 codes (-1 = missing) of a categorical or plain column, only at `rows` when given,
    and the labels they index."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes, labels = column.cat.codes.to_numpy(), column.cat.categories
    else:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        labels = pd.Index(uniques)
    if rows is not None:
        codes = codes[rows]
    return codes.astype(np.int64), labels


def time_ns(column: pd.Series) -> np.ndarray:
    """Int64 nanoseconds since the epoch (missing: NAT_NS) of a naive or UTC datetime column."""
    if not (
        isinstance(column.dtype, pd.DatetimeTZDtype) or np.issubdtype(column.dtype, np.datetime64)
    ):
        column = pd.to_datetime(column)
    if column.dt.unit != "ns":
        column = column.dt.as_unit("ns")
    return column.array.asi8


def place_codes(
    events: pd.DataFrame, rows: np.ndarray, id_column: str, name_column: str, missing: str
) -> tuple[np.ndarray, list[str]]:
    """Codes 0..k-1 of the place (location or geofence) of the chosen rows, and their names.

    Places are told apart by id and named by their first name seen (the id when unnamed);
    rows with neither id nor name share the `missing` label. Only places present get a code.
    """
    id_codes, ids = codes_and_labels(events[id_column], rows)
    name_codes, names = codes_and_labels(events[name_column], rows)
    # key: the id when known, else the name (offset past the ids), else one "missing" slot
    n_ids, n_names = len(ids), len(names)
    key = np.where(
        id_codes >= 0, id_codes, np.where(name_codes >= 0, n_ids + name_codes, n_ids + n_names)
    )
    used = np.bincount(key, minlength=n_ids + n_names + 1) > 0
    present = np.flatnonzero(used)
    codes = (np.cumsum(used) - 1)[key]
    first_name = np.full(len(used), -1, dtype=np.int64)
    named = name_codes >= 0
    first_name[key[named][::-1]] = name_codes[named][::-1]  # last write wins: first name seen
    labels: list[str] = []
    for k in present.tolist():
        if first_name[k] >= 0:
            labels.append(str(names[first_name[k]]))
        elif k < n_ids:
            labels.append(str(ids[k]))
        else:
            labels.append(missing)
    return codes.astype(np.int64), unique_labels(labels)


def unique_labels(labels: list[str]) -> list[str]:
    """The labels with repeats numbered ("Store", "Store (2)") so each names one thing."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def shared_codes(
    a: pd.Series, a_rows: np.ndarray, b: pd.Series, b_rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the chosen rows (a boolean mask or positions) of two columns in one shared code
    space. Cheap when both are categorical, as the events frames' columns are: their own codes
    when they share their categories (slices of one frame), else with only the categories
    matched when there are fewer of them than chosen rows."""
    if isinstance(a.dtype, pd.CategoricalDtype) and isinstance(b.dtype, pd.CategoricalDtype):
        a_codes, a_labels = codes_and_labels(a, a_rows)
        b_codes, b_labels = codes_and_labels(b, b_rows)
        if a_labels is b_labels or a_labels.equals(b_labels):
            return a_codes, b_codes
        if len(b_labels) < len(a_codes) + len(b_codes):
            # b's labels as codes of a's; the ones a lacks are numbered after a's own
            where = a_labels.get_indexer(b_labels)
            new = where < 0
            where[new] = len(a_labels) + np.arange(int(new.sum()))
            return a_codes, np.append(where, -1)[b_codes].astype(np.int64)
    first = a.iloc[a_rows].astype(object).to_numpy()
    values = np.concatenate([first, b.iloc[b_rows].astype(object).to_numpy()])
    codes, _ = pd.factorize(values, use_na_sentinel=True)
    return codes[: len(first)].astype(np.int64), codes[len(first) :].astype(np.int64)


# --- returning visits ---------------------------------------------------------------------------
def _visit_times(frame: pd.DataFrame, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start time (UTC ns) and local day number of the chosen visit rows.

    A visit is placed at its start; when the start is missing, at the time it was recorded.
    """
    start = time_ns(frame[schema.VISIT_START])[rows]
    start = np.where(start != NAT_NS, start, time_ns(frame[schema.CREATED_AT])[rows])
    local = time_ns(frame[schema.VISIT_START_LOCAL])[rows]
    local = np.where(local != NAT_NS, local, time_ns(frame[schema.CREATED_AT_LOCAL])[rows])
    day = np.where(local != NAT_NS, local // NS_PER_DAY, NAT_NS)
    return start, day


def returning_flags(
    events: pd.DataFrame,
    history: pd.DataFrame | None = None,
    visit_types: Iterable[str] = (schema.VISIT,),
    location_ids: Sequence[str] = (),
    lookback_days: float | None = RETURNING_LOOKBACK_DAYS,
) -> pd.Series:
    """For each visit in `events`: True when the guest's previous visit was on another local day
    and started at most `lookback_days` before this one (None: however long before).

    The previous visit is looked up among the visits in `events` and, for the time before the
    first of them, in `history` (the whole loaded data, e.g. the page's `all_events`); with
    `location_ids`, only history visits at those locations count, matching a location filter
    on `events`. The result is indexed like the visit rows of `events`; visits with no contact
    or no time are <NA>.
    """
    visit_types = tuple(visit_types)
    rows = type_mask(events, visit_types)
    index = events.index[rows]
    if not rows.any():
        return pd.Series(pd.array([], dtype="boolean"), index=index, name="returning")
    start, day = _visit_times(events, rows)
    if history is not None and len(history):
        first = time_ns(events[schema.CREATED_AT])[rows]
        first = first[first != NAT_NS]
        cut = first.min() if len(first) else NAT_NS
        created = time_ns(history[schema.CREATED_AT])
        h_rows = type_mask(history, visit_types) & (created != NAT_NS) & (created < cut)
        if location_ids:
            h_rows &= (
                history[schema.LOCATION_ID]
                .isin(list(location_ids))
                .to_numpy(dtype=bool, na_value=False)
            )
        h_start, h_day = _visit_times(history, h_rows)
        ev_contact, h_contact = shared_codes(
            events[schema.CONTACT_ID], rows, history[schema.CONTACT_ID], h_rows
        )
    else:
        ev_contact = codes_and_labels(events[schema.CONTACT_ID], rows)[0]
        h_start = h_day = h_contact = np.empty(0, dtype=np.int64)
    n = len(start)
    contact = np.concatenate([ev_contact, h_contact])
    when = np.concatenate([start, h_start])
    day = np.concatenate([day, h_day])
    known = (contact >= 0) & (when != NAT_NS) & (day != NAT_NS)
    (pos,) = np.nonzero(known)
    # gaps in whole seconds of the clock (not of the visits loaded): the same pair of visits is
    # judged alike whatever else is loaded
    whole = when[pos] // 1_000_000_000
    # one sort key: contact, then seconds since the earliest visit (a lexsort is 2x slower);
    # two visits of a guest in the same second are on the same day either way
    seconds = whole - whole.min() if len(pos) else whole
    seconds = np.minimum(seconds, 2**32 - 1)  # a span over 136 years: only bad data
    by_guest = np.argsort((contact[pos] << 32) | seconds)
    order, sec = pos[by_guest], whole[by_guest]
    c, d = contact[order], day[order]
    returning_sorted = np.zeros(len(order), dtype=bool)
    returning_sorted[1:] = (c[1:] == c[:-1]) & (d[1:] != d[:-1])
    if lookback_days is not None:
        returning_sorted[1:] &= (sec[1:] - sec[:-1]) <= int(lookback_days * 86_400)
    flags = np.zeros(len(contact), dtype=bool)
    flags[order] = returning_sorted
    result = pd.array(flags[:n], dtype="boolean")
    result[~known[:n]] = pd.NA
    return pd.Series(result, index=index, name="returning")


@dataclass(frozen=True)
class ReturningShare:
    """Returning visits among the visits that could be judged (known guest and time)."""

    returning: int
    judged: int

    @property
    def share(self) -> float | None:
        """Returning / judged, or None when there is no visit to judge."""
        return self.returning / self.judged if self.judged else None


def returning_share(
    events: pd.DataFrame,
    history: pd.DataFrame | None = None,
    visit_types: Iterable[str] = (schema.VISIT,),
    location_ids: Sequence[str] = (),
    lookback_days: float | None = RETURNING_LOOKBACK_DAYS,
) -> ReturningShare:
    """Share of visits in `events` that are returning (see `returning_flags`)."""
    flags = returning_flags(events, history, visit_types, location_ids, lookback_days)
    judged = int(flags.notna().sum())
    return ReturningShare(returning=int(flags.sum()), judged=judged)


# --- KPIs ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Kpi:
    """One headline number, its value in the previous period and its one-line definition."""

    key: str
    label: str
    value: float | None
    previous: float | None
    help: str
    unit: str  # "count", "minutes", "share" or "ratio"
    better: str = "up"  # which way is good news: "up" or "down"
    note: str | None = None  # why a figure is missing, in plain words

    @property
    def change(self) -> float | None:
        """Value minus previous value (None when either is missing)."""
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def change_pct(self) -> float | None:
        """Relative change against the previous value (None when that is missing or zero)."""
        if self.change is None or not self.previous:
            return None
        return self.change / self.previous


def distinct_contacts(events: pd.DataFrame, types: Iterable[str] | None = None) -> int:
    """Distinct contacts with at least one event of `types` (None: of any type)."""
    rows = None if types is None else type_mask(events, types)
    codes, labels = codes_and_labels(events[schema.CONTACT_ID], rows)
    known = codes[codes >= 0]
    return int(np.count_nonzero(np.bincount(known, minlength=len(labels))))


def _headline(
    events: pd.DataFrame,
    history: pd.DataFrame | None,
    visit_types: tuple[str, ...],
    location_ids: Sequence[str],
    lookback_days: float | None,
    returning: bool = True,
) -> dict[str, float | None]:
    """The headline numbers of one period (an empty period: zero counts, no median or share)."""
    visit_rows = type_mask(events, visit_types)
    durations = events[schema.VISIT_DURATION_MIN].to_numpy(dtype=np.float64, na_value=np.nan)
    durations = durations[visit_rows]
    durations = durations[np.isfinite(durations) & (durations >= 0)]
    share = None
    if returning and not events.empty:
        share = returning_share(events, history, visit_types, location_ids, lookback_days).share
    return {
        "guests": distinct_contacts(events, GUEST_TYPES),
        "reached": distinct_contacts(events, REACHED_TYPES),
        "signups": int(type_mask(events, (schema.SIGNUP,)).sum()),
        "logins": int(type_mask(events, (schema.LOGIN,)).sum()),
        "visits": int(visit_rows.sum()),
        "median_dwell": float(np.median(durations)) if len(durations) else None,
        "returning": share,
    }


def overview_kpis(
    events: pd.DataFrame,
    previous: pd.DataFrame | None = None,
    history: pd.DataFrame | None = None,
    visit_types: Iterable[str] = (schema.VISIT,),
    location_ids: Sequence[str] = (),
    *,
    returning_comparable: bool = True,
    lookback_days: float | None = RETURNING_LOOKBACK_DAYS,
) -> list[Kpi]:
    """The Overview's headline numbers for `events`, each with its value over `previous`.

    `previous` is the comparison period's events, or None when there is nothing fair to compare
    with (no change figures then). `history` holds the visits before each period, searched
    `lookback_days` back for a guest's previous visit; `location_ids` is the location filter the
    frames were cut with (empty: all). `returning_comparable` is False when the history does not
    hold the look-back of the comparison days: the returning share then gets no change figure
    and a note says why.
    """
    visit_types = tuple(visit_types)
    now = _headline(events, history, visit_types, location_ids, lookback_days)
    before = None
    if previous is not None:
        before = _headline(
            previous, history, visit_types, location_ids, lookback_days, returning_comparable
        )
    return headline_kpis(now, before, returning_comparable=returning_comparable)


def headline_kpis(
    now: dict[str, float | None],
    before: dict[str, float | None] | None,
    *,
    returning_comparable: bool = True,
) -> list[Kpi]:
    """The Overview's headline numbers from one period's figures (``_headline``'s keys) and
    the comparison period's (None: nothing fair to compare with)."""
    notes = dict.fromkeys(now)
    if before is not None and not returning_comparable:
        notes["returning"] = RETURNING_NOT_COMPARABLE
    before = before if before is not None else dict.fromkeys(now)
    spec = (
        ("guests", "Guests", GUESTS_HELP, "count"),
        ("reached", "Contacts reached", CONTACTS_REACHED_HELP, "count"),
        ("signups", "New sign-ups", NEW_SIGNUPS_HELP, "count"),
        ("logins", "WiFi logins", WIFI_LOGINS_HELP, "count"),
        ("visits", "WiFi visits", VISITS_HELP, "count"),
        ("median_dwell", "Median visit length", MEDIAN_DWELL_HELP, "minutes"),
        ("returning", "Returning visits", RETURNING_SHARE_HELP, "share"),
    )
    return [
        Kpi(key, label, now[key], before[key], text, unit, note=notes[key])
        for key, label, text, unit in spec
    ]


def format_kpi_value(kpi: Kpi) -> str:
    """The value as shown on screen: 12,345 · 23.5 min · 41.2% · 1.53 · – when unknown."""
    if kpi.value is None:
        return "–"
    if kpi.unit == "share":
        return f"{kpi.value:.1%}"
    if kpi.unit == "minutes":
        return f"{kpi.value:,.1f} min"
    if kpi.unit == "ratio":
        return f"{kpi.value:,.2f}"
    return f"{kpi.value:,.0f}"


def format_kpi_change(kpi: Kpi) -> str | None:
    """The change as shown under the value: +12.5% for counts (+N from zero), +1.5 min,
    +2.0 pp for shares, +0.12 for ratios; None when there is nothing to compare."""
    change = kpi.change
    if change is None:
        return None
    if kpi.unit == "share":
        return f"{change * 100:+.1f} pp"
    if kpi.unit == "minutes":
        return f"{change:+.1f} min"
    if kpi.unit == "ratio":
        return f"{change:+.2f}"
    pct = kpi.change_pct
    return f"{pct:+.1%}" if pct is not None else f"{change:+,.0f}"


def metric_kwargs(kpi: Kpi) -> dict[str, object]:
    """Arguments for showing `kpi` as a metric tile: label, value, delta, colours, help.

    Green means good news: up for most figures, down for e.g. the bounce rate; no change and
    no comparison show no arrow.
    """
    change = format_kpi_change(kpi)
    flat = kpi.change is None or kpi.change == 0
    if kpi.change == 0:
        change = "no change"
    return {
        "label": kpi.label,
        "value": format_kpi_value(kpi),
        "delta": change,
        "delta_color": "off" if flat else ("inverse" if kpi.better == "down" else "normal"),
        "delta_arrow": "off" if flat else "auto",
        "help": kpi.help,
    }


_UNIT_WORDS = {
    "count": "count",
    "minutes": "minutes",
    "share": "percent (change in percentage points)",
    "ratio": "ratio",
}


def kpi_table(kpis: list[Kpi], compared_with: str = "") -> pd.DataFrame:
    """The headline numbers as a table for download, headers in the user's words: Figure, Value,
    Comparison value, Change, Change (%), Unit, Compared with, Definition. Shares are written
    as percentages (33.3) and their change in percentage points; numbers are rounded."""
    scale = [100.0 if k.unit == "share" else 1.0 for k in kpis]

    def scaled(values: list[float | None], digits: int) -> list[float]:
        return [
            np.nan if v is None else round(float(v) * f, digits)
            for v, f in zip(values, scale, strict=True)
        ]

    return pd.DataFrame(
        {
            "Figure": [k.label for k in kpis],
            "Value": scaled([k.value for k in kpis], 2),
            "Comparison value": scaled([k.previous for k in kpis], 2),
            "Change": scaled([k.change for k in kpis], 2),
            "Change (%)": [
                np.nan
                if k.unit == "share" or k.change_pct is None
                else round(k.change_pct * 100, 1)
                for k in kpis
            ],
            "Unit": [_UNIT_WORDS.get(k.unit, k.unit) for k in kpis],
            "Compared with": [compared_with if k.change is not None else "" for k in kpis],
            "Definition": [k.help for k in kpis],
        }
    ).astype({"Value": "float64", "Comparison value": "float64", "Change": "float64"})


# --- events per day and weekly heatmap ----------------------------------------------------------
# The order kinds of event are listed and stacked in: WiFi, sign-ups, geofence, campaigns.
TYPE_ORDER: tuple[str, ...] = (
    schema.VISIT,
    schema.LOGIN,
    schema.ARRIVING,
    schema.SIGNUP,
    schema.GEO_VISIT,
    schema.GEO_ARRIVING,
    schema.SEND_EMAIL,
    schema.OPEN_EMAIL,
    schema.CLICK_EMAIL,
    schema.SEND_SMS,
    schema.CLICK_SMS,
    schema.SURVEY,
    schema.PROMO,
)


def type_order(types: Iterable[str]) -> list[str]:
    """Event types in a stable order: WiFi, sign-up, geofence, campaign types (TYPE_ORDER),
    then any other type A–Z."""
    present = set(types)
    known = [t for t in TYPE_ORDER if t in present]
    return known + sorted(present - set(known))


def _utc_day(value: dt.date | None, fallback_ns: int) -> int:
    """A UTC day as a day number since the epoch (``fallback_ns``'s day when None)."""
    if value is None:
        return int(fallback_ns // NS_PER_DAY)
    return (value - dt.date(1970, 1, 1)).days


def events_per_day(
    events: pd.DataFrame,
    types: Iterable[str] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pd.DataFrame:
    """Events per UTC day and type: columns day, type, events, every day of `start..end`
    (default: the first to the last event's day) listed, with 0 where nothing happened.

    UTC days are the sidebar's days: the bars add up to the headline figures, and no day
    outside the chosen dates appears. Rows without a time or outside the days are left out.
    """
    columns = {"day": "datetime64[ns]", "type": "str", "events": "int64"}
    rows = np.ones(len(events), dtype=bool) if types is None else type_mask(events, types)
    utc = time_ns(events[schema.CREATED_AT])
    rows &= utc != NAT_NS
    type_codes, type_labels = codes_and_labels(events[schema.TYPE])
    rows &= type_codes >= 0
    if not rows.any():
        return empty_table(columns)
    day = utc[rows] // NS_PER_DAY
    first = _utc_day(start, int(utc[rows].min()))
    last = _utc_day(end, int(utc[rows].max()))
    inside = (day >= first) & (day <= last)
    day, code = day[inside] - first, type_codes[rows][inside]
    n_days, n_types = last - first + 1, len(type_labels)
    if n_days <= 0 or not len(day):
        return empty_table(columns)
    counts = np.bincount(day * n_types + code, minlength=n_days * n_types)
    return per_day_of_counts(counts.reshape(n_days, n_types), first, [str(t) for t in type_labels])


def per_day_of_counts(counts: np.ndarray, first_day: int, labels: list[str]) -> pd.DataFrame:
    """The ``events_per_day`` table from a (days × types) matrix of counts whose first row is
    the UTC day number ``first_day`` and whose columns are the types ``labels``."""
    n_days = counts.shape[0]
    totals = counts.sum(axis=0)
    keep = [
        labels.index(t) for t in type_order(t for t, n in zip(labels, totals, strict=True) if n > 0)
    ]
    days = (first_day + np.arange(n_days)).astype("datetime64[D]").astype("datetime64[ns]")
    return pd.DataFrame(
        {
            "day": np.repeat(days, len(keep)),
            "type": pd.Series(np.tile(np.array(labels, dtype=object)[keep], n_days), dtype="str"),
            "events": counts[:, keep].reshape(-1).astype(np.int64),
        }
    )


def events_per_day_table(per_day: pd.DataFrame) -> pd.DataFrame:
    """`events_per_day` for download: Day (ISO date), Event, Events, headers in the user's
    words and one label per event type."""
    return pd.DataFrame(
        {
            "Day (UTC)": formatting.iso_days(per_day["day"]),
            "Event": [formatting.event_label(t) for t in per_day["type"]],
            "Events": per_day["events"].to_numpy(),
        }
    )


_QUARTER_HOUR_NS = NS_PER_HOUR // 4


HEATMAP_COLUMNS = {
    "weekday": "int64",
    "weekday_name": "str",
    "hour": "int64",
    "events": "int64",
    "per_day": "float64",
}


def _local_hours_in_range(zone: object, lo_ns: int, hi_ns: int) -> np.ndarray:
    """For one time zone: on how many days each (weekday, local hour) fell, at least partly,
    inside the UTC moments ``lo_ns..hi_ns`` (168 counts, Monday 0h first). ``zone`` is an IANA
    name or a fixed UTC offset in minutes."""
    if hi_ns <= lo_ns:
        return np.zeros(168, dtype=np.int64)
    # quarter hours catch the local hours of zones half or three quarters of an hour off UTC
    moments = pd.DatetimeIndex(np.arange(lo_ns, hi_ns, _QUARTER_HOUR_NS).astype("datetime64[ns]"))
    if isinstance(zone, str):
        try:
            local = moments.tz_localize("UTC").tz_convert(zone).tz_localize(None)
        except Exception:  # an unknown zone name: the events carry no usable zone
            local = moments
        local_ns = local.asi8
    else:
        local_ns = moments.asi8 + int(zone) * 60_000_000_000
    hours = np.unique(local_ns // NS_PER_HOUR)
    day = hours // 24
    return np.bincount(((day + 3) % 7) * 24 + hours % 24, minlength=168).astype(np.int64)


def weekly_heatmap(
    events: pd.DataFrame,
    types: Iterable[str] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    until: dt.datetime | None = None,
) -> pd.DataFrame:
    """Events by weekday × hour of the local time: 168 rows, Monday 0h first.

    Columns: weekday (0 = Monday), weekday_name, hour (0–23), events (total) and per_day. The
    chosen dates are the UTC days `start..end` (default: the events' first to last UTC day),
    ending at `until` when the data stops earlier (today). In each time zone, a cell's events
    are divided by the number of days on which that local hour fell inside those dates there,
    and the zones' averages are summed: edge days, partial in a store's own time, count only
    for the hours they hold. Events without a zone use their own offset from UTC. Empty input
    gives an empty frame.
    """
    local = time_ns(events[schema.CREATED_AT_LOCAL])
    utc = time_ns(events[schema.CREATED_AT])
    known = (local != NAT_NS) & (utc != NAT_NS)
    rows = known if types is None else known & type_mask(events, types)
    if not rows.any():
        return empty_table(HEATMAP_COLUMNS)
    lo = _utc_day(start, int(utc[known].min()))
    hi = _utc_day(end, int(utc[known].max()))
    ns = local[rows]
    cell = ((ns // NS_PER_DAY + 3) % 7) * 24 + (ns // NS_PER_HOUR) % 24  # 1970-01-01: Thursday
    zone_codes, zones = codes_and_labels(events[schema.TIMEZONE], rows)
    offsets = (ns - utc[rows]) // 60_000_000_000  # minutes ahead of UTC, for events without zone
    groups: dict[object, np.ndarray] = {}
    for code in np.unique(zone_codes).tolist():
        in_zone = zone_codes == code
        if code >= 0:
            groups[str(zones[code])] = np.bincount(cell[in_zone], minlength=168)
            continue
        for offset in np.unique(offsets[in_zone]).tolist():
            members = in_zone & (offsets == offset)
            groups[int(offset)] = np.bincount(cell[members], minlength=168)
    return heatmap_of_zones(groups, lo, hi, until)


def heatmap_of_zones(
    zone_counts: dict[object, np.ndarray], first_day: int, last_day: int, until: dt.datetime | None
) -> pd.DataFrame:
    """The weekly heatmap (see ``weekly_heatmap``) from each time zone's events per weekday ×
    local hour cell (168 counts; a zone is an IANA name, or a UTC offset in minutes for events
    without one) over the UTC day numbers ``first_day..last_day``, ending at ``until``."""
    if not zone_counts:
        return empty_table(HEATMAP_COLUMNS)
    lo = first_day * NS_PER_DAY
    hi = (last_day + 1) * NS_PER_DAY
    if until is not None:
        cut = pd.Timestamp(until)
        cut = cut.tz_localize("UTC") if cut.tzinfo is None else cut.tz_convert("UTC")
        hi = min(hi, int(cut.value) + 1)
    counts = np.zeros(168, dtype=np.int64)
    per_day = np.zeros(168, dtype=np.float64)
    for zone, cells in zone_counts.items():
        counts += cells
        per_day += cells / np.maximum(_local_hours_in_range(zone, lo, hi), 1)
    return pd.DataFrame(
        {
            "weekday": np.repeat(np.arange(7), 24).astype(np.int64),
            "weekday_name": pd.Series(np.repeat(np.array(WEEKDAY_NAMES), 24), dtype="str"),
            "hour": np.tile(np.arange(24), 7).astype(np.int64),
            "events": counts.astype(np.int64),
            "per_day": per_day,
        }
    )

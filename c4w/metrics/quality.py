"""Data quality: what the stored events and their sync state say about the data itself.

Per UTC day and event type: events stored, and the rows behind each finding (local times that
disagree with UTC and time zone, email clicks before their open, visits of zero or extreme
length, unknown event types). Per day, from the store's sync state: duplicates dropped, the API's
``count`` against the rows received, and days missing or not yet settled. Every function is pure
and leaves its input unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from c4w import schema
from c4w.frame import data_quality_report
from c4w.metrics.overview import NAT_NS, NS_PER_DAY, Kpi, codes_and_labels, time_ns, type_mask

DAY = "day"
TYPE = "type"
EVENTS = "events"
NO_TIME = "(no UTC time)"
NO_TYPE = "(no type)"
EXTREME_VISIT_MIN = 24 * 60  # a visit longer than a day is not a stay in a shop

EVENTS_HELP = "Events kept in the store for these dates (each event id once), by UTC day."
DUPLICATES_HELP = (
    "Rows the API sent more than once (the same event id) and the store kept once, from the "
    "sync state of each day."
)
COUNT_GAP_HELP = (
    "The API's own `count` minus the rows it actually sent, added up over the days where the "
    "API gave a count. Not zero means the API's count and its pages disagree (the vendor's "
    "count is known to be off by one at times)."
)
DAYS_NOT_READY_HELP = (
    "Days of these dates the store does not hold yet, or holds but has not settled (recent days "
    "change until about 2 hours after they end in the latest time zone, and are fetched again)."
)
PROBLEMS_HELP = "Rows the reader flagged with a problem when it read them from the API."


@dataclass(frozen=True)
class Finding:
    """One kind of suspicious row: its key, a short label and its definition (help text)."""

    key: str
    label: str
    help: str


LOCAL_TIME = Finding(
    "local_time",
    "Local time disagrees with UTC",
    "Events whose local time (createdAtLocal) is not their UTC time (createdAt) in their time "
    "zone. The dashboard uses the UTC time; hour-of-day views use the local time as given.",
)
CLICK_BEFORE_OPEN = Finding(
    "click_before_open",
    "Email clicked before it was opened",
    "Email clicks earlier than the same contact's first open of the same email (same "
    "communication, or campaign when no communication id is given), among the events shown. "
    "Clicks with no open at all are not counted: mail apps often block the open pixel.",
)
ZERO_DURATION = Finding(
    "zero_duration",
    "Visit of zero minutes",
    "WiFi and geofence visits whose length is exactly 0 minutes.",
)
EXTREME_DURATION = Finding(
    "extreme_duration",
    "Visit longer than a day",
    f"WiFi and geofence visits longer than {EXTREME_VISIT_MIN:,} minutes (24 hours).",
)
UNKNOWN_TYPE = Finding(
    "unknown_type",
    "Unknown event type",
    "Events whose type is missing or is none of the types the API documents: they are kept "
    "but no view counts them.",
)
FINDINGS: tuple[Finding, ...] = (
    LOCAL_TIME,
    CLICK_BEFORE_OPEN,
    ZERO_DURATION,
    EXTREME_DURATION,
    UNKNOWN_TYPE,
)
FINDING_BY_KEY = {f.key: f for f in FINDINGS}


# --- findings ------------------------------------------------------------------------------------
def _problem_flag(events: pd.DataFrame, bit: int) -> np.ndarray:
    problems = events[schema.DATA_PROBLEMS].to_numpy(dtype=np.uint16, na_value=0)
    return (problems & bit) != 0


def _clicks_before_opens(events: pd.DataFrame) -> np.ndarray:
    """Mask of email clicks earlier than the first open of the same contact and email."""
    out = np.zeros(len(events), dtype=bool)
    clicks = type_mask(events, (schema.CLICK_EMAIL,))
    opens = type_mask(events, (schema.OPEN_EMAIL,))
    if not clicks.any() or not opens.any():
        return out
    rows = clicks | opens
    contact = codes_and_labels(events[schema.CONTACT_ID], rows)[0]
    communication = codes_and_labels(events[schema.COMMUNICATION_ID], rows)[0]
    campaign = codes_and_labels(events[schema.CAMPAIGN_ID], rows)[0]
    # one email key: the communication when given, else the campaign (kept apart by parity)
    email = np.where(
        communication >= 0, communication * 2, np.where(campaign >= 0, campaign * 2 + 1, -1)
    )
    at = time_ns(events[schema.CREATED_AT])[rows]
    usable = (contact >= 0) & (email >= 0) & (at != NAT_NS)
    pair = contact * (int(email.max()) + 1) + email
    is_open = opens[rows] & usable
    first_open = pd.Series(at[is_open]).groupby(pair[is_open]).min()
    is_click = clicks[rows] & usable
    opened_at = first_open.reindex(pair[is_click]).to_numpy(dtype="float64")
    before = ~np.isnan(opened_at) & (at[is_click] < opened_at)
    positions = np.flatnonzero(rows)[is_click]
    out[positions] = before
    return out


def finding_masks(events: pd.DataFrame) -> dict[str, np.ndarray]:
    """One boolean array per finding (keys of ``FINDINGS``), aligned with the rows of ``events``."""
    visits = type_mask(events, schema.VISIT_TYPES)
    minutes = events[schema.VISIT_DURATION_MIN].to_numpy(dtype=float, na_value=np.nan)
    return {
        LOCAL_TIME.key: _problem_flag(events, schema.PROBLEM_LOCAL_TIME_MISMATCH),
        CLICK_BEFORE_OPEN.key: _clicks_before_opens(events),
        ZERO_DURATION.key: visits & (minutes == 0),
        EXTREME_DURATION.key: visits & (minutes > EXTREME_VISIT_MIN),
        UNKNOWN_TYPE.key: _problem_flag(events, schema.PROBLEM_UNKNOWN_TYPE),
    }


Masks = Mapping[str, np.ndarray]


def finding_rows(events: pd.DataFrame, key: str, masks: Masks | None = None) -> pd.DataFrame:
    """The rows of ``events`` behind one finding (``key`` of ``FINDINGS``), in their order
    (``masks``: the ``finding_masks`` of ``events``, when already computed)."""
    if key not in FINDING_BY_KEY:
        raise ValueError(f"unknown finding {key!r}")
    masks = finding_masks(events) if masks is None else masks
    return events[masks[key]]


def findings_summary(events: pd.DataFrame, masks: Masks | None = None) -> pd.DataFrame:
    """Every finding with its row count: columns ``key``, ``finding``, ``rows``, ``definition``."""
    masks = finding_masks(events) if masks is None else masks
    return pd.DataFrame(
        {
            "key": [f.key for f in FINDINGS],
            "finding": [f.label for f in FINDINGS],
            "rows": pd.array([int(masks[f.key].sum()) for f in FINDINGS], dtype="int64"),
            "definition": [f.help for f in FINDINGS],
        }
    )


def problem_rows(events: pd.DataFrame, label: str) -> pd.DataFrame:
    """The rows flagged with one reader problem, named by its label in
    ``schema.PROBLEM_LABELS`` (the ``problem`` column of ``frame.data_quality_report``)."""
    bits = {text: bit for bit, text in schema.PROBLEM_LABELS.items()}
    if label not in bits:
        raise ValueError(f"unknown problem {label!r}")
    return events[_problem_flag(events, bits[label])]


def problems_table(events: pd.DataFrame) -> pd.DataFrame:
    """Rows per reader problem (``frame.data_quality_report``): columns ``problem``, ``rows``."""
    return data_quality_report(events)


# --- per day and event type ----------------------------------------------------------------------
def utc_days(events: pd.DataFrame) -> pd.Series:
    """The UTC day of each event as text (``2024-03-05``), ``NO_TIME`` when it has no time."""
    ns = time_ns(events[schema.CREATED_AT])
    days = np.where(ns != NAT_NS, ns // NS_PER_DAY, 0).astype("datetime64[D]").astype(str)
    return pd.Series(np.where(ns != NAT_NS, days, NO_TIME), index=events.index, dtype=object)


def by_day_and_type(events: pd.DataFrame, masks: Masks | None = None) -> pd.DataFrame:
    """Events and the rows of each finding per UTC day and event type.

    Columns ``day``, ``type``, ``events`` and one per finding (named by its label); one row per
    day and type that has events, days in order, types by name.
    """
    labels = [f.label for f in FINDINGS]
    if events.empty:
        columns = {DAY: "object", TYPE: "object", EVENTS: "int64"}
        columns.update({label: "int64" for label in labels})
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})
    masks = finding_masks(events) if masks is None else masks
    ns = time_ns(events[schema.CREATED_AT])
    day = np.where(ns != NAT_NS, ns // NS_PER_DAY, -1)  # -1: no time (before every real day)
    type_code, type_names = codes_and_labels(events[schema.TYPE])
    first_day = int(day[day >= 0].min()) if (day >= 0).any() else 0
    day_index = np.where(day >= 0, day - first_day + 1, 0)
    width = len(type_names) + 1  # + "no type"
    cell = day_index * width + (type_code + 1)  # one number per (day, type) cell
    cells, inverse = np.unique(cell, return_inverse=True)
    counts = {EVENTS: np.bincount(inverse, minlength=len(cells))}
    for f in FINDINGS:
        counts[f.label] = np.bincount(inverse, weights=masks[f.key], minlength=len(cells))
    day_of_cell = cells // width
    type_of_cell = cells % width - 1
    day_text = np.where(
        day_of_cell > 0,
        (day_of_cell - 1 + first_day).astype("datetime64[D]").astype(str),
        NO_TIME,
    )
    names = np.array([NO_TYPE, *map(str, type_names)], dtype=object)
    return day_and_type_table(day_text, names[type_of_cell + 1], counts)


def day_and_type_table(
    days: Sequence[str], types: Sequence[str], counts: Mapping[str, Sequence[int]]
) -> pd.DataFrame:
    """The ``by_day_and_type`` table of its cells: the UTC day (text, or ``NO_TIME``) and type
    (or ``NO_TYPE``) of each cell, and its ``counts`` by column (``events`` and each finding's
    label), sorted by day then type."""
    labels = [EVENTS, *(f.label for f in FINDINGS)]
    table = pd.DataFrame(
        {
            DAY: pd.Series(list(days), dtype=object),
            TYPE: pd.Series(list(types), dtype=object),
            **{name: np.asarray(counts[name]).astype(np.int64) for name in labels},
        }
    )
    return table.sort_values([DAY, TYPE], kind="stable", ignore_index=True)


# --- days: sync state ----------------------------------------------------------------------------
STATUS_COMPLETE = "complete"
STATUS_NOT_SETTLED = "not settled yet"
STATUS_MISSING = "not fetched"
DAY_COLUMNS = {
    DAY: "object",
    "status": "object",
    "events stored": "Int64",
    "duplicates dropped": "Int64",
    "rows received": "Int64",
    "API count": "Int64",
    "count minus rows": "Int64",
    "fetched at (UTC)": "object",
}
STATE_COLUMNS = ("day", "complete", "fetched_at", "events", "api_count", "duplicates_dropped")


def day_status(
    states: pd.DataFrame,
    start: dt.date,
    end: dt.date,
    unsettled: Collection[dt.date] = (),
) -> pd.DataFrame:
    """One row per UTC day of ``start..end``: whether the store holds it and has settled it, and
    its sync figures.

    ``states`` has the store's sync state, one row per stored day (columns ``STATE_COLUMNS``:
    ``day`` a date, ``complete``, ``fetched_at``, ``events`` stored, ``api_count`` or missing,
    ``duplicates_dropped``); ``unsettled`` are the days the store says must be fetched again.
    Rows received are the events stored plus the duplicates dropped; the API count is compared
    with them. Status: ``complete``, ``not settled yet`` or ``not fetched``.
    """
    by_day = {row["day"]: row for row in states.to_dict("records")} if len(states) else {}
    unsettled = set(unsettled)
    rows = []
    day = start
    while day <= end:
        state = by_day.get(day)
        if state is None:
            rows.append({DAY: day.isoformat(), "status": STATUS_MISSING})
        else:
            stored = _count(state.get("events"))
            dropped = _count(state.get("duplicates_dropped"))
            api = _count(state.get("api_count"))
            received = None if stored is None else stored + (dropped or 0)
            settled = bool(state.get("complete")) and day not in unsettled
            fetched = state.get("fetched_at")
            rows.append(
                {
                    DAY: day.isoformat(),
                    "status": STATUS_COMPLETE if settled else STATUS_NOT_SETTLED,
                    "events stored": stored,
                    "duplicates dropped": dropped,
                    "rows received": received,
                    "API count": api,
                    "count minus rows": None if api is None or received is None else api - received,
                    "fetched at (UTC)": _utc_text(fetched),
                }
            )
        day += dt.timedelta(days=1)
    table = pd.DataFrame(rows, columns=list(DAY_COLUMNS))
    return table.astype(DAY_COLUMNS)


def _count(value: object) -> int | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    return int(value)  # type: ignore[call-overload]


def _utc_text(value: object) -> str | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    moment = pd.Timestamp(value)  # type: ignore[arg-type]
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
    return moment.strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class DaySummary:
    """Totals of ``day_status``: duplicates dropped, API count minus rows, days not ready."""

    duplicates_dropped: int
    count_gap: int | None  # None when no day has an API count
    days_not_ready: int
    days: int


def day_summary(days: pd.DataFrame) -> DaySummary:
    """The totals of a ``day_status`` table (missing figures count as nothing)."""
    gaps = days["count minus rows"].dropna()
    return DaySummary(
        duplicates_dropped=int(days["duplicates dropped"].fillna(0).sum()),
        count_gap=int(gaps.sum()) if len(gaps) else None,
        days_not_ready=int((days["status"] != STATUS_COMPLETE).sum()),
        days=len(days),
    )


def days_not_ready(days: pd.DataFrame) -> pd.DataFrame:
    """The rows of a ``day_status`` table whose day is missing or not settled."""
    return days[days["status"] != STATUS_COMPLETE]


# --- headline figures ----------------------------------------------------------------------------
def finding_counts(events: pd.DataFrame, masks: Masks | None = None) -> dict[str, int]:
    """How many rows of ``events`` there are (``events``), carry a reader problem
    (``problems``) and are behind each finding (by its key)."""
    masks = finding_masks(events) if masks is None else masks
    problems = events[schema.DATA_PROBLEMS].to_numpy(dtype=np.uint16, na_value=0)
    counts = {EVENTS: len(events), "problems": int(np.count_nonzero(problems))}
    counts.update({f.key: int(masks[f.key].sum()) for f in FINDINGS})
    return counts


def counts_of_day_table(per_day: pd.DataFrame, problems: int) -> dict[str, int]:
    """``finding_counts`` of the events behind a ``by_day_and_type`` table (its totals), with
    ``problems`` rows carrying a reader problem."""
    counts = {EVENTS: int(per_day[EVENTS].sum()), "problems": int(problems)}
    counts.update({f.key: int(per_day[f.label].sum()) for f in FINDINGS})
    return counts


def quality_kpis(events: pd.DataFrame, days: pd.DataFrame, masks: Masks | None = None) -> list[Kpi]:
    """The page's headline figures from the events shown and their ``day_status`` table: events
    stored, duplicates dropped, API count minus rows, days not ready, rows with a reader problem,
    and rows behind each finding."""
    return kpis_of_counts(finding_counts(events, masks), days)


def kpis_of_counts(counts: Mapping[str, int], days: pd.DataFrame) -> list[Kpi]:
    """``quality_kpis`` of the ``finding_counts`` of the events shown and their ``day_status``
    table."""
    summary = day_summary(days)
    kpis = [
        Kpi("events", "Events stored", float(counts[EVENTS]), None, EVENTS_HELP, "count"),
        Kpi(
            "duplicates",
            "Duplicates dropped",
            float(summary.duplicates_dropped),
            None,
            DUPLICATES_HELP,
            "count",
        ),
        Kpi(
            "count_gap",
            "API count minus rows received",
            None if summary.count_gap is None else float(summary.count_gap),
            None,
            COUNT_GAP_HELP,
            "count",
            note=None if summary.count_gap is not None else "The API gave no count for these days.",
        ),
        Kpi(
            "days_not_ready",
            "Days missing or not settled",
            float(summary.days_not_ready),
            None,
            DAYS_NOT_READY_HELP,
            "count",
        ),
        Kpi(
            "problems",
            "Rows with a reader problem",
            float(counts["problems"]),
            None,
            PROBLEMS_HELP,
            "count",
        ),
    ]
    kpis += [Kpi(f.key, f.label, float(counts[f.key]), None, f.help, "count") for f in FINDINGS]
    return kpis

"""Loyalty: do new guests come back, how often guests come, who is new, back or gone, who lapsed.

Every figure counts **visit days**: a guest's WiFi visits on one local day count once, the
vendor's own rule for returning visits (a visit is returning only when the previous one was on
another day). Days and weeks are local to the location; weeks run Monday to Sunday. Inputs are
never modified.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from c4w import schema
from c4w.metrics.overview import (
    NAT_NS,
    NS_PER_DAY,
    _visit_times,  # the visit's start and local day, as the returning share places it
    codes_and_labels,
    empty_table,
    type_mask,
)

WEEK, MONTH = "week", "month"
EXACT, OR_LATER = "exact", "or_later"
FIRST_VISIT, FIRST_SIGNUP = "visit", "signup"
_EPOCH = dt.date(1970, 1, 1)

RETENTION_HELP = (
    "PostHog's first-time retention: guests are grouped by the {period} of their first WiFi "
    "visit in the loaded history (or their first sign-up). Week k is the share of the group, "
    "of its full size, with a visit in the k-th {period} after that one ({mode}). "
    "A {period} that is not over yet shows as not known, not as zero."
)
MODE_TEXT = {EXACT: "in that {period} itself", OR_LATER: "in that {period} or any later one"}
FREQUENCY_HELP = (
    "Guests by how many days they visited in the selected dates: 1, 2, 3–5, 6–10 or more than 10 "
    "visit days (several visits on one day count once)."
)
RHYTHM_HELP = (
    "Guests by how often they come, from the average gap between their visit days in the "
    "selected dates: daily = at least 4 visit days, 1.5 days apart or less on average; weekly = "
    "at least 2 visit days, 7 days apart or less; monthly = at least 2 visit days, 31 days apart "
    "or less; occasional = the rest (one visit day only, or gaps over 31 days)."
)
LIFECYCLE_HELP = (
    "PostHog's lifecycle, per calendar week: new = first visit in the loaded history that week; "
    "returning = came that week and the week before; resurrecting = came that week, not the week "
    "before, but some time earlier; dormant = came the week before but not that week (drawn "
    "below zero)."
)
LAPSED_HELP = (
    "Guests with at least {k} visit days up to the end of the selected dates whose last WiFi "
    "visit was {d} or more days before that day."
)

FREQUENCY_BUCKETS = ("1", "2", "3–5", "6–10", "10+")
_FREQUENCY_EDGES = np.array([2, 3, 6, 11])  # visit days at which the next bucket starts
RHYTHM_BUCKETS = ("daily", "weekly", "monthly", "occasional")
DAILY_MIN_DAYS, DAILY_MAX_GAP = 4, 1.5
WEEKLY_MAX_GAP, MONTHLY_MAX_GAP = 7.0, 31.0
LIFECYCLE_STATES = ("new", "returning", "resurrecting", "dormant")
MESSAGE_TYPES = (
    schema.SEND_EMAIL,
    schema.OPEN_EMAIL,
    schema.CLICK_EMAIL,
    schema.SEND_SMS,
    schema.CLICK_SMS,
)  # the events whose email and phone the lapsed list shows


# --- guest days --------------------------------------------------------------------------------
def guest_days(events: pd.DataFrame) -> pd.DataFrame:
    """One row per guest and local day with a WiFi visit: contact (text), day (days since
    1970-01-01, local), visits (WiFi visits that day). Visits with no guest or time are left out."""
    rows = type_mask(events, (schema.VISIT,))
    if not rows.any():
        return empty_table({"contact": "object", "day": "int64", "visits": "int64"})
    _, day = _visit_times(events, rows)
    codes, labels = codes_and_labels(events[schema.CONTACT_ID], rows)
    known = (codes >= 0) & (day != NAT_NS)
    code, day = codes[known], day[known].astype(np.int64)
    if not len(code):
        return empty_table({"contact": "object", "day": "int64", "visits": "int64"})
    low = int(day.min())
    span = int(day.max()) - low + 1
    keys, visits = np.unique(code * span + (day - low), return_counts=True)
    return pd.DataFrame(
        {
            "contact": np.asarray(labels, dtype=object)[keys // span],
            "day": keys % span + low,
            "visits": visits.astype(np.int64),
        }
    )


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01 (the day numbers `guest_days` uses)."""
    return (day - _EPOCH).days


def day_date(number: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(number))


def period_of(days: np.ndarray, period: str = WEEK) -> np.ndarray:
    """Period number of each day number: weeks from Monday (1970-01-01 was a Thursday), or
    calendar months since January 1970."""
    days = np.asarray(days, dtype=np.int64)
    if period == WEEK:
        return (days + 3) // 7
    if period == MONTH:
        return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    raise ValueError(f"period must be {WEEK!r} or {MONTH!r}, not {period!r}")


def period_start(number: int, period: str = WEEK) -> dt.date:
    """The first day of period `number`."""
    if period == WEEK:
        return day_date(number * 7 - 3)
    return np.datetime64(int(number), "M").astype("datetime64[D]").astype(object)


def period_end(number: int, period: str = WEEK) -> dt.date:
    """The last day of period `number`."""
    return period_start(number + 1, period) - dt.timedelta(days=1)


def first_signup_days(events: pd.DataFrame) -> pd.Series:
    """Local day number of each guest's first sign-up, indexed by contact."""
    rows = type_mask(events, (schema.SIGNUP,))
    if not rows.any():
        return pd.Series(dtype="int64")
    local = events[schema.CREATED_AT_LOCAL].to_numpy()[rows].astype("datetime64[ns]")
    ns = local.astype(np.int64)
    codes, labels = codes_and_labels(events[schema.CONTACT_ID], rows)
    ok = (codes >= 0) & (ns != NAT_NS)
    frame = pd.DataFrame({"code": codes[ok], "day": ns[ok] // NS_PER_DAY})
    first = frame.groupby("code")["day"].min()
    return pd.Series(
        first.to_numpy(dtype=np.int64), index=np.asarray(labels, dtype=object)[first.index]
    )


# --- retention cohorts ---------------------------------------------------------------------------
def retention_cohorts(
    history: pd.DataFrame,
    start: dt.date,
    end: dt.date,
    last_complete_day: dt.date,
    period: str = WEEK,
    mode: str = EXACT,
    max_periods: int = 12,
    cohort_by: str = FIRST_VISIT,
) -> pd.DataFrame:
    """Retention of the guests first seen on days `start..end`, from `history` (every loaded
    event, as far back and forward as it goes).

    A guest belongs to the cohort of the period (week or month) of their first visit in
    `history` (or first sign-up, `cohort_by="signup"`). For k = 1..`max_periods`, `returned` is
    how many of the cohort made a visit in the k-th period after the cohort's own ("exact"), or
    in that period or any later one ("or_later"); `share` is `returned / cohort_size`. A period
    that ends after `last_complete_day` is not over: `known` is False and `returned`/`share` are
    missing (<NA> / NaN), never zero. Columns: cohort (first day of the period), cohort_size,
    period (k), period_start, returned, share, known.
    """
    signups = first_signup_days(history) if cohort_by == FIRST_SIGNUP else None
    return cohorts_of_days(
        guest_days(history),
        start,
        end,
        last_complete_day,
        period=period,
        mode=mode,
        max_periods=max_periods,
        cohort_by=cohort_by,
        first_signups=signups,
    )


def cohorts_of_days(
    days: pd.DataFrame,
    start: dt.date,
    end: dt.date,
    last_complete_day: dt.date,
    period: str = WEEK,
    mode: str = EXACT,
    max_periods: int = 12,
    cohort_by: str = FIRST_VISIT,
    first_signups: pd.Series | None = None,
) -> pd.DataFrame:
    """``retention_cohorts`` of the guest days ``days`` (``guest_days`` of the history) and, to
    group by sign-up, each guest's first sign-up day (``first_signups``, as
    ``first_signup_days`` gives it)."""
    if mode not in MODE_TEXT:
        raise ValueError(f"mode must be {EXACT!r} or {OR_LATER!r}, not {mode!r}")
    columns = {
        "cohort": "object",
        "cohort_size": "int64",
        "period": "int64",
        "period_start": "object",
        "returned": "Int64",
        "share": "float64",
        "known": "bool",
    }
    days = days.loc[days["day"] <= day_number(last_complete_day)]
    if days.empty:
        return empty_table(columns)
    first_visit = days.groupby("contact", sort=False, observed=True)["day"].min()
    if cohort_by == FIRST_SIGNUP:
        if first_signups is None:
            raise ValueError("cohorts by sign-up need each guest's first sign-up day")
        first = first_signups
    elif cohort_by == FIRST_VISIT:
        first = first_visit
    else:
        raise ValueError(f"cohort_by must be {FIRST_VISIT!r} or {FIRST_SIGNUP!r}")
    first = first[(first >= day_number(start)) & (first <= day_number(end))]
    if first.empty:
        return empty_table(columns)
    cohort_of = pd.Series(period_of(first.to_numpy(), period), index=first.index)
    sizes = cohort_of.value_counts().sort_index()
    # each guest day's place among the cohort's guests, found per guest, not per row
    who, guests = codes_and_labels(days["contact"])
    place_of = pd.Index(cohort_of.index, dtype=object).get_indexer(pd.Index(guests, dtype=object))
    place = np.append(place_of, -1)[who]  # code -1 (no guest) takes the -1 appended
    mine = days.loc[place >= 0]
    own = cohort_of.to_numpy()[place[place >= 0]]
    offset = period_of(mine["day"].to_numpy(), period) - own
    later = pd.DataFrame({"contact": who[place >= 0], "k": offset, "cohort": own})
    later = later.loc[(later["k"] >= 1) & (later["k"] <= max_periods)]
    if mode == EXACT:
        pairs = later.drop_duplicates(["contact", "k"])
        counts = pairs.groupby(["cohort", "k"]).size()
    else:  # a guest counts in every period up to the last one they came back in
        last = later.groupby(["cohort", "contact"])["k"].max().reset_index()
        ks = np.arange(1, max_periods + 1)
        hit = last["k"].to_numpy()[:, None] >= ks[None, :]
        counts = (
            pd.DataFrame(hit, columns=ks)
            .assign(cohort=last["cohort"].to_numpy())
            .groupby("cohort")
            .sum()
            .stack()
        )
    limit = day_number(last_complete_day)
    out = []
    for cohort, size in sizes.items():
        for k in range(1, max_periods + 1):
            over = day_number(period_end(int(cohort) + k, period)) <= limit
            returned = int(counts.get((cohort, k), 0)) if over else pd.NA
            out.append(
                {
                    "cohort": period_start(int(cohort), period),
                    "cohort_size": int(size),
                    "period": k,
                    "period_start": period_start(int(cohort) + k, period),
                    "returned": returned,
                    "share": returned / size if over else np.nan,
                    "known": over,
                }
            )
    table = pd.DataFrame(out)
    return table.astype({"returned": "Int64", "share": "float64", "known": "bool"})


def retention_grid(cohorts: pd.DataFrame, period: str = WEEK) -> pd.DataFrame:
    """The cohorts as a table: one row per cohort (first day, guests), one share column per
    period ("Week 1", ...); periods not over yet stay empty."""
    label = "Week" if period == WEEK else "Month"
    if cohorts.empty:
        return pd.DataFrame({"Cohort": [], "Guests": []})
    wide = cohorts.pivot(index=["cohort", "cohort_size"], columns="period", values="share")
    wide.columns = [f"{label} {k}" for k in wide.columns]
    wide = wide.reset_index().rename(columns={"cohort": "Cohort", "cohort_size": "Guests"})
    return wide


# --- how many, how often ------------------------------------------------------------------------
def visit_frequency(events: pd.DataFrame) -> pd.DataFrame:
    """Guests by visit days in `events`: bucket (1, 2, 3–5, 6–10, 10+), guests, share.
    Every bucket is listed, also when empty."""
    return frequency_of_days(guest_days(events))


def frequency_of_days(days: pd.DataFrame) -> pd.DataFrame:
    """``visit_frequency`` of the guest days ``days``."""
    per_guest = days.groupby("contact", sort=False, observed=True).size().to_numpy()
    index = np.searchsorted(_FREQUENCY_EDGES, per_guest, side="right")
    counts = np.bincount(index, minlength=len(FREQUENCY_BUCKETS))
    total = counts.sum()
    return pd.DataFrame(
        {
            "bucket": list(FREQUENCY_BUCKETS),
            "guests": counts.astype(np.int64),
            "share": counts / total if total else np.zeros(len(counts)),
        }
    )


def visit_rhythm(events: pd.DataFrame) -> pd.DataFrame:
    """Guests by how often they come (daily, weekly, monthly, occasional; see RHYTHM_HELP):
    bucket, guests, share, with every bucket listed."""
    return rhythm_of_days(guest_days(events))


def rhythm_of_days(days: pd.DataFrame) -> pd.DataFrame:
    """``visit_rhythm`` of the guest days ``days``."""
    grouped = days.groupby("contact", sort=False, observed=True)["day"]
    n = grouped.size().to_numpy()
    span = (grouped.max() - grouped.min()).to_numpy()
    gap = np.where(n > 1, span / np.maximum(n - 1, 1), np.inf)
    index = np.select(
        [
            (n >= DAILY_MIN_DAYS) & (gap <= DAILY_MAX_GAP),
            (n >= 2) & (gap <= WEEKLY_MAX_GAP),
            (n >= 2) & (gap <= MONTHLY_MAX_GAP),
        ],
        [0, 1, 2],
        3,
    )
    counts = np.bincount(index, minlength=len(RHYTHM_BUCKETS))
    total = counts.sum()
    return pd.DataFrame(
        {
            "bucket": list(RHYTHM_BUCKETS),
            "guests": counts.astype(np.int64),
            "share": counts / total if total else np.zeros(len(counts)),
        }
    )


# --- lifecycle ------------------------------------------------------------------------------------
def lifecycle(
    history: pd.DataFrame, start: dt.date, end: dt.date, last_complete_day: dt.date
) -> pd.DataFrame:
    """PostHog's lifecycle per calendar week overlapping `start..end`, from `history`.

    Columns: week (its Monday), new, returning, resurrecting, dormant (as a negative count, to
    be drawn below zero), week_over (False while the week has days after `last_complete_day`).
    A guest's first week is the week of their first visit in `history`.
    """
    return lifecycle_of_days(guest_days(history), start, end, last_complete_day)


def lifecycle_of_days(
    days: pd.DataFrame, start: dt.date, end: dt.date, last_complete_day: dt.date
) -> pd.DataFrame:
    """``lifecycle`` of the guest days ``days`` (``guest_days`` of the history)."""
    columns = {s: "int64" for s in LIFECYCLE_STATES}
    weeks = np.arange(period_of([day_number(start)])[0], period_of([day_number(end)])[0] + 1)
    if days.empty:
        table = pd.DataFrame({s: np.zeros(len(weeks), dtype=np.int64) for s in columns})
    else:
        who = pd.factorize(days["contact"])[0].astype(np.int64)
        week = period_of(days["day"].to_numpy())
        low = int(min(week.min(), weeks[0])) - 1
        span = int(max(week.max(), weeks[-1])) - low + 2
        active = np.unique(who * span + (week - low))  # one key per guest and active week
        guest, w = active // span, active % span + low
        first = np.full(int(guest.max()) + 1, np.iinfo(np.int64).max)
        np.minimum.at(first, guest, w)
        came_before = np.isin(active - 1, active)  # active the week before too
        is_new = first[guest] == w
        stays = np.isin(active + 1, active)  # active the week after too

        def per_week(mask: np.ndarray, shift: int = 0) -> np.ndarray:
            return np.bincount(w[mask] + shift - low, minlength=span)[weeks - low]

        table = pd.DataFrame(
            {
                "new": per_week(is_new),
                "returning": per_week(came_before & ~is_new),
                "resurrecting": per_week(~came_before & ~is_new),
                "dormant": -per_week(~stays, shift=1),
            }
        ).astype(columns)
    table.insert(0, "week", [period_start(int(w)) for w in weeks])
    limit = day_number(last_complete_day)
    table["week_over"] = [day_number(period_end(int(w))) <= limit for w in weeks]
    return table


# --- lapsed guests --------------------------------------------------------------------------------
LAPSED_COLUMNS = {
    schema.CONTACT_ID: "object",
    schema.EMAIL: "object",
    schema.PHONE: "object",
    "visit_days": "int64",
    "first_visit": "object",
    "last_visit": "object",
    "days_away": "int64",
    "usual_location": "object",
}
DETAIL_COLUMNS = (schema.EMAIL, schema.PHONE, "usual_location")


def lapsed_guests(
    history: pd.DataFrame, as_of: dt.date, min_visit_days: int = 3, days_away: int = 30
) -> pd.DataFrame:
    """Guests who came on at least `min_visit_days` days up to `as_of` and whose last visit was
    `days_away` or more days before `as_of`: an audience for a win-back campaign.

    Columns: contact_id, email, phone (the latest their email and SMS events carried),
    visit_days, first_visit, last_visit, days_away, usual_location (where most of their visits
    were). Longest away first.
    """
    lapsed = lapsed_of_days(guest_days(history), as_of, min_visit_days, days_away)
    return with_details(lapsed, contact_details(history, lapsed[schema.CONTACT_ID].tolist()))


def lapsed_of_days(
    days: pd.DataFrame, as_of: dt.date, min_visit_days: int = 3, days_away: int = 30
) -> pd.DataFrame:
    """``lapsed_guests`` of the guest days ``days``, without the contact details (see
    ``with_details``): contact_id, visit_days, first_visit, last_visit, days_away."""
    columns = {c: t for c, t in LAPSED_COLUMNS.items() if c not in DETAIL_COLUMNS}
    days = days.loc[days["day"] <= day_number(as_of)]
    if days.empty:
        return empty_table(columns)
    per = days.groupby("contact", sort=True, observed=True)["day"].agg(["size", "min", "max"])
    away = day_number(as_of) - per["max"]
    per = per.loc[(per["size"] >= min_visit_days) & (away >= days_away)]
    if per.empty:
        return empty_table(columns)
    out = pd.DataFrame(
        {
            schema.CONTACT_ID: per.index.to_numpy(dtype=object),
            "visit_days": per["size"].to_numpy(dtype=np.int64),
            "first_visit": [day_date(d) for d in per["min"]],
            "last_visit": [day_date(d) for d in per["max"]],
            "days_away": (day_number(as_of) - per["max"]).to_numpy(dtype=np.int64),
        }
    )
    return out.sort_values(
        ["days_away", schema.CONTACT_ID], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def with_details(lapsed: pd.DataFrame, details: pd.DataFrame) -> pd.DataFrame:
    """The lapsed guests with their email, phone and usual location from ``details`` (indexed
    by contact id, as ``contact_details`` gives it), in ``lapsed_guests``' columns."""
    if lapsed.empty:
        return empty_table(LAPSED_COLUMNS)
    who = lapsed[schema.CONTACT_ID].tolist()
    known = details.reindex(who)
    out = lapsed.copy()
    for column in DETAIL_COLUMNS:
        out[column] = known[column].astype(object).where(known[column].notna(), None).tolist()
    return out[list(LAPSED_COLUMNS)]


def contact_details(history: pd.DataFrame, who: Sequence[str]) -> pd.DataFrame:
    """Of each guest in ``who``: the latest email and phone their email and SMS events in
    ``history`` carried, and the location with most of their visits (ties: the first name in
    alphabetical order); indexed by contact id, missing values None."""
    return pd.DataFrame(
        {
            schema.EMAIL: _latest_value(history, schema.EMAIL, who),
            schema.PHONE: _latest_value(history, schema.PHONE, who),
            "usual_location": _usual_location(history, who),
        },
        index=pd.Index(list(who), dtype=object, name=schema.CONTACT_ID),
        dtype=object,
    )


def _latest_value(history: pd.DataFrame, column: str, who: Sequence[str]) -> list[object]:
    known = history[column].notna().to_numpy(dtype=bool) & type_mask(history, MESSAGE_TYPES)
    part = history.loc[known, [schema.CONTACT_ID, column]]
    part = part.loc[part[schema.CONTACT_ID].isin(list(who)).to_numpy(dtype=bool)]
    latest = part.astype({schema.CONTACT_ID: "object"}).groupby(schema.CONTACT_ID)[column].last()
    return latest.reindex(list(who)).astype(object).where(lambda v: v.notna(), None).tolist()


def _usual_location(history: pd.DataFrame, who: Sequence[str]) -> list[object]:
    rows = np.flatnonzero(type_mask(history, (schema.VISIT,)))
    contacts = history[schema.CONTACT_ID].take(rows)
    keep = contacts.isin(list(who)).to_numpy(dtype=bool)
    rows = rows[keep]
    part = pd.DataFrame(
        {
            "contact": contacts.astype("object").to_numpy()[keep],
            "place": history[schema.LOCATION_NAME].take(rows).astype("object").to_numpy(),
        }
    )
    part = part.loc[part["place"].notna()]
    counts = part.groupby(["contact", "place"]).size().reset_index(name="n")
    counts = counts.sort_values(["contact", "n", "place"], ascending=[True, False, True])
    usual = counts.drop_duplicates("contact").set_index("contact")["place"]
    return usual.reindex(list(who)).astype(object).where(lambda v: v.notna(), None).tolist()


COLUMN_LABELS: dict[str, str] = {
    "visit_days": "Visit days",
    "first_visit": "First visit",
    "last_visit": "Last visit",
    "days_away": "Days since last visit",
    "usual_location": "Usual location",
}


def readable(table: pd.DataFrame) -> pd.DataFrame:
    """Column names in the user's words (contact_id, email and phone kept for linking/masking)."""
    return table.rename(columns=COLUMN_LABELS)

"""Ordered conversion funnels per contact (signup -> email sent -> opened -> clicked, and others).

Every contact is followed on their own: they enter at their first step-1 event of the chosen
dates, and each next step counts only when it happens after the previous step and within the
conversion window counted from entry. The work is done on sorted numpy arrays, without a Python
loop per contact, so a million events take a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from c4w import formatting, schema

EMAIL_STEPS: tuple[str, ...] = (
    schema.SIGNUP,
    schema.SEND_EMAIL,
    schema.OPEN_EMAIL,
    schema.CLICK_EMAIL,
)
SMS_STEPS: tuple[str, ...] = (schema.SIGNUP, schema.SEND_SMS, schema.CLICK_SMS)
PRESETS: dict[str, tuple[str, ...]] = {
    "Email: signup → sent → opened → clicked": EMAIL_STEPS,
    "SMS: signup → sent → clicked": SMS_STEPS,
}
DEFAULT_WINDOW = timedelta(days=14)

STEP_LABELS = formatting.EVENT_LABELS  # the same label for an event type on every page

BY_LOCATION = "location"
BY_CAMPAIGN = "campaign"
BY_FIRST_MESSAGE = "first_message_campaign"  # the campaign of the first email or SMS step
NO_LOCATION = "(no location on the entry event)"
NO_CAMPAIGN = "(did not reach step 2)"
CAMPAIGN_UNKNOWN = "(campaign not named)"

MESSAGE_TYPES: frozenset[str] = frozenset(
    (schema.SEND_EMAIL, schema.OPEN_EMAIL, schema.CLICK_EMAIL, schema.SEND_SMS, schema.CLICK_SMS)
)
SEND_TYPES: frozenset[str] = frozenset((schema.SEND_EMAIL, schema.SEND_SMS))
# The event types the ready-made funnels follow: the page reads these (and a custom funnel's
# steps) only, never the whole history of the dates.
PRESET_TYPES: frozenset[str] = frozenset(t for steps in PRESETS.values() for t in steps)


# the columns `funnel` and `campaigns_sent` read: who, when, where, and which campaign
COLUMNS_READ: tuple[str, ...] = (
    schema.TYPE,
    schema.CONTACT_ID,
    schema.CREATED_AT,
    schema.LOCATION_ID,
    schema.LOCATION_NAME,
    schema.CAMPAIGN_ID,
    schema.CAMPAIGN_NAME,
)


def types_to_read(steps: Sequence[str]) -> list[str]:
    """The event types a funnel of `steps` needs from the history (the preset ones too, so
    every funnel shares one read of the dates): `funnel` looks at no other row."""
    return sorted(PRESET_TYPES | set(steps))


COUNTING_RULE = (
    "How contacts are counted: a contact enters the funnel at their first step-1 event within "
    "the selected dates; with locations chosen, the contact is kept only if that event happened "
    "at one of them (for a signup: the store where the contact signed up). Each next step counts "
    "only if the contact has that event later than the step before it (the earliest one that "
    "qualifies) and no later than the conversion window after entering, also when that is after "
    "the last selected day. A contact counts at most once per step; a step reached out of order "
    "(for example a click before the open) does not count."
)
ONE_MESSAGE_RULE = (
    "Steps follow one message: an email or SMS step after a send counts only for the same "
    "campaign as that send (an open of another campaign's email does not count)."
)
ANY_CAMPAIGN_RULE = (
    "Any campaign: an email or SMS step counts whichever campaign it belongs to, so an open of "
    "another campaign's email after the send counts too."
)
ENTERED_HELP = "Contacts with at least one step-1 event in the selected dates."
COMPLETED_HELP = "Contacts who reached every step, in order, within the conversion window."
OVERALL_CONVERSION_HELP = "Contacts who reached the last step, as a share of those who entered."
TIME_TO_COMPLETE_HELP = (
    "Median time from entering the funnel to reaching the last step, over contacts who did."
)

_NOT_REACHED = np.iinfo(np.int64).max  # "previous step time" for contacts out of the funnel
_NEVER = np.iinfo(np.int64).min  # deadline for contacts out of the funnel


def step_label(event_type: str) -> str:
    """The user's words for an event type used as a funnel step."""
    if event_type in STEP_LABELS:
        return STEP_LABELS[event_type]
    return str(event_type).replace("_", " ").capitalize()


def step_names(steps: Sequence[str]) -> list[str]:
    """Numbered step names ("1. Sign-up", ...), unique even when a type repeats."""
    return [f"{i}. {step_label(t)}" for i, t in enumerate(steps, start=1)]


@dataclass(frozen=True, eq=False)  # one result is itself only: the memo keys it by identity
class FunnelResult:
    """A computed funnel.

    `steps`: one row per step (step, event_type, name, contacts, step_conversion,
    overall_conversion, dropped, median_time_from_previous).
    `journeys`: one row per contact who entered (contact_id, entered_at, entry_location,
    campaign, steps_reached, then one time column per step name; NaT when not reached).
    """

    step_types: tuple[str, ...]
    window: timedelta
    steps: pd.DataFrame
    journeys: pd.DataFrame
    names: list[str] = field(default_factory=list)
    location_filter_ignored: bool = False  # step-1 events carry no location to filter on
    open_windows: int = 0  # entrants whose conversion window ends after the data does

    @property
    def entered(self) -> int:
        """Contacts who entered the funnel."""
        return int(self.steps["contacts"].iloc[0]) if len(self.steps) else 0

    @property
    def completed(self) -> int:
        """Contacts who reached the last step."""
        return int(self.steps["contacts"].iloc[-1]) if len(self.steps) else 0

    @property
    def overall_conversion(self) -> float:
        """Completed as a share of entered (NaN when nobody entered)."""
        return self.completed / self.entered if self.entered else float("nan")

    @property
    def median_time_to_complete(self) -> pd.Timedelta:
        """Median time from entry to the last step over contacts who completed (NaT if none)."""
        if not len(self.journeys) or len(self.names) < 2:
            return pd.NaT
        done = self.journeys[self.names[-1]] - self.journeys[self.names[0]]
        return done.median()


def _as_ns(values: pd.Series) -> np.ndarray:
    """UTC times as int64 nanoseconds (NaT becomes the int64 minimum)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(values):
        return values.dt.as_unit("ns").array.asi8
    converted = pd.to_datetime(values, utc=True, errors="coerce")
    return converted.dt.as_unit("ns").array.asi8


def _utc_bound(value: date | datetime | pd.Timestamp | None, *, end: bool) -> int | None:
    """A date-range bound as int64 ns UTC; a plain date as end bound means the whole day."""
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        ts = pd.Timestamp(value).tz_localize("UTC")
        if end:
            ts = ts + pd.Timedelta(days=1) - pd.Timedelta(1, unit="ns")
        return int(ts.as_unit("ns").value)
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.as_unit("ns").value)


def _text_or(values: pd.Series, fallback: pd.Series, missing: str) -> pd.Series:
    """First non-empty text of `values`, else `fallback`, else the `missing` label."""
    out = values.astype("object").where(values.notna(), fallback.astype("object"))
    out = out.where(pd.notna(out) & (out.astype(str).str.strip() != ""), missing)
    return out.astype(str)


def _empty_result(steps: tuple[str, ...], window: timedelta) -> FunnelResult:
    names = step_names(steps)
    step_rows = pd.DataFrame(
        {
            "step": np.arange(1, len(steps) + 1, dtype="int64"),
            "event_type": list(steps),
            "name": names,
            "contacts": np.zeros(len(steps), dtype="int64"),
            "step_conversion": np.full(len(steps), np.nan),
            "overall_conversion": np.full(len(steps), np.nan),
            "dropped": np.zeros(len(steps), dtype="int64"),
            "median_time_from_previous": pd.Series([pd.NaT] * len(steps), dtype="timedelta64[ns]"),
        }
    )
    journeys = pd.DataFrame(
        {
            schema.CONTACT_ID: pd.Series([], dtype="str"),
            "entered_at": pd.Series([], dtype="datetime64[ns, UTC]"),
            "entry_location": pd.Series([], dtype="str"),
            "campaign": pd.Series([], dtype="str"),
            BY_FIRST_MESSAGE: pd.Series([], dtype="str"),
            "steps_reached": pd.Series([], dtype="int64"),
        }
    )
    for name in names:
        journeys[name] = pd.Series([], dtype="datetime64[ns, UTC]")
    return FunnelResult(steps, window, step_rows, journeys, names)


def campaigns_sent(events: pd.DataFrame, send_type: str) -> list[str]:
    """The campaign names of the ``send_type`` events, the most sent first."""
    sends = events[(events[schema.TYPE] == send_type).fillna(False).to_numpy()]
    return sends[schema.CAMPAIGN_NAME].dropna().astype(str).value_counts().index.tolist()


def funnel(
    events: pd.DataFrame,
    steps: Sequence[str] = EMAIL_STEPS,
    window: timedelta = DEFAULT_WINDOW,
    *,
    entry_from: date | datetime | None = None,
    entry_to: date | datetime | None = None,
    entry_locations: Sequence[str] | None = None,
    same_campaign: bool = True,
    data_until: date | datetime | pd.Timestamp | None = None,
    entry_campaign: str | None = None,
) -> FunnelResult:
    """Follow every contact through the ordered `steps` (event types); does not mutate `events`.

    Entry is the contact's first step-1 event, optionally limited to `entry_from`..`entry_to`
    (dates are whole UTC days, inclusive); with `entry_locations` (ids), the contact is kept
    only when that first event is at one of them. When no step-1 event carries a location
    (e.g. a funnel starting at "email sent"), the location filter cannot apply: it is ignored
    and `location_filter_ignored` says so.
    Step k counts when its event is strictly later than step k-1's time and no later than
    entry + `window`; the earliest such event is the step's time. Later steps may fall after
    `entry_to`, as long as they are in `events` and inside the window. With `same_campaign`,
    an email or SMS step after a send step counts only for the campaign (id, else name) of the
    latest send step before it. `data_until` (the moment the data ends) counts the entrants
    whose window is not over yet (`open_windows`). `entry_campaign` (a campaign id, or a name)
    lets in only step-1 events of that campaign (a funnel that starts at one campaign's send).
    """
    steps = tuple(str(s) for s in steps)
    if not steps:
        raise ValueError("a funnel needs at least one step")
    if events is None or events.empty:
        return _empty_result(steps, window)

    types = events[schema.TYPE]
    times_all = _as_ns(events[schema.CREATED_AT])
    relevant = (
        types.isin(set(steps)).to_numpy(dtype=bool)
        & events[schema.CONTACT_ID].notna().to_numpy(dtype=bool)
        & (times_all != _NEVER)
    )
    rows = np.flatnonzero(relevant)
    if rows.size == 0:
        return _empty_result(steps, window)

    codes, contacts = pd.factorize(events[schema.CONTACT_ID].iloc[rows], sort=False)
    times = times_all[rows]
    type_text = types.iloc[rows]
    order = np.lexsort((times, codes))
    rows, codes, times = rows[order], codes[order], times[order]
    type_values = np.asarray(type_text.astype("object").to_numpy())[order]

    entry_mask = type_values == steps[0]
    low, high = _utc_bound(entry_from, end=False), _utc_bound(entry_to, end=True)
    if low is not None:
        entry_mask &= times >= low
    if high is not None:
        entry_mask &= times <= high
    if entry_campaign is not None:
        ids = events[schema.CAMPAIGN_ID].iloc[rows].astype("object").to_numpy()
        titles = events[schema.CAMPAIGN_NAME].iloc[rows].astype("object").to_numpy()
        entry_mask &= (ids == entry_campaign) | (titles == entry_campaign)
    ignored = False
    at_chosen: np.ndarray | None = None  # per sorted row: at one of the chosen locations
    if entry_locations:
        where = events[schema.LOCATION_ID].iloc[rows]
        if where[entry_mask].notna().any():
            at_chosen = where.isin(set(map(str, entry_locations))).to_numpy(dtype=bool)
        else:
            ignored = bool(entry_mask.any())
    campaign = _campaign_codes(events, rows) if same_campaign else None

    n_contacts = len(contacts)
    window_ns = int(pd.Timedelta(window).as_unit("ns").value)
    step_times: list[np.ndarray] = []  # per step: time per contact code, or _NOT_REACHED
    step_rows: list[np.ndarray] = []  # per step: frame row of the qualifying event, or -1

    prev = np.full(n_contacts, _NOT_REACHED, dtype=np.int64)
    deadline = np.full(n_contacts, _NEVER, dtype=np.int64)
    no_send = np.iinfo(np.int64).min
    sent = np.full(n_contacts, no_send, dtype=np.int64)  # campaign of the latest send step
    for k, step_type in enumerate(steps):
        if k == 0:
            mask = entry_mask
        else:
            mask = (type_values == step_type) & (times > prev[codes]) & (times <= deadline[codes])
            if campaign is not None and step_type in MESSAGE_TYPES:
                required = sent[codes]
                mask &= (required == no_send) | (campaign == required)
        hit = np.flatnonzero(mask)
        hit_codes = codes[hit]
        first = np.ones(hit.size, dtype=bool)
        first[1:] = hit_codes[1:] != hit_codes[:-1]  # sorted by contact, then time
        hit = hit[first]
        if k == 0 and at_chosen is not None:
            hit = hit[at_chosen[hit]]  # entered elsewhere: not in this location's funnel
        if campaign is not None and step_type in SEND_TYPES:
            sent[codes[hit]] = campaign[hit]
        reached_codes = codes[hit]
        now = np.full(n_contacts, _NOT_REACHED, dtype=np.int64)
        now[reached_codes] = times[hit]
        where = np.full(n_contacts, -1, dtype=np.int64)
        where[reached_codes] = rows[hit]
        if k == 0:
            deadline[reached_codes] = times[hit] + window_ns
        step_times.append(now)
        step_rows.append(where)
        prev = now

    entered_codes = np.flatnonzero(step_times[0] != _NOT_REACHED)
    if entered_codes.size == 0:
        return _empty_result(steps, window)
    result = _assemble(events, steps, window, contacts, entered_codes, step_times, step_rows)
    open_windows = 0
    if data_until is not None:
        ends = step_times[0][entered_codes] + window_ns
        open_windows = int((ends > _utc_bound(data_until, end=True)).sum())
    return replace(result, location_filter_ignored=ignored, open_windows=open_windows)


def _campaign_codes(events: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """A code per chosen row for its campaign: the campaign id, else its name; rows with
    neither share the code -1 (an unnamed campaign)."""
    ids = events[schema.CAMPAIGN_ID].iloc[rows].astype("object")
    names = events[schema.CAMPAIGN_NAME].iloc[rows].astype("object")
    key = ids.where(ids.notna(), "name:" + names.astype(str).where(names.notna(), ""))
    key = key.where(ids.notna() | names.notna(), None)
    codes, _ = pd.factorize(key, use_na_sentinel=True)
    return codes.astype(np.int64)


def _assemble(
    events: pd.DataFrame,
    steps: tuple[str, ...],
    window: timedelta,
    contacts: pd.Index,
    entered: np.ndarray,
    step_times: list[np.ndarray],
    step_rows: list[np.ndarray],
) -> FunnelResult:
    """Build the journeys and steps frames from the per-step arrays."""
    names = step_names(steps)
    journeys = pd.DataFrame({schema.CONTACT_ID: np.asarray(contacts.astype("object"))[entered]})
    journeys[schema.CONTACT_ID] = journeys[schema.CONTACT_ID].astype("str")
    reached = np.zeros(entered.size, dtype=np.int64)
    still_in = np.ones(entered.size, dtype=bool)
    for name, per_contact in zip(names, step_times, strict=True):
        t = per_contact[entered]
        ok = t != _NOT_REACHED
        still_in &= ok
        reached += still_in
        journeys[name] = pd.to_datetime(np.where(ok, t, _NEVER), utc=True).as_unit("ns")
    journeys.insert(1, "entered_at", journeys[names[0]])

    entry_rows = step_rows[0][entered]
    location = _text_or(
        events[schema.LOCATION_NAME].iloc[entry_rows].reset_index(drop=True),
        events[schema.LOCATION_ID].iloc[entry_rows].reset_index(drop=True),
        NO_LOCATION,
    )
    journeys.insert(2, "entry_location", location.to_numpy())
    if len(steps) > 1:
        second = step_rows[1][entered]
        has = second >= 0
        take = np.where(has, second, 0)
        name = events[schema.CAMPAIGN_NAME].iloc[take].reset_index(drop=True)
        cid = events[schema.CAMPAIGN_ID].iloc[take].reset_index(drop=True)
        campaign = _text_or(name, cid, CAMPAIGN_UNKNOWN).where(has, NO_CAMPAIGN)
    else:
        campaign = pd.Series(NO_CAMPAIGN, index=range(entered.size))
    journeys.insert(3, "campaign", campaign.to_numpy())
    journeys.insert(4, BY_FIRST_MESSAGE, _first_message_campaign(events, steps, step_rows, entered))
    journeys.insert(5, "steps_reached", reached)

    counts = np.array([(reached >= k).sum() for k in range(1, len(steps) + 1)], dtype=np.int64)
    first_count = counts[0]
    previous = np.concatenate([[first_count], counts[:-1]])
    medians: list[pd.Timedelta] = [pd.NaT]
    for k in range(1, len(steps)):
        gap = journeys[names[k]] - journeys[names[k - 1]]
        medians.append(gap[reached > k].median() if (reached > k).any() else pd.NaT)
    steps_frame = pd.DataFrame(
        {
            "step": np.arange(1, len(steps) + 1, dtype="int64"),
            "event_type": list(steps),
            "name": names,
            "contacts": counts,
            "step_conversion": np.where(previous > 0, counts / np.maximum(previous, 1), np.nan),
            "overall_conversion": counts / first_count if first_count else np.nan,
            "dropped": previous - counts,
            "median_time_from_previous": pd.Series(medians, dtype="timedelta64[ns]"),
        }
    )
    return FunnelResult(steps, window, steps_frame, journeys, names)


def dropped_contacts(result: FunnelResult, step: int | None = None) -> pd.DataFrame:
    """Contacts who entered but stopped before the end: an audience for the next campaign.

    `step` (2..n) keeps only those who reached step-1 but not `step`; None keeps every drop-out.
    Columns: contact_id, missed_step (first step not reached), last_step_reached,
    last_step_at, entered_at, entry_location, campaign.
    """
    j = result.journeys
    n = len(result.step_types)
    keep = j["steps_reached"] < n
    if step is not None:
        keep &= j["steps_reached"] == step - 1
    out = j.loc[keep]
    reached = out["steps_reached"].to_numpy()
    names = np.asarray(result.names, dtype=object)
    last_at = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns, UTC]")
    for k, name in enumerate(result.names, start=1):
        last_at = last_at.where(reached != k, out[name])
    frame = pd.DataFrame(
        {
            schema.CONTACT_ID: out[schema.CONTACT_ID].to_numpy(),
            "missed_step": names[np.minimum(reached, n - 1)] if len(out) else [],
            "last_step_reached": names[np.maximum(reached - 1, 0)] if len(out) else [],
            "last_step_at": last_at.to_numpy(),
            "entered_at": out["entered_at"].to_numpy(),
            "entry_location": out["entry_location"].to_numpy(),
            "campaign": out["campaign"].to_numpy(),
        }
    )
    frame["last_step_at"] = pd.to_datetime(frame["last_step_at"], utc=True)
    frame["entered_at"] = pd.to_datetime(frame["entered_at"], utc=True)
    return frame.sort_values(["missed_step", "entered_at"], kind="stable").reset_index(drop=True)


def _first_message_campaign(
    events: pd.DataFrame, steps: tuple[str, ...], step_rows: list[np.ndarray], entered: np.ndarray
) -> np.ndarray:
    """Per entrant: the campaign of their first email or SMS step (NO_CAMPAIGN when the funnel
    has none or they did not reach it)."""
    first = next((k for k, t in enumerate(steps) if t in MESSAGE_TYPES), None)
    if first is None:
        return np.full(entered.size, NO_CAMPAIGN, dtype=object)
    at = step_rows[first][entered]
    has = at >= 0
    take = np.where(has, at, 0)
    name = events[schema.CAMPAIGN_NAME].iloc[take].reset_index(drop=True)
    cid = events[schema.CAMPAIGN_ID].iloc[take].reset_index(drop=True)
    return _text_or(name, cid, CAMPAIGN_UNKNOWN).where(has, NO_CAMPAIGN).to_numpy()


def funnel_breakdown(result: FunnelResult, by: str = BY_LOCATION) -> pd.DataFrame:
    """Contacts reaching each step per group, with overall conversion, largest groups first.

    `by="location"` groups by the location of the entry event; `by="campaign"` by the campaign
    of the step-2 event (contacts who never reached step 2 form their own group).
    Columns: group, entered, one count column per step name, overall_conversion.
    """
    column = {
        BY_LOCATION: "entry_location",
        BY_CAMPAIGN: "campaign",
        BY_FIRST_MESSAGE: BY_FIRST_MESSAGE,
    }.get(by)
    if column is None:
        raise ValueError(f"unknown breakdown {by!r}")
    names = result.names
    j = result.journeys
    if j.empty:
        cols = {"group": pd.Series([], dtype="str"), "entered": pd.Series([], dtype="int64")}
        cols.update({n: pd.Series([], dtype="int64") for n in names})
        cols["overall_conversion"] = pd.Series([], dtype="float64")
        return pd.DataFrame(cols)
    reached = j["steps_reached"].to_numpy()
    parts = pd.DataFrame({"group": j[column].to_numpy()})
    for k, name in enumerate(names, start=1):
        parts[name] = (reached >= k).astype(np.int64)
    table = parts.groupby("group", sort=False).sum().reset_index()
    table.insert(1, "entered", table[names[0]].to_numpy())
    table["overall_conversion"] = table[names[-1]] / table["entered"]
    table = table.sort_values(["entered", "group"], ascending=[False, True], kind="stable")
    return table.reset_index(drop=True)


def step_types_present(events: pd.DataFrame) -> list[str]:
    """Event types present in `events`, most frequent first (ties by name), for the
    custom-steps picker."""
    if events is None or events.empty:
        return []
    counts = events[schema.TYPE].dropna().astype("object").value_counts().sort_index()
    counts = counts[counts > 0].sort_values(ascending=False, kind="stable")
    return [str(t) for t in counts.index]


def humanize_duration(value: pd.Timedelta | timedelta | float | None) -> str:
    """A duration in plain words ("3 d 4 h", "2 h 15 min", "40 s"); "–" when unknown."""
    if value is None or pd.isna(value):
        return "–"
    seconds = pd.Timedelta(value).total_seconds()
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    if minutes < 60:
        return f"{minutes:.0f} min"
    hours, mins = divmod(round(minutes), 60)
    if hours < 24:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


COLUMN_LABELS: dict[str, str] = {
    "missed_step": "Stopped before",
    "last_step_reached": "Last step reached",
    "last_step_at": "Last step at (UTC)",
    "entered_at": "Entered at (UTC)",
    "entry_location": "Location of signup",
    "campaign": "Campaign (step 2)",
    BY_FIRST_MESSAGE: "Campaign of the first message",
    "steps_reached": "Steps reached",
    "entered": "Entered",
    "overall_conversion": "Reached the last step (%)",
}
GROUP_LABELS = {
    BY_LOCATION: "Location of signup",
    BY_CAMPAIGN: "Campaign (step 2)",
    BY_FIRST_MESSAGE: "Campaign of the first email or SMS step",
}


def readable(table: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """The same table with column names in the user's words (contact_id is kept as it is, so
    tables can link to the Contact page), shares as percentages with one decimal; `by` names
    the breakdown's group column."""
    labels = dict(COLUMN_LABELS)
    if by is not None:
        labels["group"] = GROUP_LABELS.get(by, "Group")
    out = table.rename(columns=labels)
    if "overall_conversion" in table.columns:
        out = out.assign(
            **{labels["overall_conversion"]: formatting.percent_points(table["overall_conversion"])}
        )
    return out


STEP_MINUTES = "Median minutes from previous step"
FROM_PREVIOUS = "From previous step (%)"
FROM_ENTRY = "From entry (%)"


def steps_table(result: FunnelResult) -> pd.DataFrame:
    """One row per step in the user's words: Step, Event, Contacts, From previous step (%),
    From entry (%) (percentages, one decimal), Stopped before this step, and the median time
    from the previous step as a number of minutes (one decimal), for screen and CSV alike."""
    s = result.steps
    return pd.DataFrame(
        {
            "Step": s["name"].to_numpy(),
            "Event": [formatting.event_label(t) for t in s["event_type"]],
            "Contacts": s["contacts"].to_numpy(),
            FROM_PREVIOUS: formatting.percent_points(s["step_conversion"]).to_numpy(),
            FROM_ENTRY: formatting.percent_points(s["overall_conversion"]).to_numpy(),
            "Stopped before this step": s["dropped"].to_numpy(),
            STEP_MINUTES: formatting.minutes(s["median_time_from_previous"]).to_numpy(),
        }
    )

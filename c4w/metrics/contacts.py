"""One contact's story: summary figures, a timeline of their events, and safe id handling.

Contact ids typed by the user or carried in a link are cleaned by `c4w.ui.clean_contact_id`
before they reach these functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from c4w import formatting, schema

FIRST_SEEN_HELP = "Day (UTC) of the contact's earliest event in the loaded data."
LAST_SEEN_HELP = "Day (UTC) of the contact's latest event in the loaded data."
SIGNUP_SOURCE_HELP = "How the contact signed up (wifi, kiosk, api, mobile app...)."
VISITS_HELP = "WiFi visits: completed stays at a location (visit events)."
GEOFENCE_VISITS_HELP = "Completed stays inside a geofence (geo_visit events)."
DWELL_HELP = "Median length of the contact's WiFi visits, in minutes."
LOCATIONS_HELP = (
    "Different WiFi locations where the contact was in the store: a WiFi login, visit or "
    "arrival. Emails and SMS received do not count."
)
IN_STORE_TYPES: tuple[str, ...] = (schema.LOGIN, schema.VISIT, schema.ARRIVING)
RECEIVED_HELP = "Different email or SMS campaigns sent to the contact."
OPENED_HELP = "Different email campaigns the contact opened."
CLICKED_HELP = "Different email or SMS campaigns the contact clicked."

TYPE_LABELS = formatting.EVENT_LABELS  # one label per event type on every page
TIMELINE_COLUMNS: tuple[str, ...] = (
    "type",
    "label",
    "start",
    "end",
    "duration_min",
    "place",
    "campaign",
)


def type_label(event_type: object) -> str:
    """The user's words for an event type (unknown types are shown as they are)."""
    return formatting.event_label(event_type)


def events_of_contact(events: pd.DataFrame, contact_id: str) -> pd.DataFrame:
    """The events of one contact from a loaded frame, oldest first; does not mutate `events`."""
    if events is None or events.empty:
        return events.iloc[0:0] if events is not None else pd.DataFrame()
    mine = events.loc[(events[schema.CONTACT_ID] == contact_id).fillna(False).to_numpy(bool)]
    return mine.sort_values(schema.CREATED_AT, kind="stable")


@dataclass(frozen=True)
class ContactSummary:
    """The headline figures of one contact (see the *_HELP definitions)."""

    contact_id: str
    events: int = 0
    first_seen: pd.Timestamp | None = None
    last_seen: pd.Timestamp | None = None
    signup_source: str | None = None
    visits: int = 0
    geofence_visits: int = 0
    median_dwell_min: float = float("nan")
    locations_visited: list[str] = field(default_factory=list)
    campaigns_received: int = 0
    campaigns_opened: int = 0
    campaigns_clicked: int = 0

    @property
    def found(self) -> bool:
        """Whether the contact has any event."""
        return self.events > 0


def _campaigns(events: pd.DataFrame, types: tuple[str, ...]) -> int:
    """Distinct campaigns (by id, else name) among events of `types`; an event without any
    campaign reference counts as one campaign of its own."""
    rows = events.loc[events[schema.TYPE].astype("object").isin(types).to_numpy()]
    if rows.empty:
        return 0
    key = rows[schema.CAMPAIGN_ID].astype("object")
    key = key.where(key.notna(), rows[schema.CAMPAIGN_NAME].astype("object"))
    return int(key.nunique(dropna=True) + key.isna().sum())


def contact_summary(events: pd.DataFrame, contact_id: str) -> ContactSummary:
    """Headline figures for one contact from their events (any order); no mutation."""
    if events is None or events.empty:
        return ContactSummary(contact_id=contact_id)
    times = events[schema.CREATED_AT]
    types = events[schema.TYPE].astype("object")
    signups = events.loc[(types == schema.SIGNUP).to_numpy()]
    source = None
    if len(signups):
        first = signups.sort_values(schema.CREATED_AT, kind="stable", na_position="last")
        sources = first[schema.SIGNUP_SOURCE].dropna()
        source = str(sources.iloc[0]) if len(sources) else None
    visits = events.loc[(types == schema.VISIT).to_numpy()]
    dwell = visits[schema.VISIT_DURATION_MIN].median() if len(visits) else float("nan")
    in_store = events.loc[types.isin(IN_STORE_TYPES).to_numpy()]
    names = in_store[schema.LOCATION_NAME].astype("object")
    place = names.where(names.notna(), in_store[schema.LOCATION_ID].astype("object")).dropna()
    places = [str(p) for p in place.value_counts(sort=True).index]
    return ContactSummary(
        contact_id=contact_id,
        events=len(events),
        first_seen=times.min() if times.notna().any() else None,
        last_seen=times.max() if times.notna().any() else None,
        signup_source=source,
        visits=len(visits),
        geofence_visits=int((types == schema.GEO_VISIT).sum()),
        median_dwell_min=float(dwell) if pd.notna(dwell) else float("nan"),
        locations_visited=places,
        campaigns_received=_campaigns(events, (schema.SEND_EMAIL, schema.SEND_SMS)),
        campaigns_opened=_campaigns(events, (schema.OPEN_EMAIL,)),
        campaigns_clicked=_campaigns(events, (schema.CLICK_EMAIL, schema.CLICK_SMS)),
    )


TIMELINE_MAX_EVENTS = 2_000  # a chart of more dots is slow to send and to draw, and unreadable


def latest_on_timeline(
    timeline: pd.DataFrame, limit: int | None = None
) -> tuple[pd.DataFrame, int]:
    """The latest ``limit`` rows of ``timeline`` (oldest first, as `contact_timeline` gives
    them; default ``TIMELINE_MAX_EVENTS``) and how many were left out."""
    limit = TIMELINE_MAX_EVENTS if limit is None else limit
    left_out = max(len(timeline) - limit, 0)
    return timeline.iloc[left_out:], left_out


def contact_timeline(events: pd.DataFrame) -> pd.DataFrame:
    """One row per event, oldest first: type, label, start, end, duration_min, place, campaign.

    Visits (WiFi and geofence) span from their start to start + duration; when the start is
    missing it is the event time minus the duration (a visit event is sent when the visit
    ends). Other events are instants (`end` is NaT).
    """
    if events is None or events.empty:
        return pd.DataFrame(
            {
                "type": pd.Series([], dtype="str"),
                "label": pd.Series([], dtype="str"),
                "start": pd.Series([], dtype="datetime64[ns, UTC]"),
                "end": pd.Series([], dtype="datetime64[ns, UTC]"),
                "duration_min": pd.Series([], dtype="float64"),
                "place": pd.Series([], dtype="str"),
                "campaign": pd.Series([], dtype="str"),
            }
        )
    types = events[schema.TYPE].astype("object")
    created = events[schema.CREATED_AT].dt.as_unit("ns")
    duration = events[schema.VISIT_DURATION_MIN].astype("float64")
    is_visit = types.isin(schema.VISIT_TYPES) & duration.notna()
    span = pd.to_timedelta(duration.where(is_visit), unit="min")
    visit_start = events[schema.VISIT_START].dt.as_unit("ns")
    start = visit_start.where(is_visit & visit_start.notna(), created - span)
    start = start.where(is_visit, created)
    end = (start + span).where(is_visit)

    def text(first: str, second: str) -> pd.Series:
        a = events[first].astype("object")
        return a.where(a.notna(), events[second].astype("object")).fillna("").astype(str)

    place = text(schema.LOCATION_NAME, schema.LOCATION_ID)
    geofence = text(schema.GEOFENCE_NAME, schema.GEOFENCE_ID)
    place = place.where(place != "", geofence)
    frame = pd.DataFrame(
        {
            "type": types.fillna("unknown").astype(str).to_numpy(),
            "label": [type_label(t) for t in types.to_numpy()],
            "start": start.to_numpy(),
            "end": end.to_numpy(),
            "duration_min": duration.where(is_visit).to_numpy(),
            "place": place.to_numpy(),
            "campaign": text(schema.CAMPAIGN_NAME, schema.CAMPAIGN_ID).to_numpy(),
        }
    )
    frame["start"] = pd.to_datetime(frame["start"], utc=True)
    frame["end"] = pd.to_datetime(frame["end"], utc=True)
    frame = frame.loc[frame["start"].notna()]
    return frame.sort_values("start", kind="stable").reset_index(drop=True)


def contact_event_table(events: pd.DataFrame) -> pd.DataFrame:
    """The contact's raw events, newest first, columns that are empty for them left out."""
    if events is None or events.empty:
        return pd.DataFrame(columns=list(schema.EVENT_COLUMNS))
    table = events.sort_values(schema.CREATED_AT, ascending=False, kind="stable")
    keep = [c for c in table.columns if table[c].notna().any() or c in (schema.EVENT_ID,)]
    return table[keep].reset_index(drop=True)


def most_active_contacts(events: pd.DataFrame, limit: int = 20) -> pd.DataFrame:
    """The contacts with the most events (contact_id, events, visits, last_seen), to pick from."""
    empty = pd.DataFrame(
        {
            schema.CONTACT_ID: pd.Series([], dtype="str"),
            "events": pd.Series([], dtype="int64"),
            "visits": pd.Series([], dtype="int64"),
            "last_seen": pd.Series([], dtype="datetime64[ns, UTC]"),
        }
    )
    if events is None or events.empty:
        return empty
    codes, ids = pd.factorize(events[schema.CONTACT_ID], sort=False)
    known = codes >= 0
    if not known.any():
        return empty
    is_visit = (events[schema.TYPE] == schema.VISIT).fillna(False).to_numpy(dtype=bool)
    counts = np.bincount(codes[known], minlength=len(ids))
    visits = np.bincount(codes[known & is_visit], minlength=len(ids))
    # most events first, then most visits; only the top `limit` are looked at further
    order = np.lexsort((-visits, -counts))[:limit]
    top = events.loc[np.isin(codes, order)]
    last = top.groupby(codes[np.isin(codes, order)], sort=False)[schema.CREATED_AT].max()
    out = pd.DataFrame(
        {
            schema.CONTACT_ID: np.asarray(ids.astype("object"))[order],
            "events": counts[order].astype("int64"),
            "visits": visits[order].astype("int64"),
            "last_seen": last.reindex(order).to_numpy(),
        }
    )
    out[schema.CONTACT_ID] = out[schema.CONTACT_ID].astype("str")
    out["last_seen"] = pd.to_datetime(out["last_seen"], utc=True)
    return out


def _utc_text(value: pd.Timestamp | None, pattern: str) -> str:
    """A moment (naive ones are UTC) written in UTC with ``pattern``; "–" when unknown."""
    if value is None or pd.isna(value):
        return "–"
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.strftime(pattern)


def format_time(value: pd.Timestamp | None) -> str:
    """A moment as "Tue 05 Mar 2024 18:30 UTC"; "–" when unknown."""
    return _utc_text(value, "%a %d %b %Y %H:%M UTC")


def format_day(value: pd.Timestamp | None) -> str:
    """The UTC day of a moment as "05 Mar 2024" (short enough for a headline figure)."""
    return _utc_text(value, "%d %b %Y")


def format_minutes(value: float) -> str:
    """Minutes as "32 min" or "1 h 05 min"; "–" when unknown."""
    if value is None or pd.isna(value):
        return "–"
    minutes = round(float(value))
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"

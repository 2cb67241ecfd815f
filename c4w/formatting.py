"""One way to write things on every page and in every download.

- days: ``01 Nov 2026``; ranges ``01 Nov 2026 – 30 Nov 2026``; ``1 day`` / ``30 days``;
- counts with thousands separators: ``1,260``;
- rates as percentages with one decimal: ``41.2%`` (``percent_points`` for tables and CSVs:
  the number 41.2 under a header that ends in ``(%)``);
- one label per event type (``event_label``), the same in legends, funnels and tables;
- CSV tables: numbers rounded (``round_numbers``), days as ISO dates without a time
  (``iso_days``), lengths of time as minutes (``minutes``).

Pure functions, no Streamlit: pages, charts and metrics all use them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from c4w import schema

DAY_FORMAT = "%d %b %Y"  # 01 Nov 2026
PERCENT_SUFFIX = " (%)"  # a table column holding percentages (41.2) ends with this
CSV_DECIMALS = 2

# One label per event type, in the marketer's words: legends, funnels, tables and tiles.
EVENT_LABELS: dict[str, str] = {
    schema.VISIT: "WiFi visit",
    schema.GEO_VISIT: "Geofence visit",
    schema.LOGIN: "WiFi login",
    schema.ARRIVING: "WiFi arrival",
    schema.GEO_ARRIVING: "Geofence arrival",
    schema.SIGNUP: "Sign-up",
    schema.SEND_EMAIL: "Email sent",
    schema.OPEN_EMAIL: "Email opened",
    schema.CLICK_EMAIL: "Email clicked",
    schema.SEND_SMS: "SMS sent",
    schema.CLICK_SMS: "SMS clicked",
    schema.SURVEY: "Survey answer",
    schema.PROMO: "Promo click",
}
EVENT_PLURALS: dict[str, str] = {
    schema.VISIT: "WiFi visits",
    schema.GEO_VISIT: "Geofence visits",
    schema.LOGIN: "WiFi logins",
    schema.ARRIVING: "WiFi arrivals",
    schema.GEO_ARRIVING: "Geofence arrivals",
    schema.SIGNUP: "Sign-ups",
    schema.SEND_EMAIL: "Emails sent",
    schema.OPEN_EMAIL: "Emails opened",
    schema.CLICK_EMAIL: "Emails clicked",
    schema.SEND_SMS: "SMS sent",
    schema.CLICK_SMS: "SMS clicked",
    schema.SURVEY: "Survey answers",
    schema.PROMO: "Promo clicks",
}


def event_label(event_type: object) -> str:
    """The label of an event type ("WiFi login"); an unknown type as it came."""
    if event_type is None or (not isinstance(event_type, str) and pd.isna(event_type)):
        return "Unknown event"
    return EVENT_LABELS.get(str(event_type), str(event_type))


def event_label_plural(event_type: object) -> str:
    """Many events of a type ("WiFi logins"); an unknown type as "<type> events"."""
    if event_type is None or (not isinstance(event_type, str) and pd.isna(event_type)):
        return "Unknown events"
    return EVENT_PLURALS.get(str(event_type), f"{event_type} events")


def format_day(day: dt.date | dt.datetime | pd.Timestamp | None) -> str:
    """``01 Nov 2026``; "–" when unknown."""
    if day is None or (isinstance(day, pd.Timestamp) and pd.isna(day)):
        return "–"
    return day.strftime(DAY_FORMAT)


def format_range(start: dt.date, end: dt.date) -> str:
    """``01 Nov 2026 – 30 Nov 2026``, or one day when start and end are the same."""
    if start == end:
        return format_day(start)
    return f"{format_day(start)} – {format_day(end)}"


def days_text(days: int) -> str:
    """``1 day``, ``30 days``, ``1,000 days``."""
    return f"{days:,} day" if days == 1 else f"{days:,} days"


def format_count(value: float | int | None) -> str:
    """``1,260``; "–" when unknown."""
    if value is None or pd.isna(value):
        return "–"
    return f"{value:,.0f}"


def format_percent(share: float | None) -> str:
    """A share (0.412) as ``41.2%``; "–" when unknown."""
    if share is None or pd.isna(share):
        return "–"
    return f"{share * 100:.1f}%"


def percent_points(shares: pd.Series | np.ndarray | Iterable[float]) -> pd.Series:
    """Shares (0.412) as percentages rounded to one decimal (41.2), for tables and CSVs."""
    values = pd.Series(shares, dtype="float64") if not isinstance(shares, pd.Series) else shares
    return (values.astype("float64") * 100).round(1)


def minutes(durations: pd.Series) -> pd.Series:
    """Lengths of time (timedeltas) as a number of minutes, rounded to one decimal."""
    return (pd.to_timedelta(durations).dt.total_seconds() / 60).round(1)


def iso_days(days: pd.Series) -> pd.Series:
    """Days (datetimes at midnight, or dates) as ISO text without a time: ``2026-11-01``."""
    return pd.Series(pd.to_datetime(days).dt.strftime("%Y-%m-%d"), index=days.index, dtype="str")


def round_numbers(table: pd.DataFrame, decimals: int = CSV_DECIMALS) -> pd.DataFrame:
    """A copy of ``table`` with every float column rounded (no 96.60000000000002); whole
    numbers and text are left as they are. ``table`` is not changed."""
    floats = [c for c in table.columns if pd.api.types.is_float_dtype(table[c].dtype)]
    if not floats:
        return table
    out = table.copy()
    for column in floats:
        out[column] = out[column].round(decimals)
    return out


# Headers of the events columns in the user's words, for downloads.
EVENT_COLUMN_LABELS: dict[str, str] = {
    schema.EVENT_ID: "Event id",
    schema.TYPE: "Event",
    schema.CONTACT_ID: "Contact id",
    schema.ORGANIZATION_ID: "Organization id",
    schema.CREATED_AT: "Time (UTC)",
    schema.CREATED_AT_LOCAL: "Local time",
    schema.TIMEZONE: "Time zone",
    schema.LOCATION_ID: "Location id",
    schema.LOCATION_NAME: "Location",
    schema.HOTSPOT_ID: "Hotspot id",
    schema.GEOFENCE_ID: "Geofence id",
    schema.GEOFENCE_NAME: "Geofence",
    schema.GEOFENCE_EXT_ID: "Geofence external id",
    schema.GEOFENCE_SHAPE: "Geofence shape",
    schema.GEOFENCE_LON: "Geofence longitude",
    schema.GEOFENCE_LAT: "Geofence latitude",
    schema.GEOFENCE_RADIUS_M: "Geofence radius (metres)",
    schema.VISIT_START: "Visit start (UTC)",
    schema.VISIT_START_LOCAL: "Visit start (local time)",
    schema.VISIT_DURATION_MIN: "Visit length (minutes)",
    schema.APP_OS: "App system",
    schema.SIGNUP_SOURCE: "Sign-up source",
    schema.CAMPAIGN_ID: "Campaign id",
    schema.CAMPAIGN_NAME: "Campaign",
    schema.COMMUNICATION_ID: "Communication id",
    schema.CHANNEL: "Channel",
    schema.EMAIL: "Email",
    schema.PHONE: "Phone",
    schema.PHONE_PREFIX: "Phone prefix",
    schema.SURVEY_ANSWERS: "Survey answers",
    schema.PROMO_TYPE: "Promo type",
    schema.DATA_PROBLEMS: "Data problems (code)",
    "visit_kind": "Visit kind",
    "place": "Place",
}
# Coordinates keep their precision; every other decimal number is rounded for the file.
_PRECISE_COLUMNS = {schema.GEOFENCE_LON, schema.GEOFENCE_LAT}


def csv_ready(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` as a download wants it: events headers in the user's words
    (``EVENT_COLUMN_LABELS``; other snake_case headers with spaces), event types as their
    label, decimal numbers rounded. Personal columns must be masked before (their names
    change here). ``table`` is not changed."""
    out = round_numbers(table.drop(columns=[c for c in _PRECISE_COLUMNS if c in table.columns]))
    for column in _PRECISE_COLUMNS & set(table.columns):
        out[column] = table[column]
    out = out[list(table.columns)]
    if schema.TYPE in out.columns:
        out = out.copy() if out is table else out
        types = out[schema.TYPE]
        if isinstance(types.dtype, pd.CategoricalDtype):
            labels = [event_label(t) for t in types.cat.categories]
            if len(set(labels)) == len(labels):
                out[schema.TYPE] = types.cat.rename_categories(labels)
            else:
                out[schema.TYPE] = types.astype(object).map(event_label)
        else:
            lookup = {t: event_label(t) for t in pd.unique(types.dropna())}
            out[schema.TYPE] = types.map(lookup)
    names = {
        c: EVENT_COLUMN_LABELS.get(c, c.replace("_", " ").capitalize() if "_" in c else c)
        for c in out.columns
        if isinstance(c, str)
    }
    return out.rename(columns=names)

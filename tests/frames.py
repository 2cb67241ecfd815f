"""Small canonical events frames for the metric and chart tests, built from a few dict rows.

`make_events(rows)` gives every column of `schema.EVENT_COLUMNS` with the dtypes of
`c4w.frame.events_frame`; `event(...)` builds one row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from c4w import schema

# Repeated strings are categories in the canonical frame; unique ones are pandas strings.
CATEGORY_COLUMNS = (
    schema.TYPE,
    schema.CONTACT_ID,
    schema.ORGANIZATION_ID,
    schema.TIMEZONE,
    schema.LOCATION_ID,
    schema.LOCATION_NAME,
    schema.HOTSPOT_ID,
    schema.GEOFENCE_ID,
    schema.GEOFENCE_NAME,
    schema.GEOFENCE_EXT_ID,
    schema.GEOFENCE_SHAPE,
    schema.APP_OS,
    schema.SIGNUP_SOURCE,
    schema.CAMPAIGN_ID,
    schema.CAMPAIGN_NAME,
    schema.COMMUNICATION_ID,
    schema.CHANNEL,
    schema.PHONE_PREFIX,
    schema.PROMO_TYPE,
)
TEXT_COLUMNS = (schema.EVENT_ID, schema.EMAIL, schema.PHONE, schema.SURVEY_ANSWERS)


def _utc(values: list) -> pd.Series:
    return pd.Series(pd.to_datetime(pd.Series(values, dtype=object), utc=True)).dt.as_unit("ns")


def _local(utc: pd.Series, zones: list[str]) -> pd.Series:
    """Wall-clock time of each UTC time in its zone, as naive datetimes."""
    return pd.Series(
        [
            pd.NaT if pd.isna(t) else t.tz_convert(z).tz_localize(None)
            for t, z in zip(utc, zones, strict=True)
        ],
        dtype="datetime64[ns]",
    )


def make_events(rows: list[dict]) -> pd.DataFrame:
    """A canonical events frame (every column, right dtypes) from dict rows keyed by column name.

    Times are UTC text ("2024-03-05 10:00" or ISO); `timezone` defaults to UTC; local times are
    derived from them unless given, as the events frame does. A visit's start defaults to its end
    (`created_at`) minus its duration, as the API emits a visit when it ends (a row giving
    `visit_start: None` keeps it missing). Event ids default to e0, e1...; anything else left
    out is missing.
    """
    data: dict[str, list] = {c: [r.get(c) for r in rows] for c in schema.EVENT_COLUMNS}
    data[schema.EVENT_ID] = [r.get(schema.EVENT_ID, f"e{i}") for i, r in enumerate(rows)]
    zones = [r.get(schema.TIMEZONE) or "UTC" for r in rows]
    data[schema.TIMEZONE] = zones
    frame = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in data.items()})
    created = _utc(data[schema.CREATED_AT])
    duration = pd.Series(
        [np.nan if v is None else float(v) for v in data[schema.VISIT_DURATION_MIN]],
        dtype="float64",
    )
    start = _utc(data[schema.VISIT_START])
    derived = created - pd.to_timedelta(duration, unit="min")
    unnamed = pd.Series([schema.VISIT_START not in r for r in rows], dtype=bool)
    start = start.where(start.notna() | ~unnamed, derived)
    frame[schema.CREATED_AT] = created
    frame[schema.VISIT_START] = start
    frame[schema.VISIT_DURATION_MIN] = duration
    for utc_col, local_col in (
        (schema.CREATED_AT, schema.CREATED_AT_LOCAL),
        (schema.VISIT_START, schema.VISIT_START_LOCAL),
    ):
        given = pd.Series(pd.to_datetime(data[local_col]), dtype="datetime64[ns]")
        derived_local = _local(frame[utc_col], zones)
        frame[local_col] = given.where(given.notna(), derived_local)
    for column in (schema.GEOFENCE_LON, schema.GEOFENCE_LAT, schema.GEOFENCE_RADIUS_M):
        frame[column] = frame[column].astype("float64")
    frame[schema.DATA_PROBLEMS] = pd.Series(
        [r.get(schema.DATA_PROBLEMS) or 0 for r in rows], dtype="uint16"
    )
    for column in CATEGORY_COLUMNS:
        frame[column] = frame[column].astype("category")
    for column in TEXT_COLUMNS:
        frame[column] = frame[column].astype("str").where(frame[column].notna())
    return frame[list(schema.EVENT_COLUMNS)]


def event(kind: str, contact: str | None, at: str, **extra: object) -> dict:
    """One event row: type, contact and UTC time `at`, plus any other columns."""
    return {schema.TYPE: kind, schema.CONTACT_ID: contact, schema.CREATED_AT: at, **extra}

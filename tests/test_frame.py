"""The canonical events frame: the vendor's example, both event shapes, damaged events, helpers.

Expected values are worked out by hand from the JSON in each test (arithmetic in comments).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from c4w import frame
from c4w import schema as s

FIXTURE = Path(__file__).parent / "fixtures" / "vendor_example.json"
ORG = "155d60f21dc1938562900a0e201d54f6"
IVAN = "f4c6be2cebc56bf4b8a16a2d463d5b60"
EMI = "8e62ca2305981e75854dcba1b6491bf5"
MISMATCH = s.PROBLEM_LOCAL_TIME_MISMATCH


@pytest.fixture(scope="module")
def vendor_body() -> bytes:
    return FIXTURE.read_bytes()


@pytest.fixture(scope="module")
def vendor(vendor_body: bytes) -> pd.DataFrame:
    return frame.events_frame(vendor_body)


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def body(*events: object) -> bytes:
    return json.dumps({"generated": "2024-01-01T00:00:00Z", "events": list(events)}).encode()


def wifi_event(
    type_: str = "login",
    event_id: str = "e1",
    created: str = "2024-07-01T12:00:00Z",
    local: str | None = "2024-07-01T08:00:00Z",
    zone: str = "America/New_York",
    **parts: object,
) -> dict:
    """A nested WiFi event (2024-07-01 12:00 UTC is 08:00 in New York, EDT = UTC-4)."""
    when = {"createdAt": created, "timezone": zone}
    if local is not None:
        when["createdAtLocal"] = local
    return {
        "organizationId": "org1",
        "customerId": "c1",
        "event": {"type": type_, "id": event_id, **parts},
        "where": {"locationId": "loc1", "locationName": "Harbour", "hotspotId": "hs1"},
        "when": when,
    }


def one_row(event: object) -> pd.Series:
    """The single row of a body holding `event`."""
    df = frame.events_frame(body(event))
    assert len(df) == 1
    return df.iloc[0]


def has(row: pd.Series, bit: int) -> bool:
    return bool(int(row[s.DATA_PROBLEMS]) & bit)


# --- the vendor's example -----------------------------------------------------------------------
def test_vendor_example_has_19_rows_although_count_says_20(vendor_body, vendor):
    assert json.loads(vendor_body)["count"] == 20
    assert len(vendor) == 19  # 11 WiFi events of Ivan + 8 geofence events of Emi
    assert tuple(vendor.columns) == s.EVENT_COLUMNS
    assert vendor[s.EVENT_ID].iloc[0] == "bd849965350413bc81e19aa5ff1be7ebl"
    assert vendor[s.EVENT_ID].is_unique


def test_vendor_example_types_in_order(vendor):
    expected = (
        ["arriving"]
        + ["login"] * 4
        + ["visit", "arriving"]
        + ["login"] * 3
        + ["signup"]
        + ["geo_visit", "geo_arriving"] * 4
    )
    assert vendor[s.TYPE].astype(str).tolist() == expected


def test_vendor_example_dtypes(vendor):
    dtypes = vendor.dtypes
    for name in s.UTC_TIME_COLUMNS:
        assert str(dtypes[name]) == "datetime64[ns, UTC]"
    for name in s.LOCAL_TIME_COLUMNS:
        assert str(dtypes[name]) == "datetime64[ns]"
    for name in s.FLOAT_COLUMNS:
        assert dtypes[name] == np.float64
    assert dtypes[s.DATA_PROBLEMS] == np.uint16
    assert isinstance(dtypes[s.EVENT_ID], pd.StringDtype)
    assert dtypes[s.EVENT_ID].storage == "pyarrow"
    for name in (s.TYPE, s.TIMEZONE, s.LOCATION_NAME, s.CAMPAIGN_NAME, s.CONTACT_ID, s.APP_OS):
        assert isinstance(dtypes[name], pd.CategoricalDtype), name


def test_vendor_example_visit_durations_in_minutes(vendor):
    visits = vendor[vendor[s.TYPE].isin(s.VISIT_TYPES)]
    # visit 18:41:09 -> emitted 18:56:23 is ~15 min; geo visits 0, 0; 15:43:41 -> 17:09:10 is
    # 85.5 min (85); 18:48:41 -> 05:47:59 next day is 10 h 59 min (659).
    assert visits[s.VISIT_DURATION_MIN].tolist() == [15.0, 0.0, 0.0, 85.0, 659.0]
    arrivals = vendor[vendor[s.TYPE] == "geo_arriving"]
    assert arrivals[s.VISIT_DURATION_MIN].isna().all()  # arrivals carry no duration ...
    assert (arrivals[s.DATA_PROBLEMS] & s.PROBLEM_BAD_DURATION).eq(0).all()  # ... and that is fine


def test_vendor_example_geofence_circle(vendor):
    geo = vendor[vendor[s.TYPE].isin(s.GEOFENCE_TYPES)]
    assert len(geo) == 8
    assert (geo[s.GEOFENCE_LON] == 10.517064).all()  # coordinates are [lon, lat]
    assert (geo[s.GEOFENCE_LAT] == 43.675929).all()
    assert (geo[s.GEOFENCE_RADIUS_M] == 100.0).all()
    assert set(geo[s.GEOFENCE_SHAPE].astype(str)) == {"Circle"}
    assert set(geo[s.GEOFENCE_ID].astype(str)) == {"968bb2b8184f46af916e27aa619791f2"}
    assert set(geo[s.GEOFENCE_NAME].astype(str)) == {"Emi home"}
    assert set(geo[s.GEOFENCE_EXT_ID].astype(str)) == {"Emilia"}
    assert set(geo[s.APP_OS].astype(str)) == {"android"}
    assert geo[s.ORGANIZATION_ID].isna().all()  # geofence events carry no organizationId
    assert set(geo[s.CONTACT_ID].astype(str)) == {EMI}
    assert geo[s.LOCATION_ID].isna().all()
    wifi = vendor[~vendor[s.TYPE].isin(s.GEOFENCE_TYPES)]
    assert wifi[[s.GEOFENCE_LON, s.GEOFENCE_LAT, s.GEOFENCE_RADIUS_M]].isna().all().all()
    assert set(wifi[s.ORGANIZATION_ID].astype(str)) == {ORG}
    assert wifi[s.APP_OS].isna().all()


def test_vendor_example_local_times(vendor):
    first = vendor.iloc[0]
    assert first[s.CREATED_AT] == utc("2022-07-21 18:41:09")
    # Los Angeles in July is UTC-7: 18:41:09 UTC is 11:41:09 local, naive.
    assert first[s.CREATED_AT_LOCAL] == pd.Timestamp("2022-07-21 11:41:09")
    assert first[s.CREATED_AT_LOCAL].tzinfo is None
    visit = vendor.iloc[5]
    assert visit[s.VISIT_START] == utc("2022-07-21 18:41:09")
    assert visit[s.VISIT_START_LOCAL] == pd.Timestamp("2022-07-21 11:41:09")
    # Rome in October is UTC+2: geo visit start 15:37:24 UTC is 17:37:24 local.
    geo_visit = vendor.iloc[11]
    assert geo_visit[s.VISIT_START_LOCAL] == pd.Timestamp("2022-10-04 17:37:24")
    assert geo_visit[s.CREATED_AT_LOCAL] == pd.Timestamp("2022-10-04 17:37:39")
    zones = vendor[s.TIMEZONE].astype(str).tolist()
    assert zones == ["America/Los_Angeles"] * 11 + ["Europe/Rome"] * 8


def test_vendor_example_signup_is_the_only_local_time_mismatch(vendor):
    flagged = vendor[(vendor[s.DATA_PROBLEMS] & MISMATCH) != 0]
    assert flagged[s.TYPE].astype(str).tolist() == ["signup"]
    signup = flagged.iloc[0]
    # 11:10:13 UTC in Los Angeles in June (UTC-7) would be 04:10:13, but it says 13:10:13:
    # the stated wall clock is kept and the row is flagged.
    assert signup[s.CREATED_AT] == utc("2022-06-15 11:10:13")
    assert signup[s.CREATED_AT_LOCAL] == pd.Timestamp("2022-06-15 13:10:13")
    assert signup[s.SIGNUP_SOURCE] == "wifi"
    assert int(signup[s.DATA_PROBLEMS]) == MISMATCH  # and nothing else is wrong with it
    report = frame.data_quality_report(vendor)
    assert report.to_dict("records") == [{"problem": s.PROBLEM_LABELS[MISMATCH], "rows": 1}]


def test_vendor_example_where_parts(vendor):
    wifi = vendor.iloc[:11]
    assert set(wifi[s.LOCATION_NAME].astype(str)) == {"Ivan Home"}
    assert set(wifi[s.LOCATION_ID].astype(str)) == {"ff808081803ff92a01821d4cfd856805"}
    assert set(wifi[s.CONTACT_ID].astype(str)) == {IVAN}
    # the visit event's `where` has no hotspotId; the ten others do
    assert wifi[s.HOTSPOT_ID].isna().tolist() == [False] * 5 + [True] + [False] * 5
    assert vendor[s.SIGNUP_SOURCE].notna().sum() == 1


def test_every_payload_form_gives_the_same_frame(vendor_body, vendor):
    parsed = json.loads(vendor_body)
    pd.testing.assert_frame_equal(frame.events_frame(vendor_body.decode()), vendor)
    pd.testing.assert_frame_equal(frame.events_frame(parsed), vendor)
    pd.testing.assert_frame_equal(frame.events_frame(parsed["events"]), vendor)
    pd.testing.assert_frame_equal(frame.events_frame(bytearray(vendor_body)), vendor)


def test_clean_bodies_take_the_column_wise_path(vendor_body, monkeypatch):
    def refuse(events):
        raise AssertionError("read event by event")

    monkeypatch.setattr(frame, "_python_raw", refuse)
    assert len(frame.events_frame(vendor_body)) == 19
    compact = json.dumps(json.loads(vendor_body), separators=(",", ":")).encode()
    assert len(frame.events_frame(compact)) == 19
    assert len(frame.events_frame(body(FLAT_EMAIL, FLAT_SURVEY))) == 2


def test_missing_values_are_nulls_never_the_text_none(vendor):
    for name in frame.CATEGORY_COLUMNS:
        assert "None" not in set(vendor[name].dropna().astype(str)), name
        assert "nan" not in set(vendor[name].dropna().astype(str)), name
    assert vendor[s.EMAIL].isna().all() and vendor[s.SURVEY_ANSWERS].isna().all()


# --- the flat shape -----------------------------------------------------------------------------
FLAT_EMAIL = {
    "type": "open_email",
    "id": "f1",
    "customerId": "c9",
    "createdAt": "2024-03-10T09:00:00Z",
    "createdAtLocal": "2024-03-10T10:00:00Z",  # Rome in March (before DST) is UTC+1
    "timezone": "Europe/Rome",
    "email": {
        "campaignId": "cmp1",
        "communicationId": "com1",
        "channel": "email",
        "campaignName": "Spring",
        "email": "ada@example.com",
    },
}
FLAT_SMS = {
    "type": "click_sms",
    "id": "f2",
    "customerId": "c9",
    "when": {
        "createdAt": "2024-03-10T09:05:00Z",
        "createdAtLocal": "2024-03-10T10:05:00Z",
        "timezone": "Europe/Rome",
    },
    "sms": {
        "campaignId": "cmp2",
        "communicationId": "com2",
        "channel": "sms",
        "campaignName": "Flash sale",
        "phone": "3331234567",
        "prefix": "+39",
    },
}
FLAT_SURVEY = {
    "type": "survey",
    "id": "f3",
    "customerId": "c9",
    "createdAt": "2024-03-10T09:10:00Z",
    "createdAtLocal": "2024-03-10T10:10:00Z",
    "timezone": "Europe/Rome",
    "survey": {
        "campaignId": "cmp3",
        "campaignName": "Feedback",
        "answerId": "a1",
        "questions": {"question_1": "How was it?", "question_2": "Back soon?"},
        "answers": {"answer_2": "yes", "answer_10": 4, "answer_1": "great"},
    },
}
FLAT_VISIT = {  # the vendor's published schema: no customerId, no `when`
    "type": "visit",
    "id": "f4",
    "visit": {
        "startAt": "2024-03-10T09:00:00Z",
        "startAtLocal": "2024-03-10T10:00:00Z",
        "timezone": "Europe/Rome",
        "duration": 30,
    },
}
FLAT_PROMO = {"type": "promo", "id": "f5", "customerId": "c9", "promo": {"type": "coupon"}}


def test_flat_shape_events():
    df = frame.events_frame(body(FLAT_EMAIL, FLAT_SMS, FLAT_SURVEY, FLAT_VISIT, FLAT_PROMO))
    assert df[s.TYPE].astype(str).tolist() == [
        "open_email",
        "click_sms",
        "survey",
        "visit",
        "promo",
    ]
    email, sms, survey, visit, promo = (df.iloc[i] for i in range(5))
    assert email[s.CREATED_AT] == utc("2024-03-10 09:00:00")
    assert email[s.CREATED_AT_LOCAL] == pd.Timestamp("2024-03-10 10:00:00")
    assert (email[s.CAMPAIGN_ID], email[s.COMMUNICATION_ID]) == ("cmp1", "com1")
    assert (email[s.CHANNEL], email[s.CAMPAIGN_NAME], email[s.EMAIL]) == (
        "email",
        "Spring",
        "ada@example.com",
    )
    assert int(email[s.DATA_PROBLEMS]) == 0
    assert (sms[s.PHONE], sms[s.PHONE_PREFIX], sms[s.CHANNEL]) == ("3331234567", "+39", "sms")
    assert sms[s.CAMPAIGN_NAME] == "Flash sale" and int(sms[s.DATA_PROBLEMS]) == 0
    # answers in natural key order: 1, 2, 10; the number written as JSON writes it
    assert survey[s.SURVEY_ANSWERS] == "answer_1: great; answer_2: yes; answer_10: 4"
    assert (survey[s.CAMPAIGN_ID], survey[s.CAMPAIGN_NAME]) == ("cmp3", "Feedback")
    assert visit[s.VISIT_DURATION_MIN] == 30.0
    assert visit[s.VISIT_START] == utc("2024-03-10 09:00:00")
    assert visit[s.VISIT_START_LOCAL] == pd.Timestamp("2024-03-10 10:00:00")
    assert visit[s.TIMEZONE] == "Europe/Rome"  # taken from the visit when `when` is absent
    assert pd.isna(visit[s.CREATED_AT]) and pd.isna(visit[s.CONTACT_ID])
    expected = s.PROBLEM_MISSING_CONTACT | s.PROBLEM_BAD_TIMESTAMP | s.PROBLEM_BAD_LOCAL_TIME
    assert int(visit[s.DATA_PROBLEMS]) == expected
    assert promo[s.PROMO_TYPE] == "coupon"


def test_nested_and_flat_mixed_in_one_body(vendor_body):
    events = json.loads(vendor_body)["events"][:3] + [FLAT_EMAIL, FLAT_SMS]
    df = frame.events_frame(body(*events))
    assert len(df) == 5
    assert df[s.TYPE].astype(str).tolist() == [
        "arriving",
        "login",
        "login",
        "open_email",
        "click_sms",
    ]
    assert df[s.LOCATION_NAME].astype(str).tolist()[:3] == ["Ivan Home"] * 3
    assert df[s.EMAIL].iloc[3] == "ada@example.com"
    assert df[s.DATA_PROBLEMS].tolist() == [0] * 5
    # read event by event (a list of dicts) gives the very same frame
    pd.testing.assert_frame_equal(frame.events_frame(events), df)


def test_nested_values_win_over_flat_ones():
    event = wifi_event("visit", visit={"duration": 20, "startAt": "2024-07-01T11:40:00Z"})
    event["visit"] = {"duration": 99}
    event["type"] = "login"
    row = one_row(event)
    assert row[s.TYPE] == "visit"
    assert row[s.VISIT_DURATION_MIN] == 20.0


# --- damaged events keep their rows ---------------------------------------------------------------
@pytest.mark.parametrize("thing", ["just text", 42, None, [1, 2], True])
def test_an_event_that_is_not_an_object(thing):
    df = frame.events_frame(body(wifi_event(), thing, wifi_event(event_id="e2")))
    assert len(df) == 3
    bad = df.iloc[1]
    assert has(bad, s.PROBLEM_MALFORMED)
    assert has(bad, s.PROBLEM_MISSING_ID) and has(bad, s.PROBLEM_UNKNOWN_TYPE)
    assert bad.drop(s.DATA_PROBLEMS).isna().all()
    assert df[s.EVENT_ID].tolist()[::2] == ["e1", "e2"]
    assert df[s.DATA_PROBLEMS].iloc[[0, 2]].tolist() == [0, 0]


def test_a_visit_that_is_a_string():
    row = one_row(wifi_event("visit", visit="15 minutes"))
    assert has(row, s.PROBLEM_MALFORMED)
    assert has(row, s.PROBLEM_BAD_DURATION)  # a visit without a usable duration
    assert pd.isna(row[s.VISIT_DURATION_MIN]) and pd.isna(row[s.VISIT_START])
    assert row[s.LOCATION_NAME] == "Harbour"  # the rest of the event is still read


@pytest.mark.parametrize("duration", ["abc", "15", -5, None, float("nan"), [15], {"m": 1}])
def test_unusable_durations(duration):
    visit = {"startAt": "2024-07-01T11:00:00Z", "timezone": "America/New_York"}
    if duration is not None:
        visit["duration"] = duration
    event = wifi_event("visit", visit=visit)
    row = one_row(event)
    assert math.isnan(row[s.VISIT_DURATION_MIN])
    assert has(row, s.PROBLEM_BAD_DURATION)
    assert row[s.VISIT_START] == utc("2024-07-01 11:00:00")
    # 11:00 UTC in New York in July (UTC-4) is 07:00, derived since startAtLocal is absent
    assert row[s.VISIT_START_LOCAL] == pd.Timestamp("2024-07-01 07:00:00")


def test_fractional_duration_kept():
    row = one_row(wifi_event("visit", visit={"duration": 7.5}))
    assert row[s.VISIT_DURATION_MIN] == 7.5 and not has(row, s.PROBLEM_BAD_DURATION)


@pytest.mark.parametrize(
    "created", ["yesterday", "2024-13-01T00:00:00Z", "", "0001-01-01T00:00:00Z"]
)
def test_unreadable_utc_time(created):
    row = one_row(wifi_event(created=created))
    assert pd.isna(row[s.CREATED_AT])
    assert has(row, s.PROBLEM_BAD_TIMESTAMP)
    assert not has(row, MISMATCH)  # nothing to compare with
    assert row[s.CREATED_AT_LOCAL] == pd.Timestamp("2024-07-01 08:00:00")  # the stated clock


def test_utc_time_in_another_form():
    # 14:00:00.5 at +02:00 is 12:00:00.5 UTC; New York (UTC-4) then reads 08:00:00.5
    row = one_row(wifi_event(created="2024-07-01T14:00:00.500+02:00", local=None))
    assert row[s.CREATED_AT] == utc("2024-07-01 12:00:00.5")
    assert row[s.CREATED_AT_LOCAL] == pd.Timestamp("2024-07-01 08:00:00.5")


def test_missing_local_time_is_derived_and_flagged():
    row = one_row(wifi_event(local=None))
    # 12:00 UTC in New York in July (UTC-4) is 08:00
    assert row[s.CREATED_AT_LOCAL] == pd.Timestamp("2024-07-01 08:00:00")
    assert int(row[s.DATA_PROBLEMS]) == s.PROBLEM_BAD_LOCAL_TIME


def test_winter_local_time_follows_the_zone_rules():
    # 12:00 UTC in New York in January (EST, UTC-5) is 07:00
    row = one_row(wifi_event(created="2024-01-15T12:00:00Z", local="2024-01-15T07:00:00Z"))
    assert int(row[s.DATA_PROBLEMS]) == 0
    row = one_row(wifi_event(created="2024-01-15T12:00:00Z", local="2024-01-15T08:00:00Z"))
    assert int(row[s.DATA_PROBLEMS]) == MISMATCH
    assert row[s.CREATED_AT_LOCAL] == pd.Timestamp("2024-01-15 08:00:00")


def test_unreadable_local_time():
    row = one_row(wifi_event(local="tea time"))
    assert has(row, s.PROBLEM_BAD_LOCAL_TIME) and not has(row, MISMATCH)
    assert row[s.CREATED_AT_LOCAL] == pd.Timestamp("2024-07-01 08:00:00")


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "europe/rome", "../../etc/passwd"])
def test_unknown_time_zone(zone):
    row = one_row(wifi_event(zone=zone))
    assert has(row, s.PROBLEM_UNKNOWN_TIMEZONE)
    assert row[s.CREATED_AT_LOCAL] == pd.Timestamp("2024-07-01 08:00:00")  # stated, kept
    assert row[s.TIMEZONE] == zone  # the text is kept as sent


def test_missing_time_zone_and_local_time():
    event = wifi_event(local=None)
    del event["when"]["timezone"]
    row = one_row(event)
    assert has(row, s.PROBLEM_UNKNOWN_TIMEZONE) and has(row, s.PROBLEM_BAD_LOCAL_TIME)
    assert pd.isna(row[s.CREATED_AT_LOCAL]) and pd.isna(row[s.TIMEZONE])
    assert row[s.CREATED_AT] == utc("2024-07-01 12:00:00")


def test_visit_local_time_mismatch_and_unreadable_start():
    visit = {
        "startAt": "2024-07-01T11:00:00Z",
        "startAtLocal": "2024-07-01T09:00:00Z",  # New York says 07:00
        "timezone": "America/New_York",
        "duration": 60,
    }
    row = one_row(wifi_event("visit", visit=visit))
    assert int(row[s.DATA_PROBLEMS]) == MISMATCH
    assert row[s.VISIT_START_LOCAL] == pd.Timestamp("2024-07-01 09:00:00")
    visit.update(startAt="soon", startAtLocal="later")
    row = one_row(wifi_event("visit", visit=visit))
    assert int(row[s.DATA_PROBLEMS]) == s.PROBLEM_BAD_TIMESTAMP | s.PROBLEM_BAD_LOCAL_TIME
    assert pd.isna(row[s.VISIT_START]) and pd.isna(row[s.VISIT_START_LOCAL])
    assert row[s.VISIT_DURATION_MIN] == 60.0


def test_missing_ids_and_contact():
    event = wifi_event(event_id="")
    del event["customerId"]
    row = one_row(event)
    assert int(row[s.DATA_PROBLEMS]) == s.PROBLEM_MISSING_ID | s.PROBLEM_MISSING_CONTACT
    assert pd.isna(row[s.EVENT_ID]) and pd.isna(row[s.CONTACT_ID])
    event = wifi_event()
    event["event"]["id"] = None
    event["customerId"] = ""
    row = one_row(event)
    assert int(row[s.DATA_PROBLEMS]) == s.PROBLEM_MISSING_ID | s.PROBLEM_MISSING_CONTACT


@pytest.mark.parametrize("type_", ["teleport", "", None, "VISIT"])
def test_unknown_types_are_kept(type_):
    row = one_row(wifi_event(type_))
    assert has(row, s.PROBLEM_UNKNOWN_TYPE)
    assert row[s.TYPE] == type_ if type_ is not None else pd.isna(row[s.TYPE])
    assert row[s.LOCATION_ID] == "loc1"


def test_values_of_the_wrong_type():
    event = wifi_event()
    event["customerId"] = 12345
    event["where"] = ["loc1"]
    event["event"]["signup"] = {"source": {"kind": "wifi"}}
    row = one_row(event)
    assert has(row, s.PROBLEM_MALFORMED) and has(row, s.PROBLEM_MISSING_CONTACT)
    assert pd.isna(row[s.CONTACT_ID]) and pd.isna(row[s.LOCATION_ID])
    assert pd.isna(row[s.SIGNUP_SOURCE])
    assert row[s.CREATED_AT] == utc("2024-07-01 12:00:00")


def test_null_parts_are_just_missing():
    event = wifi_event()
    event["where"] = None
    event["event"]["visit"] = None
    row = one_row(event)
    assert int(row[s.DATA_PROBLEMS]) == 0
    assert pd.isna(row[s.LOCATION_ID])


@pytest.mark.parametrize(
    "geofence",
    [
        {"type": "Circle", "coordinates": [10.5], "radius": 100},
        {"type": "Circle", "coordinates": [10.5, 123.0], "radius": 100},  # latitude past 90
        {"type": "Circle", "coordinates": ["10.5", "43.6"], "radius": 100},
        {"type": "Circle", "coordinates": "10.5,43.6", "radius": 100},
        {"type": "Circle", "coordinates": [10.5, 43.6], "radius": "big"},
        {"type": "Circle", "coordinates": [10.5, 43.6], "radius": -1},
        "Circle(10.5, 43.6, 100)",
    ],
)
def test_broken_geofence_shapes(geofence):
    event = {
        "customerId": "c1",
        "event": {"type": "geo_arriving", "id": "g1"},
        "where": {"geofenceId": "gf1", "geofenceName": "Dock", "geofenceJSON": geofence},
        "when": {
            "createdAt": "2024-07-01T12:00:00Z",
            "createdAtLocal": "2024-07-01T14:00:00Z",  # Rome in July is UTC+2
            "timezone": "Europe/Rome",
        },
    }
    row = one_row(event)
    assert int(row[s.DATA_PROBLEMS]) == s.PROBLEM_MALFORMED
    assert row[s.GEOFENCE_ID] == "gf1"
    lon, lat, radius = row[s.GEOFENCE_LON], row[s.GEOFENCE_LAT], row[s.GEOFENCE_RADIUS_M]
    assert (math.isnan(lon) and math.isnan(lat)) or math.isnan(radius)


def test_odd_texts_survive():
    event = wifi_event()
    event["where"]["locationName"] = "Caf\u00e9 \u2615 \ud83c\udf70" + "x" * 100_000
    row = one_row(event)
    assert row[s.LOCATION_NAME].startswith("Caf\u00e9 \u2615 \U0001f370")
    assert len(row[s.LOCATION_NAME]) == 4 + 2 + 2 + 100_000
    # a lone surrogate (invalid in UTF-8) is replaced, the row is kept
    raw = body(wifi_event()).replace(b'"Harbour"', b'"Harb\\udc80our"')
    df = frame.events_frame(raw)
    assert len(df) == 1 and df[s.LOCATION_NAME].iloc[0].startswith("Harb")


def test_survey_answers_of_every_kind():
    survey = {"answers": {"answer_1": True, "answer_2": 2.5, "answer_3": None, "answer_4": [1, 2]}}
    row = one_row(wifi_event("survey", survey=survey))
    assert row[s.SURVEY_ANSWERS] == "answer_1: true; answer_2: 2.5; answer_4: [1,2]"
    row = one_row(wifi_event("survey", survey={"answers": {}}))
    assert pd.isna(row[s.SURVEY_ANSWERS]) and int(row[s.DATA_PROBLEMS]) == 0
    row = one_row(wifi_event("survey", survey={"answers": "yes"}))
    assert pd.isna(row[s.SURVEY_ANSWERS]) and has(row, s.PROBLEM_MALFORMED)


def test_survey_answers_read_column_wise_match_event_by_event():
    events = [
        wifi_event("survey", f"s{i}", survey={"answers": {"answer_1": f"a{i}", "answer_2": i}})
        for i in range(3)
    ] + [wifi_event("survey", "s9", survey={"answers": {"answer_2": True}})]
    df = frame.events_frame(body(*events))
    assert df[s.SURVEY_ANSWERS].astype(str).tolist() == [
        "answer_1: a0; answer_2: 0",
        "answer_1: a1; answer_2: 1",
        "answer_1: a2; answer_2: 2",
        "answer_2: true",
    ]
    pd.testing.assert_frame_equal(frame.events_frame(events), df)


# --- payloads -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"<html>busy</html>",
        b'{"generated": "x", "events": [{"a": 1}',
        b'{"status": "error"}',
        b'{"events": {"a": 1}}',
        b"42",
        42,
        {"generated": "x"},
    ],
)
def test_an_unreadable_payload_is_a_clear_error(payload):
    with pytest.raises(ValueError):
        frame.events_frame(payload)


def test_empty_payloads():
    for payload in (b'{"events": []}', b'{"events": null}', [], {"events": []}):
        df = frame.events_frame(payload)
        assert len(df) == 0 and tuple(df.columns) == s.EVENT_COLUMNS
    empty = frame.empty_events_frame()
    assert tuple(empty.columns) == s.EVENT_COLUMNS and len(empty) == 0
    assert str(empty[s.CREATED_AT].dtype) == "datetime64[ns, UTC]"
    assert isinstance(empty[s.TYPE].dtype, pd.CategoricalDtype)
    assert empty[s.DATA_PROBLEMS].dtype == np.uint16


def test_a_body_given_as_a_bare_list():
    raw = json.dumps([wifi_event(), FLAT_PROMO]).encode()
    df = frame.events_frame(raw)
    assert df[s.TYPE].astype(str).tolist() == ["login", "promo"]


# --- concatenation and the report ---------------------------------------------------------------
def test_concat_frames_unions_categories(vendor):
    first, second = vendor.iloc[:11].reset_index(drop=True), frame.events_frame(body(FLAT_EMAIL))
    before = second.copy()
    both = frame.concat_frames([first, second, frame.empty_events_frame()])
    assert len(both) == 12  # 11 + 1 + 0
    for name in frame.CATEGORY_COLUMNS:
        assert isinstance(both[name].dtype, pd.CategoricalDtype), name
    assert set(both[s.TIMEZONE].cat.categories) == {"America/Los_Angeles", "Europe/Rome"}
    assert both[s.TYPE].astype(str).tolist()[-1] == "open_email"
    assert both[s.CHANNEL].astype(str).tolist()[-1] == "email"
    assert both.index.equals(pd.RangeIndex(12))
    pd.testing.assert_frame_equal(second, before)  # inputs untouched
    assert frame.concat_frames([]).shape == (0, len(s.EVENT_COLUMNS))


def test_concat_frames_with_an_extra_column(vendor):
    marked = vendor.assign(page=1)
    both = frame.concat_frames([marked, vendor])
    assert len(both) == 38  # 19 + 19
    assert both["page"].iloc[:19].eq(1).all() and both["page"].iloc[19:].isna().all()
    assert isinstance(both[s.TYPE].dtype, pd.CategoricalDtype)
    assert both[s.TYPE].astype(str).tolist() == vendor[s.TYPE].astype(str).tolist() * 2


def test_pages_frame_equals_concatenated_pages(vendor_body):
    events = json.loads(vendor_body)["events"]
    pages = [body(*events[:7]), body(*events[7:14]), body(*events[14:]), body(FLAT_EMAIL)]
    expected = frame.concat_frames([frame.events_frame(page) for page in pages])
    pd.testing.assert_frame_equal(frame.pages_frame(pages), expected)
    pd.testing.assert_frame_equal(frame.pages_frame(pages, workers=1), expected)
    assert len(frame.pages_frame([])) == 0


def test_data_quality_report_counts_rows_per_problem():
    df = frame.events_frame(
        body(
            wifi_event(),  # clean
            wifi_event(event_id="e2", local=None),  # missing local time
            wifi_event("teleport", "e3", local=None),  # unknown type + missing local time
            "oops",  # not an object: malformed, no id, no type, no times, no zone, no contact
        )
    )
    report = frame.data_quality_report(df).set_index("problem")["rows"].to_dict()
    label = s.PROBLEM_LABELS
    assert report == {
        label[s.PROBLEM_MISSING_ID]: 1,
        label[s.PROBLEM_UNKNOWN_TYPE]: 2,
        label[s.PROBLEM_BAD_TIMESTAMP]: 1,
        label[s.PROBLEM_BAD_LOCAL_TIME]: 3,
        label[s.PROBLEM_UNKNOWN_TIMEZONE]: 1,
        label[s.PROBLEM_MISSING_CONTACT]: 1,
        label[s.PROBLEM_MALFORMED]: 1,
    }
    assert list(frame.data_quality_report(frame.empty_events_frame()).columns) == [
        "problem",
        "rows",
    ]


# --- locations ----------------------------------------------------------------------------------
LOCATIONS = {
    "generated": "2024-01-01T00:00:00Z",
    "size": 3,
    "locations": [
        {
            "id": "loc1",
            "name": "Harbour",
            "lat": 43.7167,
            "lng": 10.4,
            "timezone": "Europe/Rome",
            "address": {
                "address": "Via del Porto 1",
                "city": "Pisa",
                "state": "PI",
                "zip": "56100",
                "country": "IT",
            },
            "externalId": "H-1",
            "tags": ["coast", "flagship"],
        },
        {"id": "loc2", "name": "Airport", "lat": "43.68", "lng": "bad", "tags": []},
        "not a location",
    ],
}


def test_locations_frame():
    df = frame.locations_frame(json.dumps(LOCATIONS).encode())
    assert tuple(df.columns) == s.LOCATION_COLUMNS
    assert len(df) == 3
    harbour, airport, bad = (df.iloc[i] for i in range(3))
    assert (harbour["lat"], harbour["lng"]) == (43.7167, 10.4)
    assert harbour["city"] == "Pisa" and harbour["zip"] == "56100"
    assert harbour["address"] == "Via del Porto 1" and harbour["external_id"] == "H-1"
    assert harbour["tags"] == "coast, flagship"
    assert airport["lat"] == 43.68 and math.isnan(airport["lng"])
    assert pd.isna(airport["tags"]) and pd.isna(airport["city"])
    assert bad.isna().all()
    assert df["lat"].dtype == np.float64 and df["lng"].dtype == np.float64
    pd.testing.assert_frame_equal(frame.locations_frame(LOCATIONS), df)
    pd.testing.assert_frame_equal(frame.locations_frame(LOCATIONS["locations"]), df)
    with pytest.raises(ValueError):
        frame.locations_frame({"generated": "x"})
    assert len(frame.locations_frame({"locations": []})) == 0

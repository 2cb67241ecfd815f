"""Property tests of the events frame on damaged events (issue 5, "Bad input").

Clean events of every type are drawn, some are damaged in one way each (a key missing or null,
a value of the wrong type, a huge or non-ASCII text, an unknown type, the flat shape instead of
the nested one, not an object at all...). Whatever happens: nothing raises, every event keeps
its row, each damage that is a problem sets its bit (so the data-quality report counts it), a
harmless change sets none, and the column-wise reading equals the event-by-event one.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from c4w import frame
from c4w import schema as s

ZONES = (
    "America/Los_Angeles",
    "America/New_York",
    "Europe/Rome",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Adelaide",
    "UTC",
)
STAMP = "%Y-%m-%dT%H:%M:%SZ"
PART_OF_TYPE = {
    "visit": "visit",
    "geo_visit": "visit",
    "geo_arriving": "visit",
    "signup": "signup",
    "send_email": "email",
    "open_email": "email",
    "click_email": "email",
    "send_sms": "sms",
    "click_sms": "sms",
    "survey": "survey",
    "promo": "promo",
}
SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

names = st.text(max_size=12)
ids = st.text(min_size=1, max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def stamps(moment: datetime, zone: str) -> tuple[str, str]:
    """The API's UTC text and local wall-clock text (with its misleading Z) of a UTC moment."""
    local = moment.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    return moment.strftime(STAMP), local.strftime(STAMP)


@st.composite
def clean_events(draw) -> dict:
    """One nested event of a known type with consistent times (no data problem at all)."""
    type_ = draw(st.sampled_from(s.KNOWN_TYPES))
    zone = draw(st.sampled_from(ZONES))
    created = draw(st.datetimes(datetime(2001, 1, 1), datetime(2099, 1, 1))).replace(microsecond=0)
    created_text, local_text = stamps(created, zone)
    event: dict = {"type": type_, "id": draw(ids)}
    part = PART_OF_TYPE.get(type_)
    campaign = {"campaignId": draw(ids), "campaignName": draw(names)}
    if part == "visit":
        minutes = draw(st.integers(0, 2000))
        start_text, start_local = stamps(created - timedelta(minutes=minutes), zone)
        visit: dict = {"startAt": start_text, "startAtLocal": start_local, "timezone": zone}
        if type_ != "geo_arriving":
            visit["duration"] = minutes
        if type_.startswith("geo_"):
            visit["properties"] = {
                "appId": "a1",
                "appOs": draw(st.sampled_from(["ios", "android"])),
            }
        event["visit"] = visit
    elif part == "signup":
        event["signup"] = {"source": draw(st.sampled_from(["wifi", "kiosk", "api"]))}
    elif part == "email":
        event["email"] = {
            **campaign,
            "communicationId": draw(ids),
            "channel": "email",
            "email": draw(names),
        }
    elif part == "sms":
        event["sms"] = {
            **campaign,
            "communicationId": draw(ids),
            "channel": "sms",
            "phone": draw(names),
            "prefix": "+39",
        }
    elif part == "survey":
        answers = draw(
            st.dictionaries(
                st.sampled_from(["answer_1", "answer_2", "answer_10"]), names, max_size=3
            )
        )
        event["survey"] = {**campaign, "questions": {"question_1": "Why?"}, "answers": answers}
    elif part == "promo":
        event["promo"] = {"type": draw(names)}
    result: dict = {"customerId": draw(ids), "event": event}
    if type_.startswith("geo_"):
        result["where"] = {
            "geofenceId": draw(ids),
            "geofenceName": draw(names),
            "geofenceMetadata": [],
            "geofenceJSON": {
                "type": "Circle",
                "coordinates": [draw(st.floats(-180, 180)), draw(st.floats(-90, 90))],
                "radius": draw(st.integers(10, 500)),
            },
        }
    else:
        result["organizationId"] = "org1"
        result["where"] = {
            "locationId": draw(ids),
            "locationName": draw(names),
            "hotspotId": draw(ids),
        }
    result["when"] = {"createdAt": created_text, "createdAtLocal": local_text, "timezone": zone}
    return result


# --- damages: each returns the damaged event, the bits it must set, and whether it is harmless ----
Damage = Callable[[dict, Callable], tuple[object, set[int], bool]]


def drop_id(e, draw):
    del e["event"]["id"]
    return e, {s.PROBLEM_MISSING_ID}, False


def null_contact(e, draw):
    e["customerId"] = None
    return e, {s.PROBLEM_MISSING_CONTACT}, False


def drop_type(e, draw):
    del e["event"]["type"]
    return e, {s.PROBLEM_UNKNOWN_TYPE}, False


def drop_created(e, draw):
    e["when"].pop("createdAt")
    return e, {s.PROBLEM_BAD_TIMESTAMP}, False


def null_local(e, draw):
    e["when"]["createdAtLocal"] = None
    return e, {s.PROBLEM_BAD_LOCAL_TIME}, False


def drop_zones(e, draw):
    del e["when"]["timezone"]
    if isinstance(e["event"].get("visit"), dict):
        del e["event"]["visit"]["timezone"]
    return e, {s.PROBLEM_UNKNOWN_TIMEZONE}, False


def drop_duration(e, draw):
    visit = e["event"].get("visit")
    if isinstance(visit, dict):
        visit.pop("duration", None)
    is_visit = e["event"]["type"] in s.VISIT_TYPES
    return e, ({s.PROBLEM_BAD_DURATION} if is_visit else set()), not is_visit


wrong_things = st.one_of(
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def wrong_id(e, draw):
    e["event"]["id"] = draw(wrong_things)
    return e, {s.PROBLEM_MISSING_ID, s.PROBLEM_MALFORMED}, False


def wrong_contact(e, draw):
    e["customerId"] = draw(wrong_things)
    return e, {s.PROBLEM_MISSING_CONTACT, s.PROBLEM_MALFORMED}, False


def wrong_type(e, draw):
    e["event"]["type"] = draw(wrong_things)
    return e, {s.PROBLEM_UNKNOWN_TYPE, s.PROBLEM_MALFORMED}, False


def number_created(e, draw):
    e["when"]["createdAt"] = draw(st.integers(0, 2**40))
    return e, {s.PROBLEM_BAD_TIMESTAMP, s.PROBLEM_MALFORMED}, False


def text_where(e, draw):
    e["where"] = draw(st.text(max_size=8))
    return e, {s.PROBLEM_MALFORMED}, False


def list_when(e, draw):
    e["when"] = [e["when"]]
    return e, {s.PROBLEM_MALFORMED, s.PROBLEM_BAD_TIMESTAMP, s.PROBLEM_BAD_LOCAL_TIME}, False


def text_part(e, draw):
    part = PART_OF_TYPE.get(e["event"]["type"], "visit")
    e["event"][part] = draw(st.text(max_size=8))
    return e, {s.PROBLEM_MALFORMED}, False


def text_duration(e, draw):
    e["event"].setdefault("visit", {})["duration"] = draw(st.text(max_size=6))
    return e, {s.PROBLEM_BAD_DURATION}, False


def negative_duration(e, draw):
    e["event"].setdefault("visit", {})["duration"] = -draw(st.integers(1, 10**6))
    return e, {s.PROBLEM_BAD_DURATION}, False


def unreadable_created(e, draw):
    e["when"]["createdAt"] = "x" + draw(st.text(max_size=20))
    return e, {s.PROBLEM_BAD_TIMESTAMP}, False


def unreadable_local(e, draw):
    e["when"]["createdAtLocal"] = "x" + draw(st.text(max_size=20))
    return e, {s.PROBLEM_BAD_LOCAL_TIME}, False


def unknown_zone(e, draw):
    e["when"]["timezone"] = "Nowhere/" + draw(st.text(max_size=10))
    return e, {s.PROBLEM_UNKNOWN_TIMEZONE}, False


def shifted_local(e, draw):
    local = datetime.strptime(e["when"]["createdAtLocal"], STAMP)
    hours = draw(st.integers(1, 20))
    e["when"]["createdAtLocal"] = (local + timedelta(hours=hours)).strftime(STAMP)
    return e, {s.PROBLEM_LOCAL_TIME_MISMATCH}, False


def unknown_type(e, draw):
    e["event"]["type"] = draw(st.text(max_size=12).filter(lambda t: t not in s.KNOWN_TYPES))
    return e, {s.PROBLEM_UNKNOWN_TYPE}, False


def broken_coordinates(e, draw):
    bad = draw(
        st.sampled_from(
            [
                [1.0],
                "10,20",
                [10.0, 200.0],
                [],
                [1.0, 2.0, 3.0],
                [None, 20.0],
                ["a", "b"],
                {"lon": 1},
            ]
        )
    )
    e["where"]["geofenceJSON"] = {"type": "Circle", "coordinates": bad, "radius": 50}
    return e, {s.PROBLEM_MALFORMED}, False


def not_an_object(e, draw):
    thing = draw(
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.text(max_size=10),
            st.lists(st.integers(), max_size=3),
        )
    )
    return thing, {s.PROBLEM_MALFORMED, s.PROBLEM_MISSING_ID}, False


def huge_text(e, draw):
    text = draw(st.text(min_size=1, max_size=8)) * draw(st.integers(1_000, 20_000))
    key = "geofenceName" if "geofenceId" in e["where"] else "locationName"
    e["where"][key] = text
    return e, set(), True


def non_ascii_id(e, draw):
    e["event"]["id"] = draw(st.text(st.characters(min_codepoint=0x80), min_size=1, max_size=30))
    return e, set(), True


def flat_shape(e, draw):
    e.update(e.pop("event"))
    return e, set(), True


def null_where(e, draw):
    e["where"] = None
    return e, set(), True


def extra_keys(e, draw):
    e["x_" + draw(st.text(max_size=5))] = draw(json_values)
    e["event"]["x_" + draw(st.text(max_size=5))] = draw(json_values)
    return e, set(), True


DAMAGES: dict[str, Damage] = {
    f.__name__: f
    for f in (
        drop_id,
        null_contact,
        drop_type,
        drop_created,
        null_local,
        drop_zones,
        drop_duration,
        wrong_id,
        wrong_contact,
        wrong_type,
        number_created,
        text_where,
        list_when,
        text_part,
        text_duration,
        negative_duration,
        unreadable_created,
        unreadable_local,
        unknown_zone,
        shifted_local,
        unknown_type,
        broken_coordinates,
        not_an_object,
        huge_text,
        non_ascii_id,
        flat_shape,
        null_where,
        extra_keys,
    )
}


@st.composite
def damaged_payloads(draw):
    """(clean events, damaged events, [(damage name, bits it must set, harmless)])."""
    clean = draw(st.lists(clean_events(), min_size=1, max_size=10))
    plan = draw(
        st.lists(
            st.one_of(st.none(), st.sampled_from(sorted(DAMAGES))),
            min_size=len(clean),
            max_size=len(clean),
        )
    )
    damaged, expected = [], []
    for event, name in zip(clean, plan, strict=True):
        if name is None:
            damaged.append(event)
            expected.append((None, set(), True))
            continue
        thing, bits, harmless = DAMAGES[name](copy.deepcopy(event), draw)
        damaged.append(thing)
        expected.append((name, bits, harmless))
    return clean, damaged, expected


@SETTINGS
@given(damaged_payloads())
def test_damaged_events_keep_their_rows_and_are_reported(case):
    clean, damaged, expected = case
    body = json.dumps({"generated": "2024-01-01T00:00:00Z", "events": damaged}).encode()
    df = frame.events_frame(body)  # never raises
    assert len(df) == len(damaged)
    assert tuple(df.columns) == s.EVENT_COLUMNS
    problems = df[s.DATA_PROBLEMS].to_numpy()
    for row, (name, bits, harmless) in enumerate(expected):
        for bit in bits:
            assert problems[row] & bit, (name, s.PROBLEM_LABELS[bit])
        if harmless:
            assert problems[row] == 0, (name, problems[row])

    report = frame.data_quality_report(df).set_index("problem")["rows"].to_dict()
    for bit, label in s.PROBLEM_LABELS.items():
        must = sum(1 for _, bits, _ in expected if bit in bits)
        assert report.get(label, 0) >= must
        assert report.get(label, 0) == int(((problems & bit) != 0).sum())

    # the column-wise reading and the event-by-event reading agree on everything
    pd.testing.assert_frame_equal(frame.events_frame(damaged), df)

    # harmless changes leave the values as they were
    reference = frame.events_frame(clean)
    for row, (name, _, _) in enumerate(expected):
        if name in ("flat_shape", "extra_keys"):
            pd.testing.assert_series_equal(
                df.iloc[row].astype(str), reference.iloc[row].astype(str), check_names=False
            )
        elif name == "huge_text":
            where = damaged[row]["where"]
            text = where.get("locationName", where.get("geofenceName"))
            column = s.LOCATION_NAME if "locationName" in where else s.GEOFENCE_NAME
            assert df[column].iloc[row] == text
        elif name == "non_ascii_id":
            assert df[s.EVENT_ID].iloc[row] == damaged[row]["event"]["id"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_payloads(), st.lists(st.integers(0, 10), max_size=3))
def test_pages_give_the_same_frame_as_one_body(case, cuts):
    _, damaged, _ = case
    edges = sorted({0, len(damaged), *(min(c, len(damaged)) for c in cuts)})
    pages = [json.dumps({"events": damaged[a:b]}).encode() for a, b in itertools.pairwise(edges)]
    whole = frame.events_frame(json.dumps({"events": damaged}).encode())
    pd.testing.assert_frame_equal(frame.pages_frame(pages), whole)
    pd.testing.assert_frame_equal(frame.pages_frame(pages, reader="duckdb"), whole)
    pd.testing.assert_frame_equal(
        frame.concat_frames([frame.events_frame(page) for page in pages]), whole
    )


# Damages that put a non-object where an object belongs: DuckDB refuses such a body (as pyarrow
# does) and `pages_frame(reader="duckdb")` hands it to the other paths.
NOT_OBJECT_PARTS = {"text_where", "list_when", "text_part"}


@settings(SETTINGS, max_examples=80)  # each example starts a DuckDB query (about 0.1 s)
@given(damaged_payloads())
def test_duckdb_reader_gives_the_raw_columns_of_the_python_path(case):
    _, damaged, expected = case
    body = json.dumps({"generated": "2024-01-01T00:00:00Z", "events": damaged}).encode()
    rows = frame._duckdb_rows([body], 1)[0]
    refusable = any(
        name in NOT_OBJECT_PARTS or (name == "not_an_object" and event is not None)
        for (name, _, _), event in zip(expected, damaged, strict=True)
    )
    if rows is None:
        assert refusable, [name for name, _, _ in expected]
    else:
        raw = frame._duckdb_page(rows)
        reference = frame._python_raw(damaged)
        for name in frame.RAW_SCHEMA.names:  # column by column, to name the one that differs
            assert raw.column(name).equals(reference.column(name)), name
        pd.testing.assert_frame_equal(
            frame.columns_to_frame(frame._canonical(raw)), frame.events_frame(damaged)
        )

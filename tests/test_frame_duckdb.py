"""The DuckDB reader of `pages_frame` (`reader="duckdb"`): DuckDB's lenient casts must not leak.

DuckDB's own JSON reader turns `5` into the text '5', `true` into the number 1.0 and `"5"` into
5.0. The frame's rules want null and a problem bit for each, as the pyarrow and Python paths
give. Expected values are worked out by hand from the JSON in each test.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from c4w import frame
from c4w import schema as s


def body(*events: object) -> bytes:
    return json.dumps({"generated": "2024-01-01T00:00:00Z", "events": list(events)}).encode()


def visit(**changes: object) -> dict:
    """A clean nested visit: 12:00 UTC is 14:00 in Rome in July (UTC+2), 30 minutes long."""
    event = {
        "customerId": "c1",
        "organizationId": "org1",
        "event": {
            "type": "visit",
            "id": "v1",
            "visit": {
                "startAt": "2024-07-01T11:30:00Z",
                "startAtLocal": "2024-07-01T13:30:00Z",
                "timezone": "Europe/Rome",
                "duration": 30,
            },
        },
        "where": {"locationId": "loc1", "locationName": "Harbour"},
        "when": {
            "createdAt": "2024-07-01T12:00:00Z",
            "createdAtLocal": "2024-07-01T14:00:00Z",
            "timezone": "Europe/Rome",
        },
    }
    event.update(changes)
    return event


def geo(geofence: object) -> dict:
    event = visit(where={"geofenceId": "gf1", "geofenceJSON": geofence})
    event["event"]["type"] = "geo_arriving"
    del event["event"]["visit"]["duration"]
    return event


def duckdb_rows(*bodies: bytes) -> pd.DataFrame:
    """The frame of `bodies` read by DuckDB; every one of them must have been accepted by it."""
    assert all(rows is not None for rows in frame._duckdb_rows(list(bodies), 1))
    df = frame.pages_frame(list(bodies), reader="duckdb")
    pd.testing.assert_frame_equal(df, frame.pages_frame(list(bodies)))  # and pyarrow/Python agree
    return df


def problems(row: pd.Series) -> int:
    return int(row[s.DATA_PROBLEMS])


def test_duckdb_on_its_own_casts_leniently():
    """The trap the reader guards against, shown on DuckDB's own read_json with typed columns."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "e.json"
        path.write_bytes(b'{"id": 5, "duration": true, "radius": "5"}')
        row = duckdb.sql(
            "SELECT * FROM read_json(?, columns = "
            "{'id': 'VARCHAR', 'duration': 'DOUBLE', 'radius': 'DOUBLE'})",
            params=[str(path)],
        ).fetchall()
    assert row == [("5", 1.0, 5.0)]


def test_a_number_where_a_text_belongs_is_null_and_flagged():
    event = visit(customerId=5)
    event["event"]["id"] = 5
    row = duckdb_rows(body(event)).iloc[0]
    assert pd.isna(row[s.EVENT_ID]) and pd.isna(row[s.CONTACT_ID])  # not the text '5'
    assert problems(row) == s.PROBLEM_MALFORMED | s.PROBLEM_MISSING_ID | s.PROBLEM_MISSING_CONTACT


def test_a_boolean_where_a_number_belongs_is_null_and_flagged():
    event = visit()
    event["event"]["visit"]["duration"] = True
    row = duckdb_rows(body(event)).iloc[0]
    assert math.isnan(row[s.VISIT_DURATION_MIN])  # not 1.0
    assert problems(row) == s.PROBLEM_BAD_DURATION
    row = duckdb_rows(body(geo({"type": "Circle", "coordinates": [12.5, 45], "radius": True})))
    assert math.isnan(row[s.GEOFENCE_RADIUS_M].iloc[0])
    assert problems(row.iloc[0]) == s.PROBLEM_MALFORMED


def test_a_text_where_a_number_belongs_is_null_and_flagged():
    event = visit()
    event["event"]["visit"]["duration"] = "5"
    row = duckdb_rows(body(event)).iloc[0]
    assert math.isnan(row[s.VISIT_DURATION_MIN])  # not 5.0
    assert problems(row) == s.PROBLEM_BAD_DURATION
    row = duckdb_rows(body(geo({"type": "Circle", "coordinates": [12.5, 45], "radius": "50"})))
    assert math.isnan(row[s.GEOFENCE_RADIUS_M].iloc[0])
    assert problems(row.iloc[0]) == s.PROBLEM_MALFORMED


def test_a_boolean_where_a_text_belongs_is_null_and_flagged():
    event = visit()
    event["event"]["type"] = True
    row = duckdb_rows(body(event)).iloc[0]
    assert pd.isna(row[s.TYPE])  # not the text 'true'
    # no type: unknown; not a visit any more, so the visit's fields raise nothing else
    assert problems(row) == s.PROBLEM_MALFORMED | s.PROBLEM_UNKNOWN_TYPE


def test_nested_first_then_flat():
    # nested id of the wrong type, flat id a text: the flat one is taken, the wrong one flagged
    event = visit(id="flat-id", type="signup")
    event["event"]["id"] = 7
    row = duckdb_rows(body(event)).iloc[0]
    assert row[s.EVENT_ID] == "flat-id"
    assert row[s.TYPE] == "visit"  # nested type wins over the flat one
    assert problems(row) == s.PROBLEM_MALFORMED
    # a null nested value is no value: the flat one is taken, nothing flagged
    event = visit(id="flat-id")
    event["event"]["id"] = None
    row = duckdb_rows(body(event)).iloc[0]
    assert row[s.EVENT_ID] == "flat-id" and problems(row) == 0
    # a flat duration after a nested boolean: 12 minutes taken, the boolean flagged
    event = visit(visit={"duration": 12})
    event["event"]["visit"]["duration"] = False
    row = duckdb_rows(body(event)).iloc[0]
    assert row[s.VISIT_DURATION_MIN] == 12.0 and problems(row) == s.PROBLEM_BAD_DURATION


def test_coordinates_and_survey_answers():
    row = duckdb_rows(body(geo({"type": "Circle", "coordinates": [12.5, 45], "radius": 80})))
    row = row.iloc[0]
    assert (row[s.GEOFENCE_LON], row[s.GEOFENCE_LAT], row[s.GEOFENCE_RADIUS_M]) == (12.5, 45, 80)
    assert row[s.GEOFENCE_SHAPE] == "Circle" and problems(row) == 0
    for coordinates in ([12.5, True], [12.5], ["12.5", "45"], {"lon": 12.5}):
        row = duckdb_rows(body(geo({"coordinates": coordinates}))).iloc[0]
        assert math.isnan(row[s.GEOFENCE_LON]) and math.isnan(row[s.GEOFENCE_LAT])
        assert problems(row) == s.PROBLEM_MALFORMED
    answers = {"answer_10": 1.5, "answer_2": True, "answer_1": "x", "answer_3": None}
    event = visit()
    event["event"] = {"type": "survey", "id": "s1", "survey": {"answers": answers}}
    row = duckdb_rows(body(event)).iloc[0]
    assert row[s.SURVEY_ANSWERS] == "answer_1: x; answer_2: true; answer_10: 1.5"
    event["event"]["survey"]["answers"] = 5
    row = duckdb_rows(body(event)).iloc[0]
    assert pd.isna(row[s.SURVEY_ANSWERS]) and problems(row) == s.PROBLEM_MALFORMED


def test_texts_with_escapes_and_an_event_that_is_null():
    event = visit()
    event["where"]["locationName"] = 'Caf\u00e9 "Blue" \\ \u2615\n'
    df = duckdb_rows(body(event, None))
    assert df[s.LOCATION_NAME].iloc[0] == 'Caf\u00e9 "Blue" \\ \u2615\n'
    # null: not an object, so no id, type, contact, times or zone either
    assert problems(df.iloc[1]) == (
        s.PROBLEM_MALFORMED
        | s.PROBLEM_MISSING_ID
        | s.PROBLEM_UNKNOWN_TYPE
        | s.PROBLEM_MISSING_CONTACT
        | s.PROBLEM_BAD_TIMESTAMP
        | s.PROBLEM_BAD_LOCAL_TIME
        | s.PROBLEM_UNKNOWN_TIMEZONE
    )


def test_bodies_duckdb_refuses_go_to_the_other_paths():
    # a part that is not an object, a duplicate key, a number no float holds, two objects
    refused = [
        body(visit(where="Harbour")),
        b'{"events": [{"customerId": "c1", "customerId": "c2"}]}',
        b'{"events": [{"event": {"type": "visit", "visit": {"duration": 1e400}}}]}',
        b'{"events": [{"customerId": "c1"}]} {"events": []}',
        b'{"events": null}',
    ]
    assert frame._duckdb_rows(refused, 1) == [None] * len(refused)
    readable = refused[:3] + [refused[4], body(visit())]
    df = frame.pages_frame(readable, reader="duckdb")
    pd.testing.assert_frame_equal(df, frame.pages_frame(readable))
    # rows: visit with a text `where` (MALFORMED), the duplicate contact (Python keeps the last,
    # "c2"), the infinite duration (BAD_DURATION), none for the null list, the clean visit
    assert len(df) == 4
    assert problems(df.iloc[0]) & s.PROBLEM_MALFORMED and pd.isna(df[s.LOCATION_ID].iloc[0])
    assert df[s.CONTACT_ID].iloc[1] == "c2"
    assert problems(df.iloc[2]) & s.PROBLEM_BAD_DURATION
    assert problems(df.iloc[3]) == 0 and df[s.VISIT_DURATION_MIN].iloc[3] == 30.0
    with pytest.raises(ValueError, match="not valid JSON"):
        frame.pages_frame([refused[3]], reader="duckdb")


def test_empty_pages_and_an_unknown_reader():
    df = frame.pages_frame([b'{"events": []}', body(visit()), b'{"events": []}'], reader="duckdb")
    assert len(df) == 1 and df[s.EVENT_ID].iloc[0] == "v1"
    assert len(frame.pages_frame([], reader="duckdb")) == 0
    with pytest.raises(ValueError, match="unknown reader"):
        frame.pages_frame([body(visit())], reader="arrow")

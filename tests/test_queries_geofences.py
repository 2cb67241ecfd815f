"""The rows the Geofences page takes of every stored geofence event (``latest_geofence_rows``)
give the figures every geofence event gives (``c4w.metrics.geofences``): on a case worked out
by hand and on the demo."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from c4w import demo, schema
from c4w.metrics import geofences as gm
from c4w.queries import geofences as sql
from c4w.store import EventStore
from c4w.store.demo import write_demo_store, write_events
from tests.frames import event, make_events

FETCHED = dt.datetime(2024, 4, 10, 12, tzinfo=dt.UTC)
D = dt.date


def geo(kind, contact, at, fence, **extra):
    return event(kind, contact, at, geofence_id=fence, **extra)


def every_geofence_event(store: EventStore) -> pd.DataFrame:
    span = store.span()
    return store.read(span[0], span[1], list(gm.GEOFENCE_COLUMNS), list(schema.GEOFENCE_TYPES))


@pytest.fixture
def small_store(tmp_path):
    events = make_events(
        [
            # g1 drawn on 1 March, redrawn on 3 March (a new centre and radius; no name then)
            geo(
                schema.GEO_ARRIVING,
                "a",
                "2024-03-01 08:00",
                "g1",
                geofence_name="Front",
                geofence_lat=45.0,
                geofence_lon=9.0,
                geofence_radius_m=50.0,
                geofence_shape="circle",
                geofence_ext_id="store-1",
            ),
            geo(schema.GEO_VISIT, "a", "2024-03-01 08:30", "g1", visit_duration_min=30),
            geo(
                schema.GEO_ARRIVING,
                "b",
                "2024-03-03 10:00",
                "g1",
                geofence_lat=45.5,
                geofence_lon=9.5,
                geofence_radius_m=80.0,
            ),
            # two events of g2 at the same time: the one written later carries the last name
            geo(schema.GEO_ARRIVING, "a", "2024-03-02 09:00", "g2", geofence_name="Old"),
            geo(
                schema.GEO_ARRIVING,
                "b",
                "2024-03-02 09:00",
                "g2",
                geofence_name="New",
                geofence_ext_id="store-2",
            ),
            # g3 has neither attributes nor extId; a geofence known by its name only
            geo(schema.GEO_VISIT, "c", "2024-03-04 12:00", "g3", visit_duration_min=5),
            event(
                schema.GEO_ARRIVING,
                "c",
                "2024-03-04 13:00",
                geofence_name="Named only",
                geofence_radius_m=20.0,
            ),
            event(schema.GEO_ARRIVING, "d", "2024-03-04 14:00"),  # no geofence at all
            event(schema.VISIT, "a", "2024-03-01 08:40", geofence_name="not a geofence event"),
        ]
    )
    store = EventStore(tmp_path, "org-1")
    write_events(store, events, FETCHED)
    return store


def test_latest_rows_by_hand(small_store):
    rows = sql.latest_geofence_rows(small_store)
    assert list(rows.columns) == list(gm.GEOFENCE_COLUMNS)
    # g1: 1 March (the name, shape, extId) and 3 March (centre, radius, last row); g1's visit
    # carries nothing latest. g2: the second 9:00 event only (last row, name, extId). g3 and
    # "Named only": their one row each.
    times = rows[schema.CREATED_AT].dt.strftime("%d %H:%M")
    got = list(zip(times, rows[schema.CONTACT_ID], strict=True))
    assert got == [
        ("01 08:00", "a"),
        ("02 09:00", "b"),
        ("03 10:00", "b"),
        ("04 12:00", "c"),
        ("04 13:00", "c"),
    ]
    summary = gm.geofence_summary(None, rows).set_index(gm.GEOFENCE)
    assert summary.loc["g1", ["name", "lat", "lon", "radius_m", "shape"]].tolist() == [
        "Front",
        45.5,
        9.5,
        80.0,
        "circle",
    ]
    assert summary.loc["g2", "name"] == "New"
    assert summary.loc["g3", "name"] == "g3"  # no name: the id
    assert summary.loc["Named only", "radius_m"] == 20.0
    assert gm.geofence_ext_ids(rows).to_dict() == {"g1": "store-1", "g2": "store-2"}


def test_the_figures_equal_those_of_every_row(small_store):
    every = every_geofence_event(small_store)
    rows = sql.latest_geofence_rows(small_store)
    in_dates = every[every[schema.CREATED_AT] >= pd.Timestamp("2024-03-03", tz="UTC")]
    for dates in (in_dates, every, None):
        pd.testing.assert_frame_equal(
            gm.geofence_summary(dates, rows), gm.geofence_summary(dates, every)
        )
    pd.testing.assert_series_equal(gm.geofence_ext_ids(rows), gm.geofence_ext_ids(every))


def test_an_empty_store_has_no_geofence(tmp_path):
    rows = sql.latest_geofence_rows(EventStore(tmp_path, "org-1"))
    assert rows.empty and list(rows.columns) == list(gm.GEOFENCE_COLUMNS)
    assert gm.geofence_summary(None, rows).empty


def test_the_figures_equal_those_of_every_row_on_the_demo(tmp_path):
    org = demo.build_demo(6_000, end=dt.datetime(2024, 4, 10, 12))
    store = EventStore(tmp_path, org.org_id)
    write_demo_store(store, org, FETCHED)
    every = every_geofence_event(store)
    rows = sql.latest_geofence_rows(store)
    assert 0 < len(rows) < len(every) / 5
    last_week = every[every[schema.CREATED_AT] >= pd.Timestamp("2024-04-04", tz="UTC")]
    for dates in (last_week, every):
        pd.testing.assert_frame_equal(
            gm.geofence_summary(dates, rows), gm.geofence_summary(dates, every)
        )
    pd.testing.assert_series_equal(gm.geofence_ext_ids(rows), gm.geofence_ext_ids(every))

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


# --- walk-ins and the stores' visits, in DuckDB over the WiFi events ---------------------------
def wifi(kind, contact, at, location, **extra):
    return event(kind, contact, at, location_id=location, **extra)


WALK_IN_EVENTS = [
    # g1's store is L1, g2's is L2; g3 has none
    geo(schema.GEO_ARRIVING, "a", "2024-03-05 10:00", "g1"),
    wifi(schema.LOGIN, "a", "2024-03-05 10:20", "L1"),  # a walks in after 20 min
    geo(schema.GEO_ARRIVING, "a", "2024-03-05 12:00", "g1"),
    # a's visit started 12:50 (recorded at its end, 13:30): a walk-in after 50 min
    wifi(schema.VISIT, "a", "2024-03-05 13:30", "L1", visit_start="2024-03-05 12:50"),
    geo(schema.GEO_ARRIVING, "b", "2024-03-05 10:00", "g1"),
    wifi(schema.LOGIN, "b", "2024-03-05 09:50", "L1"),  # before the arrival: no
    wifi(schema.LOGIN, "b", "2024-03-05 10:10", "L2"),  # at another store: no
    geo(schema.GEO_ARRIVING, "c", "2024-03-05 11:00", "g1"),
    wifi(schema.LOGIN, "c", "2024-03-05 12:30", "L1"),  # after 90 min
    geo(schema.GEO_ARRIVING, "b", "2024-03-05 14:00", "g2"),
    wifi(schema.LOGIN, "b", "2024-03-05 14:05", "L2"),  # b walks into L2 after 5 min
    geo(schema.GEO_ARRIVING, "d", "2024-03-05 10:00", "g3"),  # no store
    wifi(schema.LOGIN, "d", "2024-03-05 10:01", "L1"),
    geo(schema.GEO_ARRIVING, None, "2024-03-05 10:00", "g1"),  # no guest: not counted
    geo(schema.GEO_ARRIVING, "e", "2024-03-05 23:50", "g1"),
    wifi(schema.LOGIN, "e", "2024-03-06 00:10", "L1"),  # the day after, 20 min later
    geo(schema.GEO_ARRIVING, "f", "2024-03-06 09:00", "g1"),  # after the dates
    wifi(schema.LOGIN, "f", "2024-03-06 09:05", "L1"),
]
TIED = (("g1", "L1"), ("g2", "L2"))


@pytest.fixture
def walk_in_store(tmp_path):
    store = EventStore(tmp_path, "org-1")
    write_events(store, make_events(WALK_IN_EVENTS), FETCHED)
    return store


@pytest.mark.parametrize(
    "minutes, expected",
    [
        # geofence, arrivals, walk-ins, share, guests arrived, walked in, median lag (min)
        (60.0, [("g1", 5, 3, 0.6, 4, 2, 20.0), ("g2", 1, 1, 1.0, 1, 1, 5.0)]),
        # c's 90 minutes count too: lags 20, 50, 90, 20
        (90.0, [("g1", 5, 4, 0.8, 4, 3, 35.0), ("g2", 1, 1, 1.0, 1, 1, 5.0)]),
        (5.0, [("g1", 5, 0, 0.0, 4, 0, None), ("g2", 1, 1, 1.0, 1, 1, 5.0)]),
    ],
)
def test_walk_ins_by_hand(walk_in_store, minutes, expected):
    day = D(2024, 3, 5)
    got = sql.walk_ins(walk_in_store, day, day, TIED, minutes)
    assert list(got.columns) == list(gm.WALK_IN_TABLE)
    rows = [
        (*row[:6], None if pd.isna(row[6]) else row[6])
        for row in got[list(gm.WALK_IN_TABLE)].itertuples(index=False)
    ]
    assert rows == expected
    # the pandas definition on the same events
    events = make_events(WALK_IN_EVENTS)
    in_dates = events[events[schema.CREATED_AT] < pd.Timestamp("2024-03-06", tz="UTC")]
    stores = pd.DataFrame({gm.GEOFENCE: ["g1", "g2", "g3"], "location_id": ["L1", "L2", None]})
    pd.testing.assert_frame_equal(got, gm.walk_ins(in_dates, stores, events, minutes))
    assert sql.store_pairs(stores) == TIED


def test_no_store_no_walk_in(walk_in_store):
    day = D(2024, 3, 5)
    assert sql.walk_ins(walk_in_store, day, day, ()).empty
    assert sql.walk_ins(walk_in_store, D(2024, 1, 1), D(2024, 1, 2), TIED).empty


def test_store_visits_by_hand(walk_in_store):
    # one WiFi visit, a's at L1 (logins are not visits)
    assert sql.store_visits(walk_in_store, D(2024, 3, 5), D(2024, 3, 6)) == {"L1": 1}
    assert sql.store_visits(walk_in_store, D(2024, 3, 6), D(2024, 3, 6)) == {}


@pytest.mark.parametrize("minutes", [5.0, gm.WALK_IN_MINUTES, 240.0])
def test_walk_ins_and_store_visits_equal_the_pandas_figures_on_the_demo(tmp_path, minutes):
    org = demo.build_demo(20_000, end=dt.datetime(2024, 4, 10, 12))
    store = EventStore(tmp_path, org.org_id)
    write_demo_store(store, org, FETCHED)
    start, end = D(2024, 3, 1), D(2024, 4, 8)
    in_dates = store.read(start, end, list(gm.GEOFENCE_COLUMNS), list(gm.IN_DATES_TYPES))
    after = end + dt.timedelta(days=1)
    wifi_rows = store.read(start, after, list(gm.WIFI_COLUMNS), list(gm.WIFI_TYPES))
    history = sql.latest_geofence_rows(store)
    stores = gm.geofence_stores(
        gm.geofence_summary(in_dates, history),
        demo.demo_locations_frame(),
        gm.geofence_ext_ids(history),
    )
    by_pandas = gm.walk_ins(in_dates, stores, wifi_rows, minutes)
    assert by_pandas["walk_ins"].sum() > 0
    by_sql = sql.walk_ins(store, start, end, sql.store_pairs(stores), minutes)
    pd.testing.assert_frame_equal(by_sql, by_pandas, check_exact=False, rtol=1e-12)
    in_days = store.read(start, end, list(gm.WIFI_COLUMNS), list(gm.WIFI_TYPES))
    assert sql.store_visits(store, start, end) == gm.store_visits(in_days)

"""Geofences: per-geofence counts, dwell, zero-activity geofences, daily activity, map points."""

from __future__ import annotations

import math

import pandas as pd

from c4w import schema
from c4w.metrics import geofences
from tests.frames import event, make_events


def fence(gid: str, name: str, lon: float, lat: float, radius: float) -> dict:
    return {
        schema.GEOFENCE_ID: gid,
        schema.GEOFENCE_NAME: name,
        schema.GEOFENCE_LON: lon,
        schema.GEOFENCE_LAT: lat,
        schema.GEOFENCE_RADIUS_M: radius,
        schema.GEOFENCE_SHAPE: "Circle",
    }


MALL = fence("g1", "Mall Entrance", 9.19, 45.46, 100)
PARK_OLD = fence("g2", "Parking", 9.20, 45.47, 250)
PARK_NEW = fence("g2", "Parking", 9.20, 45.47, 300)
KIOSK = fence("g3", "Old kiosk", 9.10, 45.40, 40)
ARR, VIS = schema.GEO_ARRIVING, schema.GEO_VISIT
DUR = schema.VISIT_DURATION_MIN


def in_range() -> pd.DataFrame:
    """March 1-2 (the selected dates).

    g1 Mall: a and b arrive on d0; visits a 10 min (d0), a 30 min (d1), b 50 min (d1)
    g2 Parking: c arrives on d0 (radius 250) and d1 (redrawn to radius 300), no visit
    plus a WiFi login that belongs to no geofence
    """
    return make_events(
        [
            event(ARR, "a", "2024-03-01T09:00:00Z", **MALL),
            event(ARR, "b", "2024-03-01T09:30:00Z", **MALL),
            event(VIS, "a", "2024-03-01T09:10:00Z", **MALL, **{DUR: 10.0}),
            event(VIS, "a", "2024-03-02T12:00:00Z", **MALL, **{DUR: 30.0}),
            event(VIS, "b", "2024-03-02T13:00:00Z", **MALL, **{DUR: 50.0}),
            event(ARR, "c", "2024-03-01T08:00:00Z", **PARK_OLD),
            event(ARR, "c", "2024-03-02T08:00:00Z", **PARK_NEW),
            event(schema.LOGIN, "a", "2024-03-01T09:05:00Z", **{schema.LOCATION_ID: "L1"}),
        ]
    )


def history() -> pd.DataFrame:
    """Everything loaded: the range plus g3, last seen in February."""
    earlier = make_events([event(ARR, "d", "2024-02-10T08:00:00Z", **KIOSK)])
    return pd.concat([earlier.astype(object), in_range().astype(object)], ignore_index=True)


def test_summary_counts_dwell_and_zero_activity_geofences() -> None:
    table = geofences.geofence_summary(in_range(), history()).set_index(geofences.GEOFENCE)
    # order: most visits first (g1: 3), then arrivals (g2: 2, g3: 0)
    assert table.index.tolist() == ["g1", "g2", "g3"]
    # g1: arrivals a, b = 2; visits 3; contacts {a, b} = 2; median of 10, 30, 50 = 30 min
    assert table.loc["g1", ["arrivals", "visits", "unique_contacts"]].tolist() == [2, 3, 2]
    assert table.loc["g1", "median_dwell_min"] == 30.0
    assert table.loc["g1", "name"] == "Mall Entrance"
    assert (table.loc["g1", "lon"], table.loc["g1", "lat"]) == (9.19, 45.46)
    # g2: 2 arrivals by c, no visit, 1 contact, no dwell; radius from the latest event: 300
    assert table.loc["g2", ["arrivals", "visits", "unique_contacts"]].tolist() == [2, 0, 1]
    assert math.isnan(table.loc["g2", "median_dwell_min"])
    assert table.loc["g2", "radius_m"] == 300.0
    # g3: only in the history frame -> listed with zeros
    assert table.loc["g3", ["arrivals", "visits", "unique_contacts"]].tolist() == [0, 0, 0]
    assert table.loc["g3", "radius_m"] == 40.0
    assert table.loc["g3", "shape"] == "Circle"
    assert tuple(table.reset_index().columns) == geofences.SUMMARY_COLUMNS


def test_summary_without_history_lists_only_geofences_in_range() -> None:
    table = geofences.geofence_summary(in_range())
    assert table[geofences.GEOFENCE].tolist() == ["g1", "g2"]


def test_geofence_events_daily_and_contacts() -> None:
    mall = geofences.geofence_events(in_range(), "g1")
    # 2 arrivals + 3 visits at g1
    assert len(mall) == 5
    daily = geofences.geofence_daily(mall)
    # d0: arrivals a, b = 2, visit a 10 min = 1; d1: visits a, b = 2
    assert daily["day"].tolist() == [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-03-02")]
    assert daily["arrivals"].tolist() == [2, 0]
    assert daily["visits"].tolist() == [1, 2]
    people = geofences.geofence_contacts(mall)
    # a: 1 arrival, 2 visits, 10 + 30 = 40 min; b: 1 arrival, 1 visit, 50 min
    assert people[schema.CONTACT_ID].tolist() == ["a", "b"]
    assert people["visits"].tolist() == [2, 1]
    assert people["arrivals"].tolist() == [1, 1]
    assert people["total_dwell_min"].tolist() == [40.0, 50.0]
    assert people["last_seen"].tolist() == [
        pd.Timestamp("2024-03-02T12:00:00Z"),
        pd.Timestamp("2024-03-02T13:00:00Z"),
    ]


def test_mappable_drops_geofences_without_a_centre() -> None:
    frame = make_events(
        [
            event(ARR, "a", "2024-03-01T09:00:00Z", **MALL),
            event(ARR, "a", "2024-03-01T09:00:00Z", **{schema.GEOFENCE_ID: "g9"}),
        ]
    )
    table = geofences.geofence_summary(frame)
    # g9 has no coordinates; its name falls back to its id
    assert table.set_index(geofences.GEOFENCE).loc["g9", "name"] == "g9"
    assert geofences.mappable(table)[geofences.GEOFENCE].tolist() == ["g1"]


def test_wifi_location_points_keep_known_coordinates() -> None:
    locations = pd.DataFrame(
        {
            "id": ["L1", "L2", "L3", "L4"],
            "name": ["Milan Store", "Rome Store", "Placeholder", "Bad"],
            "lat": [45.46, None, 0.0, 123.0],
            "lng": [9.19, 12.49, 0.0, 9.0],
            "city": ["Milan", "Rome", "", ""],
            "address": ["Via Roma 1", None, "", ""],
        }
    )
    points = geofences.wifi_location_points(locations)
    # L2 has no latitude, L3 is 0, 0 (placeholder), L4's latitude is beyond 90 -> only L1
    assert points["location_id"].tolist() == ["L1"]
    assert points[["lon", "lat"]].iloc[0].tolist() == [9.19, 45.46]
    assert points["address"].tolist() == ["Via Roma 1"]


def test_empty_frames_give_empty_results() -> None:
    empty = make_events([])
    assert geofences.geofence_summary(empty).empty
    assert geofences.geofence_summary(empty, empty).empty
    assert tuple(geofences.geofence_summary(empty).columns) == geofences.SUMMARY_COLUMNS
    assert geofences.geofence_daily(empty).empty
    assert geofences.geofence_contacts(empty).empty
    assert geofences.geofence_events(empty, "g1").empty
    assert geofences.wifi_location_points(pd.DataFrame()).empty
    # a frame with events but none at a geofence
    logins = make_events([event(schema.LOGIN, "a", "2024-03-01T09:05:00Z")])
    assert geofences.geofence_summary(logins).empty


def test_zero_activity_in_range_still_listed() -> None:
    # nothing in the selected dates, but the geofence is known from history
    table = geofences.geofence_summary(make_events([]), history())
    assert sorted(table[geofences.GEOFENCE]) == ["g1", "g2", "g3"]
    assert table["arrivals"].sum() == 0 and table["visits"].sum() == 0


def test_totals_count_each_contact_once() -> None:
    totals = geofences.geofence_totals(in_range())
    # g1 and g2 active; arrivals 2 (g1) + 2 (g2) = 4; visits 3; contacts {a, b, c} = 3
    # median dwell over all geofence visits: 10, 30, 50 -> 30
    assert (totals.geofences, totals.arrivals, totals.visits) == (2, 4, 3)
    assert totals.unique_contacts == 3
    assert totals.median_dwell_min == 30.0
    empty = geofences.geofence_totals(make_events([]))
    assert empty.geofences == 0 and math.isnan(empty.median_dwell_min)


def test_wifi_points_follow_the_location_filter() -> None:
    locations = pd.DataFrame(
        {"id": ["L1", "L2"], "name": ["Milan", "Rome"], "lat": [45.4, 41.9], "lng": [9.2, 12.5]}
    )
    assert geofences.wifi_location_points(locations, ["L2"])["name"].tolist() == ["Rome"]
    assert len(geofences.wifi_location_points(locations, [])) == 2


def test_readable_leads_with_name_and_puts_ids_last() -> None:
    frame = walk_frame()
    summary = geofences.geofence_summary(frame)
    links = geofences.geofence_stores(summary, STORES, geofences.geofence_ext_ids(frame))
    table = geofences.readable(
        geofences.with_walk_ins(summary, links, geofences.walk_ins(frame, links))
    )
    assert table.columns[:7].tolist() == [
        "Geofence",
        "Store",
        "Radius (m)",
        "Arrivals",
        "Visits",
        "Walk-in share (%)",
        "Median dwell (min)",
    ]
    assert table.columns[-4:].tolist() == ["Latitude", "Longitude", "Geofence id", "Store id"]
    assert table.loc[table["Geofence"] == "Brera door", "Walk-in share (%)"].item() == 50.0
    people = geofences.readable(geofences.geofence_contacts(frame))
    assert people.columns[0] == schema.CONTACT_ID


# --- geofence to store ----------------------------------------------------------------------------
STORES = pd.DataFrame(
    {
        "id": ["L1", "L2"],
        "name": ["Brera", "Navigli"],
        "lat": [45.4720, 45.4520],
        "lng": [9.1875, 9.1750],
        "city": ["Milano", "Milano"],
        "address": ["Via Brera 1", "Ripa 2"],
        "external_id": ["MIL-001", "MIL-002"],
    }
)
G1 = {**fence("g1", "Brera door", 9.1876, 45.4722, 60), schema.GEOFENCE_EXT_ID: "MIL-001"}
# 50 m north of Navigli (50 / 111,320 m per degree), no matching extId: tied by distance
G2 = {**fence("g2", "Navigli corner", 9.1750, 45.4520 + 50 / 111_320, 40)}
G2[schema.GEOFENCE_EXT_ID] = "POI-7"
G3 = {**fence("g3", "Stadium", 9.1240, 45.4781, 300), schema.GEOFENCE_EXT_ID: "POI-9"}


def wifi(kind: str, contact: str, at: str, place: str, **extra: object) -> dict:
    return event(kind, contact, at, **{schema.LOCATION_ID: place, **extra})


def walk_frame() -> pd.DataFrame:
    """Arrivals at g1 (Brera's geofence) on 1 Mar:
    A 10:00, logs in at Brera 10:03 -> walk-in after 3 min
    B 11:00, logs in at Navigli 11:05 -> another store: no
    C logs in at Brera 11:50, arrives 12:00 -> login before the arrival: no; C's visit at
      Brera starting 13:30 (ends 14:00, 30 min) is 90 min after: no within 60 min
    A 14:00 again, a Brera visit starting 14:20 (emitted 14:50) -> walk-in after 20 min
    g2 (Navigli's by distance): D 09:00, logs in at Navigli 09:01 -> walk-in after 1 min
    g3 (no store): E arrives, logs in at Brera 5 min later -> not counted anywhere
    """
    return make_events(
        [
            event(ARR, "D", "2024-03-01 09:00", **G2),
            wifi(schema.LOGIN, "D", "2024-03-01 09:01", "L2"),
            event(ARR, "A", "2024-03-01 10:00", **G1),
            wifi(schema.LOGIN, "A", "2024-03-01 10:03", "L1"),
            event(ARR, "B", "2024-03-01 11:00", **G1),
            wifi(schema.LOGIN, "B", "2024-03-01 11:05", "L2"),
            wifi(schema.LOGIN, "C", "2024-03-01 11:50", "L1"),
            event(ARR, "C", "2024-03-01 12:00", **G1),
            event(ARR, "E", "2024-03-01 12:30", **G3),
            wifi(schema.LOGIN, "E", "2024-03-01 12:35", "L1"),
            wifi(schema.VISIT, "C", "2024-03-01 14:00", "L1", **{DUR: 30.0}),
            event(ARR, "A", "2024-03-01 14:00", **G1),
            wifi(schema.VISIT, "A", "2024-03-01 14:50", "L1", **{DUR: 30.0}),
        ]
    )


def test_distance_by_hand() -> None:
    # 50 m due north; and one degree of latitude is 111.19 km on a 6,371 km sphere
    assert abs(geofences.distance_m(45.452, 9.175, 45.452 + 50 / 111_320, 9.175) - 49.94) < 0.05
    assert abs(geofences.distance_m(0.0, 0.0, 1.0, 0.0) - 111_194.9) < 1


def test_each_geofence_gets_its_store_by_ext_id_or_distance() -> None:
    frame = walk_frame()
    summary = geofences.geofence_summary(frame)
    links = geofences.geofence_stores(summary, STORES, geofences.geofence_ext_ids(frame))
    by = links.set_index(geofences.GEOFENCE)
    assert (by.loc["g1", "location_id"], by.loc["g1", "link_rule"]) == ("L1", "extId")
    assert (by.loc["g2", "location_id"], by.loc["g2", "link_rule"]) == ("L2", "distance")
    assert by.loc["g2", "store"] == "Navigli"
    assert abs(by.loc["g2", "store_distance_m"] - 49.94) < 0.05
    assert by.loc["g3", "location_id"] is None and by.loc["g3", "link_rule"] is None
    # a store 50 m away is too far for a 40 m circle when only 5 m beyond it are allowed
    tight = geofences.geofence_stores(summary, STORES, pd.Series(dtype=object), extra_m=5)
    assert tight.set_index(geofences.GEOFENCE).loc["g2", "location_id"] is None


def test_walk_in_share_and_lag() -> None:
    frame = walk_frame()
    summary = geofences.geofence_summary(frame)
    links = geofences.geofence_stores(summary, STORES, geofences.geofence_ext_ids(frame))
    walk = geofences.walk_ins(frame, links).set_index(geofences.GEOFENCE)
    assert sorted(walk.index) == ["g1", "g2"]  # g3 has no store
    g1 = walk.loc["g1"]
    assert (g1["arrivals"], g1["walk_ins"], g1["walk_in_share"]) == (4, 2, 0.5)
    assert (g1["app_users"], g1["users_walked_in"]) == (3, 1)  # A, B, C; only A
    assert g1["median_lag_min"] == 11.5  # 3 and 20 minutes
    g2 = walk.loc["g2"]
    assert (g2["walk_ins"], g2["walk_in_share"], g2["median_lag_min"]) == (1, 1.0, 1.0)
    # a 100-minute window also takes C's visit 90 minutes after the arrival
    wide = geofences.walk_ins(frame, links, minutes=100).set_index(geofences.GEOFENCE)
    assert wide.loc["g1", "walk_ins"] == 3 and wide.loc["g1", "median_lag_min"] == 20.0


def test_walk_ins_with_the_wifi_events_read_on_their_own() -> None:
    """As the page reads them: the arrivals and the WiFi events as two frames, each with its
    own guests (categories) and row labels. The figures are those worked out above."""
    frame = walk_frame()
    summary = geofences.geofence_summary(frame)
    links = geofences.geofence_stores(summary, STORES, geofences.geofence_ext_ids(frame))
    is_wifi = frame[schema.TYPE].isin(geofences.WIFI_TYPES)
    arrivals, wifi_events = frame.loc[~is_wifi], frame.loc[is_wifi]
    guests = wifi_events[schema.CONTACT_ID]
    wifi_events = wifi_events.assign(
        **{schema.CONTACT_ID: guests.cat.set_categories(["Z", *guests.cat.categories])}
    )
    walk = geofences.walk_ins(arrivals, links, wifi_events).set_index(geofences.GEOFENCE)
    g1, g2 = walk.loc["g1"], walk.loc["g2"]
    assert (g1["arrivals"], g1["walk_ins"], g1["app_users"], g1["users_walked_in"]) == (4, 2, 3, 1)
    assert g1["median_lag_min"] == 11.5
    assert (g2["walk_ins"], g2["median_lag_min"]) == (1, 1.0)


def test_low_walk_in_geofences_are_called_out() -> None:
    frame = walk_frame()
    summary = geofences.geofence_summary(frame)
    links = geofences.geofence_stores(summary, STORES, geofences.geofence_ext_ids(frame))
    table = geofences.with_walk_ins(summary, links, geofences.walk_ins(frame, links))
    assert geofences.low_walk_in(table, min_arrivals=2, below=0.6)[geofences.GEOFENCE].tolist() == [
        "g1"
    ]
    assert geofences.low_walk_in(table, min_arrivals=5, below=0.6).empty  # g1 has 4 arrivals
    assert geofences.overlaps(summary) == {"g1": [], "g2": [], "g3": []}


def test_overlapping_circles_and_map_clusters() -> None:
    summary = pd.DataFrame(
        {
            geofences.GEOFENCE: ["a", "b", "c"],
            "name": ["Big", "Small", "Far"],
            "lat": [45.0, 45.0 + 150 / 111_320, 40.0],
            "lon": [9.0, 9.0, -74.0],
            "radius_m": [100.0, 60.0, 50.0],
            "arrivals": [5, 1, 30],
            "visits": [0, 0, 10],
        }
    )
    # 150 m apart with radii 100 + 60 = 160: they overlap
    assert geofences.overlaps(summary) == {"a": ["Small"], "b": ["Big"], "c": []}
    points = pd.DataFrame(
        {"name": ["Shop"], "lat": [45.01], "lon": [9.01], "city": ["Milano"], "location_id": ["L"]}
    )
    clusters = geofences.map_clusters(geofences.map_places(summary, points))
    # the New York geofence has the most activity (40); Milan's cluster is named by its store
    assert clusters["name"].tolist() == ["Far", "Milano"]
    assert clusters["places"].tolist() == [1, 3]
    assert clusters.loc[1, "lat_max"] == 45.01


def test_demo_geofences_with_high_and_low_walk_in() -> None:
    """The demo seeds few walk-bys at Flatiron and River North, many at Williamsburg and Santa
    Monica; the airport geofence (its café inside the circle) almost never leads to the café."""
    from c4w import demo

    frame = demo.demo_events_frame(60_000)
    summary = geofences.geofence_summary(frame)
    links = geofences.geofence_stores(
        summary, demo.demo_locations_frame(), geofences.geofence_ext_ids(frame)
    )
    table = geofences.with_walk_ins(summary, links, geofences.walk_ins(frame, links))
    share = table.set_index("name")["walk_in_share"]
    assert share["Copperline Flatiron geofence"] > 0.85
    assert share["Copperline River North geofence"] > 0.85
    assert share["Copperline Williamsburg geofence"] < 0.35
    assert share["Copperline Santa Monica geofence"] < 0.35
    rules = table.set_index("name")["link_rule"]
    assert rules["O'Hare International Airport"] == "distance"
    low = geofences.low_walk_in(table)["name"].tolist()
    assert {"Copperline Williamsburg geofence", "O'Hare International Airport"} <= set(low)
    assert "Copperline Flatiron geofence" not in low
    lag = table.set_index("name")["median_lag_min"]
    assert 0.5 < lag["Copperline Flatiron geofence"] < 6  # the app sees guests 0.5-5 min early


def test_walk_ins_on_the_demo_match_a_guest_by_guest_search() -> None:
    from c4w import demo
    from c4w.frame import events_frame

    org = demo.build_demo(20_000, end=pd.Timestamp("2024-03-10 12:00", tz="UTC").to_pydatetime())
    frame = events_frame(org.body())
    summary = geofences.geofence_summary(frame)
    stores = demo.demo_locations_frame()
    links = geofences.geofence_stores(summary, stores, geofences.geofence_ext_ids(frame))
    minutes = 60
    got = geofences.walk_ins(frame, links, minutes=minutes).set_index(geofences.GEOFENCE)
    # the same by plain search: for each arrival, the guest's WiFi moments at the store within
    # the window, earliest first
    store_of = dict(zip(links[geofences.GEOFENCE], links["location_id"], strict=True))
    moments: dict[tuple[str, str], list[pd.Timestamp]] = {}
    for row in frame.itertuples(index=False):
        if row.type not in (schema.LOGIN, schema.VISIT) or pd.isna(row.contact_id):
            continue
        if pd.isna(row.location_id):
            continue
        at = row.visit_start if row.type == schema.VISIT and pd.notna(row.visit_start) else None
        at = at if at is not None else row.created_at
        if pd.notna(at):
            moments.setdefault((row.contact_id, row.location_id), []).append(at)
    keys = geofences._geofence_key(frame)
    expected: dict[str, list[float | None]] = {}
    for key, row in zip(keys, frame.itertuples(index=False), strict=True):
        if row.type != schema.GEO_ARRIVING or pd.isna(row.contact_id) or pd.isna(row.created_at):
            continue
        store = store_of.get(key)
        if store is None or pd.isna(store):
            continue
        lags = [
            (t - row.created_at).total_seconds() / 60
            for t in moments.get((row.contact_id, store), [])
            if pd.Timedelta(0) <= t - row.created_at <= pd.Timedelta(minutes=minutes)
        ]
        expected.setdefault(key, []).append(min(lags) if lags else None)
    assert sum(len(v) for v in expected.values()) > 100  # enough arrivals to mean something
    assert sorted(got.index) == sorted(expected)
    for key, lags in expected.items():
        walked = [lag for lag in lags if lag is not None]
        assert got.loc[key, "arrivals"] == len(lags), key
        assert got.loc[key, "walk_ins"] == len(walked), key
        if walked:
            assert math.isclose(got.loc[key, "median_lag_min"], float(pd.Series(walked).median()))

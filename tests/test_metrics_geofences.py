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


def test_readable_puts_the_name_first() -> None:
    table = geofences.readable(geofences.geofence_summary(in_range()))
    assert table.columns[:2].tolist() == ["Geofence", "Geofence id"]
    assert "Median dwell (min)" in table.columns

"""Visit-length metrics on a small frame whose every expected number is worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from c4w import schema
from c4w.metrics import visits as vm
from tests.frames import event, make_events


def wifi(minutes: float | None, location: str, name: str, contact: str = "g") -> dict:
    return {
        schema.TYPE: schema.VISIT,
        schema.CONTACT_ID: contact,
        schema.CREATED_AT: "2024-03-05 12:00",
        schema.VISIT_DURATION_MIN: minutes,
        schema.LOCATION_ID: location,
        schema.LOCATION_NAME: name,
    }


def geo(minutes: float, geofence: str, name: str) -> dict:
    return {
        schema.TYPE: schema.GEO_VISIT,
        schema.CONTACT_ID: "g",
        schema.CREATED_AT: "2024-03-05 12:00",
        schema.VISIT_DURATION_MIN: minutes,
        schema.GEOFENCE_ID: geofence,
        schema.GEOFENCE_NAME: name,
    }


STORE_A = [0, 4.99, 5, 14.9, 15, 30, 60, 119, 120]  # 9 usable lengths
STORE_B = [10, 20, 30, 40]
MALL = [2, 100]
ROWS = (
    [wifi(m, "L1", "Store A") for m in STORE_A]
    + [wifi(None, "L1", "Store A"), wifi(-3, "L1", "Store A")]  # no usable length
    + [wifi(m, "L2", "Store B") for m in STORE_B]
    + [geo(m, "G1", "Mall") for m in MALL]
    + [event(schema.LOGIN, "g", "2024-03-05 12:00", location_id="L1")]  # not a visit
)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_events(ROWS)


def test_dwell_buckets_edges_go_to_the_bucket_above(frame):
    buckets = vm.dwell_buckets(frame)  # default edges 5, 15, 30, 60, 120; both kinds
    assert buckets["bucket"].tolist() == [
        "<5 min",
        "5–15 min",
        "15–30 min",
        "30–60 min",
        "60–120 min",
        "120+ min",
    ]
    # <5: 0, 4.99, 2 = 3 | 5–15: 5 (exactly 5), 14.9, 10 = 3 | 15–30: 15, 20 = 2
    # 30–60: 30, 30, 40 = 3 | 60–120: 60, 119, 100 = 3 | 120+: 120 = 1 | total 15
    assert buckets["visits"].tolist() == [3, 3, 2, 3, 3, 1]
    assert buckets["share"].tolist() == pytest.approx(
        [3 / 15, 3 / 15, 2 / 15, 3 / 15, 3 / 15, 1 / 15]
    )
    assert buckets["from_min"].tolist() == [0, 5, 15, 30, 60, 120]
    assert math.isinf(buckets["to_min"].iloc[-1])


def test_dwell_buckets_with_adjusted_edges_and_split(frame):
    # edges given out of order with a repeat and a zero: cleaned to 10, 60
    buckets = vm.dwell_buckets(frame, edges=[60, 10, 0, 10], split="kind")
    assert buckets["bucket"].unique().tolist() == ["<10 min", "10–60 min", "60+ min"]
    per = buckets.set_index(["group", "bucket"])["visits"]
    # WiFi (13): <10: 0, 4.99, 5 = 3 | 10–60: 14.9, 15, 30, 10, 20, 30, 40 = 7 | 60+: 60, 119, 120
    assert [per[("WiFi visits", b)] for b in ("<10 min", "10–60 min", "60+ min")] == [3, 7, 3]
    # geofence (2): 2 -> <10, 100 -> 60+
    assert [per[("Geofence visits", b)] for b in ("<10 min", "10–60 min", "60+ min")] == [1, 0, 1]


def test_bounce_rate_at_adjustable_threshold(frame):
    # both kinds, under 5 min: 0, 4.99, 2 -> 3 of 15 usable lengths; exactly 5 is not a bounce
    rate = vm.bounce_rate(frame, threshold_min=5)
    assert (rate.bounces, rate.visits) == (3, 15)
    assert rate.rate == pytest.approx(0.2)
    # WiFi only, under 15: 0, 4.99, 5, 14.9, 10 -> 5 of 13
    assert vm.bounce_rate(frame, 15, kind="wifi").rate == pytest.approx(5 / 13)
    # Store B only, under 25: 10, 20 -> 2 of 4
    assert vm.bounce_rate(frame, 25, places=["Store B"]).rate == pytest.approx(0.5)


def test_median_and_p90_per_place(frame):
    table = vm.dwell_by_place(frame, bounce_threshold_min=5).set_index("place")
    assert table.index.tolist() == ["Store A", "Store B", "Mall"]  # most visits first: 11, 4, 2
    # Store A sorted: 0, 4.99, 5, 14.9, 15, 30, 60, 119, 120 -> median = 5th = 15
    # p90: position 0.9 * (9 - 1) = 7.2 -> 119 + 0.2 * (120 - 119) = 119.2
    assert table.loc["Store A", "median_min"] == pytest.approx(15)
    assert table.loc["Store A", "p90_min"] == pytest.approx(119.2)
    assert table.loc["Store A", "visits"] == 11
    assert table.loc["Store A", "without_length"] == 2
    # Store B: 10, 20, 30, 40 -> median (20 + 30) / 2 = 25; p90 position 2.7 -> 30 + 0.7*10 = 37
    assert table.loc["Store B", "median_min"] == pytest.approx(25)
    assert table.loc["Store B", "p90_min"] == pytest.approx(37)
    # Mall: 2, 100 -> median 51; p90 position 0.9 -> 2 + 0.9 * 98 = 90.2
    assert table.loc["Mall", "median_min"] == pytest.approx(51)
    assert table.loc["Mall", "p90_min"] == pytest.approx(90.2)
    assert table.loc["Mall", "kind"] == "Geofence visits"
    # bounce under 5 min: Store A 0, 4.99 -> 2 of 9
    assert table.loc["Store A", "bounce_rate"] == pytest.approx(2 / 9)


def test_per_place_quantiles_agree_with_numpy():
    rng = np.random.default_rng(1)
    lengths = rng.exponential(30, 200).round(1)
    rows = [wifi(float(m), f"L{i % 3}", f"Store {i % 3}") for i, m in enumerate(lengths)]
    table = vm.dwell_by_place(make_events(rows)).set_index("place")
    for i in range(3):
        mine = lengths[i::3]
        assert table.loc[f"Store {i}", "median_min"] == pytest.approx(np.median(mine))
        assert table.loc[f"Store {i}", "p90_min"] == pytest.approx(np.percentile(mine, 90))


def test_visit_summary_counts_missing_lengths(frame):
    summary = vm.visit_summary(frame, kind="wifi")
    # WiFi visits: 11 at Store A (2 without length) + 4 at Store B = 15; 13 with a length
    assert (summary.visits, summary.with_length, summary.without_length) == (15, 13, 2)
    # sorted: 0, 4.99, 5, 10, 14.9, 15, 20, 30, 30, 40, 60, 119, 120 -> median = 7th = 20
    # p90: position 0.9 * 12 = 10.8 -> 60 + 0.8 * (119 - 60) = 107.2
    assert summary.median_min == pytest.approx(20)
    assert summary.p90_min == pytest.approx(107.2)


def test_dwell_histogram_bins_on_the_server(frame):
    hist = vm.dwell_histogram(frame, bin_width=10, kind="wifi")
    # longest 120 -> bins [0,10) .. [120,130): floor(120 / 10) + 1 = 13 bins
    assert len(hist) == 13
    assert hist["label"].iloc[0] == "0–10"
    counts = dict(zip(hist["bin_start"], hist["visits"], strict=True))
    # [0,10): 0, 4.99, 5 | [10,20): 14.9, 15, 10 | [20,30): 20 | [30,40): 30, 30 | [40,50): 40
    # [60,70): 60 | [110,120): 119 | [120,130): 120 -> 13 visits
    assert counts[0] == 3 and counts[10] == 3 and counts[20] == 1 and counts[30] == 2
    assert counts[40] == 1 and counts[50] == 0 and counts[60] == 1
    assert counts[110] == 1 and counts[120] == 1
    assert hist["visits"].sum() == 13
    assert hist["share"].sum() == pytest.approx(1.0)


def test_dwell_histogram_with_open_last_band(frame):
    hist = vm.dwell_histogram(frame, bin_width=30, max_minutes=60, kind="wifi")
    # [0,30): 0, 4.99, 5, 14.9, 15, 10, 20 = 7 | [30,60): 30, 30, 40 = 3 | >= 60: 60, 119, 120 = 3
    assert hist["label"].tolist() == ["0–30", "30–60", "≥ 60"]
    assert hist["visits"].tolist() == [7, 3, 3]
    assert math.isinf(hist["bin_end"].iloc[-1])


def test_dwell_histogram_split_by_kind_and_place(frame):
    hist = vm.dwell_histogram(frame, bin_width=50, split="kind")
    # longest 120 -> 3 bins [0,50) [50,100) [100,150)
    # WiFi: <50: 0, 4.99, 5, 14.9, 15, 30, 10, 20, 30, 40 = 10 | 50–100: 60 | 100–150: 119, 120
    # geofence: 2 -> [0,50); 100 -> [100,150)
    per = hist.set_index(["group", "bin_start"])["visits"]
    assert [per[("WiFi visits", s)] for s in (0, 50, 100)] == [10, 1, 2]
    assert [per[("Geofence visits", s)] for s in (0, 50, 100)] == [1, 0, 1]
    by_place = vm.dwell_histogram(frame, bin_width=50, split="place", places=["Store B", "Mall"])
    assert sorted(by_place["group"].unique()) == ["Mall", "Store B"]
    # Store B: 10, 20, 30, 40 all in [0,50)
    assert by_place.set_index(["group", "bin_start"])["visits"][("Store B", 0)] == 4


def test_geofence_only_and_place_list(frame):
    assert vm.visit_summary(frame, kind="geofence").visits == 2
    places = vm.visit_places(frame)
    assert places["place"].tolist() == ["Store A", "Store B", "Mall"]
    assert places["visits"].tolist() == [11, 4, 2]


def test_visit_rows_for_download(frame):
    rows = vm.visit_rows(frame, kind="both", places=["Store B", "Mall"])
    # 4 Store B visits + 2 Mall geofence visits, every canonical column kept
    assert len(rows) == 6
    assert set(schema.EVENT_COLUMNS) <= set(rows.columns)
    assert rows["place"].astype(str).tolist() == ["Store B"] * 4 + ["Mall"] * 2
    assert rows["visit_kind"].tolist() == ["WiFi visits"] * 4 + ["Geofence visits"] * 2
    # counted without making the rows: the same 6, and 11 + 4 WiFi visits, 2 geofence ones
    assert vm.visit_count(frame, kind="both", places=["Store B", "Mall"]) == 6
    assert vm.visit_count(frame, kind="wifi") == 15
    assert vm.visit_count(frame, kind="geofence") == 2
    assert vm.visit_count(frame, kind="both", places=["Nowhere"]) == 0


def test_places_without_id_or_name():
    frame = make_events(
        [
            wifi(10, None, "Named only"),
            wifi(20, None, None),
            wifi(30, "L9", None),  # an id without a name: named by its id
            geo(40, "G1", "Store A"),
            wifi(50, "L1", "Store A"),  # a geofence named like a location: told apart
        ]
    )
    table = vm.dwell_by_place(frame).set_index("place")
    assert sorted(table.index) == [
        "L9",
        "Named only",
        "Store A",
        "Store A (geofence)",
        "Unknown place",
    ]
    assert table.loc["Store A (geofence)", "median_min"] == 40


def test_empty_frame_gives_empty_results():
    empty = make_events([])
    assert vm.dwell_histogram(empty).empty
    assert vm.dwell_buckets(empty).empty
    assert vm.dwell_by_place(empty).empty
    assert vm.visit_places(empty).empty
    assert vm.visit_rows(empty).empty
    assert vm.visit_count(empty) == 0
    assert vm.bounce_rate(empty).rate is None
    summary = vm.visit_summary(empty)
    assert summary.visits == 0 and summary.median_min is None
    # only visits without a length: everything empty but the count of missing lengths
    missing = make_events([wifi(None, "L1", "Store A")])
    assert vm.dwell_histogram(missing).empty
    assert vm.visit_summary(missing).without_length == 1


def test_bad_arguments_are_refused(frame):
    with pytest.raises(ValueError):
        vm.dwell_histogram(frame, bin_width=0)
    with pytest.raises(ValueError):
        vm.dwell_histogram(frame, split="colour")


def test_inputs_are_not_modified(frame):
    before = frame.copy(deep=True)
    vm.dwell_histogram(frame, split="place")
    vm.dwell_buckets(frame)
    vm.dwell_by_place(frame)
    vm.visit_rows(frame)
    pd.testing.assert_frame_equal(frame, before)


def test_visit_kpis_against_the_previous_period(frame):
    previous = make_events([wifi(4, "L2", "Store B"), wifi(40, "L2", "Store B")])
    kpis = {k.key: k for k in vm.visit_kpis(frame, previous, kind="wifi", bounce_threshold_min=5)}
    # now: 15 WiFi visits, median 20 (as in test_visit_summary_counts_missing_lengths);
    # under 5 min among the 13 WiFi lengths: 0, 4.99 -> bounce 2 of 13
    assert kpis["visits"].value == 15 and kpis["visits"].previous == 2
    assert kpis["median"].value == pytest.approx(20)
    # before: lengths 4 and 40 -> median 22, bounce 1 of 2 = 50%
    assert kpis["median"].previous == pytest.approx(22)
    assert kpis["bounce"].value == pytest.approx(2 / 13)
    assert kpis["bounce"].previous == pytest.approx(0.5)
    assert kpis["bounce"].label == "Bounce rate" and kpis["bounce"].better == "down"
    assert kpis["missing"].value == 2 and kpis["missing"].previous == 0
    # no previous data loaded: no comparison at all
    assert all(k.previous is None for k in vm.visit_kpis(frame, make_events([])))


def test_parse_edges():
    assert vm.parse_edges("5, 15, 30") == ([5.0, 15.0, 30.0], None)
    assert vm.parse_edges("30 10;20") == ([10.0, 20.0, 30.0], None)
    edges, problem = vm.parse_edges("5, ten")
    assert edges == [5, 15, 30, 60, 120] and "positive numbers" in problem
    assert vm.parse_edges("0, -5")[1] is not None
    assert vm.parse_edges("")[1] is not None
    assert vm.bucket_labels([2.5, 10]) == ["<2.5 min", "2.5–10 min", "10+ min"]

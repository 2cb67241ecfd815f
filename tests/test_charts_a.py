"""Charts of the Overview, Visits and Logins views: built from the small aggregated frames only,
readable titles and axes, one colour per event type, hover text, names from the data kept
literal, and a message instead of an empty chart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from c4w import schema
from c4w.charts import logins as cl
from c4w.charts import overview as co
from c4w.charts import visits as cv
from c4w.metrics import logins as lm
from c4w.metrics import overview as om
from c4w.metrics import visits as vm
from tests.frames import event, make_events


def _rows() -> list[dict]:
    """Two days of mixed events at two locations and one geofence."""
    rome = {"timezone": "Europe/Rome", "location_id": "R", "location_name": "Rome <b>store</b>"}
    ny = {"timezone": "America/New_York", "location_id": "N", "location_name": "NY store"}
    rows = [
        event(schema.LOGIN, "a", "2024-03-05 10:00", **rome),
        event(schema.LOGIN, "b", "2024-03-05 11:00", **rome),
        event(schema.LOGIN, "a", "2024-03-06 15:00", **ny),
        event(schema.SIGNUP, "b", "2024-03-05 10:05", **rome),
        event("mystery", "c", "2024-03-06 12:00", **ny),
    ]
    for minutes, place in ((3, rome), (12, rome), (40, ny), (130, ny)):
        rows.append(
            event(schema.VISIT, "a", "2024-03-05 18:00", visit_duration_min=minutes, **place)
        )
    rows.append(
        event(
            schema.GEO_VISIT,
            "a",
            "2024-03-06 18:00",
            visit_duration_min=25,
            geofence_id="G",
            geofence_name="Mall",
        )
    )
    return rows


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_events(_rows())


def _title(fig: go.Figure) -> str:
    return fig.layout.title.text


def _is_empty_message(fig: go.Figure) -> bool:
    return len(fig.data) == 0 and "No data" in fig.layout.annotations[0].text


# --- overview ------------------------------------------------------------------------------------
def test_events_per_day_chart_stacks_types_in_their_colours(frame):
    per_day = om.events_per_day(frame)
    fig = co.events_per_day_chart(per_day)
    assert fig.layout.barmode == "stack"
    names = [t.name for t in fig.data]
    # display order (WiFi, sign-up, geofence), in the user's words; an unknown type keeps its name
    assert names == ["WiFi visit", "WiFi login", "Sign-up", "Geofence visit", "mystery"]
    colours = {t.name: t.marker.color for t in fig.data}
    assert colours["WiFi login"] == co.TYPE_COLOURS[schema.LOGIN]
    assert colours["mystery"] == co.OTHER_COLOUR
    # one bar per day and type: 2 days (03-05, 03-06 local) -> 2 points per trace
    assert all(len(t.x) == 2 for t in fig.data)
    assert sum(int(np.sum(t.y)) for t in fig.data) == len(frame)  # 10 events
    assert "Events per day" in _title(fig)
    assert fig.layout.yaxis.title.text == "Events"
    assert all("%{y:,}" in t.hovertemplate for t in fig.data)


def test_weekly_heatmap_chart_is_7_by_24_monday_first(frame):
    fig = co.weekly_heatmap_chart(om.weekly_heatmap(frame, [schema.LOGIN]), "WiFi logins")
    heat = fig.data[0]
    assert np.asarray(heat.z).shape == (7, 24)
    assert list(heat.y)[0] == "Monday" and fig.layout.yaxis.autorange == "reversed"
    assert "average WiFi logins per hour" in _title(fig)
    # Tue 03-05 10:00 UTC = 11:00 in Rome: the login sits in row Tuesday (1), column 11
    assert np.asarray(heat.z)[1][11] > 0
    assert "Average per day" in heat.hovertemplate


def test_type_names_and_colours():
    assert co.type_label(schema.SEND_EMAIL) == "Email sent"
    assert co.type_label_plural(schema.SEND_EMAIL) == "Emails sent"
    assert co.type_label_plural("mystery") == "mystery events"
    assert co.type_colour("mystery") == co.OTHER_COLOUR
    # every known type has its own colour
    assert len({co.type_colour(t) for t in schema.KNOWN_TYPES}) == len(schema.KNOWN_TYPES)
    assert co.share_text(0.004) == "<1%" and co.share_text(0.236) == "24%"


# --- visits --------------------------------------------------------------------------------------
def test_histogram_is_bars_over_precomputed_bins(frame):
    hist = vm.dwell_histogram(frame, bin_width=10, max_minutes=60, kind="wifi")
    fig = cv.dwell_histogram_chart(hist)
    (bars,) = fig.data
    assert isinstance(bars, go.Bar)
    # 6 closed bands of 10 min up to 60 + one open band: one bar per band, not per visit
    assert len(bars.x) == len(hist) == 7
    assert list(bars.x[:2]) == [5.0, 15.0]  # bar centres
    assert bars.width == 10
    assert list(bars.y) == hist["visits"].tolist()
    assert "60 min or more" in fig.layout.xaxis.title.text
    assert fig.layout.yaxis.title.text == "Visits"


def test_histogram_split_in_two_and_many_groups(frame):
    two = cv.dwell_histogram_chart(vm.dwell_histogram(frame, 30, split="kind"), y="share")
    assert [t.name for t in two.data] == ["WiFi visits", "Geofence visits"]
    assert two.data[1].marker.color == co.TYPE_COLOURS[schema.GEO_VISIT]
    assert two.layout.yaxis.title.text == "Share of visits (%)"
    # three places (Rome, NY, Mall): step lines instead of bars
    three = cv.dwell_histogram_chart(vm.dwell_histogram(frame, 30, split="place"))
    assert all(isinstance(t, go.Scatter) for t in three.data) and len(three.data) == 3


def test_histogram_with_many_places_keeps_eight_and_other():
    rows = [
        event(
            schema.VISIT,
            "g",
            "2024-03-05 12:00",
            visit_duration_min=5 + i,
            location_id=f"L{i}",
            location_name=f"Store {i:02d}",
        )
        for i in range(10)
        for _ in range(i + 1)  # Store i has i + 1 visits
    ]
    hist = vm.dwell_histogram(make_events(rows), 60, split="place")
    fig = cv.dwell_histogram_chart(hist)
    names = [t.name for t in fig.data]
    # 10 stores: the 8 with most visits (09 .. 02) and "Other places" (01 and 00: 2 + 1 visits)
    assert len(names) == 9 and names[-1] == "Other places"
    assert "Store 00" not in names and "Store 01" not in names
    assert int(np.sum(fig.data[-1].customdata[:, 1].astype(int))) == 3


def test_buckets_chart_labels_shares(frame):
    buckets = vm.dwell_buckets(frame, kind="wifi")
    fig = cv.dwell_buckets_chart(buckets)
    (bars,) = fig.data
    assert list(bars.x) == [
        "<5 min",
        "5–15 min",
        "15–30 min",
        "30–60 min",
        "60–120 min",
        "120+ min",
    ]
    # WiFi lengths 3, 12, 40, 130: one visit in four buckets -> 25% each
    assert list(bars.text) == ["25%", "25%", "0%", "25%", "0%", "25%"]
    assert fig.layout.yaxis.ticksuffix == "%"


def test_dwell_by_place_chart_median_bar_and_p90_marker(frame):
    fig = cv.dwell_by_place_chart(vm.dwell_by_place(frame))
    bar, marker = fig.data
    assert bar.name == "Median" and marker.name == "90th percentile"
    assert len(bar.y) == 3  # Rome, NY, Mall
    # the place with most visits is drawn at the top (last on a horizontal axis)
    assert bar.y[-1] in ("Rome &lt;b&gt;store&lt;/b&gt;", "NY store")
    assert "90th percentile" in bar.hovertemplate and "Bounce rate" in bar.hovertemplate


# --- logins --------------------------------------------------------------------------------------
def test_login_timeline_stacked_and_small_multiples(frame):
    timeline = lm.login_timeline(frame, "day")
    stacked = cl.login_timeline_chart(timeline, "day", "stacked")
    assert stacked.layout.barmode == "stack"
    assert [t.name for t in stacked.data] == ["Rome &lt;b&gt;store&lt;/b&gt;", "NY store"]
    assert all(len(t.x) == 2 for t in stacked.data)  # 2 UTC days: 03-05 and 03-06
    assert "per day (UTC)" in _title(stacked)
    assert stacked.layout.xaxis.title.text == "Day (UTC)"
    hourly = cl.login_timeline_chart(lm.login_timeline(frame, "hour"), "hour", "stacked")
    assert "per hour (local time)" in _title(hourly)
    panels = cl.login_timeline_chart(timeline, "day", "small_multiples")
    assert len(panels.data) == 2
    assert {t.yaxis for t in panels.data} == {"y", "y2"}  # one panel per location
    assert [a.text for a in panels.layout.annotations] == [
        "Rome &lt;b&gt;store&lt;/b&gt;",
        "NY store",
    ]


def test_long_timelines_become_stacked_areas():
    rows = [event(schema.LOGIN, "a", f"2024-03-{d:02d} 10:00", location_id="R") for d in (1, 31)]
    fig = cl.login_timeline_chart(lm.login_timeline(make_events(rows), "hour"), "hour")
    # 30 days of hours = 721 periods: too many for bars
    assert isinstance(fig.data[0], go.Scatter) and fig.data[0].stackgroup == "logins"


def test_top_locations_and_frequency_charts(frame):
    top = cl.top_locations_chart(lm.top_locations(frame))
    assert list(top.data[0].x) == [1, 2]  # NY 1, Rome 2: the largest at the top
    assert "Logins per guest" in top.data[0].hovertemplate
    freq = cl.login_frequency_chart(lm.login_frequency(frame, cap=3))
    # guests a (2 logins) and b (1): one guest with 1, one with 2, none with 3+
    assert list(freq.data[0].x) == ["1", "2", "3+"]
    assert list(freq.data[0].y) == [1, 1, 0]
    assert freq.layout.xaxis.title.text == "Logins in the period"


def test_every_chart_says_no_data_when_empty():
    empty = make_events([])
    figures = [
        co.events_per_day_chart(om.events_per_day(empty)),
        co.weekly_heatmap_chart(om.weekly_heatmap(empty)),
        cv.dwell_histogram_chart(vm.dwell_histogram(empty)),
        cv.dwell_buckets_chart(vm.dwell_buckets(empty)),
        cv.dwell_by_place_chart(vm.dwell_by_place(empty)),
        cl.login_timeline_chart(lm.login_timeline(empty), "week", "small_multiples"),
        cl.top_locations_chart(lm.top_locations(empty)),
        cl.login_frequency_chart(lm.login_frequency(empty)),
    ]
    assert all(_is_empty_message(fig) for fig in figures)
    assert all(_title(fig) for fig in figures)


def test_names_from_the_data_are_not_markup(frame):
    assert co.plain_text("<a href='x'>A & B</a>") == "&lt;a href='x'&gt;A &amp; B&lt;/a&gt;"
    fig = cl.top_locations_chart(lm.top_locations(frame))
    assert all("<" not in label for label in fig.data[0].y)


def test_charts_stay_small_for_large_inputs():
    # a year of hourly logins at 12 locations is still a small figure (aggregates, not rows)
    hours = pd.date_range("2024-01-01", periods=24 * 365, freq="h")
    timeline = pd.DataFrame(
        {
            "period": np.repeat(hours.to_numpy(), 12),
            "location": np.tile([f"Store {i}" for i in range(12)], len(hours)),
            "logins": np.ones(len(hours) * 12, dtype=np.int64),
        }
    )
    fig = cl.login_timeline_chart(timeline, "hour", "small_multiples")
    assert len(fig.to_json()) < 2_000_000

"""Charts of the Funnels, Geofences and Contact views: right numbers in, no markup from data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pydeck as pdk

from c4w import schema
from c4w.charts import contacts as contact_charts
from c4w.charts import funnels as funnel_charts
from c4w.charts import geofences as geofence_charts
from c4w.metrics import contacts, funnels, geofences
from tests.frames import event, make_events
from tests.test_metrics_funnels import scenario

EVIL = "<img src=x onerror=alert(1)>"


def summary_frame() -> pd.DataFrame:
    """Two geofences: one busy (4 visits), one quiet (0), one of them with a hostile name."""
    return pd.DataFrame(
        {
            geofences.GEOFENCE: ["g1", "g2"],
            "name": [EVIL, "Parking"],
            "lon": [9.19, 9.21],
            "lat": [45.46, 45.48],
            "radius_m": [100.0, 250.0],
            "shape": ["Circle", "Circle"],
            "arrivals": [5, 1],
            "visits": [4, 0],
            "unique_contacts": [3, 1],
            "median_dwell_min": [12.0, np.nan],
        }
    )


def test_plain_text_escapes_markup() -> None:
    assert funnel_charts.plain_text("<b>x</b> & y") == "&lt;b&gt;x&lt;/b&gt; &amp; y"
    assert funnel_charts.plain_text(None) == ""


def test_funnel_chart_shows_step_counts() -> None:
    result = funnels.funnel(scenario())
    fig = funnel_charts.funnel_chart(result.steps)
    assert isinstance(fig, go.Figure)
    trace = fig.data[0]
    # 4 entered, 3 sent, 3 opened, 1 clicked (see test_metrics_funnels.scenario)
    assert list(trace.x) == [4, 3, 3, 1]
    assert list(trace.y)[0] == "1. Sign-up"


def test_funnel_chart_escapes_unknown_step_types() -> None:
    steps = funnels.funnel(make_events([]), ["<b>odd</b>", schema.LOGIN]).steps
    fig = funnel_charts.funnel_chart(steps)
    assert "<b>" not in json.dumps(list(fig.data[0].y))


def test_breakdown_chart_conversion_and_escaping() -> None:
    table = pd.DataFrame(
        {
            "group": ["Milan", EVIL, "Rome"],
            "entered": [4, 2, 1],
            "1. Sign-up": [4, 2, 1],
            "2. Email sent": [2, 1, 0],
            "overall_conversion": [0.5, 0.5, 0.0],
        }
    )
    fig = funnel_charts.breakdown_chart(table, "Location", top=2)
    bar = fig.data[0]
    # top 2 groups by size, drawn bottom-up: EVIL then Milan
    assert list(bar.x) == [0.5, 0.5]
    assert list(bar.text) == ["1 of 2", "2 of 4"]
    assert "<img" not in json.dumps(list(bar.y))


def test_activity_colors_grey_for_none_and_deepest_for_most() -> None:
    colors = geofence_charts.activity_colors(pd.Series([0, 4, 1]))
    assert colors[0] == geofence_charts.ZERO_COLOR
    # 4 is the maximum -> the high colour; 1 -> sqrt(1/4) = halfway between low and high
    assert colors[1][:3] == list(geofence_charts.HIGH_COLOR)
    half = [
        round((lo + hi) / 2)
        for lo, hi in zip(*(geofence_charts.LOW_COLOR, geofence_charts.HIGH_COLOR), strict=True)
    ]
    assert colors[2][:3] == half


def test_geofence_map_layers_radius_tooltip_and_style() -> None:
    points = pd.DataFrame(
        {
            "location_id": ["L1"],
            "name": ["Milan Store"],
            "lon": [9.18],
            "lat": [45.47],
            "city": ["Milan"],
            "address": ["Via Roma 1"],
        }
    )
    deck = geofence_charts.geofence_map(summary_frame(), points, color_by="arrivals")
    assert isinstance(deck, pdk.Deck)
    spec = json.loads(deck.to_json())
    outline, geo, wifi = spec["layers"]  # the stores on top of the circles
    assert geo["id"] == geofence_charts.GEOFENCE_LAYER and wifi["id"] == geofence_charts.WIFI_LAYER
    assert outline["id"] == geofence_charts.OUTLINE_LAYER and outline["@@type"] == "GeoJsonLayer"
    assert len(outline["data"]["features"]) > 150  # every country, bundled
    assert geo["@@type"] == "ScatterplotLayer"
    assert geo["radiusUnits"] == "meters" and geo["radiusMinPixels"] > 0
    assert geo["lineWidthUnits"] == "pixels" and wifi["radiusUnits"] == "pixels"
    # data fields are accessors
    assert geo["getRadius"] == "@@=radius_m"
    assert geo["pickable"] is True
    # true radius in metres; the bigger circle is drawn first, so the smaller stays on top
    assert [d["radius_m"] for d in geo["data"]] == [250.0, 100.0]
    tip = geo["data"][1]["tip"]
    assert "Radius: 100 m" in tip and "Arrivals: 5" in tip and "Visits: 4" in tip
    assert "Median dwell: 12 min" in tip
    assert "Median dwell: –" in geo["data"][0]["tip"]
    assert "WiFi location: Milan Store" in wifi["data"][0]["tip"]
    # plain-text tooltip only; no Mapbox style or token needed
    tooltip = deck._tooltip
    assert "text" in tooltip and "html" not in tooltip
    assert "mapStyle" not in spec or not str(spec.get("mapStyle", "")).startswith("mapbox")
    assert deck.mapbox_key in (None, "")


def test_geofence_map_frames_the_selected_geofence() -> None:
    deck = geofence_charts.geofence_map(summary_frame(), None, selected="g2")
    spec = json.loads(deck.to_json())
    view = spec["initialViewState"]
    assert (view["longitude"], view["latitude"]) == (9.21, 45.48)
    lines = {d["geofence"]: d["line_px"] for d in spec["layers"][1]["data"]}
    assert lines == {"g1": 1.5, "g2": 3}


def test_geofence_map_without_geofences() -> None:
    deck = geofence_charts.geofence_map(geofences.mappable(geofences.geofence_summary(None)))
    spec = json.loads(deck.to_json())
    assert spec["layers"][1]["data"] == []


def test_view_for_fits_points() -> None:
    # 1 degree of longitude, 0.5 of latitude at 45.25 N (x 1/cos = 0.71 degrees): span 1 x 1.2;
    # zoom = log2(500 * 360 / (512 * 1.2)) = log2(292.97) = 8.19
    view = geofence_charts.view_for(np.array([9.0, 10.0]), np.array([45.0, 45.5]))
    assert 8.1 < view.zoom < 8.3
    assert (view.longitude, view.latitude) == (9.5, 45.25)


def test_view_for_one_geofence_frames_its_circle() -> None:
    # at the equator a pixel is 78271.5 / 2**z m; a 100 m radius (200 m wide) made 250 px wide:
    # 2**z = 78271.5 * 250 / 200 = 97839 -> z = 16.58
    view = geofence_charts.view_for(np.array([0.0]), np.array([0.0]), 100.0)
    assert abs(view.zoom - 16.58) < 0.01


def test_geofence_activity_and_bar_charts() -> None:
    daily = pd.DataFrame(
        {"day": pd.to_datetime(["2024-03-01", "2024-03-02"]), "arrivals": [2, 0], "visits": [1, 2]}
    )
    fig = geofence_charts.geofence_activity_chart(daily)
    assert [list(t.y) for t in fig.data] == [[2, 0], [1, 2]]
    bars = geofence_charts.geofence_bar_chart(summary_frame(), "visits")
    # bottom-up: Parking (0) then the busy one (4)
    assert list(bars.data[0].x) == [0, 4]
    assert "<img" not in json.dumps(list(bars.data[0].y))


def test_contact_timeline_chart_draws_visits_as_bars() -> None:
    frame = make_events(
        [
            event(schema.SIGNUP, "x", "2024-03-01T08:00:00Z"),
            event(
                schema.VISIT,
                "x",
                "2024-03-01T10:00:00Z",
                **{schema.VISIT_DURATION_MIN: 60.0, schema.LOCATION_NAME: EVIL},
            ),
            event(schema.SEND_EMAIL, "x", "2024-03-02T08:00:00Z", **{schema.CAMPAIGN_NAME: "<i>"}),
        ]
    )
    fig = contact_charts.contact_timeline_chart(contacts.contact_timeline(frame))
    bars = [t for t in fig.data if isinstance(t, go.Bar)]
    dots = [t for t in fig.data if isinstance(t, go.Scatter)]
    # one visit of 60 min = 3,600,000 ms starting at 09:00
    assert len(bars) == 1 and list(bars[0].x) == [3_600_000.0]
    assert pd.Timestamp(bars[0].base[0]) == pd.Timestamp("2024-03-01T09:00:00")
    # signup and email sent are dots
    assert len(dots) == 1 and len(dots[0].x) == 2
    text = json.dumps([list(bars[0].hovertext), list(dots[0].hovertext)])
    assert "<img" not in text and "<i>" not in text
    assert "&lt;img" in text


def test_contact_timeline_chart_empty() -> None:
    fig = contact_charts.contact_timeline_chart(contacts.contact_timeline(make_events([])))
    assert isinstance(fig, go.Figure) and len(fig.data) == 0

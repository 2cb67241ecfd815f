"""The geofence map's colours, legend, fitted view and offline outline."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from c4w.charts import geofences as charts
from c4w.metrics import geofences as gm


def summary() -> pd.DataFrame:
    return pd.DataFrame(
        {
            gm.GEOFENCE: ["a", "b", "c"],
            "name": ["Door", "Corner", "Stadium"],
            "lon": [9.19, 9.20, -73.93],
            "lat": [45.47, 45.48, 40.83],
            "radius_m": [60.0, 300.0, 350.0],
            "shape": ["Circle"] * 3,
            "arrivals": [10, 40, 0],
            "visits": [5, 2, 0],
            "median_dwell_min": [12.0, 3.0, np.nan],
            "store": ["Brera", "Brera", None],
            "walk_in_share": [0.9, 0.1, np.nan],
        }
    )


def test_share_colours_run_pale_to_deep_with_grey_for_unknown() -> None:
    colours = charts.share_colors(pd.Series([0.0, 1.0, np.nan, 0.5]))
    assert colours[0][:3] == list(charts.SHARE_LOW)
    assert colours[1][:3] == list(charts.SHARE_HIGH)
    assert colours[2] == charts.ZERO_COLOR
    mid = [round((a + b) / 2) for a, b in zip(charts.SHARE_LOW, charts.SHARE_HIGH, strict=True)]
    assert colours[3][:3] == mid


def test_legend_names_the_scale_and_the_stores() -> None:
    items = charts.legend_items(summary(), "arrivals")
    # grey for none, then 40 * 0.25**2 = 2.5 -> 2, 40 * 0.25 = 10, and the top, 40
    assert [label for _c, label in items] == ["none", "2", "10", "40"]
    assert items[-1][0] == "#{:02x}{:02x}{:02x}".format(*charts.HIGH_COLOR)
    shares = [label for _c, label in charts.legend_items(summary(), "walk_in_share")]
    assert shares == ["no store or no arrivals", "0%", "50%", "100%"]
    html = charts.legend_html(summary(), "walk_in_share")
    assert "Walk-in share".lower() in html and "WiFi location" in html


def test_map_fits_the_given_cluster_and_tells_overlaps_on_hover() -> None:
    frame = summary()
    deck = charts.geofence_map(
        frame,
        color_by="walk_in_share",
        overlapping={"a": ["Corner"], "b": ["Door"], "c": []},
        bounds=(45.47, 45.48, 9.19, 9.20),
    )
    spec = json.loads(deck.to_json())
    view = spec["initialViewState"]
    assert abs(view["latitude"] - 45.475) < 1e-9 and abs(view["longitude"] - 9.195) < 1e-9
    assert view["zoom"] > 10  # a city, not the world
    circles = {d["geofence"]: d for d in spec["layers"][1]["data"]}
    assert "Overlaps: Corner" in circles["a"]["tip"] and "Store: Brera" in circles["a"]["tip"]
    assert "Walk-in share: 90%" in circles["a"]["tip"]
    assert circles["c"]["fill"] == charts.ZERO_COLOR  # no store: grey


def test_outline_is_small_and_bundled() -> None:
    assert charts.OUTLINE_FILE.stat().st_size < 300_000
    outlines = charts.country_outlines()
    names = {f["properties"]["name"] for f in outlines["features"]}
    assert {"Italy", "United States of America", "United Kingdom"} <= names

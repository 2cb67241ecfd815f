"""The geofence map (pydeck) and a geofence's activity per day (plotly).

Each geofence is a circle of its true radius in metres, with a minimum size in pixels so small
ones stay visible when zoomed out; larger circles are drawn first, so a small one on top of a
big one stays visible, and each tooltip names the circles that overlap it. WiFi locations are
dark dots with a white ring above the circles. The map needs no Mapbox token: the background
tiles are Carto's light basemap, which Streamlit loads from the internet. Under everything lies a
bundled low-resolution outline of the world's countries (Natural Earth 1:110m, public domain, from
the world-atlas package; `c4w/assets/countries-110m.geojson`), so without internet the map still
shows where things are. Tooltips use deck.gl's plain `text` form, so names are never read as
markup.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pydeck as pdk

from c4w.charts.funnels import plain_text
from c4w.metrics.contacts import format_minutes
from c4w.metrics.geofences import GEOFENCE

GEOFENCE_LAYER = "geofences"
WIFI_LAYER = "wifi-locations"
OUTLINE_LAYER = "country-outlines"
OUTLINE_FILE = Path(__file__).resolve().parent.parent / "assets" / "countries-110m.geojson"
COLOR_BY = {"visits": "Visits", "arrivals": "Arrivals", "walk_in_share": "Walk-in share"}
ZERO_COLOR = [150, 150, 150, 90]
LOW_COLOR = (255, 224, 130)
HIGH_COLOR = (200, 20, 40)
SHARE_LOW = (222, 235, 247)  # walk-in share 0: pale blue
SHARE_HIGH = (8, 69, 148)  # walk-in share 100%: deep blue
WIFI_COLOR = [17, 24, 39, 255]  # near-black dots with a white ring: distinct under any circle
WIFI_RING = [255, 255, 255, 255]
LAND_FILL = [238, 236, 228, 255]
LAND_LINE = [160, 160, 160, 255]
SELECTED_LINE = [20, 20, 20, 255]
TOOLTIP = {
    "text": "{tip}",
    "style": {"backgroundColor": "#1f2937", "color": "white", "fontSize": "13px"},
}
ARRIVALS_COLOR = "#F2A541"
VISITS_COLOR = "#2E6FBF"


def activity_colors(values: pd.Series) -> list[list[int]]:
    """RGBA fill per geofence: grey for none, light yellow to deep red as activity grows
    (square-root scale, so one busy geofence does not wash out the rest)."""
    v = pd.to_numeric(values, errors="coerce").fillna(0).to_numpy(dtype=float)
    top = float(v.max()) if v.size else 0.0
    out: list[list[int]] = []
    for x in v:
        if x <= 0 or top <= 0:
            out.append(list(ZERO_COLOR))
            continue
        t = math.sqrt(x / top)
        rgb = [round(lo + (hi - lo) * t) for lo, hi in zip(LOW_COLOR, HIGH_COLOR, strict=True)]
        out.append([*rgb, 170])
    return out


def share_colors(values: pd.Series) -> list[list[int]]:
    """RGBA fill per geofence for a share (0..1): pale to deep blue; grey when unknown (no
    store, or no arrivals)."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    out: list[list[int]] = []
    for x in v:
        if not np.isfinite(x):
            out.append(list(ZERO_COLOR))
            continue
        t = min(max(x, 0.0), 1.0)
        rgb = [round(lo + (hi - lo) * t) for lo, hi in zip(SHARE_LOW, SHARE_HIGH, strict=True)]
        out.append([*rgb, 190])
    return out


def fill_colors(summary: pd.DataFrame, color_by: str) -> list[list[int]]:
    """The circles' fill for the chosen colouring."""
    if not len(summary):
        return []
    if color_by == "walk_in_share":
        return share_colors(summary.get(color_by, pd.Series(np.nan, index=summary.index)))
    return activity_colors(summary[color_by])


def _rgb_hex(rgb: Sequence[int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb[:3])


def legend_items(summary: pd.DataFrame, color_by: str) -> list[tuple[str, str]]:
    """The map's colour legend as (colour, label) pairs, from no activity to the most."""
    grey = (
        _rgb_hex(ZERO_COLOR),
        "no store or no arrivals" if color_by == "walk_in_share" else "none",
    )
    if color_by == "walk_in_share":
        steps = [(0.0, "0%"), (0.5, "50%"), (1.0, "100%")]
        return [grey] + [(_rgb_hex(share_colors(pd.Series([t]))[0]), label) for t, label in steps]
    values = pd.to_numeric(summary.get(color_by, pd.Series(dtype=float)), errors="coerce")
    top = float(values.max()) if len(values) and values.notna().any() else 0.0
    if top <= 0:
        return [grey]
    marks = sorted({max(1.0, round(top * f * f)) for f in (0.25, 0.5, 1.0)})
    return [grey] + [
        (_rgb_hex(activity_colors(pd.Series([m, top]))[0]), f"{m:,.0f}") for m in marks
    ]


def legend_html(summary: pd.DataFrame, color_by: str) -> str:
    """The legend as a line of small colour swatches (numbers and fixed words only)."""
    swatch = (
        '<span style="display:inline-block;width:14px;height:14px;border-radius:7px;'
        'background:{c};border:1px solid #666;vertical-align:middle;margin:0 4px 0 10px"></span>'
    )
    items = "".join(swatch.format(c=c) + label for c, label in legend_items(summary, color_by))
    store = swatch.format(c=_rgb_hex(WIFI_COLOR)).replace("#666", "#fff;outline:1px solid #111")
    what = COLOR_BY[color_by].lower()
    return (
        f'<div style="font-size:0.85rem">Circles by {what}:{items}'
        f"&nbsp;&nbsp;·&nbsp;{store}WiFi location</div>"
    )


@lru_cache(maxsize=1)
def country_outlines() -> dict:
    """The bundled world outline (GeoJSON FeatureCollection); empty when the file is missing."""
    try:
        return json.loads(OUTLINE_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"type": "FeatureCollection", "features": []}


def _geofence_records(
    summary: pd.DataFrame,
    color_by: str,
    selected: str | None,
    overlapping: dict[str, list[str]] | None = None,
) -> list[dict]:
    colors = fill_colors(summary, color_by)
    overlapping = overlapping or {}
    records = []
    for row, color in zip(summary.itertuples(index=False), colors, strict=True):
        key = getattr(row, GEOFENCE)
        radius = float(row.radius_m) if pd.notna(row.radius_m) and row.radius_m > 0 else 1.0
        lines = [str(row.name)]
        store = getattr(row, "store", None)
        if isinstance(store, str) and store:
            lines.append(f"Store: {store}")
        lines += [
            f"Radius: {radius:,.0f} m",
            f"Arrivals: {row.arrivals:,}",
            f"Visits: {row.visits:,}",
        ]
        share = getattr(row, "walk_in_share", None)
        if share is not None and pd.notna(share):
            lines.append(f"Walk-in share: {share:.0%}")
        lines.append(f"Median dwell: {format_minutes(row.median_dwell_min)}")
        others = overlapping.get(str(key)) or []
        if others:
            shown = ", ".join(others[:5]) + (
                f" and {len(others) - 5} more" if len(others) > 5 else ""
            )
            lines.append(f"Overlaps: {shown}")
        tip = "\n".join(lines)
        records.append(
            {
                "geofence": str(key),
                "name": str(row.name),
                "lon": float(row.lon),
                "lat": float(row.lat),
                "radius_m": radius,
                "fill": color,
                "line": SELECTED_LINE if key == selected else [60, 60, 60, 230],
                "line_px": 3 if key == selected else 1.5,
                "tip": tip,
            }
        )
    records.sort(key=lambda r: -r["radius_m"])  # big circles first: small ones stay on top
    return records


def _point_records(points: pd.DataFrame) -> list[dict]:
    records = []
    for row in points.itertuples(index=False):
        where = ", ".join(p for p in (row.address, row.city) if p)
        records.append(
            {
                "location_id": str(row.location_id),
                "lon": float(row.lon),
                "lat": float(row.lat),
                "tip": f"WiFi location: {row.name}" + (f"\n{where}" if where else ""),
            }
        )
    return records


def view_for(lons: np.ndarray, lats: np.ndarray, radius_m: float | None = None) -> pdk.ViewState:
    """A view that shows every given point; a single geofence is framed by its radius."""
    if len(lons) == 0:
        return pdk.ViewState(latitude=20.0, longitude=0.0, zoom=1)
    lat = float(np.mean(lats))
    lon = float(np.mean(lons))
    if len(lons) == 1 or (np.ptp(lons) == 0 and np.ptp(lats) == 0):
        metres = max(float(radius_m or 300.0), 30.0)
        # deck.gl's world is 512 px wide at zoom 0, so a pixel is 78271.5 * cos(lat) / 2**z
        # metres; make the circle about 250 px wide
        zoom = math.log2(78271.5 * math.cos(math.radians(lat)) * 250 / (2 * metres))
    else:
        # deck.gl's world is 512 * 2**z px wide; fit the span (plus 20%) into ~500 px
        stretch = 1 / max(math.cos(math.radians(lat)), 0.2)
        span = max(float(np.ptp(lons)), float(np.ptp(lats)) * stretch, 1e-4) * 1.2
        zoom = math.log2(500 * 360 / (512 * span))
    return pdk.ViewState(latitude=lat, longitude=lon, zoom=max(1.0, min(zoom, 17.0)))


def geofence_map(
    summary: pd.DataFrame,
    points: pd.DataFrame | None = None,
    color_by: str = "visits",
    selected: str | None = None,
    overlapping: dict[str, list[str]] | None = None,
    bounds: tuple[float, float, float, float] | None = None,
) -> pdk.Deck:
    """Geofences as circles of their radius in metres coloured by `color_by` ("visits",
    "arrivals" or "walk_in_share"), WiFi locations as dark ringed dots above them, over the
    bundled country outline; the `selected` geofence is outlined and framed. Otherwise the view
    fits `bounds` (lat_min, lat_max, lon_min, lon_max, e.g. a cluster of `map_clusters`), or
    every geofence and location.

    `summary` is `mappable(geofence_summary(...))`, optionally with store and walk-in columns
    (`with_walk_ins`); `points` is `wifi_location_points(...)`; `overlapping` is `overlaps(...)`
    for the tooltips. Layers have ids (GEOFENCE_LAYER, WIFI_LAYER, OUTLINE_LAYER) so a click can
    select a geofence.
    """
    if color_by not in COLOR_BY:
        raise ValueError(f"color_by must be one of {sorted(COLOR_BY)}")
    geo = _geofence_records(summary, color_by, selected, overlapping)
    pts = _point_records(points) if points is not None and len(points) else []
    wifi = pdk.Layer(
        "ScatterplotLayer",
        id=WIFI_LAYER,
        data=pts,
        get_position=["lon", "lat"],
        get_radius=4,
        radius_units="'pixels'",  # quoted: pydeck reads bare strings as data fields
        get_fill_color=WIFI_COLOR,
        get_line_color=WIFI_RING,
        get_line_width=2,
        line_width_units="'pixels'",
        stroked=True,
        pickable=True,
    )
    outline = pdk.Layer(
        "GeoJsonLayer",
        id=OUTLINE_LAYER,
        data=country_outlines(),
        filled=True,
        stroked=True,
        get_fill_color=LAND_FILL,
        get_line_color=LAND_LINE,
        get_line_width=1,
        line_width_units="'pixels'",
        opacity=0.35,
        pickable=False,
    )
    circles = pdk.Layer(
        "ScatterplotLayer",
        id=GEOFENCE_LAYER,
        data=geo,
        get_position=["lon", "lat"],
        get_radius="radius_m",
        radius_units="'meters'",
        radius_min_pixels=10,
        get_fill_color="fill",
        get_line_color="line",
        get_line_width="line_px",
        line_width_units="'pixels'",
        stroked=True,
        filled=True,
        pickable=True,
        auto_highlight=True,
        highlight_color=[255, 255, 255, 110],
    )
    layers = [outline, circles, wifi]  # the stores on top, so they read under any circle
    chosen = [g for g in geo if g["geofence"] == selected]
    if chosen:
        view = view_for(
            np.array([chosen[0]["lon"]]), np.array([chosen[0]["lat"]]), chosen[0]["radius_m"]
        )
    elif bounds is not None:
        lat_min, lat_max, lon_min, lon_max = bounds
        view = view_for(np.array([lon_min, lon_max]), np.array([lat_min, lat_max]))
    else:
        lons = np.array([g["lon"] for g in geo] + [p["lon"] for p in pts])
        lats = np.array([g["lat"] for g in geo] + [p["lat"] for p in pts])
        view = view_for(lons, lats)
    return pdk.Deck(layers=layers, initial_view_state=view, map_style=None, tooltip=TOOLTIP)


def geofence_activity_chart(daily: pd.DataFrame) -> go.Figure:
    """Arrivals and visits per day, side by side. `daily` is `geofence_daily(...)`."""
    fig = go.Figure(
        [
            go.Bar(
                x=daily["day"],
                y=daily["arrivals"],
                name="Arrivals",
                marker={"color": ARRIVALS_COLOR},
                hovertemplate="%{x|%a %d %b %Y}<br>%{y:,} arrivals<extra></extra>",
            ),
            go.Bar(
                x=daily["day"],
                y=daily["visits"],
                name="Visits",
                marker={"color": VISITS_COLOR},
                hovertemplate="%{x|%a %d %b %Y}<br>%{y:,} visits<extra></extra>",
            ),
        ]
    )
    fig.update_layout(
        barmode="group",
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        height=300,
        legend={"orientation": "h", "y": 1.1},
        xaxis={"title": None},
        yaxis={"title": "Events per day (UTC)", "rangemode": "tozero"},
    )
    return fig


def geofence_bar_chart(summary: pd.DataFrame, color_by: str = "visits", top: int = 15) -> go.Figure:
    """The busiest geofences by `color_by` (or those with a store by walk-in share, in %), as
    horizontal bars (names escaped)."""
    share = color_by == "walk_in_share"
    part = summary.loc[summary[color_by].notna()] if share else summary
    part = part.sort_values(color_by, ascending=False, kind="stable").head(top).iloc[::-1]
    values = (part[color_by] * 100).round(1) if share else part[color_by]
    colour = (
        _rgb_hex(SHARE_HIGH) if share else VISITS_COLOR if color_by == "visits" else ARRIVALS_COLOR
    )
    unit = "% walked in" if share else " " + COLOR_BY[color_by].lower()
    fig = go.Figure(
        go.Bar(
            y=[plain_text(n) for n in part["name"]],
            x=values.tolist(),
            orientation="h",
            marker={"color": colour},
            hovertemplate="%{y}<br>%{x:,}" + unit + "<extra></extra>",
        )
    )
    fig.update_layout(
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        height=80 + 26 * max(len(part), 1),
        xaxis={
            "title": "Walk-in share (%)" if share else COLOR_BY[color_by],
            "rangemode": "tozero",
        },
        yaxis={"automargin": True},
    )
    return fig

"""The geofence map (pydeck) and a geofence's activity per day (plotly).

Each geofence is a circle of its true radius in metres, with a minimum size in pixels so small
ones stay visible when zoomed out. The map needs no Mapbox token; the circles are drawn by
deck.gl and show even when the background tiles cannot be loaded. Tooltips use deck.gl's plain
`text` form, so geofence names are never read as markup.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pydeck as pdk

from c4w.charts.funnels import plain_text
from c4w.metrics.contacts import format_minutes
from c4w.metrics.geofences import GEOFENCE

GEOFENCE_LAYER = "geofences"
WIFI_LAYER = "wifi-locations"
COLOR_BY = {"visits": "Visits", "arrivals": "Arrivals"}
ZERO_COLOR = [150, 150, 150, 90]
LOW_COLOR = (255, 224, 130)
HIGH_COLOR = (200, 20, 40)
WIFI_COLOR = [25, 90, 190, 230]
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


def _geofence_records(summary: pd.DataFrame, color_by: str, selected: str | None) -> list[dict]:
    colors = activity_colors(summary[color_by]) if len(summary) else []
    records = []
    for row, color in zip(summary.itertuples(index=False), colors, strict=True):
        key = getattr(row, GEOFENCE)
        radius = float(row.radius_m) if pd.notna(row.radius_m) and row.radius_m > 0 else 1.0
        tip = (
            f"{row.name}\n"
            f"Radius: {radius:,.0f} m\n"
            f"Arrivals: {row.arrivals:,}\n"
            f"Visits: {row.visits:,}\n"
            f"Median dwell: {format_minutes(row.median_dwell_min)}"
        )
        records.append(
            {
                "geofence": str(key),
                "name": str(row.name),
                "lon": float(row.lon),
                "lat": float(row.lat),
                "radius_m": radius,
                "fill": color,
                "line": SELECTED_LINE if key == selected else [90, 90, 90, 200],
                "line_px": 3 if key == selected else 1,
                "tip": tip,
            }
        )
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
) -> pdk.Deck:
    """Geofences as circles of their radius in metres coloured by `color_by` ("visits" or
    "arrivals"), WiFi locations as blue dots; the `selected` geofence is outlined and framed.

    `summary` is `mappable(geofence_summary(...))`; `points` is `wifi_location_points(...)`.
    Layers have ids (GEOFENCE_LAYER, WIFI_LAYER) so a click can select a geofence.
    """
    if color_by not in COLOR_BY:
        raise ValueError(f"color_by must be one of {sorted(COLOR_BY)}")
    geo = _geofence_records(summary, color_by, selected)
    pts = _point_records(points) if points is not None and len(points) else []
    wifi = pdk.Layer(
        "ScatterplotLayer",
        id=WIFI_LAYER,
        data=pts,
        get_position=["lon", "lat"],
        get_radius=4,
        radius_units="'pixels'",  # quoted: pydeck reads bare strings as data fields
        get_fill_color=WIFI_COLOR,
        pickable=True,
    )
    circles = pdk.Layer(
        "ScatterplotLayer",
        id=GEOFENCE_LAYER,
        data=geo,
        get_position=["lon", "lat"],
        get_radius="radius_m",
        radius_units="'meters'",
        radius_min_pixels=7,
        get_fill_color="fill",
        get_line_color="line",
        get_line_width="line_px",
        line_width_units="'pixels'",
        stroked=True,
        filled=True,
        pickable=True,
        auto_highlight=True,
    )
    layers = [wifi, circles]  # circles on top, translucent, so the dots show through
    chosen = [g for g in geo if g["geofence"] == selected]
    if chosen:
        view = view_for(
            np.array([chosen[0]["lon"]]), np.array([chosen[0]["lat"]]), chosen[0]["radius_m"]
        )
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
    """The busiest geofences by `color_by`, as horizontal bars (names escaped)."""
    part = summary.sort_values(color_by, ascending=False, kind="stable").head(top).iloc[::-1]
    fig = go.Figure(
        go.Bar(
            y=[plain_text(n) for n in part["name"]],
            x=part[color_by].tolist(),
            orientation="h",
            marker={"color": VISITS_COLOR if color_by == "visits" else ARRIVALS_COLOR},
            hovertemplate="%{y}<br>%{x:,} " + COLOR_BY[color_by].lower() + "<extra></extra>",
        )
    )
    fig.update_layout(
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        height=80 + 26 * max(len(part), 1),
        xaxis={"title": COLOR_BY[color_by], "rangemode": "tozero"},
        yaxis={"automargin": True},
    )
    return fig

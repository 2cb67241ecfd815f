"""Visit-length charts: histogram (pre-binned bars), length buckets, median and p90 per place."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from c4w.charts.overview import (
    OTHER_COLOUR,
    empty_figure,
    plain_text,
    series_colour,
    share_text,
    style,
    type_colour,
)

MAX_SERIES = 8  # more groups than this: the largest 8 and "Other places"
GROUP_COLOURS = {
    "All visits": type_colour("visit"),
    "WiFi visits": type_colour("visit"),
    "Geofence visits": type_colour("geo_visit"),
}


def _group_colour(i: int, group: str, colours: Mapping[str, str] | None = None) -> str:
    return GROUP_COLOURS.get(group) or series_colour(i, group, colours)


def _fewer_groups(table: pd.DataFrame, key: str, value: str = "visits") -> pd.DataFrame:
    """Keep the MAX_SERIES largest groups; sum the others per `key` as "Other places"."""
    groups = table.groupby("group", sort=False, observed=True)[value].sum()
    if len(groups) <= MAX_SERIES:
        return table
    keep = groups.sort_values(ascending=False).index[:MAX_SERIES]
    inside = table["group"].isin(keep)
    other = table.loc[~inside].groupby(key, sort=False, as_index=False)[value].sum()
    other = table.loc[~inside].drop_duplicates(key).drop(columns=[value]).merge(other, on=key)
    other["group"] = "Other places"
    if "share" in table.columns:
        other["share"] = other[value] / max(int(other[value].sum()), 1)
    return pd.concat([table.loc[inside], other], ignore_index=True)


def dwell_histogram_chart(
    hist: pd.DataFrame, y: str = "visits", colours: Mapping[str, str] | None = None
) -> go.Figure:
    """Bars of visits per length band (already binned); two groups side by side, more groups
    as step lines so they stay readable.

    `hist` is `c4w.metrics.visits.dwell_histogram`; `y` is "visits" or "share" (to compare
    groups of different size); `colours` maps place names to their colour
    (`c4w.charts.colours.location_colours`).
    """
    title = "How long visits last"
    if hist.empty or hist["visits"].sum() == 0:
        return empty_figure(title)
    hist = _fewer_groups(hist, "bin_start")
    width = float(hist["bin_end"].iloc[0] - hist["bin_start"].iloc[0])
    fig = go.Figure()
    groups = list(dict.fromkeys(hist["group"]))
    hover = (
        "%{fullData.name}<br>%{customdata[0]} min: %{customdata[1]:,} visits "
        "(%{customdata[2]:.1f}%)<extra></extra>"
    )
    for i, group in enumerate(groups):
        part = hist.loc[hist["group"] == group]
        colour = OTHER_COLOUR if group == "Other places" else _group_colour(i, group, colours)
        values = part[y].to_numpy() * (100 if y == "share" else 1)
        common = {
            "x": part["bin_start"].to_numpy() + width / 2,
            "y": values,
            "name": plain_text(group),
            "customdata": np.column_stack(
                [
                    part["label"].to_numpy(dtype=object),
                    part["visits"].to_numpy(),
                    part["share"].to_numpy() * 100,
                ]
            ),
            "hovertemplate": hover,
        }
        if len(groups) <= 2:
            bar_width = width if len(groups) == 1 else None
            fig.add_trace(go.Bar(**common, width=bar_width, marker_color=colour))
        else:
            fig.add_trace(go.Scatter(**common, mode="lines", line_shape="hvh", line_color=colour))
    fig.update_layout(barmode="group", bargap=0.05 if len(groups) == 1 else 0.15)
    y_title = "Share of visits (%)" if y == "share" else "Visits"
    x_title = "Visit length (minutes)"
    if np.isinf(hist["bin_end"].iloc[-1]):
        x_title += f" — the last bar holds every visit of {hist['label'].iloc[-1][2:]} min or more"
    return style(fig, title, x_title, y_title, legend=len(groups) > 1)


def dwell_buckets_chart(
    buckets: pd.DataFrame, colours: Mapping[str, str] | None = None
) -> go.Figure:
    """Bars of the share of visits in each length bucket, labelled with share and count.

    `buckets` is `c4w.metrics.visits.dwell_buckets`; groups side by side, places in their own
    colour (`colours`, as `dwell_histogram_chart`).
    """
    title = "Visits by length"
    if buckets.empty or buckets["visits"].sum() == 0:
        return empty_figure(title)
    buckets = _fewer_groups(buckets, "bucket")
    groups = list(dict.fromkeys(buckets["group"]))
    fig = go.Figure()
    for i, group in enumerate(groups):
        part = buckets.loc[buckets["group"] == group]
        name = plain_text(group)
        share = part["share"].to_numpy() * 100
        fig.add_trace(
            go.Bar(
                x=part["bucket"].tolist(),
                y=share,
                name=name,
                marker_color=(
                    OTHER_COLOUR if group == "Other places" else _group_colour(i, group, colours)
                ),
                text=[share_text(s / 100) for s in share],
                textposition="outside",
                customdata=part["visits"].to_numpy(),
                hovertemplate=(
                    "%{fullData.name}<br>%{x}: %{customdata:,} visits (%{y:.1f}%)<extra></extra>"
                ),
            )
        )
    fig.update_layout(barmode="group", bargap=0.2)
    fig.update_yaxes(rangemode="tozero", ticksuffix="%")
    return style(fig, title, "Visit length", "Share of visits", legend=len(groups) > 1)


def dwell_by_place_chart(table: pd.DataFrame, top: int = 20) -> go.Figure:
    """Median visit length (bar) and 90th percentile (marker) for the places with most visits.

    `table` is `c4w.metrics.visits.dwell_by_place` (most visits first).
    """
    title = "Visit length by place: median and 90th percentile"
    shown = table.dropna(subset=["median_min"]).head(top)
    if shown.empty:
        return empty_figure(title)
    shown = shown.iloc[::-1]  # largest at the top of a horizontal chart
    names = [plain_text(p) for p in shown["place"]]
    info = np.column_stack(
        [
            shown["visits"].to_numpy(),
            shown["p90_min"].to_numpy(),
            shown["bounce_rate"].to_numpy() * 100,
            shown["median_min"].to_numpy(),
        ]
    )
    hover = (
        "%{y}<br>Visits: %{customdata[0]:,}<br>Median: %{customdata[3]:.1f} min<br>"
        "90th percentile: %{customdata[1]:.1f} min<br>Bounce rate: %{customdata[2]:.1f}%"
        "<extra></extra>"
    )
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=shown["median_min"].to_numpy(),
            y=names,
            orientation="h",
            name="Median",
            marker_color=type_colour("visit"),
            customdata=info,
            hovertemplate=hover,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=shown["p90_min"].to_numpy(),
            y=names,
            mode="markers",
            name="90th percentile",
            marker={"symbol": "diamond", "size": 10, "color": "#D55E00"},
            customdata=info,
            hovertemplate=hover,
        )
    )
    height = max(300, 60 + 24 * len(shown))
    return style(fig, title, "Minutes", None, height=height)

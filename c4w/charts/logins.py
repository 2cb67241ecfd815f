"""Login charts: timeline by location (stacked or small multiples), top locations, logins per
guest."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from c4w.charts.overview import (
    empty_figure,
    plain_text,
    series_colour,
    share_text,
    style,
    type_colour,
)

PERIOD_WORDS = {"hour": "hour", "day": "day", "week": "week"}
PERIOD_FORMAT = {"hour": "%a %d %b %Y, %H:00", "day": "%a %d %b %Y", "week": "week of %d %b %Y"}
MAX_PANELS = 12  # small multiples: at most this many locations, one panel each
MAX_BARS = 62  # longer timelines are drawn as stacked areas: bars would be hair-thin


def _epoch_ms(periods: pd.Series) -> np.ndarray:
    """Period starts as epoch milliseconds: a date axis reads them as the same wall-clock time,
    and plotly sends numbers compactly (binary) where dates would travel as text."""
    return periods.to_numpy().astype("datetime64[ms]").astype(np.int64)


def _hover(when: str) -> str:
    """Hover text of a timeline bar: location, period, logins."""
    return f"%{{fullData.name}}<br>%{{x|{when}}}: %{{y:,}} logins<extra></extra>"


def login_timeline_chart(
    timeline: pd.DataFrame,
    granularity: str = "day",
    layout: str = "stacked",
    colours: Mapping[str, str] | None = None,
) -> go.Figure:
    """Logins per period by location: stacked bars, or one small panel per location.

    `timeline` is `c4w.metrics.logins.login_timeline` (period, location, logins), locations in
    the order they come (most logins first). `layout` is "stacked" or "small_multiples".
    `colours` maps location names to their colour (`c4w.charts.colours.location_colours`), so a
    location has the same colour on every page.
    """
    word = PERIOD_WORDS.get(granularity, granularity)
    clock = "local time" if granularity == "hour" else "UTC"
    title = f"WiFi logins per {word} ({clock}), by location"
    if timeline.empty or timeline["logins"].sum() == 0:
        return empty_figure(title)
    locations = list(dict.fromkeys(timeline["location"]))
    when = PERIOD_FORMAT.get(granularity, "%d %b %Y")
    x_title = {"week": "Week starting (Monday, UTC)", "day": "Day (UTC)"}.get(
        granularity, "Local time"
    )
    if layout == "small_multiples":
        return _small_multiples(timeline, locations[:MAX_PANELS], title, when, x_title, colours)
    n_periods = timeline["period"].nunique()
    fig = go.Figure()
    for i, location in enumerate(locations):
        part = timeline.loc[timeline["location"] == location]
        common = {
            "x": _epoch_ms(part["period"]),
            "y": part["logins"].to_numpy(),
            "name": plain_text(location),
            "hovertemplate": _hover(when),
        }
        if n_periods <= MAX_BARS:
            fig.add_trace(go.Bar(**common, marker_color=series_colour(i, location, colours)))
        else:
            colour = series_colour(i, location, colours)
            fig.add_trace(
                go.Scatter(
                    **common,
                    mode="lines",
                    stackgroup="logins",
                    line={"width": 0.5, "color": colour},
                    fillcolor=colour,
                )
            )
    fig.update_layout(
        barmode="stack", bargap=0.1, hovermode="x unified" if n_periods > MAX_BARS else None
    )
    fig.update_xaxes(type="date")
    return style(fig, title, x_title, "Logins", height=420)


def _small_multiples(
    timeline: pd.DataFrame,
    locations: list[str],
    title: str,
    when: str,
    x_title: str,
    colours: Mapping[str, str] | None = None,
) -> go.Figure:
    """One small bar chart per location, sharing the time axis, each with its own scale."""
    names = [plain_text(loc) for loc in locations]
    fig = make_subplots(
        rows=len(locations),
        cols=1,
        shared_xaxes=True,
        subplot_titles=names,
        vertical_spacing=min(0.08, 0.5 / len(locations)),
    )
    for i, (location, name) in enumerate(zip(locations, names, strict=True)):
        part = timeline.loc[timeline["location"] == location]
        fig.add_trace(
            go.Bar(
                x=_epoch_ms(part["period"]),
                y=part["logins"].to_numpy(),
                name=name,
                marker_color=series_colour(i, location, colours),
                hovertemplate=_hover(when),
            ),
            row=i + 1,
            col=1,
        )
    fig.update_annotations(font_size=12, xanchor="left", x=0)
    fig.update_yaxes(nticks=3, rangemode="tozero")
    fig.update_xaxes(type="date")
    fig.update_xaxes(title_text=x_title, row=len(locations), col=1)
    fig.update_layout(bargap=0.1)
    return style(fig, title, None, None, height=80 + 95 * len(locations), legend=False)


def top_locations_chart(top: pd.DataFrame, n: int = 15) -> go.Figure:
    """Horizontal bars of the locations with most logins, with guests and logins per guest.

    `top` is `c4w.metrics.logins.top_locations` (most logins first).
    """
    title = "Locations with the most WiFi logins"
    shown = top.head(n)
    if shown.empty or shown["logins"].sum() == 0:
        return empty_figure(title)
    shown = shown.iloc[::-1]
    info = np.column_stack(
        [
            shown["contacts"].to_numpy(),
            shown["logins_per_contact"].to_numpy(),
            shown["share"].to_numpy() * 100,
        ]
    )
    fig = go.Figure(
        go.Bar(
            x=shown["logins"].to_numpy(),
            y=[plain_text(loc) for loc in shown["location"]],
            orientation="h",
            marker_color=type_colour("login"),
            customdata=info,
            text=[f"{v:,}" for v in shown["logins"]],
            textposition="auto",
            hovertemplate=(
                "%{y}<br>Logins: %{x:,} (%{customdata[2]:.1f}% of all)<br>Guests: "
                "%{customdata[0]:,}<br>Logins per guest: %{customdata[1]:.2f}<extra></extra>"
            ),
        )
    )
    return style(fig, title, "Logins", None, height=max(300, 60 + 26 * len(shown)), legend=False)


def login_frequency_chart(frequency: pd.DataFrame) -> go.Figure:
    """Bars of how many guests logged in once, twice, ... in the period.

    `frequency` is `c4w.metrics.logins.login_frequency`.
    """
    title = "How often each guest logged in"
    if frequency.empty or frequency["contacts"].sum() == 0:
        return empty_figure(title)
    share = frequency["share"].to_numpy() * 100
    fig = go.Figure(
        go.Bar(
            x=frequency["logins"].tolist(),
            y=frequency["contacts"].to_numpy(),
            marker_color=type_colour("login"),
            customdata=share,
            text=[share_text(s / 100) for s in share],
            textposition="outside",
            hovertemplate=(
                "%{x} login(s): %{y:,} guests (%{customdata:.1f}% of guests)<extra></extra>"
            ),
        )
    )
    fig.update_xaxes(type="category")
    return style(fig, title, "Logins in the period", "Guests", legend=False)

"""Overview charts (events per day, weekly heatmap) and the look every chart of the app shares.

Shared here: one colour and one plain-words name per event type, the figure layout, the empty
chart, and `plain_text`, which keeps names taken from events (locations, campaigns, types) from
being read as markup by plotly's label renderer.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from c4w import formatting
from c4w.charts.colours import OTHER_COLOUR, PLACE_COLOURS, colour_of

# One colour per event type, the same in every chart (colour-blind-safe where it matters).
TYPE_COLOURS: dict[str, str] = {
    # WiFi: blues and green; geofence: oranges; email: purples; SMS: reds
    "visit": "#0072B2",
    "arriving": "#9ECAE1",
    "login": "#009E73",
    "geo_visit": "#E67E22",
    "geo_arriving": "#F6C28B",
    "signup": "#C51B7D",
    "send_email": "#BCA9E0",
    "open_email": "#8E6CC4",
    "click_email": "#5E3C99",
    "send_sms": "#F4A3A8",
    "click_sms": "#C0392B",
    "survey": "#B8A200",
    "promo": "#8C564B",
}
TYPE_LABELS = formatting.EVENT_LABELS  # one label per type, shared by every page
TYPE_PLURALS = formatting.EVENT_PLURALS
SERIES_COLOURS = PLACE_COLOURS
FONT = "Source Sans Pro, -apple-system, Segoe UI, Roboto, sans-serif"


def plain_text(text: object) -> str:
    """A name from the data, safe to show in a chart: `<`, `>` and `&` stay literal characters
    instead of being read as plotly's HTML-like label markup."""
    return html.escape(str(text), quote=False)


def type_label(event_type: str) -> str:
    """The event type in the user's words ("WiFi login"); unknown types as they came."""
    return formatting.event_label(event_type)


def type_label_plural(event_type: str) -> str:
    """Many events of a type, in the user's words ("WiFi logins"); unknown types as they came."""
    return formatting.event_label_plural(event_type)


def type_colour(event_type: str) -> str:
    """The colour of an event type; unknown types are grey."""
    return TYPE_COLOURS.get(event_type, OTHER_COLOUR)


def series_colour(i: int, name: str = "", colours: dict[str, str] | None = None) -> str:
    """Colour of a place series: the place's own colour (``c4w.charts.colours``), the same on
    every page and range, never its rank ``i``; "Other ..." series are grey."""
    return colour_of(name, colours)


def style(
    fig: go.Figure,
    title: str,
    x_title: str | None = None,
    y_title: str | None = None,
    height: int = 380,
    legend: bool = True,
) -> go.Figure:
    """The app's chart look: title top left, legend under it, light grid, compact margins."""
    fig.update_layout(
        title={
            "text": title,
            "x": 0,
            "xanchor": "left",
            "xref": "container",
            "y": 0.98 if height > 300 else 0.96,
            "yanchor": "top",
            "yref": "container",
            "font": {"size": 16},
        },
        font={"family": FONT, "size": 13},
        height=height,
        margin={"l": 10, "r": 10, "t": 95 if legend else 50, "b": 10},
        template="plotly_white",
        showlegend=legend,
        legend={
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.01,
            "xanchor": "left",
            "x": 0,
            "traceorder": "normal",
        },
        hoverlabel={"font": {"family": FONT}},
    )
    if x_title is not None:
        fig.update_xaxes(title_text=x_title)
    if y_title is not None:
        fig.update_yaxes(title_text=y_title)
    return fig


def share_text(share: float) -> str:
    """A share as a bar label: 23%, or <1% for small non-zero shares."""
    percent = share * 100
    if 0 < percent < 0.5:
        return "<1%"
    return f"{percent:.0f}%"


def empty_figure(title: str, message: str = "No data for the chosen filters") -> go.Figure:
    """A chart frame with a message instead of data (never a blank or broken chart)."""
    fig = go.Figure()
    fig.add_annotation(
        text=message,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": 15, "color": "#666"},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return style(fig, title, height=260, legend=False)


def events_per_day_chart(per_day: pd.DataFrame) -> go.Figure:
    """Stacked bars of events per local day, one colour per event type.

    `per_day` is `c4w.metrics.overview.events_per_day` (day, type, events).
    """
    title = "Events per day, by kind"
    if per_day.empty or per_day["events"].sum() == 0:
        return empty_figure(title)
    fig = go.Figure()
    for event_type, part in per_day.groupby("type", sort=False, observed=True):
        name = plain_text(type_label(str(event_type)))
        fig.add_trace(
            go.Bar(
                x=part["day"].to_numpy(),
                y=part["events"].to_numpy(),
                name=name,
                marker_color=type_colour(str(event_type)),
                hovertemplate="%{x|%a %d %b %Y}<br>%{fullData.name}: %{y:,}<extra></extra>",
            )
        )
    fig.update_layout(barmode="stack", bargap=0.15)
    fig.update_xaxes(tickformat="%d %b")
    return style(fig, title, "Day (UTC)", "Events")


def weekly_heatmap_chart(heat: pd.DataFrame, what: str = "events") -> go.Figure:
    """Weekday × hour heatmap of the average per day (darker = busier), Monday on top.

    `heat` is `c4w.metrics.overview.weekly_heatmap`; `what` names the events counted.
    """
    title = f"When guests are active: average {what} per hour, by weekday (local time)"
    if heat.empty or heat["events"].sum() == 0:
        return empty_figure(title)
    ordered = heat.sort_values(["weekday", "hour"])
    z = ordered["per_day"].to_numpy().reshape(7, 24)
    totals = ordered["events"].to_numpy().reshape(7, 24)
    days = ordered["weekday_name"].to_numpy().reshape(7, 24)[:, 0].tolist()
    hours = [f"{h:02d}:00" for h in range(24)]
    # hover names the whole hour: "Monday 09:00–10:00"
    spans = np.tile(np.array([f"{h:02d}:00–{(h + 1) % 24:02d}:00" for h in range(24)]), (7, 1))
    fig = go.Figure(
        go.Heatmap(
            z=np.round(z, 2),
            x=hours,
            y=days,
            customdata=np.dstack([totals.astype(object), spans.astype(object)]),
            colorscale="Blues",
            colorbar={"title": {"text": "per day"}, "thickness": 12},
            hovertemplate=(
                "%{y} %{customdata[1]}<br>Average per day: %{z:,.1f}<br>"
                "Total in the period: %{customdata[0]:,}<extra></extra>"
            ),
            xgap=1,
            ygap=1,
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickangle=0, tickmode="array", tickvals=hours[::3], ticktext=hours[::3])
    return style(fig, title, "Hour of the day (local time)", None, height=340, legend=False)

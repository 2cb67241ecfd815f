"""Campaign charts: opens and clicks since the send, and who came back to a store."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from c4w.charts.funnels import plain_text

OPEN_COLOR, CLICK_COLOR, RETURN_COLOR = "#2E6FBF", "#E07B39", "#3A9D5D"


def engagement_chart(over_time: pd.DataFrame) -> go.Figure:
    """Share of recipients who opened / clicked by hours since their send (cumulative).
    ``over_time`` is ``campaigns.engagement_over_time``."""
    hours = over_time["hours_since_send"]
    fig = go.Figure()
    for share, count, label, color in (
        ("opened_share", "opens", "Opened", OPEN_COLOR),
        ("clicked_share", "clicks", "Clicked", CLICK_COLOR),
    ):
        if label == "Opened" and over_time[count].sum() == 0:
            continue  # SMS have no opens
        fig.add_trace(
            go.Scatter(
                x=hours,
                y=over_time[share],
                name=label,
                mode="lines",
                line={"color": color, "width": 2},
                hovertemplate=f"{label}: %{{y:.1%}} of recipients<br>%{{x}} h after the send"
                "<extra></extra>",
            )
        )
    fig.update_layout(
        xaxis_title="Hours since the send",
        yaxis={"title": "Share of recipients", "tickformat": ".0%", "rangemode": "tozero"},
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": 1.1},
        height=320,
    )
    return fig


def returned_chart(by_group: pd.DataFrame, baseline_share: float | None = None) -> go.Figure:
    """Returned share by what recipients did (``attribution.returned_by_engagement``), with the
    baseline's share as a dashed line when given."""
    fig = go.Figure(
        go.Bar(
            x=[plain_text(g) for g in by_group["group"]],
            y=by_group["returned_share"],
            marker={"color": RETURN_COLOR},
            customdata=by_group[["recipients", "returned"]].to_numpy(),
            hovertemplate="%{x}: %{y:.1%} came to a store<br>%{customdata[1]:,} of "
            "%{customdata[0]:,} recipients<extra></extra>",
        )
    )
    if baseline_share is not None and baseline_share == baseline_share:
        fig.add_hline(
            y=baseline_share,
            line={"dash": "dash", "color": "#555"},
            annotation_text=f"baseline {baseline_share:.1%}",
        )
    fig.update_layout(
        yaxis={"title": "Returned", "tickformat": ".0%", "rangemode": "tozero"},
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        height=300,
    )
    return fig

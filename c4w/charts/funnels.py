"""Funnel charts: the step funnel and conversion by location or campaign.

Text that comes from events (step names of unknown types, locations, campaigns) is escaped, so
plotly shows it literally instead of reading it as markup.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

FUNNEL_COLOR = "#2E6FBF"
BREAKDOWN_TOP = 15


def plain_text(value: object) -> str:
    """Text plotly shows as it is: '<', '>' and '&' are escaped (plotly reads a little HTML)."""
    return html.escape("" if value is None or value is pd.NA else str(value), quote=False)


def funnel_chart(steps: pd.DataFrame) -> go.Figure:
    """Contacts reaching each step, with the share of those who entered and of the step before.

    `steps` is `FunnelResult.steps` (name, contacts, step_conversion, overall_conversion).
    """
    names = [plain_text(n) for n in steps["name"]]
    fig = go.Figure(
        go.Funnel(
            y=names,
            x=steps["contacts"].tolist(),
            textinfo="value+percent initial",
            marker={"color": FUNNEL_COLOR},
            connector={"line": {"color": "#9DB7DD", "width": 1}},
            hovertemplate=(
                "%{y}<br>%{x:,} contacts<br>%{percentInitial:.1%} of those who entered"
                "<br>%{percentPrevious:.1%} of the step before<extra></extra>"
            ),
        )
    )
    fig.update_layout(
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        height=90 + 60 * max(len(names), 1),
        yaxis={"title": None},
    )
    return fig


def breakdown_chart(table: pd.DataFrame, group_title: str, top: int = BREAKDOWN_TOP) -> go.Figure:
    """Overall conversion per group (largest groups first, at most `top`), as horizontal bars.

    `table` is `funnel_breakdown(...)` (group, entered, ..., overall_conversion).
    """
    part = table.head(top).iloc[::-1]  # plotly draws the first bar at the bottom
    completed = part.columns[-2] if len(part.columns) >= 3 else "entered"
    text = [
        f"{c:,} of {e:,}"
        for c, e in zip(part[completed].tolist(), part["entered"].tolist(), strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            y=[plain_text(g) for g in part["group"]],
            x=part["overall_conversion"].fillna(0).tolist(),
            orientation="h",
            marker={"color": FUNNEL_COLOR},
            text=text,
            textposition="auto",
            hovertemplate="%{y}<br>%{x:.1%} reached the last step (%{text})<extra></extra>",
        )
    )
    fig.update_layout(
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        height=80 + 28 * max(len(part), 1),
        xaxis={"title": "Reached the last step", "tickformat": ".0%", "rangemode": "tozero"},
        yaxis={"title": plain_text(group_title), "automargin": True},
    )
    return fig

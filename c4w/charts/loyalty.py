"""Loyalty charts: the retention heat grid, guests per bucket, and the weekly lifecycle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from c4w import formatting

LIFECYCLE_COLOURS = {
    "new": "#4C78A8",
    "returning": "#54A24B",
    "resurrecting": "#F58518",
    "dormant": "#E45756",
}
LIFECYCLE_LABELS = {
    "new": "New",
    "returning": "Returning",
    "resurrecting": "Resurrecting",
    "dormant": "Dormant",
}
BUCKET_COLOUR = "#4C78A8"


def retention_heatmap(cohorts: pd.DataFrame, period_label: str = "Week") -> go.Figure:
    """Cohorts (rows, newest at the bottom) by period after (columns), coloured by the share
    that came back; periods not over yet are left blank and say so on hover.
    `cohorts` is `loyalty.retention_cohorts(...)`."""
    if cohorts.empty:
        return go.Figure().update_layout(height=120, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    wide = cohorts.pivot(index="cohort", columns="period", values="share").sort_index()
    sizes = cohorts.drop_duplicates("cohort").set_index("cohort")["cohort_size"]
    rows = [f"{formatting.format_day(c)} ({sizes[c]:,})" for c in wide.index]
    cols = [f"{period_label} {k}" for k in wide.columns]
    z = wide.to_numpy(dtype=float)
    text = np.where(np.isnan(z), "", np.vectorize(formatting.format_percent)(z))
    hover = np.where(
        np.isnan(z),
        "not over yet: not known",
        np.char.add(text.astype(str), " came back"),
    )
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=cols,
            y=rows,
            text=text,
            texttemplate="%{text}",
            customdata=hover,
            hovertemplate="Cohort %{y}<br>%{x}: %{customdata}<extra></extra>",
            colorscale="Blues",
            zmin=0,
            zmax=max(float(np.nanmax(z)) if np.isfinite(z).any() else 1.0, 0.05),
            colorbar={"title": "Came back", "tickformat": ".0%"},
            xgap=2,
            ygap=2,
        )
    )
    fig.update_layout(
        height=120 + 32 * len(rows),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        yaxis={"autorange": "reversed", "title": "Cohort (guests)"},
        xaxis={"side": "top"},
        plot_bgcolor="#f3f4f6",
    )
    return fig


def bucket_chart(table: pd.DataFrame, title: str) -> go.Figure:
    """Guests per bucket as bars with their share. `table` has bucket, guests, share."""
    fig = go.Figure(
        go.Bar(
            x=table["bucket"].tolist(),
            y=table["guests"].tolist(),
            text=[formatting.format_percent(s) for s in table["share"]],
            textposition="outside",
            marker={"color": BUCKET_COLOUR},
            hovertemplate="%{x}: %{y:,} guests (%{text})<extra></extra>",
        )
    )
    fig.update_layout(
        height=300,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"title": title, "type": "category"},
        yaxis={"title": "Guests", "rangemode": "tozero"},
    )
    return fig


def lifecycle_chart(table: pd.DataFrame) -> go.Figure:
    """New, returning and resurrecting guests stacked above zero, dormant below, per week.
    Weeks not over yet are drawn faded. `table` is `loyalty.lifecycle(...)`."""
    weeks = [formatting.format_day(w) for w in table["week"]]
    opacity = [1.0 if over else 0.45 for over in table["week_over"]]
    fig = go.Figure(
        [
            go.Bar(
                x=weeks,
                y=table[state].tolist(),
                name=LIFECYCLE_LABELS[state],
                marker={"color": LIFECYCLE_COLOURS[state], "opacity": opacity},
                hovertemplate=f"Week of %{{x}}<br>{LIFECYCLE_LABELS[state]}: %{{y:,}}"
                "<extra></extra>",
            )
            for state in LIFECYCLE_COLOURS
        ]
    )
    fig.update_layout(
        barmode="relative",
        height=340,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        legend={"orientation": "h", "y": 1.12},
        xaxis={"title": "Week starting (Monday)", "type": "category"},
        yaxis={"title": "Guests", "zeroline": True, "zerolinewidth": 2},
    )
    return fig

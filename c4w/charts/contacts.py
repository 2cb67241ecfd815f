"""One contact's timeline: a row per kind of event, visits drawn as bars of their duration."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from c4w import schema
from c4w.charts.funnels import plain_text
from c4w.metrics.contacts import format_time, type_label

# Rows from top to bottom: presence first, then messages, then the rest.
ROW_ORDER: tuple[str, ...] = (
    schema.SIGNUP,
    schema.LOGIN,
    schema.ARRIVING,
    schema.VISIT,
    schema.GEO_ARRIVING,
    schema.GEO_VISIT,
    schema.SEND_EMAIL,
    schema.OPEN_EMAIL,
    schema.CLICK_EMAIL,
    schema.SEND_SMS,
    schema.CLICK_SMS,
    schema.SURVEY,
    schema.PROMO,
)
VISIT_COLOR = "#2E6FBF"
GEO_VISIT_COLOR = "#3BA272"
POINT_COLOR = "#E07B39"


def _hover(frame: pd.DataFrame) -> list[str]:
    """One escaped hover text per row: what, when, where, which campaign, how long."""
    texts = []
    for row in frame.itertuples(index=False):
        parts = [plain_text(row.label), format_time(row.start)]
        if row.place:
            parts.append(plain_text(row.place))
        if row.campaign:
            parts.append("Campaign: " + plain_text(row.campaign))
        if pd.notna(row.duration_min):
            parts.append(f"Stayed {row.duration_min:.0f} min")
        texts.append("<br>".join(parts))
    return texts


def contact_timeline_chart(timeline: pd.DataFrame) -> go.Figure:
    """Every event of one contact on a time axis; visits are bars from start to end, other
    events are dots. `timeline` is `contact_timeline(...)`."""
    present = list(dict.fromkeys(timeline["type"].tolist()))
    order = [t for t in ROW_ORDER if t in present] + sorted(
        t for t in present if t not in ROW_ORDER
    )
    rows = [plain_text(type_label(t)) for t in order]
    fig = go.Figure()
    spans = timeline.loc[timeline["end"].notna()]
    for kind, color in ((schema.VISIT, VISIT_COLOR), (schema.GEO_VISIT, GEO_VISIT_COLOR)):
        part = spans.loc[spans["type"] == kind]
        if part.empty:
            continue
        width_ms = ((part["end"] - part["start"]).dt.total_seconds() * 1000).clip(lower=60_000)
        fig.add_trace(
            go.Bar(
                base=part["start"].dt.tz_localize(None).tolist(),
                x=width_ms.tolist(),
                y=[plain_text(type_label(kind))] * len(part),
                orientation="h",
                marker={"color": color, "line": {"color": color, "width": 2}},
                name=plain_text(type_label(kind)),
                hovertext=_hover(part),
                hoverinfo="text",
                width=0.6,
            )
        )
    points = timeline.loc[timeline["end"].isna()]
    if len(points):
        fig.add_trace(
            go.Scatter(
                x=points["start"].dt.tz_localize(None).tolist(),
                y=[plain_text(type_label(t)) for t in points["type"]],
                mode="markers",
                marker={"color": POINT_COLOR, "size": 10, "symbol": "diamond"},
                name="Events",
                hovertext=_hover(points),
                hoverinfo="text",
            )
        )
    fig.update_layout(
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        height=120 + 40 * max(len(rows), 1),
        showlegend=False,
        barmode="overlay",
        xaxis={"type": "date", "title": "Time (UTC)"},
        yaxis={
            "categoryorder": "array",
            "categoryarray": rows[::-1],
            "title": None,
            "automargin": True,
        },
    )
    return fig

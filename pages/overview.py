"""Overview: the headline numbers against the previous period, activity per day, busy hours."""

from __future__ import annotations

import streamlit as st

from c4w import schema, ui
from c4w.charts import overview as charts
from c4w.metrics import overview as om

ctx = ui.page_context()
days = (ctx.end - ctx.start).days + 1
st.title("Overview")
st.caption(
    f"{ctx.start:%d %b %Y} – {ctx.end:%d %b %Y} ({days} days). The small figure under each "
    f"number is the change against the {days} days before."
)

kpis = om.overview_kpis(ctx.events, ctx.previous, ctx.all_events, location_ids=ctx.location_ids)
ui.show_kpis(kpis, per_row=3)
if ctx.previous.empty and not ctx.events.empty:
    st.caption("No change figures: the period before these dates is not in the loaded data.")
for note in dict.fromkeys(k.note for k in kpis if k.note):
    st.caption(note)

if ctx.events.empty:
    st.info("No events in these dates for the chosen locations. Try a longer date range.")

st.subheader("Activity per day")
per_day = om.events_per_day(ctx.events)
st.plotly_chart(charts.events_per_day_chart(per_day), key="overview_per_day_chart")
st.caption(
    "Each bar is one day (the local date at the location); its coloured parts are the kinds of "
    "event. Click a kind in the legend to hide it, double-click to show only that kind. The "
    "first and last day can be partial: the dates in the sidebar are UTC days."
)

st.subheader("Busiest hours")
present = om.type_order(ctx.events[schema.TYPE].dropna().unique().astype(str).tolist())
choices = ["", *present]
picked = st.selectbox(
    "Count",
    choices,
    format_func=lambda t: "All events" if t == "" else charts.type_label_plural(t),
    index=choices.index(schema.LOGIN) if schema.LOGIN in choices else 0,
    key="overview_heatmap_type",
    help=om.WEEKLY_HEATMAP_HELP,
)
heat = om.weekly_heatmap(ctx.events, types=[picked] if picked else None)
what = charts.type_label_plural(picked) if picked else "events"
st.plotly_chart(charts.weekly_heatmap_chart(heat, what), key="overview_heatmap_chart")
st.caption(
    "Rows are weekdays, columns are hours of the day in each location's own time. The darker "
    "the square, the busier that hour usually is; hover for the average per day and the total."
)

with st.expander("Download the figures and the events behind them"):
    st.caption("Every download follows the dates and locations chosen in the sidebar.")
    headline = om.kpi_table(kpis)
    events = ctx.events
    ui.download_row(
        ctx,
        ui.Download(headline, "overview-headline", "overview_kpis_csv", "Headline numbers (CSV)"),
        ui.Download(per_day, "events-per-day", "overview_per_day_csv", "Events per day (CSV)"),
        ui.Download(events, "events", "overview_events_csv", f"All {len(events):,} events (CSV)"),
    )

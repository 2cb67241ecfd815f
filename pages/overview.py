"""Overview: the headline numbers against the previous period, activity per day, busy hours."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from c4w import formatting, schema, ui
from c4w.charts import overview as charts
from c4w.metrics import overview as om
from c4w.queries import overview as sql

ctx = ui.page_context()
days = (ctx.end - ctx.start).days + 1
st.title("Overview")
compared = ui.chosen_comparison(ctx)
lookback = om.RETURNING_LOOKBACK_DAYS
returning_fair = ui.chosen_comparison(ctx, lookback_days=lookback).usable
st.caption(
    f"{formatting.format_range(ctx.start, ctx.end)} ({formatting.days_text(days)}, UTC). "
    "The small figure under each number is its change; hover a number for its definition and "
    "the dates it is compared with."
)

history_from = (compared.start or ctx.start) - dt.timedelta(days=lookback)
has_comparison = compared.usable and compared.start is not None and compared.end is not None
now, before = ui.store_figure(
    sql.headlines,
    ctx.start,
    ctx.end,
    history_from,
    ctx.location_ids,
    compared=(compared.start, compared.end, compared.until) if has_comparison else None,
    compared_returning=returning_fair,
    store=ctx.store,
)
kpis = om.headline_kpis(now, before, returning_comparable=returning_fair)
ui.show_kpis(kpis, per_row=4, compared=compared)
st.caption(ui.comparison_caption(compared))
for note in dict.fromkeys(k.note for k in kpis if k.note):
    st.caption(note)

if not now["events"]:
    st.info("No events in these dates for the chosen locations. Try a longer date range.")

st.subheader("Activity per day")
per_day = ui.store_figure(sql.per_day, ctx.start, ctx.end, ctx.location_ids, store=ctx.store)
st.plotly_chart(charts.events_per_day_chart(per_day), key="overview_per_day_chart")
st.caption(
    "Each bar is one UTC day, the same days as the sidebar, so the bars add up to the numbers "
    "above; its coloured parts are the kinds of event. Click a kind in the legend to hide it, "
    "double-click to show only that kind."
)

st.subheader("Busiest hours")
present = om.type_order(per_day.loc[per_day["events"] > 0, "type"].unique().tolist())
choices = ["", *present]
ui.url_choice(
    "hours_of",
    "overview_heatmap_type",
    schema.LOGIN if schema.LOGIN in choices else "",
    options=choices,
)
picked = st.selectbox(
    "Count",
    choices,
    format_func=lambda t: "All events" if t == "" else charts.type_label_plural(t),
    key="overview_heatmap_type",
    help=om.WEEKLY_HEATMAP_HELP,
)
heat = ui.store_figure(
    sql.weekly_heatmap,
    ctx.start,
    ctx.end,
    ctx.location_ids,
    [picked] if picked else None,
    until=ui.data_until(ctx),
    store=ctx.store,
)
what = charts.type_label_plural(picked) if picked else "events"
st.plotly_chart(charts.weekly_heatmap_chart(heat, what), key="overview_heatmap_chart")
st.caption(
    "Rows are weekdays, columns are hours of the day in each location's own time. The darker "
    "the square, the busier that hour usually is; hover for the average per day and the total. "
    "Each hour is averaged over the days it fell inside the chosen dates at each location, so "
    "the partial first and last day do not make a weekday look quiet."
)

with st.expander("Download the figures and the events behind them"):
    st.caption("Every download follows the dates and locations chosen in the sidebar.")
    headline = om.kpi_table(kpis, compared.describe() if compared.usable else "")
    ui.download_row(
        ctx,
        ui.Download(
            headline,
            "overview-headline",
            "overview_kpis_csv",
            "Headline numbers (CSV)",
            readable=True,
        ),
        ui.Download(
            om.events_per_day_table(per_day),
            "events-per-day",
            "overview_per_day_csv",
            "Events per day (CSV)",
            readable=True,
        ),
        ui.Download(
            lambda: ctx.events,
            "events",
            "overview_events_csv",
            f"All {now['events']:,} events (CSV)",
            readable=True,
            rows=now["events"],
        ),
    )

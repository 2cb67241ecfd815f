"""WiFi logins: when and where guests log in, and how often each guest comes back to log in."""

from __future__ import annotations

import streamlit as st

from c4w import formatting, schema, ui
from c4w.charts import logins as charts
from c4w.charts.colours import location_colours
from c4w.metrics import logins as lm
from c4w.metrics import memo

GRANULARITY = {"hour": "Hour", "day": "Day", "week": "Week"}
LAYOUTS = {"stacked": "Stacked", "small_multiples": "One chart per location"}
MAX_HOURLY_DAYS = 31

ctx = ui.page_context()
# only the login rows of these dates are read, never every event of the range
events = ctx.history_later(ctx.start, ctx.end, ctx.location_ids, lm.EVENT_TYPES, lm.COLUMNS_READ)


def every_column():
    """The login rows of these dates with every column (the event ids too), for the download."""
    columns = schema.EVENT_COLUMNS
    return ctx.history(ctx.start, ctx.end, ctx.location_ids, lm.EVENT_TYPES, columns)


st.title("WiFi logins")
st.caption(
    "Every time a guest connects to your guest WiFi. Days and weeks are the UTC days chosen in "
    "the sidebar; hours are each location's own local time."
)

compared, previous = ui.compare_with(ctx, types=lm.EVENT_TYPES, columns=lm.COLUMNS_READ)
ui.show_kpis(memo.remembered(lm.login_kpis)(events, previous), compared=compared)
st.caption(ui.comparison_caption(compared))

st.subheader("Logins over time")
default_granularity = "hour" if (ctx.end - ctx.start).days < 2 else "day"
c1, c2, c3 = st.columns([1.2, 1.6, 1.4])
ui.url_choice("per", "logins_granularity", default_granularity, options=list(GRANULARITY))
granularity = c1.segmented_control(
    "Per",
    list(GRANULARITY),
    format_func=GRANULARITY.get,
    required=True,
    key="logins_granularity",
)
ui.url_choice("show", "logins_layout", "stacked", options=list(LAYOUTS))
layout = c2.segmented_control(
    "Show locations",
    list(LAYOUTS),
    format_func=LAYOUTS.get,
    required=True,
    key="logins_layout",
)
ui.url_choice("drawn", "logins_top", 10, options=list(range(1, charts.MAX_PANELS + 1)), parse=int)
top_n = c3.slider(
    "Locations drawn",
    min_value=1,
    max_value=charts.MAX_PANELS,
    key="logins_top",
    help="The locations with most logins get a band of their own; all the others are summed "
    "into one grey 'Other locations' band, so the pile always adds up to the WiFi logins above.",
)
if granularity == "hour" and (ctx.end - ctx.start).days + 1 > MAX_HOURLY_DAYS:
    st.info(
        f"Hourly bars are offered for up to {MAX_HOURLY_DAYS} days; showing days. Pick a shorter "
        "range in the sidebar to see hours."
    )
    granularity = "day"
timeline = memo.remembered(lm.login_timeline)(events, granularity, top_n=top_n)
st.plotly_chart(
    charts.login_timeline_chart(timeline, granularity, layout, location_colours(ctx.locations)),
    key="logins_timeline_chart",
)
how = (
    "Each coloured band is one location, stacked so the top of the pile is their total."
    if layout == "stacked"
    else "Each small chart is one location with its own scale, so quiet places show their "
    "pattern too."
)
st.caption(f"{lm.LOGIN_TIMELINE_HELP} {how} Locations are ranked by logins in these dates.")

left, right = st.columns(2)
with left:
    top = memo.remembered(lm.top_locations)(events)
    st.plotly_chart(charts.top_locations_chart(top), key="logins_top_chart")
    st.caption(lm.TOP_LOCATIONS_HELP + " Hover a bar for its guests and logins per guest.")
with right:
    frequency = memo.remembered(lm.login_frequency)(events)
    st.plotly_chart(charts.login_frequency_chart(frequency), key="logins_frequency_chart")
    st.caption(lm.LOGIN_FREQUENCY_HELP + " A long tail to the right means many regulars.")

st.subheader("Logins by location")
table = top.rename(
    columns={
        "location": "Location",
        "logins": "Logins",
        "contacts": "Guests",
        "logins_per_contact": "Logins per guest",
        "share": "Share of logins (%)",
    }
).assign(**{"Share of logins (%)": lambda t: formatting.percent_points(t["Share of logins (%)"])})
ui.show_table(
    table,
    ctx=ctx,
    key="logins_locations_table",
    column_config={
        "Logins per guest": st.column_config.NumberColumn(format="%.2f"),
        "Share of logins (%)": st.column_config.NumberColumn(format="%.1f%%"),
    },
)

with st.expander("Download the figures and the logins behind them"):
    st.caption("Every download follows the dates and locations chosen in the sidebar.")
    logins = memo.remembered(lm.login_count)(events)
    ui.download_row(
        ctx,
        ui.Download(
            table,
            "logins-by-location",
            "logins_locations_csv",
            "Logins by location (CSV)",
            readable=True,
        ),
        ui.Download(
            lm.login_timeline_table(timeline, granularity),
            f"logins-per-{granularity}",
            "logins_timeline_csv",
            f"Logins per {granularity} (CSV)",
            readable=True,
        ),
        ui.Download(
            lambda: lm.login_rows(every_column()),
            "logins",
            "logins_rows_csv",
            f"All {logins:,} logins (CSV)",
            readable=True,
            rows=logins,
        ),
    )

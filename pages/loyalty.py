"""Loyalty: do new guests come back, how often guests come, and who has stopped coming."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from c4w import formatting, schema, ui
from c4w.charts import loyalty as charts
from c4w.metrics import loyalty as lm
from c4w.metrics.memo import remembered
from c4w.queries import loyalty as sql

PERCENT = st.column_config.NumberColumn(format="percent")
PERIODS = {lm.WEEK: "Week", lm.MONTH: "Month"}
MODES = {lm.EXACT: "came back in that week", lm.OR_LATER: "came back in that week or later"}
COHORT_BY = {lm.FIRST_VISIT: "first WiFi visit", lm.FIRST_SIGNUP: "sign-up"}

ctx = ui.page_context()
st.title("Loyalty")
span = ctx.history_span
if span is None:
    st.info("No events loaded yet. Loyalty needs WiFi visits.")
    ui.stop_page()
last_complete = min(span[1], ui.utc_today() - dt.timedelta(days=1))
st.caption(
    f"Selected dates {formatting.format_range(ctx.start, ctx.end)}. The loaded history goes "
    f"from {formatting.format_day(span[0])} to {formatting.format_day(span[1])}: a guest counts "
    f"as new when their first visit in it is in your dates, and a guest who came before "
    f"{formatting.format_day(span[0])} cannot be told apart from a new one. Every figure counts "
    "visit days: several visits by one guest on one day count once."
)


def guest_days(start: dt.date, end: dt.date):
    """Each guest's visit days recorded on UTC days ``start..end`` at the chosen locations."""
    return ui.store_figure(sql.guest_days, start, end, ctx.location_ids, store=ctx.store)


whole = guest_days(*span)

# --- retention cohorts -------------------------------------------------------------------------
st.subheader("Do new guests come back?")
c1, c2, c3 = st.columns(3)
period = c1.radio(
    "Group by", list(PERIODS), format_func=PERIODS.get, horizontal=True, key="loyalty_period"
)
mode = c2.radio(
    "Count guests who",
    list(MODES),
    format_func=lambda m: MODES[m].replace("week", PERIODS[period].lower()),
    key="loyalty_mode",
)
cohort_by = c3.radio(
    "Cohort by", list(COHORT_BY), format_func=COHORT_BY.get, key="loyalty_cohort_by"
)
word = PERIODS[period].lower()
rule = lm.RETENTION_HELP.format(period=word, mode=lm.MODE_TEXT[mode].format(period=word))
st.caption(f"**The rule.** {rule}")
signups = None
if cohort_by == lm.FIRST_SIGNUP:
    signups = ui.store_figure(sql.first_signup_days, *span, ctx.location_ids, store=ctx.store)
cohorts = remembered(lm.cohorts_of_days)(
    whole,
    ctx.start,
    ctx.end,
    last_complete,
    period=period,
    mode=mode,
    max_periods=12 if period == lm.WEEK else 6,
    cohort_by=cohort_by,
    first_signups=signups,
)
if cohorts.empty:
    st.info("No guest had a first visit in these dates. Try a longer date range.")
else:
    st.plotly_chart(
        charts.retention_heatmap(cohorts, PERIODS[period]), key="loyalty_retention_chart"
    )
    grid = lm.retention_grid(cohorts, period)
    shares = [c for c in grid.columns if c.startswith(PERIODS[period])]
    ui.show_table(
        grid,
        ctx=ctx,
        key="loyalty_retention_table",
        column_config={c: PERCENT for c in shares},
    )
    st.caption(
        f"Empty cells: that {word} is not over yet (the last complete day in the history is "
        f"{formatting.format_day(last_complete)}), so the figure is not known."
    )

# --- how many, how often -----------------------------------------------------------------------
st.subheader("How often do guests come?")
in_dates = guest_days(ctx.start, ctx.end)
freq = remembered(lm.frequency_of_days)(in_dates)
rhythm = remembered(lm.rhythm_of_days)(in_dates)
left, right = st.columns(2)
with left:
    st.markdown("**Visit days in the selected dates**", help=lm.FREQUENCY_HELP)
    st.plotly_chart(charts.bucket_chart(freq, "Visit days"), key="loyalty_frequency_chart")
with right:
    st.markdown("**How regularly**", help=lm.RHYTHM_HELP)
    st.plotly_chart(charts.bucket_chart(rhythm, "Comes"), key="loyalty_rhythm_chart")
st.caption(lm.RHYTHM_HELP)

# --- lifecycle ---------------------------------------------------------------------------------
st.subheader("New, returning, resurrecting and dormant guests per week")
life = remembered(lm.lifecycle_of_days)(whole, ctx.start, ctx.end, last_complete)
st.plotly_chart(charts.lifecycle_chart(life), key="loyalty_lifecycle_chart")
st.caption(
    lm.LIFECYCLE_HELP + " Faded bars: the week is not over yet. Weeks are whole calendar weeks, "
    "so the first and last can reach outside the selected dates."
)

# --- lapsed guests -----------------------------------------------------------------------------
st.subheader("Lapsed guests")
k_col, d_col = st.columns(2)
min_days = k_col.number_input(
    "Came on at least (visit days)", min_value=1, max_value=100, value=3, key="loyalty_lapsed_k"
)
away = d_col.number_input(
    "Not seen for at least (days)", min_value=1, max_value=365, value=21, key="loyalty_lapsed_d"
)
help_text = lm.LAPSED_HELP.format(k=int(min_days), d=int(away))
upto_day = min(ctx.end, span[1])
upto = whole if upto_day == span[1] else guest_days(span[0], upto_day)
lapsed = remembered(lm.lapsed_of_days)(upto, ctx.end, int(min_days), int(away))
details = ui.store_figure(
    sql.contact_details,
    span[0],
    upto_day,
    ctx.location_ids,
    tuple(lapsed[schema.CONTACT_ID].tolist()),
    store=ctx.store,
)
lapsed = remembered(lm.with_details)(lapsed, details)
st.metric("Lapsed guests", formatting.format_count(len(lapsed)), help=help_text)
st.caption(help_text + " Download the list as the audience of a win-back campaign.")
audience = lm.readable(lapsed)
ui.show_table(audience, ctx=ctx, key="loyalty_lapsed_table")
ui.download_audience(ctx, lapsed[schema.CONTACT_ID], what="lapsed", key="loyalty_lapsed_audience")

with st.expander("Download the figures", expanded=True):
    ui.download_row(
        ctx,
        ui.Download(audience, "lapsed-guests", "loyalty_lapsed_csv", "Lapsed guests (CSV)"),
        ui.Download(cohorts, "retention-cohorts", "loyalty_cohorts_csv", "Cohorts (CSV)"),
        ui.Download(life, "guest-lifecycle", "loyalty_lifecycle_csv", "Lifecycle (CSV)"),
    )

"""Campaign funnels: from signup to the click, contact by contact, and who stopped where."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from c4w import formatting, schema, ui
from c4w.charts import funnels as charts
from c4w.metrics import funnels as fm
from c4w.metrics import memo
from c4w.queries import funnels as fq

CUSTOM = "Choose the steps"
PATHS = dict(zip(("email", "sms", "custom"), [*fm.PRESETS, CUSTOM], strict=True))
FOLLOW = {"one": "One message", "any": "Any campaign"}
PERCENT = st.column_config.NumberColumn(format="%.1f%%")
MINUTES = st.column_config.NumberColumn(format="%.1f min")
WHEN = st.column_config.DatetimeColumn(format="DD MMM YYYY, HH:mm")

ctx = ui.page_context()
st.title("Campaign funnels")
st.caption(
    "Follow each guest from signup to the click on your email or SMS: how many made each "
    "step, how long it took, and who stopped where, ready to download as your next audience."
)

left, middle, right = st.columns([3, 1.3, 1])
ui.url_choice("path", "funnels_path_code", "email", options=list(PATHS))
code = left.radio(
    "Funnel",
    list(PATHS),
    format_func=PATHS.get,
    horizontal=True,
    key="funnels_path_code",
    help="Pick a ready-made path, or choose your own steps from the events in your data.",
)
path = PATHS[code]
ui.url_choice("follow", "funnels_follow", "one", options=list(FOLLOW))
follow = middle.segmented_control(
    "Email and SMS steps follow",
    list(FOLLOW),
    format_func=FOLLOW.get,
    required=True,
    key="funnels_follow",
    help=f"{fm.ONE_MESSAGE_RULE} {fm.ANY_CAMPAIGN_RULE}",
)
ui.url_choice("window", "funnels_window_days", 14, options=range(1, 91), parse=int)
days = right.number_input(
    "Conversion window (days)",
    min_value=1,
    max_value=90,
    step=1,
    key="funnels_window_days",
    help="A step counts only if it happens at most this many days after the contact entered, "
    "also after the last selected day.",
)
window = timedelta(days=int(days))
# Contacts enter within the dates; their later steps count up to the end of their window, so
# the days after the last selected one are read too. Later steps may be emails, which have no
# location: the location filter acts on the step-1 event only (see the counting rule). Only the
# rows of the funnel's event types are read.
if path == CUSTOM:
    present = ui.store_figure(fq.step_types_present, ctx.start, ctx.end + window, store=ctx.store)
    ui.url_choice(
        "step",
        "funnels_steps",
        [t for t in fm.EMAIL_STEPS if t in present][:2],
        options=present,
        many=True,
    )
    steps = st.multiselect(
        "Steps, in order (the first one is where contacts enter)",
        options=present,
        format_func=fm.step_label,
        max_selections=6,
        key="funnels_steps",
    )
else:
    steps = list(fm.PRESETS[path])

rule = fm.ONE_MESSAGE_RULE if follow == "one" else fm.ANY_CAMPAIGN_RULE
st.info(f"{fm.COUNTING_RULE}\n\n{rule}", icon=":material/rule:")
if len(steps) < 2:
    st.warning("Choose at least two steps to see a funnel.")
    ui.stop_page()

read = fm.types_to_read(steps)
in_dates = ctx.history_later(ctx.start, ctx.end + window, (), read, fm.COLUMNS_READ)
entry_campaign = None
if steps[0] in fm.SEND_TYPES:
    sent = memo.remembered(fm.campaigns_sent)(in_dates, steps[0])
    entry_campaign = st.selectbox(
        "Start at a send of",
        [None, *sent],
        format_func=lambda c: "Any campaign" if c is None else c,
        key="funnels_entry_campaign",
        help="Only sends of this campaign count as step 1: each contact enters at their first "
        "send of it in the dates.",
    )
result = memo.remembered(fm.funnel)(
    in_dates,
    tuple(steps),
    window,
    entry_from=ctx.start,
    entry_to=ctx.end,
    entry_locations=tuple(ctx.location_ids),
    same_campaign=follow == "one",
    data_until=ui.data_end(ctx) or ctx.end,
    entry_campaign=entry_campaign,
)
if result.location_filter_ignored:
    st.caption("The first step of this funnel has no store, so the location filter does not apply.")
if result.open_windows:
    st.caption(
        f":material/hourglass_top: {result.open_windows:,} of the {result.entered:,} contacts "
        f"who entered did so less than {formatting.days_text(int(days))} before the data ends: "
        "their window is not over yet, so they may still reach later steps."
    )

k1, k2, k3, k4 = st.columns(4)
k1.metric("Entered", f"{result.entered:,}", help=fm.ENTERED_HELP)
k2.metric("Reached the last step", f"{result.completed:,}", help=fm.COMPLETED_HELP)
k3.metric(
    "Overall conversion",
    "–" if result.entered == 0 else f"{result.overall_conversion:.1%}",
    help=fm.OVERALL_CONVERSION_HELP,
)
k4.metric(
    "Median time to the last step",
    fm.humanize_duration(result.median_time_to_complete),
    help=fm.TIME_TO_COMPLETE_HELP,
)

if result.entered == 0:
    st.info(
        "Nobody had the first step's event in the selected dates and locations. Try a longer "
        "date range or another first step."
    )
    ui.stop_page()

st.subheader("Step by step")
st.plotly_chart(charts.funnel_chart(result.steps), key="funnels_chart")
table = memo.remembered(fm.steps_table)(result)
ui.show_table(
    table,
    ctx=ctx,
    key="funnels_steps_table",
    column_config={fm.FROM_PREVIOUS: PERCENT, fm.FROM_ENTRY: PERCENT, fm.STEP_MINUTES: MINUTES},
)
ui.download_csv(table, what="funnel-steps", ctx=ctx, key="funnels_steps_csv", readable=True)

st.subheader("Where it works best")
ui.url_choice(
    "by",
    "funnels_breakdown_by",
    fm.BY_LOCATION,
    options=[fm.BY_LOCATION, fm.BY_CAMPAIGN, fm.BY_FIRST_MESSAGE],
)
by = st.radio(
    "Break down by",
    [fm.BY_LOCATION, fm.BY_CAMPAIGN, fm.BY_FIRST_MESSAGE],
    horizontal=True,
    format_func=fm.GROUP_LABELS.get,
    key="funnels_breakdown_by",
    help="Location of signup: the store of each contact's step-1 event. Campaign (step 2): the "
    "campaign of each contact's step-2 event. First email or SMS step: the campaign of the "
    "first message step the contact reached (step 1 when the funnel starts at a send).",
)
breakdown = memo.remembered(fm.funnel_breakdown)(result, by=by)
st.plotly_chart(
    charts.breakdown_chart(breakdown, fm.GROUP_LABELS[by]), key="funnels_breakdown_chart"
)
st.caption(
    f"Share of contacts who reached the last step, for the {charts.BREAKDOWN_TOP} largest "
    "groups. The table lists every group."
)
shown = memo.remembered(fm.readable)(breakdown, by=by)
ui.show_table(
    shown,
    ctx=ctx,
    key="funnels_breakdown_table",
    column_config={fm.COLUMN_LABELS["overall_conversion"]: PERCENT},
)
ui.download_csv(shown, what=f"funnel-by-{by}", ctx=ctx, key="funnels_breakdown_csv", readable=True)

st.subheader("Who stopped where")
st.caption(
    "Contacts who entered but did not reach the end, with the step they missed. Download the "
    "list to target them in your next campaign."
)
stops = {0: "Any step"}
for number, row in enumerate(result.steps.itertuples(index=False), start=1):
    if number > 1:
        stops[number] = f"Before {row.name} ({row.dropped:,} contacts)"
ui.url_choice("stopped", "funnels_dropped_step", 0, options=list(stops), parse=int)
stop = st.selectbox(
    "Stopped before", list(stops), format_func=stops.get, key="funnels_dropped_step"
)
stopped = memo.remembered(fm.dropped_contacts)(result, step=stop or None)
dropped = memo.remembered(fm.readable)(stopped)
times = {c: WHEN for c in dropped.columns if "(UTC)" in c}
ui.show_table(dropped, ctx=ctx, key="funnels_dropped_table", column_config=times)
ui.download_csv(
    dropped,
    what="funnel-audience" if not stop else f"funnel-stopped-before-step-{stop}",
    ctx=ctx,
    key="funnels_dropped_csv",
    readable=True,
)
ui.download_audience(
    ctx,
    stopped[schema.CONTACT_ID],
    what="funnel dropped" if not stop else f"funnel stopped before step {stop}",
    key="funnels_dropped_audience",
)
with st.expander("Every contact who entered, with the time of each step"):
    journeys = memo.remembered(fm.readable)(result.journeys)
    times = {c: WHEN for c in journeys.columns if c in result.names or "(UTC)" in c}
    ui.show_table(journeys, ctx=ctx, key="funnels_journeys_table", column_config=times)
    ui.download_csv(
        journeys, what="funnel-contacts", ctx=ctx, key="funnels_journeys_csv", readable=True
    )

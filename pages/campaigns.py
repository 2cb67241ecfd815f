"""Campaigns: how each email and SMS campaign did, and the store visits it brought."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from c4w import schema, ui
from c4w.charts import campaigns as charts
from c4w.metrics import attribution as at
from c4w.metrics import campaigns as cm
from c4w.metrics import memo

PICK_KEY, TABLE_KEY, APPLIED_KEY = "campaign_pick", "campaign_table", "_campaign_table_applied"
WHEN = "D MMM YYYY, HH:mm"

ctx = ui.page_context()
st.title("Campaigns")
st.caption(
    "Every email and SMS campaign sent on the chosen days: how many opened and clicked, and "
    "whether it brought guests into the stores, measured against a baseline."
)

days = int(
    st.sidebar.number_input(
        "Days after a send that count",
        min_value=1,
        max_value=30,
        value=at.DEFAULT_DAYS,
        key="campaign_days",
        help="A recipient 'returned' with a WiFi or geofence visit starting within this many "
        "days after their send.",
    )
)
since = ctx.start - dt.timedelta(days=days + at.HISTORY_DAYS)
until = ctx.end + dt.timedelta(days=days)
# the visits' figures from the store, when there is one: then only the campaign events are read
visits, homes = ui.campaign_visits(ctx, since, until)
types, columns = (
    (cm.EVENT_TYPES, cm.COLUMNS_READ) if visits is None else (cm.ACTION_TYPES, cm.ACTION_COLUMNS)
)
# read only when a figure below is not remembered yet
history = ctx.history_later(since, until, (), types, columns)
firsts = ui.first_events(ctx, since, until)  # of every type: when each guest was first seen
summary = cm.remembered_summary(history, ctx.start, ctx.end)
if summary.empty:
    st.info("No campaign was sent on the chosen days. Pick other dates in the sidebar.")
    ui.stop_page()

st.subheader("Every campaign")
table = summary.assign(
    **{
        cm.OPEN_RATE: summary[cm.OPEN_RATE] * 100,
        cm.CLICK_RATE: summary[cm.CLICK_RATE] * 100,
        cm.CLICK_TO_OPEN: summary[cm.CLICK_TO_OPEN] * 100,
    }
).drop(columns=[schema.CAMPAIGN_ID])
percent = "%.1f%%"
picked_rows = st.dataframe(
    table,
    hide_index=True,
    key=TABLE_KEY,
    on_select="rerun",
    selection_mode="single-row",
    placeholder=ui.MISSING_TEXT,
    column_config={
        cm.CAMPAIGN: st.column_config.TextColumn("Campaign"),
        schema.CHANNEL: st.column_config.TextColumn("Channel"),
        cm.SENT: st.column_config.NumberColumn("Sent", help=cm.HELP[cm.SENT]),
        cm.RECIPIENTS: st.column_config.NumberColumn("Recipients", help=cm.HELP[cm.RECIPIENTS]),
        cm.OPENED: st.column_config.NumberColumn("Opened", help=cm.HELP[cm.OPENED]),
        cm.CLICKED: st.column_config.NumberColumn("Clicked", help=cm.HELP[cm.CLICKED]),
        cm.OPEN_RATE: st.column_config.NumberColumn(
            "Open rate", format=percent, help=cm.HELP[cm.OPEN_RATE]
        ),
        cm.CLICK_RATE: st.column_config.NumberColumn(
            "Click rate", format=percent, help=cm.HELP[cm.CLICK_RATE]
        ),
        cm.CLICK_TO_OPEN: st.column_config.NumberColumn(
            "Click-to-open", format=percent, help=cm.HELP[cm.CLICK_TO_OPEN]
        ),
        cm.FIRST_SEND: st.column_config.DatetimeColumn(
            "First send (UTC)", format=WHEN, help=cm.HELP[cm.FIRST_SEND]
        ),
        cm.LAST_SEND: st.column_config.DatetimeColumn(
            "Last send (UTC)", format=WHEN, help=cm.HELP[cm.LAST_SEND]
        ),
        cm.SENDS_PER_DAY: st.column_config.BarChartColumn(
            "Sends per day", help=cm.HELP[cm.SENDS_PER_DAY]
        ),
        cm.OPENS_PER_DAY: st.column_config.LineChartColumn(
            "Opens per day", help=cm.HELP[cm.OPENS_PER_DAY]
        ),
        cm.WITHOUT_SEND: st.column_config.NumberColumn(
            "Opened without a send", help=cm.HELP[cm.WITHOUT_SEND]
        ),
    },
)
st.caption("Click a row to open that campaign below. Sort by any column header.")
ui.download_csv(
    summary.drop(columns=[cm.SENDS_PER_DAY, cm.OPENS_PER_DAY]),
    what="campaigns",
    ctx=ctx,
    key="campaigns_csv",
)

# A clicked row opens that campaign (through the picker, which also works on its own).
labels = [f"{r[cm.CAMPAIGN]} ({r[schema.CHANNEL]})" for _, r in summary.iterrows()]
rows = list(getattr(getattr(picked_rows, "selection", None), "rows", []) or [])
if rows and rows != st.session_state.get(APPLIED_KEY):
    st.session_state[PICK_KEY] = labels[rows[0]]
st.session_state[APPLIED_KEY] = rows
if st.session_state.get(PICK_KEY) not in labels:
    st.session_state[PICK_KEY] = labels[0]
label = st.selectbox("Campaign", labels, key=PICK_KEY)
row = summary.iloc[labels.index(label)]
campaign_id, channel = str(row[schema.CAMPAIGN_ID]), str(row[schema.CHANNEL])

st.header(str(row[cm.CAMPAIGN]))
tiles = st.columns(5)
tiles[0].metric("Recipients", f"{row[cm.RECIPIENTS]:,}", help=cm.HELP[cm.RECIPIENTS])
if channel == "email":
    tiles[1].metric("Open rate", f"{row[cm.OPEN_RATE]:.1%}", help=cm.HELP[cm.OPEN_RATE])
    tiles[3].metric("Click-to-open", f"{row[cm.CLICK_TO_OPEN]:.1%}", help=cm.HELP[cm.CLICK_TO_OPEN])
tiles[2].metric("Click rate", f"{row[cm.CLICK_RATE]:.1%}", help=cm.HELP[cm.CLICK_RATE])
tiles[4].metric("Sent", f"{row[cm.SENT]:,}", help=cm.HELP[cm.SENT])

baseline = st.radio(
    "Compare with",
    list(at.BASELINES),
    format_func=at.BASELINES.__getitem__,
    key="campaign_baseline",
    horizontal=True,
    help=" ".join(f"{at.BASELINES[k]}: {at.HELP[k]}" for k in at.BASELINES),
)
contacts = ui.contacts_of(ctx)
found = at.remembered_uplift(
    history,
    contacts,
    campaign_id,
    channel,
    ctx.start,
    ctx.end,
    days,
    str(baseline),
    firsts,
    visits,
    homes,
)
people, up = found.people, found.uplift

st.subheader(f"Store visits within {days} days of the send")
span = ctx.history_span
if span is not None and (
    span[1] < ctx.end + dt.timedelta(days=days) or span[0] > ctx.start - dt.timedelta(days=days)
):
    st.caption(
        "The history held does not reach the full number of days around every send: sends near "
        "its edges have fewer days to count visits in."
    )
back = st.columns(4)
# with no comparable guest for anyone, the uplift's own share has no recipient: show all of them
returned_share = up.returned_share if up.recipients else people[at.RETURNED].mean()
back[0].metric("Returned", f"{returned_share:.1%}", help=at.HELP["returned"])
back[1].metric(
    "Baseline",
    "–" if up.baseline_share != up.baseline_share else f"{up.baseline_share:.1%}",
    help=f"{at.HELP['baseline']} {at.HELP[str(baseline)]}",
)
if up.enough:
    back[2].metric(
        "Uplift",
        f"{up.uplift * 100:+.1f} pts",
        help=at.HELP["uplift"],
    )
    low, high = up.incremental_range
    back[3].metric("Incremental visits", f"{up.incremental:+,.0f}", help=at.HELP["incremental"])
    st.caption(
        f"95% interval of the uplift: {up.low * 100:+.1f} to {up.high * 100:+.1f} points "
        f"({up.method}); incremental visits {low:+,.0f} to {high:+,.0f}. "
        f"{up.recipients:,} recipients against {up.baseline_guests:,} guests in the baseline."
    )
elif up.reason:
    back[2].metric("Uplift", "Not comparable", help=at.HELP["uplift"])
    back[3].metric("Incremental visits", "Not comparable", help=at.HELP["incremental"])
    st.warning(f"{at.BASELINES[str(baseline)]}: {up.reason}. Pick another baseline above.")
else:
    back[2].metric("Uplift", "Not enough data", help=at.HELP["uplift"])
    back[3].metric("Incremental visits", "Not enough data", help=at.HELP["incremental"])
    st.caption(
        f"{up.recipients:,} recipients and {up.baseline_guests:,} guests in the baseline: each "
        f"group needs at least {at.MIN_GROUP} guests."
    )
by_engagement = at.returned_by_engagement(people)
st.plotly_chart(
    charts.returned_chart(by_engagement, up.baseline_share), key="campaign_returned_chart"
)

st.subheader("Opens and clicks since the send")
st.plotly_chart(
    charts.engagement_chart(cm.engagement_over_time(people)), key="campaign_engagement_chart"
)
timing = cm.time_to_engage(people)
ui.show_table(
    timing,
    ctx=ctx,
    key="campaign_timing_table",
    column_config={
        "median_hours": st.column_config.NumberColumn(
            "Median (hours)", format="%.1f", help=cm.TIME_TO_HELP
        ),
        "p90_hours": st.column_config.NumberColumn(
            "90th percentile (hours)", format="%.1f", help=cm.TIME_TO_HELP
        ),
    },
)

st.subheader("Results by home store and by new or returning guest")
held = at.prepared(history, contacts, firsts, visits, homes)
by_store = memo.remembered(cm.results_by_home_store)(people, held.homes, ctx.locations)
by_kind = memo.remembered(cm.results_by_guest)(people, held.known)
left, right = st.columns(2)
with left:
    ui.show_table(by_store, ctx=ctx, key="campaign_store_table")
    st.caption(
        "Home store: where the guest made most of their WiFi visits (ties: the one visited last)."
    )
with right:
    ui.show_table(by_kind, ctx=ctx, key="campaign_new_table")
    st.caption(
        f"New: signed up within {cm.NEW_DAYS} days before the send (Cloud4Wi's creation date, or "
        "the first event); returning: earlier."
    )
ui.download_row(
    ctx,
    ui.Download(by_store, "campaign-by-home-store", "campaign_store_csv", "By home store (CSV)"),
    ui.Download(by_kind, "campaign-new-or-returning", "campaign_new_csv", "New or returning (CSV)"),
)

st.subheader("Who to talk to next")
clicked = cm.who_clicked(people)
not_opened = cm.who_did_not_open(people)
no_visit = people[(people[cm.CLICKED] & ~people[at.RETURNED]).to_numpy()][
    [schema.CONTACT_ID, cm.SEND_AT, cm.CLICK_AT]
]
lists = st.tabs(
    [
        f"Clicked ({len(clicked):,})",
        f"Did not {'open' if channel == 'email' else 'click'} ({len(not_opened):,})",
        f"Clicked, no visit ({len(no_visit):,})",
    ]
)
for tab, (rows_of, what, key) in zip(
    lists,
    (
        (clicked, "clicked", "clicked"),
        (not_opened, "did not open", "not_opened"),
        (no_visit, "clicked no visit", "no_visit"),
    ),
    strict=True,
):
    with tab:
        ui.show_table(rows_of, ctx=ctx, key=f"campaign_{key}_table")
        ui.download_audience(
            ctx,
            rows_of[schema.CONTACT_ID],
            what=f"{row[cm.CAMPAIGN]} {what}",
            key=f"campaign_{key}_audience",
            contacts=contacts,
        )

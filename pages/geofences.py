"""Geofences: where app users arrive and stay around your stores, on a map and in a table."""

from __future__ import annotations

import streamlit as st

from c4w import formatting, ui
from c4w.charts import geofences as charts
from c4w.metrics import contacts as cm
from c4w.metrics import geofences as gm
from c4w.metrics import memo
from c4w.queries import geofences as geofence_sql

ALL = ""  # the "every geofence" choice of the picker
EVERYWHERE = "Everything"  # the map's quick pick that fits every geofence and store
MAP_KEY, PICK_KEY, LAST_CLICK_KEY = "geofences_map", "geofences_pick", "geofences_last_click"
LOW_ARRIVALS, LOW_SHARE = 20, 0.25

ctx = ui.page_context()
st.title("Geofences")
st.caption(
    "Each circle is a geofence at its true size: the darker the colour, the more arrivals or "
    "visits from your app users in the selected dates (or the higher the walk-in share). Dark "
    "ringed dots are your WiFi locations. Click a circle (or pick it from the list) to look at "
    "one geofence."
)

# Geofence events carry no location, so they are taken from the selected dates at every
# location; the location filter narrows the WiFi dots. Only the event types the figures read
# are read, never every event of the range, and only when a figure is not remembered yet.
# every geofence ever seen: of all the geofence events stored, only the rows that carry each
# one's latest name, centre, radius, shape and extId
history = ui.store_figure(geofence_sql.latest_geofence_rows, store=ctx.store)
in_dates = ctx.history_later(ctx.start, ctx.end, (), gm.IN_DATES_TYPES, gm.GEOFENCE_COLUMNS)
summary = memo.remembered(gm.geofence_summary)(in_dates, history)
points = gm.wifi_location_points(ctx.locations, ctx.location_ids)
if ctx.location_ids:
    st.caption("Geofence events carry no location: the location filter applies to the dots.")

ui.url_choice(
    "walkin", "geofences_walk_in_minutes", gm.WALK_IN_MINUTES, options=range(5, 241), parse=int
)
minutes = st.number_input(
    "Walk-in: a WiFi login or visit within (minutes) of the arrival",
    min_value=5,
    max_value=240,
    step=5,
    key="geofences_walk_in_minutes",
    help=gm.LINK_RULE_HELP,
)
stores = gm.geofence_stores(summary, ctx.locations, memo.remembered(gm.geofence_ext_ids)(history))
# the walk-ins in DuckDB: the WiFi logins and visits of the dates are never read as rows
walk = ui.store_figure(
    geofence_sql.walk_ins,
    ctx.start,
    ctx.end,
    geofence_sql.store_pairs(stores),
    float(minutes),
    store=ctx.store,
)
summary = gm.with_walk_ins(summary, stores, walk)
walk_help = gm.WALK_IN_HELP.format(m=int(minutes)) + " " + gm.LINK_RULE_HELP
st.caption(f"**Geofence to store.** {walk_help}")

# A click on the map picks that geofence in the list below (the list stays usable on its own).
keys = summary[gm.GEOFENCE].tolist()
names = dict(zip(keys, summary["name"].tolist(), strict=True))
ui.url_choice("geofence", PICK_KEY, ALL, options=[ALL, *keys])
state = st.session_state.get(MAP_KEY)
clicked_objects = []
if state is not None:
    clicked_objects = (state.get("selection") or {}).get("objects", {}).get(charts.GEOFENCE_LAYER)
clicked = (clicked_objects or [{}])[0].get("geofence")
if clicked != st.session_state.get(LAST_CLICK_KEY):
    st.session_state[LAST_CLICK_KEY] = clicked
    st.session_state[PICK_KEY] = clicked if clicked in names else ALL
if st.session_state.get(PICK_KEY) not in (ALL, *keys):
    st.session_state[PICK_KEY] = ALL

left, right = st.columns([2, 1])
picked = left.selectbox(
    "Geofence",
    [ALL, *keys],
    format_func=lambda k: "All geofences" if k == ALL else f"{names[k]} ({k})",
    key=PICK_KEY,
)
ui.url_choice(
    "colour", "geofences_color_by", next(iter(charts.COLOR_BY)), options=list(charts.COLOR_BY)
)
color_by = right.radio(
    "Colour circles by",
    list(charts.COLOR_BY),
    format_func=charts.COLOR_BY.get,
    horizontal=True,
    key="geofences_color_by",
)
selected = picked or None

focus = in_dates
if selected:
    picked_rows = memo.remembered(gm.geofence_events)(in_dates, selected)
    focus = memo.name_after(picked_rows, in_dates, "geofence", selected)
totals = memo.remembered(gm.geofence_totals)(focus)
focus_walk = walk.loc[walk[gm.GEOFENCE] == selected] if selected else walk
walked, arrived = int(focus_walk["walk_ins"].sum()), int(focus_walk["arrivals"].sum())
k1, k2, k3, k4, k5, k6 = st.columns(6)
k1.metric("Active geofences", f"{totals.geofences:,}", help=gm.GEOFENCES_HELP)
k2.metric("Arrivals", f"{totals.arrivals:,}", help=gm.ARRIVALS_HELP)
k3.metric("Visits", f"{totals.visits:,}", help=gm.VISITS_HELP)
k4.metric("Contacts", f"{totals.unique_contacts:,}", help=gm.CONTACTS_HELP)
k5.metric("Median dwell", cm.format_minutes(totals.median_dwell_min), help=gm.DWELL_HELP)
k6.metric(
    "Walk-in share",
    formatting.format_percent(walked / arrived if arrived else None),
    help=walk_help + " Here: all walk-ins over all arrivals at geofences with a store.",
)

low = gm.low_walk_in(summary, LOW_ARRIVALS, LOW_SHARE)
if len(low):
    listed = "; ".join(
        f"**{row.name}** ({row.arrivals:,} arrivals, {formatting.format_percent(row.walk_in_share)}"
        " walked in)"
        for row in low.head(5).itertuples(index=False)
    )
    st.warning(
        f"Many pass by, few come in: {listed}. "
        + gm.LOW_WALK_IN_HELP.format(n=LOW_ARRIVALS, share=LOW_SHARE),
        icon=":material/directions_walk:",
    )

on_map = gm.mappable(summary)
# the stores' WiFi visits of these dates
store_visits = ui.store_figure(geofence_sql.store_visits, ctx.start, ctx.end, store=ctx.store)
clusters = gm.map_clusters(
    gm.map_places(on_map, gm.wifi_location_points(ctx.locations), store_visits)
)
picks = [*clusters["name"].tolist(), EVERYWHERE] if len(clusters) > 1 else []
zoom = (
    st.segmented_control(
        "Zoom to",
        picks,
        default=picks[0],
        key="geofences_zoom",
        help="The map opens on the busiest cluster of geofences and stores; pick another city "
        "or fit everything.",
    )
    if picks
    else None
)
bounds = None
if zoom and zoom != EVERYWHERE:
    row = clusters.loc[clusters["name"] == zoom].iloc[0]
    bounds = (row.lat_min, row.lat_max, row.lon_min, row.lon_max)
deck = charts.geofence_map(
    on_map,
    points,
    color_by=color_by,
    selected=selected,
    overlapping=gm.overlaps(on_map),
    bounds=bounds,
)
st.pydeck_chart(
    deck,
    on_select="rerun",
    selection_mode="single-object",
    key=MAP_KEY,
    height=520,
)
st.markdown(charts.legend_html(on_map, color_by), unsafe_allow_html=True)
if color_by == "walk_in_share":
    legend = "Grey circles have no store or no arrivals; pale to deep blue is 0% to 100%."
else:
    legend = (
        "Grey circles had no activity in these dates; light yellow to deep red means few to "
        f"many {charts.COLOR_BY[color_by].lower()}."
    )
legend += " Hover a circle for its figures and the circles it overlaps."
missing = len(summary) - len(on_map)
if missing:
    legend += f" {missing:,} geofences have no map position and appear only in the table."
st.caption(legend)
if summary.empty:
    st.info(
        "No geofence activity in the loaded data. Geofences appear once your app reports "
        "arrivals or visits (geo_arriving / geo_visit events)."
    )
    ui.stop_page()

if selected:
    st.subheader("Activity per day")
    st.plotly_chart(
        charts.geofence_activity_chart(memo.remembered(gm.geofence_daily)(focus)),
        key="geofences_daily_chart",
    )
    st.subheader("Who comes here")
    st.caption("Contacts with arrivals or visits at this geofence, most visits first.")
    people = gm.readable(memo.remembered(gm.geofence_contacts)(focus))
    ui.show_table(
        people,
        ctx=ctx,
        key="geofences_contacts_table",
        column_config={
            "Last seen (UTC)": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm")
        },
    )
    ui.download_csv(people, what="geofence-contacts", ctx=ctx, key="geofences_contacts_csv")
else:
    st.subheader(f"Busiest geofences by {charts.COLOR_BY[color_by].lower()}")
    st.plotly_chart(charts.geofence_bar_chart(summary, color_by), key="geofences_bar_chart")

st.subheader("All geofences" if not selected else "This geofence")
rows = summary.loc[summary[gm.GEOFENCE] == selected] if selected else summary
table = gm.readable(rows)
ui.show_table(
    table,
    ctx=ctx,
    key="geofences_table",
    column_config={
        "Walk-in share (%)": st.column_config.NumberColumn(format="%.1f", help=walk_help),
        "Median lag to login (min)": st.column_config.NumberColumn(format="%.1f", help=gm.LAG_HELP),
        "Store": st.column_config.TextColumn(help=gm.LINK_RULE_HELP),
        "Median dwell (min)": st.column_config.NumberColumn(format="%.1f", help=gm.DWELL_HELP),
    },
)
ui.download_csv(table, what="geofences", ctx=ctx, key="geofences_csv")

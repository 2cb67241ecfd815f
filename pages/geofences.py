"""Geofences: where app users arrive and stay around your stores, on a map and in a table."""

from __future__ import annotations

import streamlit as st

from c4w import ui
from c4w.charts import geofences as charts
from c4w.metrics import contacts as cm
from c4w.metrics import geofences as gm

ALL = ""  # the "every geofence" choice of the picker
MAP_KEY, PICK_KEY, LAST_CLICK_KEY = "geofences_map", "geofences_pick", "geofences_last_click"

ctx = ui.page_context()
st.title("Geofences")
st.caption(
    "Each circle is a geofence at its true size: the darker the colour, the more arrivals or "
    "visits from your app users in the selected dates. Blue dots are your WiFi locations. "
    "Click a circle (or pick it from the list) to look at one geofence."
)

# Geofence events carry no store, so they are taken from the selected dates only; the location
# filter narrows the WiFi dots.
in_dates = ui.slice_events(ctx.all_events, ctx.start, ctx.end)
summary = gm.geofence_summary(in_dates, ctx.all_events)
points = gm.wifi_location_points(ctx.locations, ctx.location_ids)
if ctx.location_ids:
    st.caption("Geofences are not tied to a store: the location filter applies to the blue dots.")

# A click on the map picks that geofence in the list below (the list stays usable on its own).
keys = summary[gm.GEOFENCE].tolist()
names = dict(zip(keys, summary["name"].tolist(), strict=True))
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
color_by = right.radio(
    "Colour circles by",
    list(charts.COLOR_BY),
    format_func=charts.COLOR_BY.get,
    horizontal=True,
    key="geofences_color_by",
)
selected = picked or None

focus = gm.geofence_events(in_dates, selected) if selected else in_dates
totals = gm.geofence_totals(focus)
k1, k2, k3, k4, k5 = st.columns(5)
k1.metric("Active geofences", f"{totals.geofences:,}", help=gm.GEOFENCES_HELP)
k2.metric("Arrivals", f"{totals.arrivals:,}", help=gm.ARRIVALS_HELP)
k3.metric("Visits", f"{totals.visits:,}", help=gm.VISITS_HELP)
k4.metric("Contacts", f"{totals.unique_contacts:,}", help=gm.CONTACTS_HELP)
k5.metric("Median dwell", cm.format_minutes(totals.median_dwell_min), help=gm.DWELL_HELP)

on_map = gm.mappable(summary)
deck = charts.geofence_map(on_map, points, color_by=color_by, selected=selected)
st.pydeck_chart(
    deck,
    on_select="rerun",
    selection_mode="single-object",
    key=MAP_KEY,
    height=520,
)
legend = (
    "Grey circles had no activity in these dates; light yellow to deep red means few to many "
    f"{charts.COLOR_BY[color_by].lower()}."
)
missing = len(summary) - len(on_map)
if missing:
    legend += f" {missing:,} geofences have no map position and appear only in the table."
st.caption(legend)
if summary.empty:
    st.info(
        "No geofence activity in the loaded data. Geofences appear once your app reports "
        "arrivals or visits (geo_arriving / geo_visit events)."
    )
    st.stop()

if selected:
    st.subheader("Activity per day")
    st.plotly_chart(
        charts.geofence_activity_chart(gm.geofence_daily(focus)), key="geofences_daily_chart"
    )
    st.subheader("Who comes here")
    st.caption("Contacts with arrivals or visits at this geofence, most visits first.")
    people = gm.readable(gm.geofence_contacts(focus))
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
ui.show_table(table, ctx=ctx, key="geofences_table")
ui.download_csv(table, what="geofences", ctx=ctx, key="geofences_csv")

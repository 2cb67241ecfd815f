"""Visits: how long guests stay — length histogram, length buckets, bounce rate, per place."""

from __future__ import annotations

import streamlit as st

from c4w import formatting, schema, ui
from c4w.charts import visits as charts
from c4w.charts.colours import location_colours
from c4w.metrics import memo
from c4w.metrics import visits as vm

KINDS = {vm.WIFI: "WiFi visits", vm.GEOFENCE: "Geofence visits", vm.BOTH: "Both"}
SPLITS = {"none": "No split", "kind": "WiFi vs geofence", "place": "By place"}
BIN_WIDTHS = [1, 2, 5, 10, 15, 30, 60]

ctx = ui.page_context()
# only the visit rows of these dates are read, never every event of the range
events = ctx.history_later(ctx.start, ctx.end, ctx.location_ids, vm.EVENT_TYPES, vm.COLUMNS_READ)


def every_column():
    """The visit rows of these dates with every column (the event ids too), for the download."""
    columns = schema.EVENT_COLUMNS
    return ctx.history(ctx.start, ctx.end, ctx.location_ids, vm.EVENT_TYPES, columns)


place_colours = location_colours(ctx.locations)
st.title("Visits")
st.caption(
    "How long guests stay. A WiFi visit is a guest connected at a location; a geofence visit is "
    "an app user inside a geofence. Lengths are in minutes."
)

left, middle, right = st.columns([1.2, 2, 1])
ui.url_choice("kind", "visits_kind", vm.BOTH, options=list(KINDS))
kind = left.segmented_control(
    "Visits", list(KINDS), format_func=KINDS.get, required=True, key="visits_kind"
)
options = memo.remembered(vm.visit_places)(events, kind)
place_names = options["place"].tolist()
ui.url_choice("place", "visits_places", [], options=place_names, many=True)
st.session_state["visits_places"] = [
    p for p in st.session_state.get("visits_places", []) if p in place_names
]
places = middle.multiselect(
    "Places",
    place_names,
    key="visits_places",
    placeholder="All places",
    help="WiFi locations and geofences with visits in these dates. Leave empty for all.",
)
chosen = tuple(places) or None
ui.url_choice(
    "bounce", "visits_bounce", int(vm.DEFAULT_BOUNCE_MIN), options=range(1, 61), parse=int
)
threshold = right.number_input(
    "Bounce under (minutes)",
    min_value=1,
    max_value=60,
    step=1,
    key="visits_bounce",
    help="A visit shorter than this counts as a bounce.",
)
if ctx.location_ids and kind != vm.WIFI:
    st.caption(
        "Geofence visits belong to no WiFi location, so they are left out while locations are "
        "chosen in the sidebar."
    )

compared, previous = ui.compare_with(ctx, types=vm.EVENT_TYPES, columns=vm.COLUMNS_READ)
kpis = memo.remembered(vm.visit_kpis)(events, previous, kind, chosen, threshold)
ui.show_kpis(kpis, compared=compared)
st.caption(
    f"Bounce rate: share of visits shorter than {threshold} minutes; a fall is good news, so "
    f"it shows green. {ui.comparison_caption(compared)}"
)

st.subheader("How long visits last")
c1, c2, c3 = st.columns(3)
ui.url_choice("bins", "visits_binwidth", 5, options=BIN_WIDTHS, parse=int)
bin_width = c1.select_slider("Bar width (minutes)", BIN_WIDTHS, key="visits_binwidth")
ui.url_choice("upto", "visits_max", 240, options=range(30, 721, 30), parse=int)
max_minutes = c2.slider(
    "Show lengths up to (minutes)",
    min_value=30,
    max_value=720,
    step=30,
    key="visits_max",
    help="Longer visits are gathered in the last bar.",
)
ui.url_choice("split", "visits_split", "none", options=list(SPLITS))
split = c3.segmented_control(
    "Compare",
    list(SPLITS),
    format_func=SPLITS.get,
    required=True,
    key="visits_split",
)
split_by = None if split == "none" else split
hist = memo.remembered(vm.dwell_histogram)(
    events, bin_width, max_minutes, kind, chosen, split=split_by
)
y = "share" if split_by else "visits"
st.plotly_chart(
    charts.dwell_histogram_chart(hist, y=y, colours=place_colours), key="visits_histogram_chart"
)
st.caption(
    f"Each bar counts the visits whose length falls in a {bin_width}-minute band; the tallest "
    "bars show the usual visit length."
    + (" Groups are shown as shares so places of different size compare." if split_by else "")
    + (" By place: the 8 places with most visits, the rest together." if split == "place" else "")
)

st.subheader("Visits by length")
ui.url_choice("limits", "visits_edges", ", ".join(f"{e:g}" for e in vm.DEFAULT_BUCKET_EDGES))
edges_text = st.text_input(
    "Bucket limits (minutes)",
    max_chars=200,
    key="visits_edges",
    help="Where one bucket ends and the next starts. A visit exactly on a limit counts in the "
    "bucket above: 5 minutes is in 5–15.",
)
edges, problem = vm.parse_edges(edges_text)
if problem:
    st.warning(problem)
buckets = memo.remembered(vm.dwell_buckets)(events, tuple(edges), kind, chosen, split=split_by)
st.plotly_chart(charts.dwell_buckets_chart(buckets, place_colours), key="visits_buckets_chart")
st.caption(vm.DWELL_BUCKETS_HELP + " Bar labels are the share of all visits with a length.")

st.subheader("Visit length by place")
by_place = memo.remembered(vm.dwell_by_place)(events, kind, chosen, threshold)
st.plotly_chart(charts.dwell_by_place_chart(by_place), key="visits_by_place_chart")
st.caption(
    "The bar is the median visit (half are shorter); the diamond is the 90th percentile (nine "
    "visits in ten are shorter). The 20 places with most visits are drawn; the table has all."
)
table = by_place.rename(
    columns={
        "place": "Place",
        "kind": "Kind",
        "visits": "Visits",
        "without_length": "Without length",
        "median_min": "Median (min)",
        "p90_min": "90th percentile (min)",
        "bounce_rate": f"Bounce rate (< {threshold} min) (%)",
    }
)
bounce_column = f"Bounce rate (< {threshold} min) (%)"
table[bounce_column] = formatting.percent_points(table[bounce_column])
ui.show_table(
    table,
    ctx=ctx,
    key="visits_by_place_table",
    column_config={
        "Median (min)": st.column_config.NumberColumn(format="%.1f"),
        "90th percentile (min)": st.column_config.NumberColumn(format="%.1f"),
        bounce_column: st.column_config.NumberColumn(format="%.1f%%"),
    },
)

with st.expander("Download the figures and the visits behind them"):
    st.caption("Every download follows the sidebar filters and the choices on this page.")
    visits = memo.remembered(vm.visit_count)(events, kind, chosen)
    ui.download_row(
        ctx,
        ui.Download(
            table,
            "visit-length-by-place",
            "visits_by_place_csv",
            "Length by place (CSV)",
            readable=True,
        ),
        ui.Download(
            vm.dwell_buckets_table(buckets),
            "visit-length-buckets",
            "visits_buckets_csv",
            "Length buckets (CSV)",
            readable=True,
        ),
        ui.Download(
            lambda: vm.visit_rows(every_column(), kind, chosen),
            "visits",
            "visits_rows_csv",
            f"All {visits:,} visits (CSV)",
            readable=True,
            rows=visits,
        ),
    )

"""Locations: every store side by side against the comparison period, and the ones that moved."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from c4w import formatting, ui
from c4w.metrics import overview as om
from c4w.metrics import stores as sm
from c4w.metrics import visits as vm
from c4w.queries import stores as sql

# the other pages a row opens, filtered to that store: (column, page address, page title, file)
OPENS = (
    ("Overview", "", "Overview", "pages/overview.py"),
    ("Visits page", "visits", "Visits", "pages/visits.py"),
    ("Logins page", "logins", "WiFi logins", "pages/logins.py"),
    ("Loyalty page", "loyalty", "Loyalty", "pages/loyalty.py"),
)
MIN_PREVIOUS_VISITS = 20
GO_TO = "locations_go_to"  # the page a button below asked for, opened on the next run
ROW_KEY = "locations_open_row"  # the row whose pages the buttons open

target = st.session_state.pop(GO_TO, None)
if target:
    st.switch_page(target)


def open_filtered(page_file: str, ids_of: dict[str, list[str]]) -> None:
    """Open ``page_file`` filtered to the row chosen now: the choice is read when the button is
    clicked, so a click right after a new choice, before the page is drawn again, opens it."""
    row = st.session_state.get(ROW_KEY)
    ui.set_location_filter(list(ids_of.get(row, [])))
    st.session_state[GO_TO] = page_file


ctx = ui.page_context()
days = (ctx.end - ctx.start).days + 1
st.title("Locations")
compared = ui.chosen_comparison(ctx)
lookback = om.RETURNING_LOOKBACK_DAYS
returning_fair = ui.chosen_comparison(ctx, lookback_days=lookback).usable
st.caption(
    f"{formatting.format_range(ctx.start, ctx.end)} ({formatting.days_text(days)}). "
    f"{ui.comparison_caption(compared)} Click a column to sort; a row's links open the other "
    "pages filtered to that store."
)

locations = ctx.locations
if ctx.location_ids:
    locations = locations.loc[locations["id"].astype(str).isin(ctx.location_ids)]
if locations.empty:
    st.info("No locations in this account (or none chosen in the sidebar).")
    ui.stop_page()

c1, c2 = st.columns([1, 2])
by = c1.selectbox(
    "Group by", list(sm.GROUPINGS), format_func=sm.GROUPINGS.get, key="locations_group_by"
)
all_tags = sorted({t for tags in sm.location_tags(locations).values() for t in tags})
tags = c2.multiselect(
    "Only locations tagged", all_tags, key="locations_tags", placeholder="Every tag"
)
if tags:
    tagged = {i for i, own in sm.location_tags(locations).items() if set(own) & set(tags)}
    locations = locations.loc[locations["id"].astype(str).isin(tagged)]

# every group's figures in SQL over the store: the page holds no event rows
groups = tuple((key, tuple(ids)) for key, ids in sm.location_groups(locations, by).items())
since = (compared.start or ctx.start) - dt.timedelta(days=lookback)
now = ui.store_figure(sql.group_figures, ctx.start, ctx.end, groups, since, store=ctx.store)
before = {}
if compared.usable and compared.start is not None and compared.end is not None:
    before = ui.store_figure(
        sql.group_figures,
        compared.start,
        compared.end,
        groups,
        since if returning_fair else None,
        compared.until,
        trend=False,
        store=ctx.store,
    )
table = sm.comparison_table(now, before, locations, by)

# --- the movers --------------------------------------------------------------------------------
up, down = sm.movers(table, "visits", n=2, min_previous=MIN_PREVIOUS_VISITS)
st.subheader("Moved most")
if up.empty and down.empty:
    st.caption(
        f"No store had {MIN_PREVIOUS_VISITS} or more WiFi visits in the comparison period and a "
        "change since, so none is called out."
    )
else:
    movers = [*up.itertuples(index=False), *down.itertuples(index=False)]
    help_text = sm.MOVERS_HELP.format(n=MIN_PREVIOUS_VISITS)
    for column, row in zip(st.columns(len(movers)), movers, strict=True):
        word = "up" if row.visits_change > 0 else "down"
        column.metric(
            f"{row.name} ({word})",
            f"{formatting.format_count(row.visits)} visits",
            delta=f"{row.visits_change:+.0%} vs {formatting.format_count(row.visits_previous)}",
            delta_color="normal",
            help=help_text,
            border=True,
        )

# --- the table ---------------------------------------------------------------------------------
st.subheader("Every location" if by == sm.BY_LOCATION else f"By {sm.GROUPINGS[by].lower()}")
shown = sm.readable(table)
config: dict[str, object] = {
    "Visits per day": st.column_config.LineChartColumn("Visits per day", help=sm.TREND_HELP),
}
for _figure, (label, text, unit, _better) in sm.FIGURES.items():
    name = f"{label} (%)" if unit == "share" else label
    if unit == "minutes":
        text = f"{text} Bounce: a visit shorter than {vm.DEFAULT_BOUNCE_MIN:g} minutes."
    config[name] = st.column_config.NumberColumn(name, help=text)
    change = f"{label} vs before (points)" if unit == "share" else f"{label} vs before (%)"
    config[change] = st.column_config.NumberColumn(change, help=sm.CHANGE_HELP, format="%+.1f")
for column, path, title, _file in OPENS:
    shown[column] = [ui.page_link(path, ctx.filters, ids) for ids in table["location_ids"]]
    config[column] = st.column_config.LinkColumn(
        column, display_text="Open", help=f"The {title} page filtered to this row's locations"
    )
ui.show_table(shown, ctx=ctx, key="locations_table", column_config=config)
st.caption(
    f"Bounce rate: WiFi visits shorter than {vm.DEFAULT_BOUNCE_MIN:g} minutes. Returning share "
    "is judged at each store on its own (the guest's previous visit at that store)."
)
st.markdown("**Open one row's pages here**")
names = dict(zip(table["group"], table["name"], strict=True))
ids_of = dict(zip(table["group"], table["location_ids"], strict=True))
st.selectbox(
    "Row",
    list(names),
    format_func=names.get,
    key=ROW_KEY,
    label_visibility="collapsed",
)
for column, (_c, _path, title, page_file) in zip(st.columns(len(OPENS)), OPENS, strict=True):
    column.button(
        title,
        key=f"locations_open_{page_file}",
        on_click=open_filtered,
        args=(page_file, ids_of),
        help=f"The {title} page with the sidebar's location filter set to this row",
        use_container_width=True,
    )
csv = shown.drop(columns=[c for c, _p, _t, _f in OPENS])
csv["Visits per day"] = [" ".join(map(str, t)) for t in table["trend"]]
ui.download_csv(csv, what=f"locations-by-{by}", ctx=ctx, key="locations_csv")

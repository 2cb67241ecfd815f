"""Data quality: what was stored for these dates, what the sync saw, and the rows that look off."""

from __future__ import annotations

import streamlit as st

from c4w import data, ui
from c4w.metrics import quality as qm
from c4w.queries import quality as sql

ctx = ui.page_context()
st.title("Data quality")
st.caption(
    f"{ctx.start:%d %b %Y} – {ctx.end:%d %b %Y}, by UTC day. Each finding opens the rows behind "
    "it, ready to download. Day figures come from the store's record of each sync and cover "
    "every location; the findings follow the location filter."
)

days = qm.day_status(
    data.day_states_frame(ctx.source),
    ctx.start,
    ctx.end,
    data.unsettled_days(ctx.source, ctx.start, ctx.end),
)
shown = (ctx.start, ctx.end, ctx.location_ids)
per_day = ui.store_figure(sql.by_day_and_type, *shown, store=ctx.store)
problems, with_problems = ui.store_figure(sql.problem_counts, *shown, store=ctx.store)
counts = qm.counts_of_day_table(per_day, with_problems)
ui.show_kpis(qm.kpis_of_counts(counts, days), per_row=5)

st.subheader("Days")
st.caption(
    "Each UTC day of the dates: whether the store holds it and has settled it, the events it "
    "keeps, the repeats it dropped, and the API's own count against the rows it sent."
)
ui.show_table(days, ctx=ctx, key="quality_days_table")
ui.download_csv(days, what="days", ctx=ctx, key="quality_days_csv")
waiting = qm.days_not_ready(days)
with st.expander(f"Days missing or not settled: {len(waiting):,}"):
    st.caption(qm.DAYS_NOT_READY_HELP)
    ui.show_table(waiting, ctx=ctx, key="quality_waiting_table")
    ui.download_csv(waiting, what="days-not-ready", ctx=ctx, key="quality_waiting_csv")

st.subheader("Per day and event type")
st.caption(
    "Events stored per UTC day and type, and how many of them are behind each finding below."
)
ui.show_table(per_day, ctx=ctx, key="quality_per_day_table")
ui.download_csv(per_day, what="quality-per-day", ctx=ctx, key="quality_per_day_csv")

st.subheader("Findings")
# the rows behind a finding or a problem are read only while its box is open
for finding in qm.FINDINGS:
    box = st.expander(
        f"{finding.label}: {counts[finding.key]:,} rows",
        key=f"quality_{finding.key}_open",
        on_change="rerun",
    )
    with box:
        st.caption(finding.help)
        if not counts[finding.key]:
            st.caption("None in these dates.")
            continue
        if box.open:
            rows = sql.finding_rows(ctx.store, *shown, finding.key)
            ui.show_table(rows, ctx=ctx, key=f"quality_{finding.key}_table")
            ui.download_csv(rows, what=finding.key, ctx=ctx, key=f"quality_{finding.key}_csv")

st.subheader("Problems found when reading the API's answers")
st.caption(qm.PROBLEMS_HELP + " A row may carry several problems.")
if problems.empty:
    st.caption("No row of these dates carries a problem.")
for number, (label, count) in enumerate(zip(problems["problem"], problems["rows"], strict=True)):
    slug = f"reader-problem-{number + 1}"
    box = st.expander(f"{label}: {count:,} rows", key=f"quality_{slug}_open", on_change="rerun")
    with box:
        if box.open:
            rows = sql.problem_rows(ctx.store, *shown, label)
            ui.show_table(rows, ctx=ctx, key=f"quality_{slug}_table")
            ui.download_csv(rows, what=slug, ctx=ctx, key=f"quality_{slug}_csv")

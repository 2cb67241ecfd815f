"""A rerun of a page with nothing changed computes none of its figures again, reads no event
and shows the same numbers: the Visits, WiFi logins, Loyalty, Locations, Campaigns, Campaign
funnels and Geofences pages remember their figures by the history they read (and the lapsed
guests' audience file by the contacts it lists)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from c4w import audience, data, schema, ui
from c4w.metrics import campaigns as cm
from c4w.metrics import funnels as fm
from c4w.metrics import geofences as gm
from c4w.metrics import logins as lm
from c4w.metrics import loyalty
from c4w.metrics import visits as vm
from c4w.queries import geofences as geofences_sql
from c4w.queries import loyalty as loyalty_sql
from c4w.queries import stores as stores_sql
from c4w.queries.contacts import most_active_contacts


def counted(monkeypatch: pytest.MonkeyPatch, module, names: tuple[str, ...]) -> dict[str, int]:
    """Replace each function ``names`` of ``module`` with one counting its calls."""
    calls = dict.fromkeys(names, 0)

    def counting(name: str, function: Callable) -> Callable:
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)

        return wrapper

    for name in names:
        monkeypatch.setattr(module, name, counting(name, getattr(module, name)))
    return calls


PAGES_IN_SQL = {"pages/loyalty.py", "pages/locations.py"}


@pytest.mark.parametrize(
    "page, params, module, names",
    [
        (
            "pages/visits.py",
            {},
            vm,
            ("visit_places", "visit_kpis", "dwell_histogram", "dwell_buckets", "dwell_by_place"),
        ),
        ("pages/logins.py", {}, lm, ("login_kpis", "login_timeline", "top_locations")),
        (
            "pages/loyalty.py",
            {},
            loyalty,
            (
                "cohorts_of_days",
                "frequency_of_days",
                "rhythm_of_days",
                "lifecycle_of_days",
                "lapsed_of_days",
                "with_details",
            ),
        ),
        # guest days twice: of the whole history and of the chosen dates
        ("pages/loyalty.py", {}, loyalty_sql, {"guest_days": 2, "contact_details": 1}),
        ("pages/loyalty.py", {}, audience, ("audience_frame",)),
        # each group's figures in the chosen dates and in the comparison period
        ("pages/locations.py", {}, stores_sql, {"group_figures": 2}),
        ("pages/campaigns.py", {}, cm, ("new_or_returning",)),
        (
            "pages/geofences.py",
            {},
            gm,
            ("geofence_summary", "geofence_ext_ids", "geofence_totals"),
        ),
        # the walk-ins, the stores' visits and the latest attributes come from SQL over the store
        (
            "pages/geofences.py",
            {},
            geofences_sql,
            ("walk_ins", "store_visits", "latest_geofence_rows"),
        ),
        (
            "pages/funnels.py",
            {"path": "custom", "step": ["send_email", "open_email"]},  # a funnel from a send
            fm,
            ("funnel", "campaigns_sent", "steps_table", "funnel_breakdown", "dropped_contacts"),
        ),
    ],
)
def test_a_rerun_computes_nothing_again(
    demo_app, monkeypatch, page: str, params, module, names
) -> None:
    data.forget_memory()  # nothing remembered from before: the first run computes everything
    calls = counted(monkeypatch, module, names)
    reads = counted(monkeypatch, ui.PageContext, ("_read_history",))
    at = AppTest.from_file("../app.py", default_timeout=180)
    at.query_params.update(params)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    first = [(m.label, m.value) for m in at.metric]
    times = names if isinstance(names, dict) else dict.fromkeys(names, 1)
    assert first and calls == times, calls
    # Loyalty's and Locations' figures come from SQL over the store: they read no event rows
    assert (reads["_read_history"] > 0) == (page not in PAGES_IN_SQL)
    reads["_read_history"] = 0
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [(m.label, m.value) for m in at.metric] == first
    assert calls == times, calls
    # every figure was remembered, so no event was read for them: not even from memory
    assert reads["_read_history"] == 0


def test_a_contact_rerun_reads_the_store_again_for_none(demo_app, monkeypatch) -> None:
    store = data.store_of(data.Source("demo")).store
    today = ui.utc_today()
    busiest = most_active_contacts(store, today - dt.timedelta(days=29), today, (), 1)
    contact_id = str(busiest[schema.CONTACT_ID].iloc[0])
    calls = counted(monkeypatch, data, ("_stored_contact_events",))
    at = AppTest.from_file("../app.py", default_timeout=180)
    at.query_params["contact"] = contact_id
    at.run()
    at.switch_page("pages/contact.py").run()
    assert not at.exception, [e.value for e in at.exception]
    first = [(m.label, m.value) for m in at.metric]
    # the contact's events were read once
    assert calls["_stored_contact_events"] == 1 and first
    at.run()
    assert [(m.label, m.value) for m in at.metric] == first
    assert calls["_stored_contact_events"] == 1


def test_a_pages_history_leaves_the_event_ids_out_unless_asked(demo_app) -> None:
    """No figure reads an event's id, a quarter of a frame's memory: a page's history of some
    types leaves it out; the rows behind a download ask for every column and have it."""
    source = data.Source("demo")
    today = ui.utc_today()
    ctx = ui.PageContext(
        read_loaded=lambda: pytest.fail("the whole range was read"),
        locations=data.load_locations(source),
        start=today - dt.timedelta(days=6),
        end=today,
        location_ids=[],
        reveal_personal=False,
        is_demo=True,
        source=source,
    )
    figures = ctx.history(ctx.start, ctx.end, types=vm.EVENT_TYPES)
    assert schema.EVENT_ID not in figures.columns
    assert tuple(figures.columns) == ui.FIGURE_COLUMNS
    rows = ctx.history(ctx.start, ctx.end, types=vm.EVENT_TYPES, columns=schema.EVENT_COLUMNS)
    assert tuple(rows.columns) == schema.EVENT_COLUMNS
    assert rows[schema.EVENT_ID].notna().all() and rows[schema.EVENT_ID].is_unique
    # the same rows either way
    pd.testing.assert_frame_equal(
        rows.drop(columns=[schema.EVENT_ID]).reset_index(drop=True),
        figures.reset_index(drop=True),
        check_categorical=False,  # two reads: each lists its own categories
    )

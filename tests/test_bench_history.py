"""The long-history benchmark: a store built in chunks of one chain, where the dashboard's demo
finds it, with every chunk's guests in its contacts; and the walk's 365-day range as a link."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bench.store import build_for_dashboard, chunk_ends
from bench.views import range_params, targets
from c4w import data, demo, schema, ui
from c4w.store import EventStore
from c4w.store.contacts import read_contacts


def test_each_chunk_ends_90_days_before_the_next():
    end = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert chunk_ends(end, 3) == [
        end,
        dt.datetime(2025, 10, 3, tzinfo=dt.UTC),
        dt.datetime(2025, 7, 5, tzinfo=dt.UTC),
    ]


def test_a_demo_of_another_seed_can_be_the_same_chain_with_other_guests():
    end = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    first = demo.build_demo(2_000, seed=7, end=end)
    other = demo.build_demo(2_000, seed=8, end=end, chain_seed=7)
    unrelated = demo.build_demo(2_000, seed=8, end=end)
    assert other.org_id == first.org_id != unrelated.org_id
    first_ids = {c["id"] for c in first.contacts}
    assert first_ids and not first_ids & {c["id"] for c in other.contacts}


def test_the_demo_store_folder_is_named_by_size_and_last_day():
    day = dt.date(2026, 12, 2)
    assert data.demo_store_folder(Path("/x"), None, day) == Path("/x/default-20261202")
    assert data.demo_store_folder(Path("/x"), 50_000_000, day) == Path("/x/50000000-20261202")


def test_a_chunked_store_is_where_the_demo_finds_it_with_every_guests_contact(tmp_path):
    built = build_for_dashboard(tmp_path, 3_000, 2)
    today = data.now().date()
    folder = tmp_path / "demo-store" / f"3000-{today:%Y%m%d}"
    store = EventStore(folder, data.DEMO_ORG_ID)
    assert built["folder"] == str(store.folder)
    assert data._demo_built(store, today)
    first, last = store.span()
    assert last == today and (last - first).days + 1 >= 180
    guests = set(store.read(first, last, columns=[schema.CONTACT_ID])[schema.CONTACT_ID].dropna())
    contacts = read_contacts(store)
    assert len(contacts) == built["contacts"]
    assert guests and guests <= set(contacts[schema.CONTACT_ID])


def test_365_days_is_a_custom_range_the_dashboard_reads_as_365_days():
    today = dt.date(2026, 12, 2)
    assert range_params("90d", today) == {"range": "90d"}
    params = range_params("365d", today)
    assert params == {"range": "custom", "start": "2025-12-03", "end": "2026-12-02"}
    filters, notes = ui.parse_url_filters(params, today)
    assert notes == []
    assert (filters.start, filters.end) == (dt.date(2025, 12, 3), today)


def test_the_50m_targets_are_the_issues():
    assert targets(50_000_000) == {"warm_s": 2.0, "first_view_s": None, "peak_rss": 4 * 2**30}
    assert targets(10_000_000)["first_view_s"] == 5.0

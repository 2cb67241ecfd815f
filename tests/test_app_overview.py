"""The Overview, the first view: its figures come from SQL over the store, so it never holds the
chosen range in memory, and its headline numbers are those of the events it stands for."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from c4w import data, schema, ui
from tests.apptest import refuse_every_type


def test_the_overview_never_reads_the_range(demo_app, monkeypatch: pytest.MonkeyPatch) -> None:
    read_view = data.read_view
    refuse_every_type(monkeypatch)  # not even of the last day
    at = AppTest.from_file("../app.py", default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    shown = {m.label: m.value for m in at.metric}
    # counted here in pandas over the demo's stored events of the default 30 days
    end = ui.utc_today()
    start = end - dt.timedelta(days=29)
    events = ui.slice_events(read_view(data.Source("demo"), start, end).events, start, end)
    kind = events[schema.TYPE].astype(str)
    # as the tile's help says: a WiFi login, visit or arrival, or a geofence visit or arrival
    in_store = ["login", "visit", "arriving", "geo_visit", "geo_arriving"]
    guests = events.loc[kind.isin(in_store), schema.CONTACT_ID].nunique()
    assert int(shown["Guests"].replace(",", "")) == guests
    assert int(shown["WiFi logins"].replace(",", "")) == int((kind == "login").sum())
    assert int(shown["New sign-ups"].replace(",", "")) == int((kind == "signup").sum())
    labels = [b.label for b in at.get("download_button")]
    assert any(f"All {len(events):,} events" in label for label in labels), labels

"""The data path as a user meets it, through AppTest from ``app.py``: the Data quality page, the
sidebar's history line and backfill, requests only for days not stored, stale figures while
recent days are fetched again, and a hung API told within the bound."""

from __future__ import annotations

import datetime as dt
import tempfile

import pytest
from streamlit.testing.v1 import AppTest

from c4w import data, ui
from c4w.metrics import quality as qm

CREDENTIAL_VARS = ("C4W_TOKEN", "C4W_CLIENT_KEY", "C4W_CLIENT_SECRET", "C4W_ORG_ID", "C4W_BASE_URL")
DEMO_EVENTS = 20000


@pytest.fixture(autouse=True)
def demo_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("C4W_DEMO_EVENTS", str(DEMO_EVENTS))
    for name in CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    yield
    for job in list(data._JOBS.values()):  # a background fetch of this test: ask it to stop
        job.stop.set()
        job.done.wait(2)


def run_app(page: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=180)
    at.query_params.update(params)
    at.run()
    if page is not None:
        at.switch_page(page).run()
    return at


def live(monkeypatch: pytest.MonkeyPatch, box) -> None:
    monkeypatch.setenv("C4W_STORE_DIR", tempfile.mkdtemp(prefix="c4w-test-app-store-"))
    monkeypatch.setenv("C4W_BASE_URL", box.url)
    monkeypatch.setenv("C4W_TOKEN", box.token)
    monkeypatch.setenv("C4W_ORG_ID", box.org_id)


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.sidebar.caption]


def event_requests(box) -> list[dict]:
    return [e for e in box.requests if e.get("endpoint") == "events"]


# --- the Data quality page ----------------------------------------------------------------------
def test_the_data_quality_page_shows_every_figure_with_its_definition() -> None:
    at = run_app("pages/quality.py")
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error
    labels = {m.label for m in at.metric}
    assert {"Events stored", "Duplicates dropped", "Days missing or not settled"} <= labels
    assert {f.label for f in qm.FINDINGS} <= labels
    assert all(m.proto.help for m in at.metric)
    # the days table and one download per table and per finding with rows
    assert len(at.dataframe) >= 2
    assert len(at.get("download_button")) >= 3
    # the demo store is complete: every day of the last 30 is stored and settled
    days = at.dataframe[0].value
    assert len(days) == 30 and set(days["status"]) == {qm.STATUS_COMPLETE}
    events_stored = next(m for m in at.metric if m.label == "Events stored")
    assert int(events_stored.value.replace(",", "")) == int(days["events stored"].sum())


def test_the_sidebar_says_how_far_back_the_history_goes() -> None:
    at = run_app()
    assert not at.exception
    span = next(c for c in captions(at) if c.startswith(":material/history: History from"))
    today = ui.utc_today()
    assert f"to {today:%d %b %Y}" in span
    assert "(91 days)" in span or "(90 days)" in span  # the demo's 90 days end this hour
    assert any("Demo data built" in c for c in captions(at))


# --- live mode ----------------------------------------------------------------------------------
def test_live_a_shorter_range_and_other_pages_cost_no_request(
    sandbox_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = sandbox_factory(None, n_events=DEMO_EVENTS)
    live(monkeypatch, box)
    at = run_app(range="90d")
    assert not at.exception and not at.error, [e.value for e in at.error]
    asked = len(event_requests(box))
    assert asked > 0
    at.sidebar.selectbox(key="flt_range").set_value("30d").run()
    assert not at.exception and not at.error
    at.switch_page("pages/visits.py").run()
    at.switch_page("pages/quality.py").run()
    assert not at.exception and not at.error
    assert len(event_requests(box)) == asked, "days already stored were asked again"
    # the sidebar names the stored history and offers older history
    assert any("History from" in c for c in captions(at))
    assert any(b.label == "Fetch older history" for b in at.sidebar.button)


def test_live_after_the_ttl_the_figures_stay_while_recent_days_are_fetched(
    sandbox_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = sandbox_factory(None, n_events=DEMO_EVENTS, latency_ms=150)
    live(monkeypatch, box)
    at = run_app()
    assert not at.exception and not at.error
    before = len(event_requests(box))
    monkeypatch.setattr(data, "TOP_UP_EVERY_S", 0)
    at.run()
    assert not at.exception and not at.error
    assert len(at.metric) >= 6  # the figures are drawn at once from what is stored
    assert any("being fetched again" in c.value for c in at.caption)
    job = data.running_job(data.store_of(data.current_source()), "top-up")
    if job is not None:
        data.wait_for(job)
    # only the recent, unsettled days were asked again
    today = ui.utc_today()
    for entry in event_requests(box)[before:]:
        start = entry["query"].get("dateStart")
        if start:
            assert dt.date.fromisoformat(start[:10]) >= today - dt.timedelta(days=2), start


def test_live_refresh_asks_only_for_this_views_recent_days(
    sandbox_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = sandbox_factory(None, n_events=DEMO_EVENTS)
    live(monkeypatch, box)
    at = run_app(range="7d")
    assert not at.exception and not at.error
    before = len(event_requests(box))
    at.sidebar.button(key="flt_refresh").click().run()
    assert not at.exception and not at.error
    job = data.running_job(data.store_of(data.current_source()), "top-up")
    if job is not None:
        data.wait_for(job)
    new = event_requests(box)[before:]
    assert new, "Refresh asked nothing"
    today = ui.utc_today()
    for entry in new:
        start = entry["query"].get("dateStart")
        if start:
            assert dt.date.fromisoformat(start[:10]) >= today - dt.timedelta(days=2), start


def test_live_a_hung_api_says_it_is_not_answering_and_keeps_the_sidebar(
    sandbox_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = sandbox_factory(None, n_events=DEMO_EVENTS)
    live(monkeypatch, box)
    monkeypatch.setattr(data, "NO_ANSWER_S", 1.5)
    box.add_fault("timeout", endpoint="events", delay_s=4, times=None)
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Cloud4Wi is not answering" in e.value for e in at.error), [
        e.value for e in at.error
    ]
    assert at.sidebar.selectbox(key="flt_range").value == "30d"  # the sidebar is there
    # a second visitor is told at once, not queued behind the hung fetch
    other = AppTest.from_file("../app.py", default_timeout=60)
    other.run(timeout=10)
    assert any("Cloud4Wi is not answering" in e.value for e in other.error)
    box.clear_faults()


def test_live_backfill_fetches_older_history_in_the_background(
    sandbox_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = sandbox_factory(None, n_events=DEMO_EVENTS)
    live(monkeypatch, box)
    monkeypatch.setattr(data, "BACKFILL_DAYS", 75)  # 60 days viewed, 15 more to fetch
    at = run_app()
    assert not at.exception and not at.error
    first_before = data.history_span(data.current_source())[0]
    at.sidebar.button(key="data_backfill").click().run()
    assert not at.exception
    job = data.running_job(data.store_of(data.current_source()), "backfill")
    if job is not None:
        data.wait_for(job)
    today = ui.utc_today()
    span = data.history_span(data.current_source())
    assert span[0] < first_before
    assert span[0] >= today - dt.timedelta(days=74)
    at.run()
    assert not at.exception
    assert not any(b.label == "Fetch older history" for b in at.sidebar.button)

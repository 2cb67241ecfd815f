"""Every page of the dashboard through Streamlit's AppTest, from ``app.py`` (the router).

Demo data of 20,000 events keeps it quick; the demo frame is built once for the whole process.
Live mode runs against the project's sandbox API over real HTTP.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from c4w import data, export, schema, ui
from tests.apptest import refuse_every_type

DEMO_EVENTS = "20000"
CREDENTIAL_VARS = ("C4W_TOKEN", "C4W_CLIENT_KEY", "C4W_CLIENT_SECRET", "C4W_ORG_ID", "C4W_BASE_URL")
PAGES = {
    "overview": "pages/overview.py",
    "visits": "pages/visits.py",
    "logins": "pages/logins.py",
    "funnels": "pages/funnels.py",
    "geofences": "pages/geofences.py",
    "loyalty": "pages/loyalty.py",
    "locations": "pages/locations.py",
    "contact": "pages/contact.py",
    "campaigns": "pages/campaigns.py",
}
# what each page must show at least: (metrics, plotly charts, maps, download buttons)
EXPECTED = {
    "overview": (6, 2, 0, 1),
    "visits": (1, 1, 0, 1),
    "logins": (0, 1, 0, 1),
    "funnels": (1, 1, 0, 1),
    "geofences": (0, 0, 1, 1),
    "loyalty": (1, 4, 0, 3),
    "locations": (2, 0, 0, 1),
    "contact": (0, 0, 0, 0),
    "campaigns": (6, 2, 0, 1),
}


@pytest.fixture(autouse=True)
def demo_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Small demo data and no credentials, whatever the machine has set."""
    monkeypatch.setenv("C4W_DEMO_EVENTS", DEMO_EVENTS)
    for name in CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    yield


def run_app(page: str | None = None, **params: str | list[str]) -> AppTest:
    """Run ``app.py`` with ``params`` in the address, then switch to ``page`` when given."""
    at = AppTest.from_file("../app.py", default_timeout=180)
    at.query_params.update(params)
    at.run()
    if page is not None:
        at.switch_page(PAGES[page]).run()
    return at


def texts(at: AppTest, kind: str) -> list[str]:
    return [str(element.value) for element in getattr(at, kind)]


def param(at: AppTest, name: str) -> list[str]:
    """Every value of one parameter of the page address after the run."""
    value = at.query_params.get(name)
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def metric_values(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def demo_frame() -> pd.DataFrame:
    """The demo frame the app uses (the same cached object)."""
    return data.load_events(data.Source("demo"), dt.date.today(), dt.date.today()).events


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_on_demo_data(page: str) -> None:
    at = run_app(page)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, texts(at, "error")
    metrics, charts, maps, downloads = EXPECTED[page]
    assert len(at.metric) >= metrics
    assert len(at.get("plotly_chart")) >= charts
    assert len(at.get("deck_gl_json_chart")) >= maps
    assert len(at.get("download_button")) >= downloads
    # the shared frame: demo notice, date filter, data freshness
    assert any("Demo data" in t for t in texts(at, "info"))
    assert at.sidebar.selectbox(key="flt_range").value == "30d"
    assert any("Demo data built" in c.value for c in at.sidebar.caption)


def test_filters_live_in_the_address_and_hold_across_pages() -> None:
    at = run_app()
    assert param(at, "range") == []  # the default (last 30 days) is not written out
    at.sidebar.selectbox(key="flt_range").set_value("7d").run()
    locations = demo_frame()[schema.LOCATION_ID].dropna().unique().tolist()
    at.sidebar.multiselect(key="flt_locations").set_value([locations[0]]).run()
    assert param(at, "range") == ["7d"]
    assert param(at, "loc") == [locations[0]]
    at.switch_page(PAGES["visits"]).run()
    assert not at.exception
    assert at.sidebar.selectbox(key="flt_range").value == "7d"
    assert at.sidebar.multiselect(key="flt_locations").value == [locations[0]]
    assert param(at, "range") == ["7d"]


def test_custom_dates_start_from_the_range_shown_and_go_into_the_address() -> None:
    at = run_app()
    today = ui.utc_today()
    at.sidebar.selectbox(key="flt_range").set_value("7d").run()
    at.sidebar.selectbox(key="flt_range").set_value("custom").run()
    assert not at.exception
    # the picker starts from the range that was showing: the last 7 days
    assert at.sidebar.date_input(key="flt_dates").value == (today - dt.timedelta(days=6), today)
    start, end = today - dt.timedelta(days=20), today - dt.timedelta(days=10)
    at.sidebar.date_input(key="flt_dates").set_value((start, end)).run()
    assert not at.exception
    assert param(at, "range") == ["custom"]
    assert (param(at, "start"), param(at, "end")) == ([start.isoformat()], [end.isoformat()])
    # half-way through picking (only the first day chosen) the last full range stays in use
    at.sidebar.date_input(key="flt_dates").set_value((start,)).run()
    assert not at.exception
    assert any("Pick the last day" in c.value for c in at.sidebar.caption)
    assert param(at, "end") == [end.isoformat()]


def test_a_filter_change_changes_the_numbers() -> None:
    at = run_app("overview")
    month = metric_values(at)
    at.sidebar.selectbox(key="flt_range").set_value("7d").run()
    week = metric_values(at)
    assert not at.exception
    assert month.keys() == week.keys()
    assert month != week
    locations = demo_frame()[schema.LOCATION_ID].dropna().unique().tolist()
    at.sidebar.multiselect(key="flt_locations").set_value([locations[0]]).run()
    one_place = metric_values(at)
    assert not at.exception
    assert one_place != week


def test_a_shared_link_opens_with_its_filters() -> None:
    frame = demo_frame()
    location = frame[schema.LOCATION_ID].dropna().iloc[0]
    end = ui.utc_today() - dt.timedelta(days=3)
    start = end - dt.timedelta(days=9)
    at = run_app(
        "overview", range="custom", start=start.isoformat(), end=end.isoformat(), loc=location
    )
    assert not at.exception and not at.warning
    assert at.sidebar.selectbox(key="flt_range").value == "custom"
    assert at.sidebar.date_input(key="flt_dates").value == (start, end)
    assert at.sidebar.multiselect(key="flt_locations").value == [location]


@pytest.mark.parametrize(
    ("params", "expected_warnings"),
    [
        ({"range": "fortnight"}, 1),
        ({"range": "custom", "start": "2024-02-30", "end": "yesterday"}, 1),
        ({"range": "custom", "start": "2026-01-10", "end": "2025-12-01"}, 1),
        ({"start": "2001-01-01", "end": "2099-12-31"}, 2),
        ({"loc": ["no-such-place", "<img src=x onerror=alert(1)>"]}, 1),
    ],
)
def test_bad_link_parameters_warn_instead_of_failing(
    params: dict[str, str | list[str]], expected_warnings: int
) -> None:
    at = run_app("overview", **params)
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.warning) >= expected_warnings, texts(at, "warning")
    assert len(at.metric) >= 6
    # the address is rewritten to what is shown (the default range is left out), so sharing
    # it again is clean
    assert all(p in ui.PRESETS and p != ui.DEFAULT_PRESET for p in param(at, "range"))
    assert not param(at, "loc")


def test_contact_drill_down_for_a_contact_from_the_data() -> None:
    frame = demo_frame()
    busiest = frame[schema.CONTACT_ID].value_counts().index[0]
    at = run_app("contact", contact=str(busiest))
    assert not at.exception, [e.value for e in at.exception]
    assert at.text_input(key="contact_search").value == busiest
    assert len(at.metric) >= 4
    assert len(at.get("plotly_chart")) >= 1
    assert len(at.get("download_button")) >= 1


def test_the_demo_contact_page_shows_every_stored_event_of_the_guest_not_only_the_range() -> None:
    frame = demo_frame()
    guests = frame[schema.CONTACT_ID].astype("object")
    # a guest whose first event lies before the 60 days the default view reads (30 + 30)
    cut = pd.Timestamp(ui.utc_today() - dt.timedelta(days=60), tz="UTC")
    first = frame.groupby(guests, observed=True)[schema.CREATED_AT].min()
    count = guests.value_counts()
    early = [c for c in first[first < cut].index if count[c] >= 3]
    contact = str(early[0])
    at = run_app("contact", contact=contact)
    assert not at.exception
    table = next(t for t in at.dataframe if len(t.value) and "contact_id" in t.value.columns)
    assert len(table.value) == int(count[contact])  # all of the guest's events in the demo
    assert "All events we have for this guest" in " ".join(c.value for c in at.caption)


def test_a_guest_with_more_events_than_the_timeline_shows_says_how_many_are_left_out(
    monkeypatch,
) -> None:
    from c4w.metrics import contacts as cm

    frame = demo_frame()
    busiest = frame[schema.CONTACT_ID].value_counts()
    contact, total = str(busiest.index[0]), int(busiest.iloc[0])
    monkeypatch.setattr(cm, "TIMELINE_MAX_EVENTS", 5)
    at = run_app("contact", contact=contact)
    assert not at.exception, [e.value for e in at.exception]
    traces = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    points = sum(len(trace.get("x") or []) for trace in traces)  # bars and dots alike
    assert points == 5
    captions = " ".join(c.value for c in at.caption)
    assert "latest 5 events" in captions and f"the {total - 5:,} older ones" in captions
    table = next(t for t in at.dataframe if len(t.value) and "contact_id" in t.value.columns)
    assert len(table.value) == total  # the table keeps every event


def test_a_table_sends_only_the_categories_its_rows_use() -> None:
    # a guest's few rows must not carry every contact id and location the history holds
    frame = demo_frame()
    contact = str(frame[schema.CONTACT_ID].value_counts().index[0])
    at = run_app("contact", contact=contact)
    assert not at.exception
    table = next(t for t in at.dataframe if len(t.value) and "contact_id" in t.value.columns)
    shown = table.value
    categorical = [c for c, d in shown.dtypes.items() if isinstance(d, pd.CategoricalDtype)]
    assert categorical  # the event table keeps its text columns as categories
    for column in categorical:
        used = set(shown[column].dropna())
        assert set(shown[column].cat.categories) == used, column


@pytest.mark.parametrize(
    "contact_id",
    ["../../v1/sts/logout", "a/b", 'o\'brien "x"', "  spaced id  ", "🚀🚀", "x" * 10_000],
    ids=["dot-dot", "slash", "quotes", "spaces", "emoji", "10k-chars"],
)
def test_odd_contact_ids_give_a_message_not_a_traceback(contact_id: str) -> None:
    at = run_app("contact", contact=contact_id)
    assert not at.exception, [e.value for e in at.exception]
    if len(contact_id) > ui.MAX_CONTACT_ID_CHARS:
        assert any("too long" in w for w in texts(at, "warning"))
    else:
        assert any("No events found" in i for i in texts(at, "info"))


def test_personal_data_is_masked_until_revealed() -> None:
    frame = demo_frame()
    with_email = frame[frame[schema.EMAIL].notna()]
    contact = str(with_email[schema.CONTACT_ID].iloc[0])
    email = str(with_email[schema.EMAIL].iloc[0])

    def emails_on_screen(at: AppTest) -> set[str]:
        shown: set[str] = set()
        for table in at.dataframe:
            if schema.EMAIL in table.value.columns:
                shown |= set(table.value[schema.EMAIL].dropna().astype(str))
        return shown

    at = run_app("contact", contact=contact)
    assert at.sidebar.toggle(key="flt_reveal").value is False
    masked = emails_on_screen(at)
    # "anna@x.com" is shown as "a***@x.com": first letter, three stars, the domain
    local, _, domain = email.partition("@")
    assert f"{local[0]}***@{domain}" in masked
    assert email not in masked
    at.sidebar.toggle(key="flt_reveal").set_value(True).run()
    assert not at.exception
    assert email in emails_on_screen(at)


def test_missing_values_show_as_a_dash_and_stay_missing_in_the_data() -> None:
    frame = demo_frame()
    # a guest with a geofence visit inside the default range (the last 30 days)
    shown_from = pd.Timestamp(ui.utc_today() - dt.timedelta(days=29), tz="UTC")
    geo = frame[
        (frame[schema.TYPE] == schema.GEO_VISIT)
        & frame[schema.CONTACT_ID].notna()
        & (frame[schema.CREATED_AT] >= shown_from)
    ]
    at = run_app("contact", contact=str(geo[schema.CONTACT_ID].iloc[0]))
    assert not at.exception
    with_gaps = [t for t in at.dataframe if t.value.isna().any().any()]
    # a geofence visit has no WiFi location, so this guest's event table has empty cells
    assert with_gaps
    for table in with_gaps:
        assert table.proto.placeholder == ui.MISSING_TEXT == "—"
        cells = table.value.astype(object)
        assert not cells.isin(["None", "—"]).any().any()  # the data keeps them missing


# --- live mode against the sandbox ---------------------------------------------------------------
def live_env(monkeypatch: pytest.MonkeyPatch, url: str, token: str, org_id: str) -> None:
    monkeypatch.setenv("C4W_BASE_URL", url)
    monkeypatch.setenv("C4W_TOKEN", token)
    monkeypatch.setenv("C4W_ORG_ID", org_id)


def test_live_mode_shows_the_account_and_no_demo_notice(
    sandbox_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = sandbox_factory(None, n_events=int(DEMO_EVENTS))
    live_env(monkeypatch, box.url, box.token, box.org_id)
    at = run_app("overview")
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, texts(at, "error")
    assert not any("Demo data" in t for t in texts(at, "info"))
    assert any("Data as of" in c.value for c in at.sidebar.caption)
    assert len(at.metric) >= 6
    # the next page is served from the cache (nothing drawn inside the cached fetch to replay)
    requests_before = len(box.state.log)
    at.switch_page(PAGES["visits"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, texts(at, "error")
    assert len(box.state.log) == requests_before, "the second page asked the API again"


def test_refused_credentials_become_a_short_message(
    sandbox_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = sandbox_factory()
    wrong = "wrong-token-" + "9" * 24
    live_env(monkeypatch, box.url, wrong, box.org_id)
    at = run_app()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "did not accept the credentials" in message
    assert wrong not in message and box.token not in message


def test_contact_ids_from_a_link_never_change_the_requested_address(
    sandbox_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = sandbox_factory(None, n_events=int(DEMO_EVENTS))
    live_env(monkeypatch, box.url, box.token, box.org_id)
    for contact_id in ("../../v1/sts/logout", "a/b?x=1#y", "%2e%2e%2f", "🚀 o'brien"):
        at = run_app("contact", contact=contact_id)
        assert not at.exception, [e.value for e in at.exception]
    contact_requests = [e for e in box.state.log if e["endpoint"] != "org_events"]
    assert {e["contact_id"] for e in contact_requests if e["contact_id"]} >= {
        "../../v1/sts/logout",
        "a/b?x=1#y",
        "%2e%2e%2f",
        "🚀 o'brien",
    }
    contacts_path = f"/v2/customers/organizations/{box.org_id}"  # the guests' names
    for entry in box.state.log:
        path = entry["path"]
        assert path.startswith(f"/v1/organizations/{box.org_id}/") or path == contacts_path, path
        assert entry["method"] == "GET"


def test_credentials_from_the_secrets_file_mean_live_mode(
    sandbox_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = sandbox_factory(None, n_events=int(DEMO_EVENTS))
    at = AppTest.from_file("../app.py", default_timeout=180)
    at.secrets["c4w"] = {"org_id": box.org_id, "token": box.token, "base_url": box.url}
    at.run()
    assert not at.exception and not at.error
    assert not any("Demo data" in t for t in texts(at, "info"))
    assert any("Data as of" in c.value for c in at.sidebar.caption)


AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "not-a-real-cookie-secret",
    "client_id": "dashboard",
    "client_secret": "not-a-real-client-secret",
    "server_metadata_url": "https://accounts.example.invalid/.well-known/openid-configuration",
}


def test_with_an_auth_section_visitors_sign_in_before_seeing_data() -> None:
    at = AppTest.from_file("../app.py", default_timeout=180)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": False}
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.metric and not at.get("plotly_chart") and not at.get("download_button")
    assert not at.sidebar.selectbox


def test_a_signed_in_visitor_sees_the_dashboard() -> None:
    at = AppTest.from_file("../app.py", default_timeout=180)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": "ana@example.com"}
    at.run()
    assert not at.exception
    assert len(at.metric) >= 6
    # shown as typed: escaped for Markdown, which would otherwise draw it as a mailto link
    assert any(export.escape_markdown("ana@example.com") in c.value for c in at.sidebar.caption)
    assert any(b.label == "Sign out" for b in at.sidebar.button)


def test_a_failed_fetch_is_a_short_message_and_nothing_half_fetched_is_kept(
    sandbox_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = sandbox_factory(None, n_events=int(DEMO_EVENTS))
    live_env(monkeypatch, box.url, box.token, box.org_id)
    # the second request for events is refused as revoked (410, not retried): the fetch stops
    # with part of the events read
    fault = box.add_fault(410, request=2, endpoint="events")
    at = run_app()  # the Overview is the first page
    assert not at.exception, [e.value for e in at.exception]
    assert fault.fired == 1
    assert [e.value for e in at.error] and "did not accept the credentials" in at.error[0].value
    assert not at.metric
    # the fault fired once; the next run fetches again instead of using a partial result
    at.run()
    assert not at.exception and not at.error
    assert len(at.metric) >= 6


@pytest.mark.parametrize(
    "page, params",
    [
        ("funnels", {}),
        ("funnels", {"path": "sms", "follow": "any", "by": "campaign"}),
        ("funnels", {"path": "custom", "step": ["send_email", "open_email"], "stopped": "2"}),
        ("funnels", {"path": "custom", "step": ["login", "visit"]}),
        ("contact", {}),
        ("contact", {"contact": "nobody-with-this-id"}),
    ],
)
def test_the_funnels_and_contact_pages_never_read_the_whole_range(
    monkeypatch: pytest.MonkeyPatch, page: str, params: dict
) -> None:
    at = AppTest.from_file("../app.py", default_timeout=180)
    at.query_params.update(params)
    at.run()
    refuse_every_type(monkeypatch)
    at.switch_page(PAGES[page]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, texts(at, "error")
    assert len(at.dataframe) >= (0 if "contact" in params else 1)

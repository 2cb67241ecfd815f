"""What the sidebar and the page address accept: presets, shared links, contact ids, date slices.

Pure functions of ``c4w.ui`` and ``c4w.data``; no app is started here.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from c4w import data, schema, ui

TODAY = dt.date(2024, 6, 15)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# --- presets and periods -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("preset", "start"),
    [
        ("today", "2024-06-15"),
        ("7d", "2024-06-09"),  # 15 - 6: seven days including today
        ("30d", "2024-05-17"),  # 15 Jun - 29 days = 17 May
        ("90d", "2024-03-18"),  # 15 Jun - 89 days: 15 Jun -> 15 Mar is 92 days, so 18 Mar
    ],
)
def test_preset_ranges_end_today(preset: str, start: str) -> None:
    assert ui.preset_range(preset, TODAY) == (d(start), TODAY)


def test_previous_period_has_the_same_length() -> None:
    # 1..31 May is 31 days; the 31 days before are 31 Mar .. 30 Apr
    assert ui.previous_period(d("2024-05-01"), d("2024-05-31")) == (
        d("2024-03-31"),
        d("2024-04-30"),
    )
    assert ui.previous_period(TODAY, TODAY) == (d("2024-06-14"), d("2024-06-14"))


# --- shared links --------------------------------------------------------------------------------
def test_no_parameters_means_last_30_days_everywhere() -> None:
    filters, notes = ui.parse_url_filters({}, TODAY, ["a", "b"])
    assert filters == ui.Filters("30d", d("2024-05-17"), TODAY, ())
    assert notes == []


def test_a_link_round_trips() -> None:
    original = ui.Filters("custom", d("2024-05-01"), d("2024-05-31"), ("loc-1", "loc 2"))
    params = ui.filters_to_params(original)
    assert params == {
        "range": "custom",
        "start": "2024-05-01",
        "end": "2024-05-31",
        "loc": ["loc-1", "loc 2"],
    }
    assert ui.parse_url_filters(params, TODAY, ["loc-1", "loc 2"]) == (original, [])
    assert ui.filters_to_params(ui.Filters("7d", d("2024-06-09"), TODAY)) == {"range": "7d"}


def test_unknown_preset_warns_and_falls_back() -> None:
    filters, notes = ui.parse_url_filters({"range": ["last-century"]}, TODAY)
    assert (filters.preset, filters.start, filters.end) == ("30d", d("2024-05-17"), TODAY)
    assert len(notes) == 1 and "last 30 days" in notes[0]


@pytest.mark.parametrize(
    "start",
    ["2024-13-01", "yesterday", "", "2024-5-1", "<script>", "2024-05-01T00:00", "9" * 10_000],
)
def test_bad_dates_warn_and_fall_back(start: str) -> None:
    filters, notes = ui.parse_url_filters(
        {"range": ["custom"], "start": [start], "end": ["2024-05-31"]}, TODAY
    )
    assert (filters.preset, filters.start, filters.end) == ("30d", d("2024-05-17"), TODAY)
    assert len(notes) == 1


def test_end_before_start_is_turned_round() -> None:
    filters, notes = ui.parse_url_filters(
        {"range": ["custom"], "start": ["2024-05-31"], "end": ["2024-05-01"]}, TODAY
    )
    assert (filters.start, filters.end) == (d("2024-05-01"), d("2024-05-31"))
    assert len(notes) == 1 and "before it started" in notes[0]


def test_a_range_of_several_years_is_cut_to_its_last_366_days() -> None:
    filters, notes = ui.parse_url_filters({"start": ["2021-01-01"], "end": ["2024-06-01"]}, TODAY)
    # 2024-06-01 minus 365 days = 2023-06-02 (2024 is a leap year: 29 Feb is inside)
    assert (filters.preset, filters.start, filters.end) == (
        "custom",
        d("2023-06-02"),
        d("2024-06-01"),
    )
    assert len(notes) == 1 and "366" in notes[0]


def test_future_end_and_ancient_dates() -> None:
    _, notes = ui.parse_url_filters({"start": ["2024-06-01"], "end": ["2030-01-01"]}, TODAY)
    assert any("future" in n for n in notes)
    filters, notes = ui.parse_url_filters({"start": ["1990-01-01"], "end": ["1990-02-01"]}, TODAY)
    assert (filters.start, filters.end) == (d("2024-05-17"), TODAY)
    assert len(notes) == 1


def test_locations_that_no_longer_exist_are_dropped_with_a_warning() -> None:
    filters, notes = ui.parse_url_filters({"loc": ["a", "gone", "b,also-gone"]}, TODAY, ["a", "b"])
    assert filters.location_ids == ("a", "b")
    assert len(notes) == 1 and "2 locations in the link" in notes[0]
    filters, notes = ui.parse_url_filters({"loc": ["gone"]}, TODAY, ["a"])
    assert filters.location_ids == ()
    assert notes[0].startswith("1 location in the link no longer exists")
    assert "all locations" in notes[0]


def test_a_flood_of_location_parameters_is_bounded() -> None:
    filters, notes = ui.parse_url_filters({"loc": [f"x{i}" for i in range(5000)]}, TODAY, ["x1"])
    assert filters.location_ids == ("x1",)
    # the first 500 ids are read (x0..x499): x1 exists, the other 499 do not
    assert notes[0].startswith("The link names more than 500 locations")
    assert notes[1].startswith("499 locations in the link no longer exist")


def test_check_range_on_feb_29() -> None:
    start, end, notes = ui.check_range(d("2010-01-01"), d("2024-02-29"), d("2024-02-29"))
    # cut to 366 days ending 29 Feb 2024: starts 2023-03-01 (no 29 Feb in 2023)
    assert (start, end) == (d("2023-03-01"), d("2024-02-29"))
    assert ui.oldest_day(d("2024-02-29")) == d("2019-02-28")


# --- contact ids ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  c-123 ", "c-123"),
        ("../../v1/sts/logout", "../../v1/sts/logout"),  # kept as data; the client encodes it
        ("a/b", "a/b"),
        ("\"quoted\" 'id'", "\"quoted\" 'id'"),
        ("emoji 🚀", "emoji 🚀"),
        ("tab\tand\nnewline", "tabandnewline"),
    ],
)
def test_contact_ids_are_cleaned_not_refused(raw: str, expected: str) -> None:
    assert ui.clean_contact_id(raw) == (expected, None)


def test_empty_and_huge_contact_ids() -> None:
    assert ui.clean_contact_id("   ") == (None, None)
    assert ui.clean_contact_id(None) == (None, None)
    contact_id, problem = ui.clean_contact_id("x" * 10_000)
    assert contact_id is None and "too long" in problem


def test_contact_page_link_encodes_the_id_and_keeps_filters() -> None:
    filters = ui.Filters("custom", d("2024-05-01"), d("2024-05-31"), ("l1",))
    link = ui.contact_page_link("../a b/c?x=1&y", filters)
    assert link == (
        "contact?contact=..%2Fa+b%2Fc%3Fx%3D1%26y"
        "&range=custom&start=2024-05-01&end=2024-05-31&loc=l1"
    )


# --- date slices ---------------------------------------------------------------------------------
def events_at(times: list[str | None], locations: list[str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            schema.EVENT_ID: [f"e{i}" for i in range(len(times))],
            schema.CREATED_AT: pd.to_datetime(times, utc=True),
            schema.LOCATION_ID: pd.Series(locations, dtype="category"),
        }
    )


TIMES = [
    "2024-05-31T23:59:59Z",  # e0: the day before
    "2024-06-01T00:00:00Z",  # e1: first second of the range
    "2024-06-01T12:00:00Z",  # e2
    "2024-06-02T23:59:59Z",  # e3: last second of the range
    "2024-06-03T00:00:00Z",  # e4: the day after
]


@pytest.mark.parametrize("shuffle", [False, True])
def test_slice_keeps_whole_utc_days_inclusive(shuffle: bool) -> None:
    df = events_at(TIMES, ["a", "b", "a", None, "a"])
    if shuffle:  # not in time order: the slower mask path must give the same rows
        df = df.iloc[[3, 0, 4, 2, 1]]
    part = ui.slice_events(df, d("2024-06-01"), d("2024-06-02"))
    assert sorted(part[schema.EVENT_ID]) == ["e1", "e2", "e3"]
    part = ui.slice_events(df, d("2024-06-01"), d("2024-06-02"), ["a"])
    # e1 is at "b", e3 has no location: only e2 is at "a" inside the range
    assert part[schema.EVENT_ID].tolist() == ["e2"]


def test_slice_with_missing_times_at_the_end() -> None:
    df = events_at(TIMES + [None], ["a"] * 6)
    part = ui.slice_events(df, d("2024-06-01"), d("2024-06-02"))
    assert part[schema.EVENT_ID].tolist() == ["e1", "e2", "e3"]


def test_slice_of_an_empty_frame() -> None:
    df = events_at([], [])
    assert ui.slice_events(df, d("2024-06-01"), d("2024-06-02")).empty


# --- the data source -----------------------------------------------------------------------------
def test_no_credentials_means_demo() -> None:
    assert data.source_from_settings({}, {}).mode == "demo"


def test_environment_credentials_mean_live_and_stay_out_of_repr_and_key() -> None:
    token = "tok-" + "s3cr3t" * 5
    source = data.source_from_settings(
        {}, {"C4W_TOKEN": token, "C4W_ORG_ID": "org-1", "C4W_BASE_URL": "http://127.0.0.1:8765/"}
    )
    assert (source.mode, source.org_id, source.base_url) == (
        "live",
        "org-1",
        "http://127.0.0.1:8765",
    )
    assert token not in repr(source)
    assert token not in source.key and "s3cr3t" not in source.key


def test_secrets_section_and_environment_override() -> None:
    secrets = {"org_id": "org-a", "client_key": "ck-1", "client_secret": "x" * 32}
    source = data.source_from_settings(secrets, {"C4W_ORG_ID": "org-b"})
    assert (source.mode, source.org_id, source.client_key) == ("live", "org-b", "ck-1")
    assert "x" * 32 not in repr(source)


def test_incomplete_credentials_say_what_is_missing() -> None:
    source = data.source_from_settings({}, {"C4W_CLIENT_KEY": "ck-1", "C4W_ORG_ID": "o"})
    assert source.mode == "demo" and "secret" in source.problem
    source = data.source_from_settings({}, {"C4W_TOKEN": "t"})
    assert source.mode == "demo" and "organization id" in source.problem


def test_history_span_is_the_first_and_last_utc_day_with_an_event() -> None:
    from tests.frames import event, make_events

    events = make_events(
        [
            event("login", "c1", "2026-03-01T23:30:00Z"),
            event("login", "c2", "2026-03-04T00:10:00Z"),
        ]
    )
    assert ui.history_span(events) == (dt.date(2026, 3, 1), dt.date(2026, 3, 4))
    assert ui.history_span(events.iloc[0:0]) is None

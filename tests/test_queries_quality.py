"""The Data quality figures computed in DuckDB over the store equal their pandas definitions in
c4w.metrics.quality on the same events: on a small case worked out by hand (every finding and
a reader problem present), and on the demo."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from c4w import demo, frame, schema, ui
from c4w.metrics import quality as qm
from c4w.queries import quality as sql
from c4w.store import EventStore
from c4w.store.demo import write_demo_store, write_events
from tests.frames import event, make_events

FETCHED = dt.datetime(2024, 3, 10, 12, tzinfo=dt.UTC)
MISMATCH = schema.PROBLEM_LOCAL_TIME_MISMATCH
UNKNOWN = schema.PROBLEM_UNKNOWN_TYPE
BAD_DURATION = schema.PROBLEM_BAD_DURATION
FIRST, LAST = dt.date(2024, 3, 5), dt.date(2024, 3, 6)


def bad_rows() -> pd.DataFrame:
    """Nineteen rows over two UTC days at L1 and L2, one a repeat; what each is behind is noted."""
    return make_events(
        [
            # 5 March
            event("visit", "ann", "2024-03-05 10:00", location_id="L1", visit_duration_min=30),
            event("visit", "ann", "2024-03-05 11:00", location_id="L1", visit_duration_min=0),
            # 1441 minutes: longer than a day; 1440 is not
            event(
                "geo_visit", "bob", "2024-03-05 12:00", location_id="L2", visit_duration_min=1441
            ),
            event("visit", "bob", "2024-03-05 13:00", location_id="L2", visit_duration_min=1440),
            event("login", "ann", "2024-03-05 14:00", location_id="L1", data_problems=MISMATCH),
            # no length: neither zero nor extreme, but a reader problem
            event("visit", "cat", "2024-03-05 15:00", location_id="L1", data_problems=BAD_DURATION),
            # 6 March: ann clicks m1 before opening it (a finding); bob opens then clicks
            event(
                "click_email", "ann", "2024-03-06 09:00", location_id="L1", communication_id="m1"
            ),
            event("open_email", "ann", "2024-03-06 09:30", location_id="L1", communication_id="m1"),
            event("open_email", "bob", "2024-03-06 08:00", location_id="L2", communication_id="m1"),
            event(
                "click_email", "bob", "2024-03-06 08:10", location_id="L2", communication_id="m1"
            ),
            # a click never opened is no finding
            event(
                "click_email", "cat", "2024-03-06 10:00", location_id="L1", communication_id="m2"
            ),
            event("teleport", "cat", "2024-03-06 11:00", location_id="L2", data_problems=UNKNOWN),
            # dan clicks campaign k1 at 12:00 and opens it at 12:30 (a finding); his 11:00 open
            # of the communication k1 is another email
            event("click_email", "dan", "2024-03-06 12:00", location_id="L2", campaign_id="k1"),
            event("open_email", "dan", "2024-03-06 12:30", location_id="L2", campaign_id="k1"),
            event("open_email", "dan", "2024-03-06 11:00", location_id="L2", communication_id="k1"),
            # eve clicks m3 at L1 and opens it at L2: a finding only when both places are shown
            event(
                "click_email", "eve", "2024-03-06 13:00", location_id="L1", communication_id="m3"
            ),
            event("open_email", "eve", "2024-03-06 13:30", location_id="L2", communication_id="m3"),
            event(None, "cat", "2024-03-06 11:30", location_id="L1", data_problems=UNKNOWN),
            # the first row again: the store keeps it once
            event(
                "visit",
                "ann",
                "2024-03-05 10:00",
                location_id="L1",
                visit_duration_min=30,
                event_id="e0",
            ),
        ]
    )


@pytest.fixture
def store(tmp_path) -> EventStore:
    store = EventStore(tmp_path, "org-1")
    write_events(store, bad_rows(), FETCHED)
    return store


def sql_counts(store, start, end, location_ids=()) -> dict[str, int]:
    per_day = sql.by_day_and_type(store, start, end, location_ids)
    return qm.counts_of_day_table(per_day, sql.problem_counts(store, start, end, location_ids)[1])


def problems_table(store, start, end, location_ids=()) -> pd.DataFrame:
    return sql.problem_counts(store, start, end, location_ids)[0]


def shown(store: EventStore, start, end, location_ids=()) -> pd.DataFrame:
    """The page's events as its context gives them: the days read, then sliced."""
    return ui.slice_events(store.read(start, end), start, end, location_ids)


def plain(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows with categories as their values (the category lists depend on what was read)."""
    out = rows.reset_index(drop=True)
    for name in out.columns:
        if isinstance(out[name].dtype, pd.CategoricalDtype):
            out[name] = out[name].astype(object)
    return out


def test_finding_counts_by_hand(store) -> None:
    # 18 rows kept; problems on the login, the visit with no length and the two unknown types;
    # late clicks: ann (m1), dan (campaign k1), eve (m3)
    everywhere = {
        "events": 18,
        "problems": 4,
        "local_time": 1,
        "click_before_open": 3,
        "zero_duration": 1,
        "extreme_duration": 1,
        "unknown_type": 2,
    }
    assert sql_counts(store, FIRST, LAST) == everywhere
    assert qm.finding_counts(shown(store, FIRST, LAST)) == everywhere
    # L2: 9 rows; dan's click is late, eve's open has no click shown
    at_l2 = {
        "events": 9,
        "problems": 1,
        "local_time": 0,
        "click_before_open": 1,
        "zero_duration": 0,
        "extreme_duration": 1,
        "unknown_type": 1,
    }
    assert sql_counts(store, FIRST, LAST, ["L2"]) == at_l2
    assert qm.finding_counts(shown(store, FIRST, LAST, ["L2"])) == at_l2
    # L1: eve's open is not shown, so only ann's click is late
    assert sql_counts(store, FIRST, LAST, ["L1"])["click_before_open"] == 1
    assert qm.finding_counts(shown(store, FIRST, LAST, ["L1"]))["click_before_open"] == 1
    # 5 March alone
    assert sql_counts(store, FIRST, FIRST) == {
        "events": 6,
        "problems": 2,
        "local_time": 1,
        "click_before_open": 0,
        "zero_duration": 1,
        "extreme_duration": 1,
        "unknown_type": 0,
    }


def test_per_day_and_type_by_hand(store) -> None:
    labels = [f.label for f in qm.FINDINGS]
    columns = ["day", "type", "events", *labels]
    # events, then local time, click before open, zero, extreme, unknown
    expected = pd.DataFrame(
        [
            ["2024-03-05", "geo_visit", 1, 0, 0, 0, 1, 0],
            ["2024-03-05", "login", 1, 1, 0, 0, 0, 0],
            ["2024-03-05", "visit", 4, 0, 0, 1, 0, 0],
            ["2024-03-06", qm.NO_TYPE, 1, 0, 0, 0, 0, 1],
            ["2024-03-06", "click_email", 5, 0, 3, 0, 0, 0],
            ["2024-03-06", "open_email", 5, 0, 0, 0, 0, 0],
            ["2024-03-06", "teleport", 1, 0, 0, 0, 0, 1],
        ],
        columns=columns,
    ).astype({"day": object, "type": object, **{c: "int64" for c in columns[2:]}})
    pd.testing.assert_frame_equal(sql.by_day_and_type(store, FIRST, LAST), expected)
    pd.testing.assert_frame_equal(qm.by_day_and_type(shown(store, FIRST, LAST)), expected)


def test_problems_and_rows_by_hand(store) -> None:
    expected = pd.DataFrame(
        {
            "problem": [
                schema.PROBLEM_LABELS[UNKNOWN],
                schema.PROBLEM_LABELS[MISMATCH],
                schema.PROBLEM_LABELS[BAD_DURATION],
            ],
            "rows": [2, 1, 1],
        }
    ).astype({"problem": "str", "rows": "int64"})
    pd.testing.assert_frame_equal(problems_table(store, FIRST, LAST), expected)
    pd.testing.assert_frame_equal(qm.problems_table(shown(store, FIRST, LAST)), expected)
    late = sql.finding_rows(store, FIRST, LAST, [], "click_before_open")
    assert late[schema.CONTACT_ID].astype(str).tolist() == ["ann", "dan", "eve"]
    unknown = sql.problem_rows(store, FIRST, LAST, ["L1"], schema.PROBLEM_LABELS[UNKNOWN])
    assert unknown[schema.CREATED_AT].tolist() == [pd.Timestamp("2024-03-06 11:30", tz="UTC")]
    assert unknown[schema.TYPE].isna().all()
    with pytest.raises(ValueError):
        sql.finding_rows(store, FIRST, LAST, [], "nothing")
    with pytest.raises(ValueError):
        sql.problem_rows(store, FIRST, LAST, [], "nothing")


def assert_same_figures(store: EventStore, start, end, location_ids) -> None:
    events = shown(store, start, end, location_ids)
    masks = qm.finding_masks(events)
    assert sql_counts(store, start, end, location_ids) == qm.finding_counts(events, masks)
    pd.testing.assert_frame_equal(
        sql.by_day_and_type(store, start, end, location_ids), qm.by_day_and_type(events, masks)
    )
    problems = problems_table(store, start, end, location_ids)
    pd.testing.assert_frame_equal(problems, qm.problems_table(events))
    for f in qm.FINDINGS:
        by_sql = sql.finding_rows(store, start, end, location_ids, f.key)
        by_pandas = qm.finding_rows(events, f.key, masks)
        assert list(by_sql.dtypes.astype(str)) == list(by_pandas.dtypes.astype(str))
        pd.testing.assert_frame_equal(plain(by_sql), plain(by_pandas))
    for label in problems["problem"]:
        by_sql = sql.problem_rows(store, start, end, location_ids, label)
        pd.testing.assert_frame_equal(plain(by_sql), plain(qm.problem_rows(events, label)))


@pytest.mark.parametrize("location_ids", [(), ("L1",), ("L2",), ("L1", "L2"), ("nowhere",)])
def test_the_hand_built_case_equals_the_pandas_metrics(store, location_ids) -> None:
    assert_same_figures(store, FIRST, LAST, list(location_ids))
    assert_same_figures(store, LAST, LAST, list(location_ids))


@pytest.mark.parametrize("at_first_location", [False, True])
def test_the_demo_equals_the_pandas_metrics(tmp_path, at_first_location) -> None:
    org = demo.build_demo(3_000, end=dt.datetime(2024, 3, 10, 12))
    store = EventStore(tmp_path, org.org_id)
    write_demo_store(store, org, FETCHED)
    start, end = dt.date(2024, 2, 1), dt.date(2024, 2, 29)
    location_ids = [org.locations[0]["id"]] if at_first_location else []
    assert len(shown(store, start, end, location_ids)) > 100
    assert_same_figures(store, start, end, location_ids)


def test_an_empty_store_counts_zero(tmp_path) -> None:
    store = EventStore(tmp_path, "org-1")
    write_events(store, frame.empty_events_frame(), FETCHED)
    day = dt.date(2024, 1, 1)
    assert sql_counts(store, day, day) == {
        "events": 0,
        "problems": 0,
        **{f.key: 0 for f in qm.FINDINGS},
    }
    empty = qm.by_day_and_type(frame.empty_events_frame())
    pd.testing.assert_frame_equal(sql.by_day_and_type(store, day, day), empty)
    assert problems_table(store, day, day).empty
    assert sql.finding_rows(store, day, day, [], "local_time").empty

"""Login metrics on a small frame whose every expected number is worked out by hand.

Rome is UTC+1 in early March; New York is UTC-5 until 10 March 2024 (2 am), UTC-4 after.
"""

from __future__ import annotations

import pandas as pd
import pytest

from c4w import schema
from c4w.metrics import logins as lm
from tests.frames import event, make_events

ROME = {"timezone": "Europe/Rome", "location_id": "R", "location_name": "Rome store"}
NY = {"timezone": "America/New_York", "location_id": "N", "location_name": "NY store"}
ROWS = [
    # Rome: Sun 03-03 23:30 UTC = Mon 03-04 00:30 local
    event(schema.LOGIN, "a", "2024-03-03 23:30", **ROME),
    # Rome: 03-04 22:59 UTC = Mon 03-04 23:59 local
    event(schema.LOGIN, "a", "2024-03-04 22:59", **ROME),
    # Rome: 03-04 23:00 UTC = Tue 03-05 00:00 local (the next local day)
    event(schema.LOGIN, "b", "2024-03-04 23:00", **ROME),
    # Rome: 03-05 12:00 UTC = Tue 03-05 13:00 local
    event(schema.LOGIN, "c", "2024-03-05 12:00", **ROME),
    # New York: Mon 03-04 04:30 UTC = Sun 03-03 23:30 local (week of Mon 02-26)
    event(schema.LOGIN, "a", "2024-03-04 04:30", **NY),
    # New York (summer time): Mon 03-11 03:59 UTC = Sun 03-10 23:59 local (week of 03-04)
    event(schema.LOGIN, "d", "2024-03-11 03:59", **NY),
    # New York: 03-11 04:00 UTC = Mon 03-11 00:00 local (week of 03-11); no guest id
    event(schema.LOGIN, None, "2024-03-11 04:00", **NY),
    # not a login
    event(schema.SIGNUP, "e", "2024-03-05 12:00", **ROME),
]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_events(ROWS)


def _cells(timeline: pd.DataFrame) -> dict[tuple[str, str], int]:
    return {
        (f"{p:%Y-%m-%d %H:%M}", loc): n
        for p, loc, n in timeline[["period", "location", "logins"]].itertuples(index=False)
    }


def test_login_timeline_days_are_utc_days(frame):
    timeline = lm.login_timeline(frame, "day")
    # UTC days 03-03 .. 03-11 = 9 days x 2 locations; Rome (4 logins) before NY (3)
    assert len(timeline) == 9 * 2
    assert timeline["location"].tolist()[:2] == ["Rome store", "NY store"]
    cells = _cells(timeline)
    # Rome: 03-03 23:30 -> 03-03; 22:59 and 23:00 on 03-04 -> 2; 03-05 12:00 -> 1
    assert cells[("2024-03-03 00:00", "Rome store")] == 1
    assert cells[("2024-03-04 00:00", "Rome store")] == 2
    assert cells[("2024-03-05 00:00", "Rome store")] == 1
    # NY: 03-04 04:30 (Sunday evening locally) is on UTC 03-04; 03:59 and 04:00 on 03-11
    assert cells[("2024-03-04 00:00", "NY store")] == 1
    assert cells[("2024-03-03 00:00", "NY store")] == 0  # by local date it would be here
    assert cells[("2024-03-10 00:00", "NY store")] == 0
    assert cells[("2024-03-11 00:00", "NY store")] == 2
    assert timeline["logins"].sum() == 7


def test_a_day_table_for_chosen_days_has_no_row_for_the_day_before():
    # a range of 25 Nov - 1 Dec (UTC): a Los Angeles login at 25 Nov 03:00 UTC is 24 Nov
    # 19:00 locally, yet it belongs to 25 Nov, the first chosen day
    la = {"timezone": "America/Los_Angeles", "location_id": "L", "location_name": "LA store"}
    rows = [
        event(schema.LOGIN, "a", "2026-11-25 03:00", **la),
        event(schema.LOGIN, "b", "2026-12-01 23:30", **la),
    ]
    table = lm.login_timeline_table(lm.login_timeline(make_events(rows), "day"), "day")
    days = table["Day (UTC)"].tolist()
    assert days[0] == "2026-11-25" and days[-1] == "2026-12-01" and len(days) == 7
    assert table["WiFi logins"].sum() == 2


def test_login_timeline_weeks_start_on_a_utc_monday(frame):
    timeline = lm.login_timeline(frame, "week")
    # weeks of Mon 02-26, 03-04, 03-11 -> 3 weeks x 2 locations
    assert len(timeline) == 3 * 2
    cells = _cells(timeline)
    # Rome: Sun 03-03 23:30 UTC -> week of 02-26; the other three -> week of 03-04.
    # NY: Mon 03-04 04:30 -> week of 03-04; both 03-11 logins -> week of 03-11.
    assert cells[("2024-02-26 00:00", "Rome store")] == 1
    assert cells[("2024-03-04 00:00", "Rome store")] == 3
    assert cells[("2024-02-26 00:00", "NY store")] == 0
    assert cells[("2024-03-04 00:00", "NY store")] == 1
    assert cells[("2024-03-11 00:00", "NY store")] == 2


def test_login_timeline_hours(frame):
    timeline = lm.login_timeline(frame, "hour")
    cells = _cells(timeline)
    # first login Sun 03-03 23:00 (NY 23:30 local), last Mon 03-11 00:00 (NY) -> 7 * 24 + 2 hours
    assert len(timeline) == (7 * 24 + 2) * 2
    assert cells[("2024-03-04 23:00", "Rome store")] == 1  # 23:59 local
    assert cells[("2024-03-05 00:00", "Rome store")] == 1  # 00:00 local
    assert cells[("2024-03-03 23:00", "NY store")] == 1


def test_login_timeline_top_locations_and_other(frame):
    timeline = lm.login_timeline(frame, "week", top_n=1)
    # Rome kept, NY summed into "Other locations"
    assert timeline["location"].unique().tolist() == ["Rome store", "Other locations"]
    cells = _cells(timeline)
    # NY's UTC weeks: 03-04 04:30 in the week of 03-04, both 03-11 logins in the week of 03-11
    assert cells[("2024-03-04 00:00", "Other locations")] == 1
    assert cells[("2024-03-11 00:00", "Other locations")] == 2


def test_top_locations(frame):
    top = lm.top_locations(frame).set_index("location")
    assert top.index.tolist() == ["Rome store", "NY store"]
    # Rome: 4 logins by a, a, b, c -> 3 guests, 4/3 per guest, 4 of 7 logins
    assert top.loc["Rome store", "logins"] == 4
    assert top.loc["Rome store", "contacts"] == 3
    assert top.loc["Rome store", "logins_per_contact"] == pytest.approx(4 / 3)
    assert top.loc["Rome store", "share"] == pytest.approx(4 / 7)
    # NY: 3 logins by a, d and one without guest id -> 2 guests, 2 logins with an id -> 1.0
    assert top.loc["NY store", "contacts"] == 2
    assert top.loc["NY store", "logins_per_contact"] == pytest.approx(1.0)
    assert len(lm.top_locations(frame, n=1)) == 1


def test_logins_per_contact(frame):
    result = lm.logins_per_contact(frame)
    # 7 logins, 1 without guest id; guests a, b, c, d -> (7 - 1) / 4 = 1.5
    assert (result.logins, result.without_contact, result.contacts) == (7, 1, 4)
    assert result.per_contact == pytest.approx(1.5)


def test_login_frequency(frame):
    # logins per guest: a 3 (two in Rome, one in NY), b 1, c 1, d 1
    freq = lm.login_frequency(frame, cap=10)
    assert freq["logins"].tolist()[:3] == ["1", "2", "3"]
    assert freq["contacts"].tolist()[:3] == [3, 0, 1]
    assert freq["logins"].iloc[-1] == "10+"
    capped = lm.login_frequency(frame, cap=2)
    # 1 login: b, c, d = 3 guests (75%); 2 or more: a = 1 guest (25%)
    assert capped["logins"].tolist() == ["1", "2+"]
    assert capped["contacts"].tolist() == [3, 1]
    assert capped["share"].tolist() == pytest.approx([0.75, 0.25])


def test_empty_frame_gives_empty_results():
    empty = make_events([])
    assert lm.login_timeline(empty, "week").empty
    assert lm.top_locations(empty).empty
    assert lm.login_frequency(empty).empty
    assert lm.login_rows(empty).empty
    assert lm.login_count(empty) == 0
    result = lm.logins_per_contact(empty)
    assert result.logins == 0 and result.per_contact is None


def test_bad_granularity_is_refused(frame):
    with pytest.raises(ValueError):
        lm.login_timeline(frame, "month")
    with pytest.raises(ValueError):
        lm.login_timeline(make_events([]), "month")


def test_login_rows_and_no_mutation(frame):
    before = frame.copy(deep=True)
    rows = lm.login_rows(frame)
    assert len(rows) == 7 and set(rows[schema.TYPE].astype(str)) == {schema.LOGIN}
    assert lm.login_count(frame) == 7
    lm.login_timeline(frame, "hour", top_n=1)
    lm.top_locations(frame)
    pd.testing.assert_frame_equal(frame, before)


def test_login_timeline_without_the_other_locations(frame):
    timeline = lm.login_timeline(frame, "week", top_n=1, others=False)
    # only Rome: 3 weeks, 4 logins in all
    assert timeline["location"].unique().tolist() == ["Rome store"]
    assert timeline["logins"].sum() == 4
    # top_n at least the number of locations: nothing is left out either way
    assert lm.login_timeline(frame, "week", top_n=5, others=False)["logins"].sum() == 7


def test_login_kpis_against_the_previous_period(frame):
    previous = make_events(
        [
            event(schema.LOGIN, "a", "2024-02-20 10:00", **ROME),
            event(schema.LOGIN, "a", "2024-02-21 10:00", **ROME),
        ]
    )
    kpis = {k.key: k for k in lm.login_kpis(frame, previous)}
    # now: 7 logins, 4 guests, 1.5 per guest, 2 locations; before: 2 logins by 1 guest, 1 place
    assert (kpis["logins"].value, kpis["logins"].previous) == (7, 2)
    assert kpis["logins"].change_pct == pytest.approx(2.5)  # (7 - 2) / 2
    assert (kpis["contacts"].value, kpis["contacts"].previous) == (4, 1)
    assert kpis["per_contact"].value == pytest.approx(1.5)
    assert kpis["per_contact"].change == pytest.approx(-0.5)  # 1.5 - 2.0
    assert (kpis["locations"].value, kpis["locations"].previous) == (2, 1)
    empty = {k.key: k for k in lm.login_kpis(make_events([]), None)}
    assert empty["logins"].value == 0 and empty["per_contact"].value is None


def test_the_timeline_pile_adds_up_to_the_logins_tile(frame):
    # 7 logins at two stores; only the busiest (Rome, 4) gets a band of its own, New York's 3
    # go into "Other locations": the pile is 4 + 3 = 7, the tile's figure
    tile = {k.key: k for k in lm.login_kpis(frame)}["logins"].value
    assert tile == 7
    timeline = lm.login_timeline(frame, "day", top_n=1)
    assert timeline["logins"].sum() == 7
    by_band = timeline.groupby("location")["logins"].sum().to_dict()
    assert by_band == {"Rome store": 4, "Other locations": 3}

"""Campaign metrics (c4w.metrics.campaigns) on a small case worked out by hand.

Campaign A (email "Spring", id A), on 5-7 March 2024:
- c1: sent 5 Mar 10:00, opened 10:30, clicked 10:32; also sent SMS campaign B 7 Mar 16:00,
  clicked it 16:10 (a contact sent two campaigns);
- c2: sent 5 Mar 10:00, opened 6 Mar 09:00 (23 hours later), no click;
- c3: sent 5 Mar 10:00 and again 6 Mar 10:00, never opened;
- c5: opened A at 5 Mar 12:00 with no recorded send.
By hand: A sent 4, recipients 3, opened 2, clicked 1, open rate 2/3, click rate 1/3,
click-to-open 1/2, one contact without a recorded send; sends per day [3, 1, 0], opens per day
(of recipients) [1, 1, 0]. Time to open: 0.5 h and 23 h -> median 11.75 h, p90 0.5 + 0.9 x 22.5
= 20.75 h. Time to click: 32 min -> 0.5333 h.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from c4w import schema
from c4w.metrics import campaigns as cm
from tests.frames import event, make_events

START, END = dt.date(2024, 3, 5), dt.date(2024, 3, 7)
A = {schema.CAMPAIGN_ID: "A", schema.CAMPAIGN_NAME: "Spring", schema.CHANNEL: "email"}
B = {schema.CAMPAIGN_ID: "B", schema.CAMPAIGN_NAME: "Happy hour", schema.CHANNEL: "sms"}


def rows() -> list[dict]:
    return [
        event("send_email", "c1", "2024-03-05 10:00", **A),
        event("send_email", "c2", "2024-03-05 10:00", **A),
        event("send_email", "c3", "2024-03-05 10:00", **A),
        event("open_email", "c1", "2024-03-05 10:30", **A),
        event("click_email", "c1", "2024-03-05 10:32", **A),
        event("open_email", "c5", "2024-03-05 12:00", **A),
        event("open_email", "c2", "2024-03-06 09:00", **A),
        event("send_email", "c3", "2024-03-06 10:00", **A),
        event("send_sms", "c1", "2024-03-07 16:00", **B),
        event("click_sms", "c1", "2024-03-07 16:10", **B),
        event("visit", "c1", "2024-03-06 12:00", visit_duration_min=30, location_id="L1"),
        event("signup", "c9", "2024-03-05 08:00"),  # no campaign at all
    ]


def test_summary_counts_rates_and_days() -> None:
    out = cm.campaign_summary(make_events(rows()), START, END).set_index(schema.CAMPAIGN_ID)
    a = out.loc["A"]
    assert (a[cm.CAMPAIGN], a[schema.CHANNEL]) == ("Spring", "email")
    assert (a[cm.SENT], a[cm.RECIPIENTS], a[cm.OPENED], a[cm.CLICKED]) == (4, 3, 2, 1)
    assert a[cm.OPEN_RATE] == pytest.approx(2 / 3)
    assert a[cm.CLICK_RATE] == pytest.approx(1 / 3)
    assert a[cm.CLICK_TO_OPEN] == pytest.approx(1 / 2)
    assert a[cm.WITHOUT_SEND] == 1
    assert a[cm.FIRST_SEND] == pd.Timestamp("2024-03-05 10:00", tz="UTC")
    assert a[cm.LAST_SEND] == pd.Timestamp("2024-03-06 10:00", tz="UTC")
    assert a[cm.SENDS_PER_DAY] == [3, 1, 0]
    assert a[cm.OPENS_PER_DAY] == [1, 1, 0]
    b = out.loc["B"]
    assert (b[cm.SENT], b[cm.RECIPIENTS], b[cm.CLICKED]) == (1, 1, 1)
    assert pd.isna(b[cm.OPENED]) and math.isnan(b[cm.OPEN_RATE])
    assert b[cm.CLICK_RATE] == 1.0 and math.isnan(b[cm.CLICK_TO_OPEN])
    # most recipients first
    assert out.index.tolist() == ["A", "B"]


def test_only_sends_on_the_chosen_days_count() -> None:
    out = cm.campaign_summary(make_events(rows()), dt.date(2024, 3, 6), END)
    a = out.set_index(schema.CAMPAIGN_ID).loc["A"]
    # only c3's second send: one recipient, who never opened
    assert (a[cm.SENT], a[cm.RECIPIENTS], a[cm.OPENED], a[cm.CLICKED]) == (1, 1, 0, 0)
    assert a[cm.SENDS_PER_DAY] == [1, 0]


def test_recipients_and_lists() -> None:
    people = cm.recipients(cm.campaign_events(make_events(rows())), "A", "email", START, END)
    assert people[schema.CONTACT_ID].tolist() == ["c1", "c2", "c3"]
    assert people[cm.SEND_AT].tolist() == [pd.Timestamp("2024-03-05 10:00", tz="UTC")] * 3
    assert people[cm.OPENED].tolist() == [True, True, False]
    assert people[cm.CLICKED].tolist() == [True, False, False]
    assert cm.who_clicked(people)[schema.CONTACT_ID].tolist() == ["c1"]
    assert cm.who_did_not_open(people)[schema.CONTACT_ID].tolist() == ["c3"]


def test_time_to_open_and_click() -> None:
    people = cm.recipients(cm.campaign_events(make_events(rows())), "A", "email", START, END)
    out = cm.time_to_engage(people).set_index(cm.ACTION)
    assert out.loc["open", "contacts"] == 2
    assert out.loc["open", "median_hours"] == pytest.approx(11.75)
    assert out.loc["open", "p90_hours"] == pytest.approx(20.75)
    assert out.loc["click", "median_hours"] == pytest.approx(32 / 60)
    assert out.loc["click", "p90_hours"] == pytest.approx(32 / 60)


def test_engagement_over_time_since_send() -> None:
    people = cm.recipients(cm.campaign_events(make_events(rows())), "A", "email", START, END)
    out = cm.engagement_over_time(people, max_hours=48)
    assert out["opens"].sum() == 2 and out.loc[0, "opens"] == 1 and out.loc[23, "opens"] == 1
    assert out.loc[0, "clicks"] == 1 and out["clicks"].sum() == 1
    assert out.loc[0, "opened_share"] == pytest.approx(1 / 3)
    assert out.loc[22, "opened_share"] == pytest.approx(1 / 3)
    assert out.loc[23, "opened_share"] == pytest.approx(2 / 3)


def test_home_store_is_the_most_visited_and_a_tie_goes_to_the_last() -> None:
    frame = make_events(
        [
            event("visit", "c1", "2024-03-01 10:00", location_id="L1"),
            event("visit", "c1", "2024-03-02 10:00", location_id="L2"),
            event("visit", "c1", "2024-03-03 10:00", location_id="L1"),
            event("visit", "c2", "2024-03-01 10:00", location_id="L1"),
            event("visit", "c2", "2024-03-04 10:00", location_id="L2"),  # tie: L2 is later
            event("login", "c3", "2024-03-04 10:00", location_id="L3"),  # a login is no visit
        ]
    )
    homes = cm.home_stores(frame)
    assert homes.to_dict() == {"c1": "L1", "c2": "L2"}


def test_results_by_home_store_and_new_or_returning() -> None:
    people = cm.recipients(cm.campaign_events(make_events(rows())), "A", "email", START, END)
    homes = pd.Series({"c1": "L1", "c2": "L1"})
    by_store = cm.results_by(people, people[schema.CONTACT_ID].map(homes), "home_store")
    assert by_store.to_dict("records")[0] | {} == {
        "home_store": "L1",
        "recipients": 2,
        "opened": 2,
        "clicked": 1,
        "open_rate": 1.0,
        "click_rate": 0.5,
    }
    assert by_store.loc[1, "home_store"] == "unknown" and by_store.loc[1, "recipients"] == 1
    signed = pd.Series(
        {
            "c1": pd.Timestamp("2024-02-20", tz="UTC"),  # 14 days before the send: new
            "c2": pd.Timestamp("2023-12-01", tz="UTC"),  # long before: returning
        }
    )
    kind = cm.new_or_returning(people, signed)
    assert kind.tolist() == ["new", "returning", "unknown"]
    by_kind = cm.results_by_guest(people, signed).set_index("guest")["recipients"].to_dict()
    assert by_kind == {"new": 1, "returning": 1, "unknown": 1}
    # home stores by name where the locations list it, by id where not, "unknown" without one
    locations = pd.DataFrame({"id": ["L1", "L2"], "name": ["Café One", "Café Two"]})
    named = cm.results_by_home_store(people, pd.Series({"c1": "L1", "c2": "L9"}), locations)
    assert named.set_index("home_store")["recipients"].to_dict() == {
        "Café One": 1,
        "L9": 1,
        "unknown": 1,
    }


def test_a_funnel_can_start_at_one_campaigns_send_and_break_down_by_its_first_message() -> None:
    from c4w.metrics import funnels as fm

    sends = [schema.SEND_EMAIL, schema.OPEN_EMAIL, schema.CLICK_EMAIL]
    b_mail = {**B, schema.CHANNEL: "email"}
    frame = make_events(
        [
            event("send_email", "c1", "2024-03-05 10:00", **A),
            event("open_email", "c1", "2024-03-05 11:00", **A),
            event("click_email", "c1", "2024-03-05 11:05", **A),
            event("send_email", "c2", "2024-03-05 09:00", **b_mail),
            event("send_email", "c2", "2024-03-06 10:00", **A),
            event("open_email", "c2", "2024-03-06 12:00", **A),
        ]
    )
    # by hand: entering at a send of A, c1 enters on 5 Mar and c2 on 6 Mar (their first send
    # of A, not of B): 2 entered, 2 opened, 1 clicked
    only_a = fm.funnel(frame, sends, entry_from=START, entry_to=END, entry_campaign="A")
    assert only_a.steps["contacts"].tolist() == [2, 2, 1]
    assert only_a.journeys.set_index(schema.CONTACT_ID)["entered_at"]["c2"] == pd.Timestamp(
        "2024-03-06 10:00", tz="UTC"
    )
    assert fm.funnel(frame, sends, entry_campaign="Spring").steps["contacts"].tolist() == [2, 2, 1]
    # any campaign: c2 enters at B's send, and A's open is not B's: 2 entered, 1 opened
    anyone = fm.funnel(frame, sends, entry_from=START, entry_to=END)
    assert anyone.steps["contacts"].tolist() == [2, 1, 1]
    table = fm.funnel_breakdown(anyone, by=fm.BY_FIRST_MESSAGE).set_index("group")
    assert table["entered"].to_dict() == {"Spring": 1, "Happy hour": 1}
    assert table["overall_conversion"].to_dict() == {"Spring": 1.0, "Happy hour": 0.0}


def test_a_remembered_function_keys_frames_by_content_and_keeps_only_its_last_results() -> None:
    from c4w.metrics import memo

    calls = []

    @memo.remember(size=2)
    def total(frame: pd.DataFrame, scale: int) -> int:
        calls.append(scale)
        return int(frame["x"].sum()) * scale

    a = pd.DataFrame({"x": [1, 2, 3]})
    assert total(a, 2) == 12 and total(a.copy(), 2) == 12  # an equal copy: remembered
    assert calls == [2]
    assert total(pd.DataFrame({"x": [1, 2, 4]}), 2) == 14  # other content: computed
    assert total(pd.DataFrame({"x": [3, 2, 1]}), 2) == 12  # same values, other order: computed
    assert calls == [2, 2, 2]
    assert total(a, 2) == 12 and calls == [2, 2, 2, 2]  # size 2: the first was dropped
    assert total(a, scale=3) == 18 and len(calls) == 5


def test_the_pages_remembered_table_is_the_table() -> None:
    events = make_events(rows())
    first = cm.remembered_summary(events, START, END)
    pd.testing.assert_frame_equal(first, cm.campaign_summary(events, START, END))
    assert cm.remembered_summary(events.copy(), START, END) is first


def test_text_values_share_one_string_per_category_and_keep_missing_values() -> None:
    ids = pd.Series(pd.Categorical(["c1", None, "c2", "c1"]))
    values = cm.text_values(ids)
    assert values.dtype == object
    assert list(values[[0, 2, 3]]) == ["c1", "c2", "c1"] and pd.isna(values[1])
    assert values[0] is values[3]  # the rows of one guest hold one string
    # other columns: their values as text, as before
    assert list(cm.text_values(pd.Series(["x", 5], dtype=object))) == ["x", "5"]
    plain = pd.Series(["c1", "c2", "c1"], dtype=object)
    assert list(cm.text_values(plain)) == list(cm.text_values(plain.astype("category")))


def test_text_category_keeps_the_values_present_as_sorted_text() -> None:
    # categories "z", "a", "m" and 7 (unused), rows z, None, a, z
    ids = pd.Series(pd.Categorical(["z", None, "a", "z"], categories=["z", "a", "m", 7]))
    got = cm.text_category(ids)
    assert list(got.categories) == ["a", "z"]  # "m" and 7 are not in any row
    assert list(got.codes) == [1, -1, 0, 1]
    # a plain column gives the same
    plain = cm.text_category(pd.Series(["z", None, "a", "z"], dtype=object))
    assert list(plain.categories) == ["a", "z"] and list(plain.codes) == [1, -1, 0, 1]
    # 5 and "5" are one text: one category
    mixed = cm.text_category(pd.Series(pd.Categorical([5, "5", "b"], categories=[5, "5", "b"])))
    assert list(mixed.categories) == ["5", "b"] and list(mixed.codes) == [0, 0, 1]


def test_text_category_of_a_stores_text_categories_sorts_them_as_python_does() -> None:
    # a frame read from the store holds its categories as arrow texts, in order of appearance
    texts = pd.Index(pd.array(["zoë", "Zed", "émile", "a", "unused", "ab"], dtype="str"))
    ids = pd.Series(pd.Categorical.from_codes([0, 1, -1, 2, 3, 5, 0], categories=texts))
    got = cm.text_category(ids)
    # by code point, as sorted() orders them: capitals, then small letters, then accents
    assert list(got.categories) == ["Zed", "a", "ab", "zoë", "émile"]
    assert list(got.codes) == [3, 0, -1, 4, 1, 2, 3]
    assert list(got.categories) == sorted(set(ids.dropna()))
    assert isinstance(got.categories.dtype, pd.StringDtype)  # no Python string per category

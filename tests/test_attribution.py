"""Store visits a campaign brought (c4w.metrics.attribution), worked out by hand, and the demo's
seeded uplift recovered within its interval.

The small case: campaign A (email) sent to c1, c2, c3 on 5 Mar 2024 at 10:00; c1 opened and
clicked, c2 opened, c3 did neither; c1 was also sent SMS campaign B on 7 Mar at 16:00.
Visits (by their start): c1 a WiFi visit on the send day at 09:00, before the send, and a
geofence visit on 12 Mar at 10:01 (7 days and 1 minute after A's send, 4 days and 18 hours
after B's); c2 a WiFi visit on 8 Mar; c3 no visit ever.
By hand, N = 7 days: A's returned are c2 only (1 of 3); by engagement clicked 0/1, opened no
click 1/1, neither 0/1. The days before: c1 only. B's one recipient, c1, returned.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from c4w import contacts as ct
from c4w import demo, schema
from c4w.metrics import attribution as at
from c4w.metrics import campaigns as cm
from tests.frames import event, make_events

A = {schema.CAMPAIGN_ID: "A", schema.CAMPAIGN_NAME: "Spring", schema.CHANNEL: "email"}
B = {schema.CAMPAIGN_ID: "B", schema.CAMPAIGN_NAME: "Happy hour", schema.CHANNEL: "sms"}
START, END = dt.date(2024, 3, 1), dt.date(2024, 3, 10)


def frame() -> pd.DataFrame:
    return make_events(
        [
            event(
                "visit", "c1", "2024-03-05 09:30", visit_start="2024-03-05 09:00", location_id="L1"
            ),
            event("send_email", "c1", "2024-03-05 10:00", **A),
            event("send_email", "c2", "2024-03-05 10:00", **A),
            event("send_email", "c3", "2024-03-05 10:00", **A),
            event("open_email", "c1", "2024-03-05 11:00", **A),
            event("click_email", "c1", "2024-03-05 11:01", **A),
            event("open_email", "c2", "2024-03-05 12:00", **A),
            event("send_sms", "c1", "2024-03-07 16:00", **B),
            event(
                "visit", "c2", "2024-03-08 12:30", visit_start="2024-03-08 12:00", location_id="L1"
            ),
            event(
                "geo_visit",
                "c1",
                "2024-03-12 10:31",
                visit_start="2024-03-12 10:01",
                geofence_id="G",
            ),
        ]
    )


def people_of(campaign: str, channel: str, days: int = 7) -> pd.DataFrame:
    events = frame()
    people = cm.recipients(cm.campaign_events(events), campaign, channel, START, END)
    return at.with_returned(people, at.visit_starts(events), days)


def test_returned_counts_visits_after_the_send_within_the_days() -> None:
    people = people_of("A", "email").set_index(schema.CONTACT_ID)
    assert people[at.RETURNED].to_dict() == {"c1": False, "c2": True, "c3": False}
    assert people[at.BEFORE].to_dict() == {"c1": True, "c2": False, "c3": False}
    # one more day, and c1's geofence visit 7 days and a minute after the send counts
    assert people_of("A", "email", days=8).set_index(schema.CONTACT_ID)[at.RETURNED]["c1"]


def test_each_campaign_is_judged_on_its_own_send() -> None:
    b = people_of("B", "sms")
    assert b[schema.CONTACT_ID].tolist() == ["c1"] and b[at.RETURNED].tolist() == [True]


def test_returned_by_what_the_recipient_did() -> None:
    out = at.returned_by_engagement(people_of("A", "email")).set_index("group")
    assert out["recipients"].to_dict() == {"clicked": 1, "opened, no click": 1, "neither": 1}
    assert out[at.RETURNED].to_dict() == {"clicked": 0, "opened, no click": 1, "neither": 0}


def test_small_groups_are_not_enough_data() -> None:
    up = at.uplift_before(people_of("A", "email"))
    assert not up.enough and math.isnan(up.uplift) and math.isnan(up.incremental)
    assert up.returned == 1 and up.recipients == 3 and up.baseline_returned == 1


def test_wilson_and_newcombe_against_the_published_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 - 48/80, method 10
    d, low, high = at.newcombe(56, 70, 48, 80)
    assert d == pytest.approx(0.2)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)
    # Wilson for 0 of 10 by hand: centre z²/2n / (1 + z²/n), half the same: [0, 3.8415/13.8415]
    low0, high0 = at.wilson(0, 10)
    assert low0 == pytest.approx(0.0, abs=1e-12)
    assert high0 == pytest.approx(3.841459 / 13.841459, rel=1e-6)


def test_paired_wald_by_hand() -> None:
    # 10 guests: 4 came after only, 1 before only, 2 both, 3 neither
    after = np.array([1, 1, 1, 1, 0, 1, 1, 0, 0, 0], dtype=bool)
    before = np.array([0, 0, 0, 0, 1, 1, 1, 0, 0, 0], dtype=bool)
    d, low, high = at.paired_wald(after, before)
    # d = (4 - 1)/10 = 0.3; se = sqrt(4 + 1 - 9/10)/10 = sqrt(4.1)/10 = 0.20248
    assert d == pytest.approx(0.3)
    assert low == pytest.approx(0.3 - 1.959964 * 0.202485, abs=1e-5)
    assert high == pytest.approx(0.3 + 1.959964 * 0.202485, abs=1e-5)


def _group(prefix: str, home: str, n: int, returned: int) -> pd.DataFrame:
    send = pd.Timestamp("2024-03-05 10:00", tz="UTC")
    return pd.DataFrame(
        {
            schema.CONTACT_ID: [f"{prefix}{home}{i}" for i in range(n)],
            cm.SEND_AT: [send] * n,
            at.RETURNED: [i < returned for i in range(n)],
        }
    )


def test_comparable_guests_are_weighted_like_the_recipients() -> None:
    people = pd.concat([_group("r", "L1", 40, 20), _group("r", "L2", 20, 5)], ignore_index=True)
    pool = pd.concat(
        [_group("p", "L1", 10, 3), _group("p", "L2", 40, 4), _group("p", "L3", 9, 9)],
        ignore_index=True,
    )
    homes = pd.Series({c: c[1:3] for c in pd.concat([people, pool])[schema.CONTACT_ID]})
    no_visits = at.visit_starts(make_events([]))  # every band is "none"
    up = at.uplift_comparable(people, pool, homes, no_visits)
    # weights 40/60 and 20/60 (L3 has no recipient): recipients 2/3 x 0.5 + 1/3 x 0.25;
    # comparable 2/3 x 0.3 + 1/3 x 0.1
    assert up.returned_share == pytest.approx(5 / 12)
    assert up.baseline_share == pytest.approx(7 / 30)
    assert up.uplift == pytest.approx(5 / 12 - 7 / 30)
    # variances from (x + 0.5)/(n + 1): 20.5/41, 5.5/21, 3.5/11, 4.5/41
    q = [20.5 / 41, 5.5 / 21, 3.5 / 11, 4.5 / 41]
    var = (4 / 9) * (q[0] * (1 - q[0]) / 40 + q[2] * (1 - q[2]) / 10) + (1 / 9) * (
        q[1] * (1 - q[1]) / 20 + q[3] * (1 - q[3]) / 40
    )
    assert var == pytest.approx(0.013765, abs=1e-5)
    assert up.high - up.uplift == pytest.approx(1.959964 * math.sqrt(var), abs=1e-6)
    assert (up.recipients, up.baseline_guests) == (60, 50)
    assert up.incremental == pytest.approx(60 * (5 / 12 - 7 / 30))


def test_baseline_pools_follow_their_rules() -> None:
    t = pd.Timestamp("2024-03-05 10:00", tz="UTC")
    known = pd.Series(
        {
            "r1": t - pd.Timedelta(days=30),  # a recipient
            "h1": t - pd.Timedelta(days=30),  # never sent anything
            "s1": t - pd.Timedelta(days=30),  # sent another campaign only
            "x1": t - pd.Timedelta(days=30),  # refused marketing
            "late": t + pd.Timedelta(hours=1),  # known only after the send
        }
    )
    consent = pd.Series({"r1": True, "h1": True, "s1": True, "x1": False}, dtype="boolean")
    sent_this, sent_any = {"r1"}, {"r1", "s1"}
    assert at.baseline_pool("holdout", known, consent, sent_this, sent_any, t) == ["h1"]
    assert at.baseline_pool("comparable", known, consent, sent_this, sent_any, t) == ["h1", "s1"]


def test_the_days_before_a_send_exclude_the_send_time_itself() -> None:
    visits = at.visit_starts(
        make_events([event("visit", "c1", "2024-03-05 10:30", visit_start="2024-03-05 10:00")])
    )
    send = pd.Series([pd.Timestamp("2024-03-05 10:00", tz="UTC")])
    ids = pd.Series(["c1"])
    week = pd.Timedelta(days=7)
    # a visit starting at the send time is neither after it nor in the days before it
    assert not at.visited_between(visits, ids, send, send + week)[0]
    assert not at.visited_between(visits, ids, send - week, send, before_start=True)[0]


def test_days_since_the_last_visit_by_hand() -> None:
    visits = at.visit_starts(frame())
    ids = pd.Series(["c1", "c2", "c3", "c1"])
    when = pd.to_datetime(
        pd.Series(["2024-03-05 10:00", "2024-03-05 10:00", "2024-03-05 10:00", "2024-04-10 10:00"]),
        utc=True,
    )
    # c1: a visit started at 09:00 the same day; c2's first visit is on 8 Mar; c3 never
    # visits; on 10 Apr c1's last visit started on 12 Mar at 10:01, 28 days 23h59m before.
    assert list(at.recency_band(visits, ids, when)) == [
        "0-7",
        "57+ or never",
        "57+ or never",
        "29-56",
    ]


def test_a_campaign_sent_on_sign_up_is_found_and_its_lag_is_the_median() -> None:
    t = pd.Timestamp("2024-03-05 10:00", tz="UTC")
    known = pd.Series({"a": t, "b": t, "c": t, "d": t})
    minutes = [10, 20, 30, 5 * 24 * 60]  # d: sent five days after being known
    people = pd.DataFrame(
        {
            schema.CONTACT_ID: ["a", "b", "c", "d"],
            cm.SEND_AT: [t + pd.Timedelta(minutes=m) for m in minutes],
        }
    )
    # 3 of 4 within a day: triggered; the median of those three lags is 20 minutes
    assert at.sign_up_lag(people, known) == pd.Timedelta(minutes=20)
    late = people.assign(**{cm.SEND_AT: [t + pd.Timedelta(days=d) for d in (0, 3, 4, 5)]})
    assert at.sign_up_lag(late, known) is None  # 1 of 4 within a day: sent on its own days
    pool = at.pool_send_times(
        ["x"], pd.Series(dtype=object), people, pd.Series({"x": t}), at.sign_up_lag(people, known)
    )
    assert pool["x"] == t + pd.Timedelta(minutes=20)


def test_comparable_guests_exclude_those_sent_another_campaign_around_the_send() -> None:
    c = {schema.CAMPAIGN_ID: "C", schema.CAMPAIGN_NAME: "Other", schema.CHANNEL: "email"}
    extra = make_events(
        [
            event("visit", "p1", "2024-02-20 10:30", visit_start="2024-02-20 10:00"),
            event("visit", "p2", "2024-02-20 10:30", visit_start="2024-02-20 10:00"),
            event("visit", "p3", "2024-02-20 10:30", visit_start="2024-02-20 10:00"),
            event("send_email", "p2", "2024-03-11 09:00", **c),  # within 7 days after A
            event("send_email", "p3", "2024-03-13 10:01", **c),  # 8 days after: kept
        ]
    )
    history = pd.concat([frame(), extra], ignore_index=True)
    found = at.campaign_uplift(history, pd.DataFrame(), "A", "email", START, END, 7, "comparable")
    # c1 was sent B on 7 Mar, inside the days around A: not comparable either
    assert sorted(found.baseline_guests[schema.CONTACT_ID]) == ["p1", "p3"]


def test_recipients_sent_another_campaign_around_the_send_are_left_out_like_the_pool() -> None:
    # Everyone: one WiFi visit at L1 on 1 Feb (so one stratum: home L1, no visit in the 28 days
    # before 5 Mar, last visit 29-56 days before). A sent on 5 Mar 10:00 to r0..r59; another
    # campaign C sent on 7 Mar 10:00 to r40..r59 and to p40..p59, and everyone C was sent
    # comes on 9 Mar. Of the others, r0..r19 come (20 of 40) and p0..p11 (12 of 40).
    c = {schema.CAMPAIGN_ID: "C", schema.CAMPAIGN_NAME: "Other", schema.CHANNEL: "email"}

    def visit(who: str, day: str) -> dict:
        return event("visit", who, f"{day} 12:30", visit_start=f"{day} 12:00", location_id="L1")

    rows = []
    for i in range(60):
        r, p = f"r{i}", f"p{i}"
        rows += [visit(r, "2024-02-01"), visit(p, "2024-02-01")]
        rows.append(event("send_email", r, "2024-03-05 10:00", **A))
        if i >= 40:
            rows += [event("send_email", who, "2024-03-07 10:00", **c) for who in (r, p)]
            rows += [visit(r, "2024-03-09"), visit(p, "2024-03-09")]
        if i < 20:
            rows.append(visit(r, "2024-03-09"))
        if i < 12:
            rows.append(visit(p, "2024-03-09"))
    history = make_events(rows)
    found = at.campaign_uplift(history, pd.DataFrame(), "A", "email", START, END, 7, "comparable")
    up = found.uplift
    # By hand: recipients r0..r39, 20 of 40 returned (0.5); comparable p0..p39, 12 of 40 (0.3).
    # (Counting r40..r59 would give 40 of 60, 0.667: C's visits taken for A's.)
    assert len(found.people) == 60  # the page still lists every recipient
    assert (up.recipients, up.returned, up.baseline_guests, up.baseline_returned) == (
        40,
        20,
        40,
        12,
    )
    assert up.uplift == pytest.approx(0.2)
    # Interval: one stratum, q = (x + 0.5)/(n + 1): 20.5/41 = 0.5 and 12.5/41 = 0.304878;
    # var = 0.5 * 0.5 / 40 + 0.304878 * 0.695122 / 40 = 0.0115481; half = 1.959964 * 0.107462
    assert up.low == pytest.approx(0.2 - 0.210622, abs=1e-5)
    assert up.high == pytest.approx(0.2 + 0.210622, abs=1e-5)


def _before_case() -> tuple[pd.DataFrame, pd.Series]:
    """51 recipients sent on 5 Mar 10:00. r0..r39 known since January: r0..r11 returned,
    r4..r11 also visited in the days before. r40..r49 signed up 1 hour before the send (their
    sign-up visit is in the days before; none returned). r50, known since January, visited
    before and did not return, and was sent another campaign on 3 Mar."""
    t = pd.Timestamp("2024-03-05 10:00", tz="UTC")
    ids = [f"r{i}" for i in range(51)]
    people = pd.DataFrame(
        {
            schema.CONTACT_ID: ids,
            cm.SEND_AT: [t] * 51,
            at.RETURNED: [i < 12 for i in range(51)],
            at.BEFORE: [4 <= i < 12 or i >= 40 for i in range(51)],
        }
    )
    old, new = pd.Timestamp("2024-01-10", tz="UTC"), t - pd.Timedelta(hours=1)
    known = pd.Series({c: new if 40 <= i < 50 else old for i, c in enumerate(ids)})
    return people, known


def test_same_guests_before_leaves_out_new_guests_and_those_sent_another_campaign() -> None:
    people, known = _before_case()
    other = np.array([i == 50 for i in range(51)])
    up = at.uplift_before(people, known, 7, other_before=other)
    # kept r0..r39: after only r0..r3 (b = 4), before only none (c = 0): d = 4/40,
    # se = sqrt(4 - 16/40)/40
    assert (up.recipients, up.returned, up.baseline_returned) == (40, 12, 8)
    assert up.uplift == pytest.approx(0.1)
    assert up.high - up.uplift == pytest.approx(1.959964 * math.sqrt(3.6) / 40, abs=1e-6)
    assert up.enough and up.reason == ""


def test_same_guests_before_is_not_fair_after_a_sign_up() -> None:
    people, known = _before_case()
    newer = known.copy()
    newer[[f"r{i}" for i in range(20, 40)]] = newer["r40"]  # now 30 of 51 signed up just before
    up = at.uplift_before(people, newer, 7)
    assert not up.enough and math.isnan(up.uplift)
    assert up.reason.startswith("not a fair baseline here: 59% of the recipients were first")


def test_same_guests_before_is_not_fair_for_a_win_back_or_a_short_history() -> None:
    people, known = _before_case()
    # 10% of the recipients visited in the 28 days before, against 50% of the other guests
    up = at.uplift_before(people, known, 7, recent=(0.1, 0.5))
    assert not up.enough and "10% of the recipients visited" in up.reason
    assert "against 50% of the other guests" in up.reason
    # 40% against 50%: not under half, a figure
    assert at.uplift_before(people, known, 7, recent=(0.4, 0.5)).enough
    held = pd.Timestamp("2024-03-01", tz="UTC")  # only 4 days before the send
    up = at.uplift_before(people, known, 7, held_from=held)
    assert not up.enough and "the history held starts on 01 Mar 2024" in up.reason


def test_a_holdout_is_no_comparison_for_guests_picked_by_their_visits() -> None:
    people = _group("r", "L1", 40, 10)
    holdout = _group("h", "L1", 40, 4)
    assert at.uplift_holdout(people, holdout, (0.3, 0.4)).enough
    for recent in ((0.1, 0.4), (0.9, 0.4)):
        up = at.uplift_holdout(people, holdout, recent)
        assert not up.enough and up.reason.startswith("no comparable guests in the holdout")


# --- the demo's seeded uplift --------------------------------------------------------------------
DEMO_END = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
# Campaigns sent to a random share of everyone: the holdout is a fair comparison for them. The
# win-back email goes to lapsed guests and the Brera one mostly to European guests, so a holdout
# of all guests is no comparison for those two.
TO_EVERYONE = [name for name in demo.SEEDED_UPLIFT if not name.startswith(("We miss", "Buon"))]
NO_EFFECT = [name for name, u in demo.SEEDED_UPLIFT.items() if u == 0]


@pytest.fixture(scope="module")
def seeded():
    org = demo.build_demo(150_000, end=DEMO_END)
    events = demo._parse_demo(org)
    contacts = ct.contacts_frame(org.contacts)
    start, end = events[schema.CREATED_AT].min().date(), events[schema.CREATED_AT].max().date()
    summary = cm.campaign_summary(events, start, end).set_index(cm.CAMPAIGN)
    return org, events, contacts, summary, start, end


def _uplift(seeded, name: str, baseline: str) -> at.Uplift:
    _org, events, contacts, summary, start, end = seeded
    row = summary.loc[name]
    found = at.campaign_uplift(
        events, contacts, row[schema.CAMPAIGN_ID], row[schema.CHANNEL], start, end, 7, baseline
    )
    return found.uplift


@pytest.mark.parametrize("name", TO_EVERYONE)
def test_holdout_uplift_recovers_the_seeded_one_within_its_interval(seeded, name):
    org = seeded[0]
    brought, recipients = org.brought.get(name, (0, 1))
    seeded_share = brought / recipients
    assert seeded_share == pytest.approx(demo.SEEDED_UPLIFT[name], abs=0.005)
    up = _uplift(seeded, name, "holdout")
    assert up.enough and up.recipients == seeded[3].loc[name, cm.RECIPIENTS]
    assert up.low <= seeded_share <= up.high, (name, seeded_share, up)


@pytest.mark.parametrize("name", NO_EFFECT)
def test_a_campaign_with_no_effect_has_a_holdout_interval_around_zero(seeded, name):
    up = _uplift(seeded, name, "holdout")
    assert up.enough and up.low <= 0 <= up.high, (name, up)


# Every baseline against every seeded campaign, on a small demo. The expected value is the
# share of recipients the demo itself brought in (DemoOrg.brought, drawn to SEEDED_UPLIFT);
# where a baseline gives no figure, the reason it must give follows from how the demo picks
# each campaign's audience (EMAIL_CAMPAIGNS' rule and day, the welcome email after a sign-up).
SMALL_EVENTS = 35_000
SEEDED_NAMES = list(demo.SEEDED_UPLIFT)
DAY_OF = {c[0]: c[1] for c in demo.EMAIL_CAMPAIGNS + demo.SMS_CAMPAIGNS}
RULE_OF = {c[0]: c[5] for c in demo.EMAIL_CAMPAIGNS}


def expected_reason(name: str, baseline: str) -> str | None:
    """The start of the message a baseline must give instead of a figure, or None."""
    if RULE_OF.get(name) == "lapsed":  # sent to guests with no visit in 30 days
        return {
            "holdout": "no comparable guests in the holdout",
            "before": "not a fair baseline here",
        }.get(baseline)
    if baseline == "before" and name == demo.WELCOME_EMAIL[0]:  # sent after each sign-up
        return "not a fair baseline here"
    if baseline == "before" and DAY_OF.get(name, 99) < 7:  # fewer than 7 days held before
        return "not a fair baseline here: the history held starts"
    return None


@pytest.fixture(scope="module")
def small_seeded():
    org = demo.build_demo(SMALL_EVENTS, end=DEMO_END)
    events = demo._parse_demo(org)
    contacts = ct.contacts_frame(org.contacts)
    start, end = events[schema.CREATED_AT].min().date(), events[schema.CREATED_AT].max().date()
    summary = cm.campaign_summary(events, start, end).set_index(cm.CAMPAIGN)
    return org, events, contacts, summary, start, end


@pytest.mark.parametrize("baseline", list(at.BASELINES))
@pytest.mark.parametrize("name", SEEDED_NAMES)
def test_a_baseline_gives_a_figure_or_says_why_not(small_seeded, name, baseline):
    org = small_seeded[0]
    brought, recipients = org.brought.get(name, (0, 1))
    assert brought / recipients == pytest.approx(demo.SEEDED_UPLIFT[name], abs=0.01)
    up = _uplift(small_seeded, name, baseline)
    reason = expected_reason(name, baseline)
    if reason is not None:
        assert not up.enough and up.reason.startswith(reason), (name, baseline, up)
    elif not up.enough:  # only a group too small may go without a figure
        assert up.reason == "" and min(up.recipients, up.baseline_guests) < at.MIN_GROUP, up
    else:
        assert up.low <= up.uplift <= up.high


# Calibration: does each baseline's 95% interval hold the demo's own truth (the share of
# recipients it brought in, DemoOrg.brought) as often as it says? The demos and the allowance
# were fixed before these demos were looked at: two demos (sizes and seeds below, not the
# 35,000-event seed-7 one above, whose size was picked after seeing its results), and per
# baseline at most the number of misses that independent 95% intervals exceed less than 1% of
# the time, from the binomial law over the figures given (about 22 each: 4 misses). Intervals
# that were right 95% of the time would fail this test about once in a hundred seeds.
# The holdout is one group of guests for every campaign of a demo, so its misses come
# together rather than one by one: one unlucky holdout can take several at once, which the
# binomial allowance does not count on; the test keeps it anyway rather than widen it.
CALIBRATION_DEMOS = ((30_000, 11), (40_000, 12))  # (events, seed)
MISS_ODDS = 0.01


def allowed_misses(figures: int, level: float = 0.95, odds: float = MISS_ODDS) -> int:
    """The fewest misses k such that ``figures`` independent intervals at ``level`` miss more
    than k times with a probability under ``odds`` (binomial tail)."""
    p = 1 - level

    def more_than(k: int) -> float:
        return sum(
            math.comb(figures, i) * p**i * (1 - p) ** (figures - i)
            for i in range(k + 1, figures + 1)
        )

    k = 0
    while more_than(k) >= odds:
        k += 1
    return k


def test_the_allowance_is_the_binomial_tail() -> None:
    # by hand: 20 intervals at 95%, P(more than 3 misses) = 1 - P(0..3) = 1 - (0.358486 +
    # 0.377354 + 0.188677 + 0.059582) = 0.0159 >= 1%, P(more than 4) = 0.0159 - 0.013328 =
    # 0.0026 < 1%: 4 misses
    assert allowed_misses(20) == 4
    assert allowed_misses(1) == 1  # P(1 miss of 1) = 5%
    assert allowed_misses(10, odds=0.5) == 0  # P(any miss of 10) = 40%


@pytest.fixture(scope="module")
def calibration_demos():
    out = []
    for events, seed in CALIBRATION_DEMOS:
        org = demo.build_demo(events, seed=seed, end=DEMO_END)
        frame_ = demo._parse_demo(org)
        contacts = ct.contacts_frame(org.contacts)
        days = frame_[schema.CREATED_AT]
        start, end = days.min().date(), days.max().date()
        summary = cm.campaign_summary(frame_, start, end).set_index(cm.CAMPAIGN)
        out.append((org, frame_, contacts, summary, start, end))
    return out


@pytest.mark.parametrize("baseline", list(at.BASELINES))
def test_each_baseline_holds_the_seeded_uplift_as_often_as_its_interval_says(
    calibration_demos, baseline
):
    misses, figures = [], 0
    for held in calibration_demos:
        org, given = held[0], 0
        for name in SEEDED_NAMES:
            up = _uplift(held, name, baseline)
            if not up.enough:
                continue
            given += 1
            brought, recipients = org.brought.get(name, (0, 1))
            if not up.low <= brought / recipients <= up.high:
                misses.append((len(org), name, brought / recipients, up.low, up.high))
        assert given >= len(SEEDED_NAMES) - 3
        figures += given
    assert len(misses) <= allowed_misses(figures), (figures, misses)


def test_the_holdout_is_never_sent_anything(seeded):
    _org, events, contacts, *_ = seeded
    sends = events[events[schema.TYPE].isin([schema.SEND_EMAIL, schema.SEND_SMS]).to_numpy()]
    consenting = set(contacts.loc[contacts[ct.MARKETING_CONSENT].fillna(False), schema.CONTACT_ID])
    never = consenting - set(sends[schema.CONTACT_ID].astype(str))
    share = len(never) / len(consenting)
    assert demo.HOLDOUT_SHARE <= share <= demo.HOLDOUT_SHARE + 0.1


def test_the_pages_remembered_uplift_is_the_uplift() -> None:
    history = frame()
    for baseline in at.BASELINES:
        args = (pd.DataFrame(), "A", "email", START, END, 7, baseline)
        kept = at.remembered_uplift(history, *args)
        again = at.campaign_uplift(history.copy(), *args)
        pd.testing.assert_frame_equal(kept.people, again.people)
        assert kept.uplift[:3] == again.uplift[:3]
        assert at.remembered_uplift(history.copy(), *args) is kept


def test_no_comparable_guests_when_most_recipients_have_none_like_them() -> None:
    people = pd.concat([_group("r", "L1", 50, 20), _group("r", "L2", 12, 5)], ignore_index=True)
    pool = pd.concat([_group("p", "L1", 4, 1), _group("p", "L2", 40, 4)], ignore_index=True)
    homes = pd.Series({c: c[1:3] for c in pd.concat([people, pool])[schema.CONTACT_ID]})
    no_visits = at.visit_starts(make_events([]))
    up = at.uplift_comparable(people, pool, homes, no_visits)
    # L1 has 4 comparable guests (fewer than 5): only L2's 12 of the 62 recipients are covered
    assert not up.enough and up.reason.startswith("no comparable guests: only 19% of the")
    enough_pool = pd.concat([pool, _group("q", "L1", 1, 0)], ignore_index=True)
    homes = pd.concat([homes, pd.Series({"qL10": "L1"})])
    assert at.uplift_comparable(people, enough_pool, homes, no_visits).enough


@pytest.mark.parametrize("before_start", [False, True])
def test_visited_between_agrees_with_a_plain_loop(before_start: bool) -> None:
    """Random visits and windows, many of them starting or ending exactly on a visit."""
    rng = np.random.default_rng(7)
    base = pd.Timestamp("2024-03-01", tz="UTC")
    contacts = [f"c{i}" for i in range(30)]
    visits = pd.DataFrame(
        {
            schema.CONTACT_ID: rng.choice(contacts, 400),
            "start": base + pd.to_timedelta(rng.integers(0, 60, 400), unit="h"),
        }
    ).sort_values([schema.CONTACT_ID, "start"], kind="stable")
    n = 500
    ids = pd.Series(rng.choice([*contacts, "nobody"], n))
    lo = base + pd.to_timedelta(rng.integers(-5, 65, n), unit="h")
    hi = lo + pd.to_timedelta(rng.integers(0, 12, n), unit="h")
    lo, hi = pd.Series(lo), pd.Series(hi)
    expected = []
    for who, a, b in zip(ids, lo, hi, strict=True):
        starts = visits.loc[visits[schema.CONTACT_ID] == who, "start"]
        inside = (starts >= a) & (starts < b) if before_start else (starts > a) & (starts <= b)
        expected.append(bool(inside.any()))
    got = at.visited_between(visits, ids, lo, hi, before_start=before_start)
    assert got.tolist() == expected
    assert 50 < sum(expected) < n - 50  # both answers are well represented


def test_visits_hold_a_code_per_visit_and_answer_as_text_would() -> None:
    """The visit starts keep each contact as a category; the same visits with the contact as
    text give the same answers to every question asked of them."""
    rows = [
        event("visit", "c2", "2024-03-04 09:00"),
        event("geo_visit", "c1", "2024-03-03 12:00", visit_start="2024-03-03 11:00"),
        event("visit", "c1", "2024-03-06 10:00"),
        event("visit", None, "2024-03-06 10:00"),
        event("open_email", "c3", "2024-03-06 10:00", campaign_id="A"),
    ]
    visits = at.visit_starts(make_events(rows))
    assert isinstance(visits[schema.CONTACT_ID].dtype, pd.CategoricalDtype)
    assert visits[schema.CONTACT_ID].astype(str).tolist() == ["c1", "c1", "c2"]
    assert visits["start"].dt.strftime("%d %H:%M").tolist() == ["03 11:00", "06 10:00", "04 09:00"]
    as_text = visits.assign(**{schema.CONTACT_ID: visits[schema.CONTACT_ID].astype(str)})
    ids = pd.Series(["c2", "c1", "c3", "c1"])
    when = pd.Series(pd.to_datetime(["2024-03-05", "2024-03-05", "2024-03-05", "2024-03-07"]))
    when = when.dt.tz_localize("UTC")
    week = pd.Timedelta(days=7)
    for frame in (visits, as_text):
        # c2 visited on the 4th, c1 on the 3rd and the 6th, c3 never
        assert at.visited_between(frame, ids, when - week, when, before_start=True).tolist() == [
            True,
            True,
            False,
            True,
        ]
        assert at.visited_between(frame, ids, when, when + week).tolist() == [
            False,
            True,
            False,
            False,
        ]
        assert list(at.visit_band(frame, ids, when)) == ["1", "1", "none", "2-3"]
        assert list(at.recency_band(frame, ids, when)) == ["0-7", "0-7", "57+ or never", "0-7"]


def test_a_guests_place_among_the_visitors_by_hand() -> None:
    """The same places whatever form the ids take: arrow texts, a category, Python texts."""
    known = pd.Index(["a", "b", "c"], dtype="str")
    texts = pd.Series(["c", None, "z", "a"], dtype="str")
    assert at._places_in(known, texts).tolist() == [2, -1, -1, 0]  # noqa: SLF001
    category = texts.astype("category")
    assert at._places_in(known, category).tolist() == [2, -1, -1, 0]  # noqa: SLF001
    plain = pd.Series(["c", "z", "a", 5], dtype=object)
    assert at._places_in(pd.Index(["a", "5"], dtype=object), plain).tolist() == [-1, -1, 0, 1]  # noqa: SLF001


@pytest.mark.parametrize("before_start", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_visited_between_is_a_plain_loop_over_each_guests_visits(before_start, seed) -> None:
    """Against a loop over every visit of each asked guest, on random visits given in any
    order, with times on the window's edges, unknown guests and missing times."""
    rng = np.random.default_rng(seed)
    base = pd.Timestamp("2024-03-01", tz="UTC")
    hours = rng.integers(0, 60, 400)
    visits = pd.DataFrame(
        {
            schema.CONTACT_ID: pd.Categorical(rng.choice(list("abcdefgh"), 400)),
            "start": base + pd.to_timedelta(hours, unit="h"),
        }
    )
    asked = pd.Series(rng.choice(list("abcdefghz"), 300), dtype="str")
    after = pd.Series(base + pd.to_timedelta(rng.integers(-5, 60, 300), unit="h"))
    after.iloc[::37] = pd.NaT
    until = after + pd.to_timedelta(rng.integers(0, 8, 300), unit="h")
    got = at.visited_between(visits, asked, after, until, before_start=before_start)
    expected = []
    for who, lo, hi in zip(asked, after, until, strict=True):
        mine = visits.loc[visits[schema.CONTACT_ID].astype(str) == who, "start"]
        if pd.isna(lo) or pd.isna(hi):
            expected.append(False)
        elif before_start:
            expected.append(bool(((mine >= lo) & (mine < hi)).any()))
        else:
            expected.append(bool(((mine > lo) & (mine <= hi)).any()))
    assert got.tolist() == expected
    assert 20 < sum(expected) < 280  # both answers are common

"""The change figures on the demo through AppTest: none at the edges of the history, the right
one on Today (up to the same time of day) and for each comparison the sidebar offers.

Expected figures are counted here straight from the demo frame with pandas, not by the
dashboard's code."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from c4w import data, schema, ui
from tests.test_app import demo_environment, demo_frame, run_app  # noqa: F401 (autouse fixture)


def tiles(at) -> dict[str, object]:
    return {m.label: m for m in at.metric}


def logins_between(frame: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> int:
    """Logins with start <= created_at < end (UTC), counted with plain pandas."""
    times = frame[schema.CREATED_AT]
    logins = frame[schema.TYPE].astype(str) == schema.LOGIN
    return int((logins & (times >= start) & (times < end)).sum())


def expected_login_change(days: int, shift_days: int) -> str | None:
    """The WiFi logins tile's change for the last `days` days (ending now) against the same
    stretch `shift_days` earlier, up to the same time of day: today's latest event, or when
    today has none yet (just after midnight) the time the demo was written. "no change" when
    there are as many now as then (none included); None when only the earlier stretch had none
    (no relative change)."""
    frame = demo_frame()
    today = pd.Timestamp(ui.utc_today(), tz="UTC")
    latest = frame.loc[frame[schema.CREATED_AT] >= today, schema.CREATED_AT].max()
    if pd.isna(latest):
        latest = pd.Timestamp(data.store_of(data.Source("demo")).built_at)
    start = today - pd.Timedelta(days=days - 1)
    now = logins_between(frame, start, latest + pd.Timedelta(microseconds=1))
    shift = pd.Timedelta(days=shift_days)
    before = logins_between(frame, start - shift, latest - shift)
    if now == before:  # none then and none now, or as many now as then
        return "no change"
    if not before:
        return None
    return f"{(now - before) / before:+.1%}"


def test_last_90_days_reach_before_the_history_so_there_is_no_change_figure() -> None:
    at = run_app("overview", range="90d")
    assert not at.exception
    assert len(at.metric) >= 7
    assert all(not m.delta for m in at.metric), [m.delta for m in at.metric]
    assert any("No change figures: they need the history from" in c.value for c in at.caption)
    # the same on the other pages with tiles
    for page in ("logins", "visits"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception
        assert all(not m.delta for m in at.metric)


def test_today_is_compared_with_yesterday_up_to_the_same_time_of_day() -> None:
    at = run_app("overview", range="today")
    assert not at.exception
    caption = next(c.value for c in at.caption if c.value.startswith("Change against"))
    yesterday = ui.utc_today() - dt.timedelta(days=1)
    assert caption.startswith(f"Change against {yesterday:%d %b %Y} up to ")
    assert "stops at the same time of day" in caption
    assert (tiles(at)["WiFi logins"].delta or None) == expected_login_change(1, 1)
    # the tile's help says over what dates
    assert "up to" in tiles(at)["WiFi logins"].help
    # one day is "1 day", not "1 days"
    assert any(f"{ui.utc_today():%d %b %Y} (1 day, UTC)" in c.value for c in at.caption)


def test_the_default_30_days_compare_every_tile_with_the_30_days_before() -> None:
    at = run_app("overview")
    assert not at.exception
    assert (tiles(at)["WiFi logins"].delta or None) == expected_login_change(30, 30)
    # 30 + 30 days and the 30-day look-back fit in the demo's 90 days: returning compares too
    assert tiles(at)["Returning visits"].delta
    assert tiles(at)["Returning visits"].delta.endswith(" pp")


def test_the_sidebar_offers_the_same_days_last_week_and_last_year() -> None:
    at = run_app("overview", range="7d", vs="week")
    assert not at.exception
    assert at.sidebar.selectbox(key="flt_compare").value == "week"
    assert (tiles(at)["WiFi logins"].delta or None) == expected_login_change(7, 7)
    # the comparison is part of the address, as the other filters
    assert at.query_params.get("vs") in ("week", ["week"])
    at.sidebar.selectbox(key="flt_compare").set_value("year").run()
    assert not at.exception
    # the demo holds 90 days: a year earlier is outside the history
    assert all(not m.delta for m in at.metric)
    assert any("No change figures" in c.value for c in at.caption)
    at.sidebar.selectbox(key="flt_range").set_value("30d").run()
    at.sidebar.selectbox(key="flt_compare").set_value("week").run()
    assert any("up to 7 days" in c.value for c in at.caption)


def test_every_tile_says_what_its_change_compares_with_and_bounce_is_good_when_down() -> None:
    from c4w.metrics import visits as vm

    for page in ("overview", "logins", "visits"):
        at = run_app(page)
        assert not at.exception
        start = ui.utc_today() - dt.timedelta(days=59)
        for tile in at.metric:
            if tile.delta:
                assert f"Change against {start:%d %b %Y} – " in tile.help, (page, tile.label)
    kpis = {k.key: k for k in vm.visit_kpis(demo_frame().head(0))}
    assert kpis["bounce"].better == "down" and kpis["visits"].better == "up"
    # on the Visits page (the last one drawn): a rise is green for visits, red for bounce rate
    good_when_down = {"Bounce rate", "No length recorded"}
    for tile in at.metric:
        if not tile.delta or tile.delta == "no change":
            continue
        proto = tile.proto
        colour = proto.DESCRIPTOR.fields_by_name["color"].enum_type.values_by_number[proto.color]
        direction = proto.DESCRIPTOR.fields_by_name["direction"].enum_type.values_by_number[
            proto.direction
        ]
        rose = direction.name == "UP"
        good = rose != (tile.label in good_when_down)
        assert colour.name == ("GREEN" if good else "RED"), (tile.label, tile.delta)

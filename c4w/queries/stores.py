"""The Locations page's figures in DuckDB over the store, every location (or group) in one
query (twins of ``c4w.metrics.stores``; the test that they agree:
``tests/test_queries_stores.py``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from c4w import schema
from c4w.metrics import overview as om
from c4w.metrics import stores as sm
from c4w.metrics import visits as vm
from c4w.queries.overview import _period, _placeholders, flagged_visits, visit_columns
from c4w.store.store import EventStore

_USABLE = "visit_duration_min >= 0 AND NOT isnan(visit_duration_min)"


Groups = Mapping[str, Sequence[str]] | Sequence[tuple[str, Sequence[str]]]


def _groups_table(groups: Mapping[str, Sequence[str]]) -> tuple[str, list]:
    """A CTE ``groups (grp, location_id)`` of ``groups`` (a location may be in several), and its
    parameters."""
    pairs = [(key, str(i)) for key, ids in groups.items() for i in ids]
    sql = "groups AS (SELECT unnest(?::VARCHAR[]) AS grp, unnest(?::VARCHAR[]) AS location_id)"
    return sql, [[k for k, _ in pairs], [i for _, i in pairs]]


def group_figures(
    store: EventStore,
    start: dt.date,
    end: dt.date,
    groups: Groups,
    history_from: dt.date | None = None,
    until: dt.datetime | None = None,
    bounce_threshold_min: float = vm.DEFAULT_BOUNCE_MIN,
    trend: bool = True,
) -> dict[str, dict[str, object]]:
    """``sm.store_figures`` of the events of UTC days ``start..end`` (before ``until``) at each
    group's locations (``groups``: name -> location ids, as ``sm.location_groups`` gives them,
    or its items),
    and with ``trend``, its WiFi visits per UTC day (``sm.daily_visits``). The returning share
    looks back at the group's visits from ``history_from`` on; None leaves it out. Every group
    is listed, with zero counts where nothing happened."""
    groups = dict(groups)
    if not groups:
        return {}
    where, params = _period(start, end, (), until)
    cte, group_params = _groups_table(groups)
    kinds = _placeholders(sm.EVENT_TYPES)
    visit = f"type = '{schema.VISIT}'"
    key = store.guest_key(start, end)
    sql = f"""
        WITH {cte},
        rows AS (
            SELECT groups.grp, type, {key} AS guest, visit_duration_min
            FROM events JOIN groups USING (location_id)
            WHERE {where} AND type IN ({kinds})
        )
        SELECT
            grp,
            count(*) FILTER (WHERE {visit}) AS visits,
            count(DISTINCT guest) AS guests,
            count(*) FILTER (WHERE type = '{schema.LOGIN}') AS logins,
            count(*) FILTER (WHERE type = '{schema.SIGNUP}') AS signups,
            quantile_cont(visit_duration_min, 0.5) FILTER (WHERE {visit} AND {_USABLE})
                AS median_dwell,
            count(*) FILTER (WHERE {visit} AND {_USABLE}) AS with_length,
            count(*) FILTER (WHERE {visit} AND {_USABLE} AND visit_duration_min < ?) AS bounces
        FROM rows GROUP BY grp
    """
    values = [*group_params, *params, *sm.EVENT_TYPES, float(bounce_threshold_min)]
    found = {r["grp"]: r for r in store.query(sql, values, start=start, end=end).to_pylist()}
    shares = {}
    if history_from is not None:
        shares = _returning_shares(store, start, end, history_from, groups, until)
    daily = _daily_visits(store, start, end, groups) if trend else {}
    out = {}
    for key in groups:
        row = found.get(key, {})
        with_length = int(row.get("with_length") or 0)
        median = row.get("median_dwell")
        out[key] = {
            "visits": int(row.get("visits") or 0),
            "guests": int(row.get("guests") or 0),
            "logins": int(row.get("logins") or 0),
            "median_dwell": None if median is None else float(median),
            "bounce_rate": int(row["bounces"]) / with_length if with_length else None,
            "returning": shares.get(key) if row.get("visits") else None,
            "signups": int(row.get("signups") or 0),
        }
        if trend:
            out[key]["trend"] = daily.get(key, [0] * ((end - start).days + 1))
    return out


def _returning_shares(
    store: EventStore,
    start: dt.date,
    end: dt.date,
    history_from: dt.date,
    groups: Mapping[str, Sequence[str]],
    until: dt.datetime | None,
) -> dict[str, float | None]:
    """Each group's returning share of its WiFi visits recorded on ``start..end`` (before
    ``until``), judged on the group's own visits from ``history_from`` on (see
    ``c4w.queries.overview.returning_share``, of which this is the grouped form)."""
    first = min(history_from, start)
    where, params = _period(first, end, (), until)
    cte, group_params = _groups_table(groups)
    sql = f"""
        WITH {cte},
        visits AS (
            SELECT groups.grp, {visit_columns(store.guest_key(first, end))}
            FROM events JOIN groups USING (location_id)
            WHERE type = '{schema.VISIT}' AND {where}
        ),
        {flagged_visits(om.RETURNING_LOOKBACK_DAYS, partition_by="grp")}
        SELECT
            grp,
            count(*) FILTER (WHERE created_at >= ?) AS judged,
            count(*) FILTER (WHERE created_at >= ? AND is_returning) AS returning_visits
        FROM flagged GROUP BY grp
    """
    moment = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
    values = [*group_params, *params, moment, moment]
    rows = store.query(sql, values, start=first, end=end).to_pylist()
    return {
        r["grp"]: om.ReturningShare(int(r["returning_visits"]), int(r["judged"])).share
        for r in rows
    }


def _daily_visits(
    store: EventStore, start: dt.date, end: dt.date, groups: Mapping[str, Sequence[str]]
) -> dict[str, list[int]]:
    """Each group's WiFi visits per UTC day ``start..end`` (by the time each was recorded)."""
    where, params = _period(start, end, (), None)
    cte, group_params = _groups_table(groups)
    sql = f"""
        WITH {cte}
        SELECT groups.grp, CAST(created_at AS DATE) - DATE '1970-01-01' AS day_no, count(*) AS n
        FROM events JOIN groups USING (location_id)
        WHERE type = '{schema.VISIT}' AND {where} GROUP BY ALL
    """
    first = (start - dt.date(1970, 1, 1)).days
    n_days = (end - start).days + 1
    out: dict[str, list[int]] = {}
    for row in store.query(sql, [*group_params, *params], start=start, end=end).to_pylist():
        counts = out.setdefault(row["grp"], [0] * n_days)
        counts[row["day_no"] - first] += int(row["n"])
    return out

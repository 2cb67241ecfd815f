"""The Overview's figures in DuckDB over the store (twins of ``c4w.metrics.overview``; the
test that they agree: ``tests/test_queries_overview.py``)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from c4w import schema
from c4w.frame import empty_events_frame
from c4w.metrics import overview as om
from c4w.store.store import EventStore


def _placeholders(values: Sequence[str]) -> str:
    return ", ".join("?" for _ in values)


def headline_counts(
    store: EventStore,
    start: dt.date,
    end: dt.date,
    location_ids: Sequence[str] = (),
    visit_types: Sequence[str] = (schema.VISIT,),
) -> dict[str, float | int | None]:
    """The Overview's headline counts of UTC days ``start``..``end`` (see
    ``c4w.metrics.overview.overview_kpis``): guests (distinct contacts with a visit, login or
    arrival), contacts reached (with an email or SMS sent), sign-ups, WiFi logins, visits (of
    ``visit_types``) and the median visit length in minutes (visits without a usable length left
    out; None when there is none), only at ``location_ids`` when given."""
    counts = period_headline(store, start, end, start, location_ids, visit_types, returning=False)
    del counts["returning"], counts["events"]
    return counts


def events_per_day(store: EventStore, start: dt.date, end: dt.date):
    """Events stored per UTC day and type over ``start``..``end``: columns ``day``, ``type``,
    ``events`` (an arrow table, in day then type order)."""
    return store.query(
        "SELECT day, type, count(*) AS events FROM events GROUP BY day, type ORDER BY day, type",
        start=start,
        end=end,
    )


def _floor_div(column: str, by: int) -> str:
    """SQL for ``column`` divided by ``by``, rounded down (DuckDB's ``//`` rounds toward 0)."""
    return f"({column} // {by} - CASE WHEN {column} % {by} < 0 THEN 1 ELSE 0 END)"


def _moment(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _stop(end: dt.date, until: dt.datetime | None) -> dt.datetime:
    """The moment a period of UTC days ending on ``end`` stops: the next midnight, or ``until``
    when that is sooner."""
    stop = _moment(end + dt.timedelta(days=1))
    return stop if until is None else min(stop, until.astimezone(dt.UTC))


def _period(
    start: dt.date, end: dt.date, location_ids: Sequence[str], until: dt.datetime | None
) -> tuple[str, list]:
    """A WHERE clause for events recorded on UTC days ``start..end`` (before ``until`` when
    given) at ``location_ids`` (every location when empty), and its parameters."""
    where, params = "created_at >= ? AND created_at < ?", [_moment(start), _stop(end, until)]
    if location_ids:
        where += f" AND location_id IN ({_placeholders(location_ids)})"
        params += list(location_ids)
    return where, params


def period_headline(
    store: EventStore,
    start: dt.date,
    end: dt.date,
    history_from: dt.date,
    location_ids: Sequence[str] = (),
    visit_types: Sequence[str] = (schema.VISIT,),
    until: dt.datetime | None = None,
    lookback_days: float | None = om.RETURNING_LOOKBACK_DAYS,
    returning: bool = True,
) -> dict[str, float | int | None]:
    """One period's headline numbers, as ``c4w.metrics.overview._headline`` gives them for the
    events of UTC days ``start..end`` (before ``until``) at ``location_ids``, with the visits
    from ``history_from`` on as the history the returning share looks back into; ``events``
    is how many events the period holds."""
    compared = (start, end, until)
    judged = [compared] if returning else []
    return _headlines(
        store, [compared], judged, history_from, location_ids, visit_types, lookback_days
    )[0]


def headlines(
    store: EventStore,
    start: dt.date,
    end: dt.date,
    history_from: dt.date,
    location_ids: Sequence[str] = (),
    visit_types: Sequence[str] = (schema.VISIT,),
    compared: tuple[dt.date, dt.date, dt.datetime | None] | None = None,
    compared_returning: bool = True,
    lookback_days: float | None = om.RETURNING_LOOKBACK_DAYS,
) -> tuple[dict[str, float | int | None], dict[str, float | int | None] | None]:
    """``period_headline`` of UTC days ``start..end`` and of the ``compared`` period
    (``start``, ``end``, ``until``) when given, its returning share only with
    ``compared_returning``; both periods' returning shares are judged in one pass."""
    periods = [(start, end, None)]
    judged = [(start, end, None)]
    if compared is not None:
        periods.append(compared)
        if compared_returning:
            judged.append(compared)
    found = _headlines(
        store, periods, judged, history_from, location_ids, visit_types, lookback_days
    )
    return found[0], found[1] if compared is not None else None


def side_by_side(queries: int) -> tuple[int, int]:
    """How many of ``queries`` to run at once and on how many DuckDB threads each: one a core
    (at least two at once: parts of each query leave a core idle), the cores shared out among
    them. At 10M events on 2 cores the headline queries took 3.2 CPU s on one thread each and
    4.1 on two, 1.7 s against 2.1 s of waiting."""
    cores = len(os.sched_getaffinity(0))
    at_once = max(1, min(queries, max(2, cores)))
    return at_once, max(1, cores // at_once)


def _headlines(
    store: EventStore,
    periods: list[tuple[dt.date, dt.date, dt.datetime | None]],
    judged: list[tuple[dt.date, dt.date, dt.datetime | None]],
    history_from: dt.date,
    location_ids: Sequence[str],
    visit_types: Sequence[str],
    lookback_days: float | None,
) -> list[dict[str, float | int | None]]:
    """The headline numbers of each of ``periods``, with the returning share of those in
    ``judged`` (None for the others, and where a period has no visit to judge): every query
    runs at once, each on its own connection."""
    visit_types = list(visit_types)
    at_once, threads = side_by_side(2 * len(periods) + (1 if judged else 0))
    with ThreadPoolExecutor(at_once) as pool:
        shares = (
            pool.submit(
                returning_shares,
                store,
                judged,
                history_from,
                location_ids,
                visit_types,
                lookback_days,
                threads,
            )
            if judged
            else None
        )
        counts = [
            (
                pool.submit(_counts, store, start, end, location_ids, visit_types, until, threads),
                pool.submit(_distinct_contacts, store, start, end, location_ids, until, threads),
            )
            for start, end, until in periods
        ]
        found = [{**rows.result(), **people.result()} for rows, people in counts]
        share_of = dict(zip(judged, shares.result(), strict=True)) if shares else {}
    return [
        {
            "events": int(row["events"]),
            "guests": int(row["guests"]),
            "reached": int(row["reached"]),
            "signups": int(row["signups"]),
            "logins": int(row["logins"]),
            "visits": int(row["visits"]),
            "median_dwell": None if row["median_dwell"] is None else float(row["median_dwell"]),
            "returning": share_of[period].share if period in share_of else None,
        }
        for row, period in zip(found, periods, strict=True)
    ]


def _counts(
    store: EventStore,
    start: dt.date,
    end: dt.date,
    location_ids: Sequence[str],
    visit_types: Sequence[str],
    until: dt.datetime | None,
    threads: int | None = None,
) -> dict[str, float | int | None]:
    """Events, sign-ups, WiFi logins, visits and the median visit length of a period."""
    where, params = _period(start, end, location_ids, until)
    visits = f"type IN ({_placeholders(visit_types)})"
    usable = "isfinite(visit_duration_min) AND visit_duration_min >= 0"
    sql = f"""
        SELECT
            count(*) AS events,
            count(*) FILTER (WHERE type = '{schema.SIGNUP}') AS signups,
            count(*) FILTER (WHERE type = '{schema.LOGIN}') AS logins,
            count(*) FILTER (WHERE {visits}) AS visits,
            quantile_cont(visit_duration_min, 0.5) FILTER (WHERE {visits} AND {usable})
                AS median_dwell
        FROM events WHERE {where}
    """
    args = list(visit_types) * 2 + params
    return store.query(sql, args, start=start, end=end, threads=threads).to_pylist()[0]


def _distinct_contacts(
    store: EventStore,
    start: dt.date,
    end: dt.date,
    location_ids: Sequence[str],
    until: dt.datetime | None,
    threads: int | None = None,
) -> dict[str, int]:
    """Guests and contacts reached among a period's events: one pass that groups by contact
    (twice as quick at 10M events as two DISTINCT counts)."""
    where, params = _period(start, end, location_ids, until)
    guest = ", ".join(f"'{name}'" for name in om.GUEST_TYPES)
    reached = ", ".join(f"'{name}'" for name in om.REACHED_TYPES)
    key = store.guest_key(start, end)
    sql = f"""
        SELECT count(*) FILTER (WHERE guest) AS guests, count(*) FILTER (WHERE reached) AS reached
        FROM (
            SELECT
                {key},
                bool_or(type IN ({guest})) AS guest,
                bool_or(type IN ({reached})) AS reached
            FROM events
            WHERE {where} AND {key} IS NOT NULL AND type IN ({guest}, {reached})
            GROUP BY {key}
        )
    """
    return store.query(sql, params, start=start, end=end, threads=threads).to_pylist()[0]


def visit_columns(guest_key: str) -> str:
    """The columns of a ``visits`` CTE that ``flagged_visits`` judges: ``guest`` (the column
    ``guest_key`` of ``EventStore.guest_key``), a visit's start (in ns, the time it was
    recorded when the start is missing) and the number of its local day."""
    return f"""
        created_at,
        {guest_key} AS guest,
        epoch_ns(coalesce(visit_start, created_at)) AS ns,
        coalesce(visit_start_local, created_at_local)::DATE - DATE '1970-01-01' AS day_no
    """


def flagged_visits(lookback_days: float | None, partition_by: str | None = None) -> str:
    """CTEs ``known`` and ``flagged`` over a CTE ``visits`` (``visit_columns``): the visits with
    a guest, a start and a local day, each with ``is_returning`` (see
    ``c4w.metrics.overview.returning_flags``): the guest's previous visit (among those of its
    ``partition_by`` group) was on another local day and started at most ``lookback_days``
    before. A flag depends only on the visits before it, so one pass judges several periods."""
    within = (
        "TRUE"
        if lookback_days is None
        else f"sec - lag(sec) OVER w <= {int(lookback_days * 86_400)}"
    )
    partition = f"{partition_by}, guest" if partition_by else "guest"
    # each guest's visits apart, in time order (quicker than one order of every guest's)
    return f"""
        known AS (
            SELECT *, {_floor_div("ns", 1_000_000_000)} AS sec
            FROM visits WHERE guest IS NOT NULL AND ns IS NOT NULL AND day_no IS NOT NULL
        ),
        flagged AS (
            SELECT
                *,
                coalesce(lag(day_no) OVER w <> day_no AND {within}, FALSE) AS is_returning
            FROM known
            WINDOW w AS (PARTITION BY {partition} ORDER BY sec)
        )
    """


def returning_share(
    store: EventStore,
    start: dt.date,
    end: dt.date,
    history_from: dt.date,
    location_ids: Sequence[str] = (),
    visit_types: Sequence[str] = (schema.VISIT,),
    until: dt.datetime | None = None,
    lookback_days: float | None = om.RETURNING_LOOKBACK_DAYS,
) -> om.ReturningShare:
    """The returning share of the visits recorded on UTC days ``start..end`` (before
    ``until``) at ``location_ids``, each looking back among the visits at those locations
    recorded from ``history_from`` on (see ``c4w.metrics.overview.returning_flags``): a visit
    returns when the guest's previous visit was on another local day and started at most
    ``lookback_days`` before it."""
    periods = [(start, end, until)]
    return returning_shares(store, periods, history_from, location_ids, visit_types, lookback_days)[
        0
    ]


def returning_shares(
    store: EventStore,
    periods: Sequence[tuple[dt.date, dt.date, dt.datetime | None]],
    history_from: dt.date,
    location_ids: Sequence[str] = (),
    visit_types: Sequence[str] = (schema.VISIT,),
    lookback_days: float | None = om.RETURNING_LOOKBACK_DAYS,
    threads: int | None = None,
) -> list[om.ReturningShare]:
    """``returning_share`` of each period (``start``, ``end``, ``until``), all judged in one
    pass that sorts the visits once: each period's share is the one it has alone."""
    first = min(history_from, *(start for start, _, _ in periods))
    last = max(end for _, end, _ in periods)
    # visits after a period's ``until`` are never its previous visits: all can be read
    where, params = _period(first, last, location_ids, None)
    stops = [_stop(end, until) for _, end, until in periods]
    counts = []
    for n in range(len(periods)):
        judged = "created_at >= ? AND created_at < ?"
        counts.append(f"count(*) FILTER (WHERE {judged}) AS judged_{n}")
        counts.append(f"count(*) FILTER (WHERE {judged} AND is_returning) AS returning_{n}")
    sql = f"""
        WITH visits AS (
            SELECT {visit_columns(store.guest_key(first, last))}
            FROM events
            WHERE type IN ({_placeholders(visit_types)}) AND {where}
        ),
        {flagged_visits(lookback_days)}
        SELECT {", ".join(counts)} FROM flagged
    """
    judged_in = [
        value
        for (start, _, _), stop in zip(periods, stops, strict=True)
        for value in (_moment(start), stop) * 2
    ]
    args = list(visit_types) + params + judged_in
    row = store.query(sql, args, start=first, end=last, threads=threads).to_pylist()[0]
    return [
        om.ReturningShare(returning=int(row[f"returning_{n}"]), judged=int(row[f"judged_{n}"]))
        for n in range(len(periods))
    ]


def per_day(
    store: EventStore, start: dt.date, end: dt.date, location_ids: Sequence[str] = ()
) -> pd.DataFrame:
    """``c4w.metrics.overview.events_per_day`` of the events of UTC days ``start..end`` at
    ``location_ids``: every day listed, 0 where nothing happened."""
    where, params = _period(start, end, location_ids, None)
    sql = f"""
        SELECT day - DATE '1970-01-01' AS day_no, CAST(type AS VARCHAR) AS type, count(*) AS n
        FROM events WHERE {where} AND type IS NOT NULL GROUP BY ALL
    """
    table = store.query(sql, params, start=start, end=end).to_pydict()
    if not table["n"]:
        return om.events_per_day(empty_events_frame(), start=start, end=end)
    labels = sorted(set(table["type"]))
    first = (start - dt.date(1970, 1, 1)).days
    counts = np.zeros(((end - start).days + 1, len(labels)), dtype=np.int64)
    for day_no, kind, n in zip(table["day_no"], table["type"], table["n"], strict=True):
        counts[day_no - first, labels.index(kind)] = n
    return om.per_day_of_counts(counts, first, labels)


def weekly_heatmap(
    store: EventStore,
    start: dt.date,
    end: dt.date,
    location_ids: Sequence[str] = (),
    types: Sequence[str] | None = None,
    until: dt.datetime | None = None,
) -> pd.DataFrame:
    """``c4w.metrics.overview.weekly_heatmap`` of the events of UTC days ``start..end`` at
    ``location_ids`` (only of ``types`` when given), ending at ``until``."""
    where, params = _period(start, end, location_ids, None)
    if types:
        where += f" AND type IN ({_placeholders(types)})"
        params += list(types)
    # a local time's weekday and hour; 1970-01-01 was a Thursday (+3 makes Monday 0)
    sql = f"""
        WITH known AS (
            SELECT
                CAST(timezone AS VARCHAR) AS zone,
                epoch_ns(created_at_local) AS local_ns,
                epoch_ns(created_at) AS utc_ns
            FROM events
            WHERE {where} AND created_at_local IS NOT NULL
        )
        SELECT
            zone,
            CASE WHEN zone IS NULL THEN floor((local_ns - utc_ns) / 60000000000.0)::BIGINT END
                AS offset_min,
            ((local_day + 3) % 7) * 24
                + (local_ns - local_day * {om.NS_PER_DAY}) // {om.NS_PER_HOUR} AS cell,
            count(*) AS n
        FROM (SELECT *, {_floor_div("local_ns", om.NS_PER_DAY)} AS local_day FROM known)
        GROUP BY ALL
    """
    table = store.query(sql, params, start=start, end=end).to_pydict()
    zones: dict[object, np.ndarray] = {}
    for zone, offset, cell, n in zip(
        table["zone"], table["offset_min"], table["cell"], table["n"], strict=True
    ):
        key = zone if zone is not None else int(offset)
        zones.setdefault(key, np.zeros(168, dtype=np.int64))[int(cell)] += n
    first = (start - dt.date(1970, 1, 1)).days
    last = (end - dt.date(1970, 1, 1)).days
    return om.heatmap_of_zones(zones, first, last, until)

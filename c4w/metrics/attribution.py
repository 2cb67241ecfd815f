"""Store visits a campaign brought: who returned after the send, against a baseline, with an
interval.

Rules (shown as help text on the Campaigns page):
- **Returned**: a recipient with a WiFi or geofence visit (``visit`` / ``geo_visit`` events)
  starting after their send and at most N days after it (default 7). A visit's start is its
  ``visit_start`` (its event time when the start is missing). A visit on the send day but before
  the send time does not count. A recipient with no visit at all counts as not returned. Each
  campaign is judged on its own send time, so one visit may count for two campaigns sent to the
  same guest a few days apart.
- **Baselines** (the user picks one):
  - *Same guests before*: the recipients' own share with a visit in the N days before their
    send, leaving out recipients first known within those days (their sign-up visit is in
    them) or sent another campaign in them. No figure ("not a fair baseline here") when most
    recipients are that new (a send after a sign-up), when the history does not reach back N
    days before most sends, or when fewer than half as many recipients as other guests visited
    in the 28 days before (a win-back). Paired difference, Wald interval for paired
    proportions.
  - *Comparable guests*: guests not sent this campaign, with marketing consent (when the
    contact says), known before the send, and sent no other campaign from N days before their
    stand-in send to N days after it (that campaign's own effect would count as theirs);
    recipients sent another campaign from N days before their send to N days after it are left
    out by the same rule, so the two groups are picked alike.
    Each is given the median send time of the recipients of their home store (of all
    recipients when none); for a campaign sent on a trigger (most sends within a day of the
    guest being first known, as a welcome email after a sign-up) the pool is the guests first
    known while it was sent, each given their own first-known time plus the recipients' median
    lag. Strata: home store × visits in the 28 days before (none, 1, 2–3, 4 or more) × days
    since the last visit (0–7, 8–28, 29–56, 57+ or never). The baseline weights each
    stratum's returned share by the recipients in it; recipients in a stratum with fewer than
    ``MIN_STRATUM`` comparable guests are left out, and when that leaves under a quarter of
    them there is no figure ("no comparable guests"). Stratified Wald interval.
  - *Holdout*: guests with marketing consent who were sent no campaign at all in the history
    the dashboard holds, known before the send (an org that keeps a holdout leaves them out of
    every send), with send times as for comparable guests. Two-proportion interval by
    Newcombe's hybrid score method (his method 10, from two Wilson intervals). No figure when
    the recipients' share with a visit in the 28 days before is under half or over twice the
    holdout's (the campaign picked guests by their visits).
- **Uplift** = returned share − baseline share, with a 95% interval. "Not enough data" when a
  group has fewer than ``MIN_GROUP`` guests.
- **Incremental visits** = uplift × recipients (guests brought in who would not have come).

Pure functions; nothing here changes its input.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from c4w import schema
from c4w.metrics import memo
from c4w.metrics.campaigns import AT, CLICKED, OPENED, SEND_AT, text_category

DEFAULT_DAYS = 7
HISTORY_DAYS = 28  # the visit-history band looks this far back
MIN_GROUP = 30
MIN_STRATUM = 5  # comparable guests a stratum needs to be used
MIN_COVERED = 0.25  # no comparable figure when fewer recipients than this are in used strata
Z95 = 1.959963984540054
RETURNED = "returned"
BEFORE = "before"
BASELINES = {
    "holdout": "Holdout (never sent a campaign)",
    "comparable": "Comparable guests not sent it",
    "before": "Same guests, the days before",
}
HELP = {
    "returned": "Recipients with a WiFi or geofence visit starting after their send and within "
    "the chosen days (a visit before the send time, even on the same day, does not count).",
    "baseline": "The chosen baseline's share with such a visit in the same number of days.",
    "uplift": "Returned share minus the baseline share, in percentage points, with its 95% "
    "interval. 'Not enough data' when a group has fewer than 30 guests.",
    "incremental": "Uplift × recipients: guests the campaign brought into a store who would not "
    "have come otherwise (with the interval's range).",
    "holdout": "Guests with marketing consent who were sent no campaign at all in the history, "
    "known before the send. No figure when the recipients' share with a visit in the 28 days "
    "before is under half or over twice the holdout's (a campaign that picked guests by their "
    "visits). Interval: Newcombe's hybrid score (method 10).",
    "comparable": "Guests not sent this campaign, with marketing consent, and sent no other "
    "campaign within the chosen days before or after their stand-in send (recipients sent "
    "another campaign within those days of their own send are left out the same way). "
    "Matched on home store, visits in the 28 days before (none, 1, 2–3, 4+) and days since the "
    "last visit (0–7, 8–28, 29–56, 57+ or never), weighted like the recipients. Each is given "
    "the median send time of their home store's recipients; for a campaign sent on a sign-up "
    "(a welcome email), guests who signed up while it was sent, at the same lag after their "
    "own sign-up. Recipients without 5 such guests are left out; no figure when that leaves "
    "under a quarter of them. Interval: stratified Wald.",
    "before": "The same recipients' share with a visit in the same number of days before their "
    "send, leaving out recipients first known within those days or sent another campaign in "
    "them. Not a fair baseline (no figure) when most recipients are that new (a send after a "
    "sign-up follows a visit), when the history held does not reach that far back, or when "
    "fewer than half as many recipients as other guests visited in the 28 days before (a "
    "win-back). Interval: Wald for paired proportions.",
}


class Uplift(NamedTuple):
    """Returned share of the recipients against a baseline, and the difference's interval."""

    baseline: str
    recipients: int
    returned: int
    baseline_guests: int
    baseline_returned: int
    returned_share: float
    baseline_share: float
    uplift: float  # share points as a fraction (0.05 = 5 points); NaN when not enough data
    low: float
    high: float
    method: str
    enough: bool
    reason: str = ""  # why there is no figure when the group is big enough but unfair

    @property
    def incremental(self) -> float:
        return self.uplift * self.recipients if self.enough else float("nan")

    @property
    def incremental_range(self) -> tuple[float, float]:
        if not self.enough:
            return float("nan"), float("nan")
        return self.low * self.recipients, self.high * self.recipients


# --- intervals -----------------------------------------------------------------------------------
def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion."""
    if n <= 0:
        return float("nan"), float("nan")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def newcombe(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> tuple[float, float, float]:
    """p1 − p2 and its interval by Newcombe's hybrid score method (1998, method 10)."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    d = p1 - p2
    return (
        d,
        d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


def paired_wald(
    after: np.ndarray, before: np.ndarray, z: float = Z95
) -> tuple[float, float, float]:
    """Mean of after − before for paired yes/no answers and its Wald interval:
    d = (b − c)/n, se = sqrt(b + c − (b − c)²/n)/n (b: yes after only, c: yes before only)."""
    n = len(after)
    b = int(np.sum(after & ~before))
    c = int(np.sum(~after & before))
    d = (b - c) / n
    se = math.sqrt(max(b + c - (b - c) ** 2 / n, 0.0)) / n
    return d, d - z * se, d + z * se


# --- visits --------------------------------------------------------------------------------------
def visit_starts(events: pd.DataFrame) -> pd.DataFrame:
    """``contact_id, start`` of every WiFi and geofence visit (the event time when the visit's
    start is missing), sorted by contact and start. The contact is a category (its categories
    sorted): a few bytes a visit, where a text per visit held every id once per visit."""
    part = events[events[schema.TYPE].isin(list(schema.VISIT_TYPES)).fillna(False).to_numpy()]
    part = part[part[schema.CONTACT_ID].notna().to_numpy()]
    start = part[schema.VISIT_START].where(
        part[schema.VISIT_START].notna(), part[schema.CREATED_AT]
    )
    out = pd.DataFrame(
        {
            schema.CONTACT_ID: text_category(part[schema.CONTACT_ID]),
            "start": pd.to_datetime(start, utc=True).array,
        }
    ).dropna()
    return out.sort_values([schema.CONTACT_ID, "start"], kind="stable").reset_index(drop=True)


def _contact_codes(visits: pd.DataFrame, contact_ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of ``visits``' contacts and of ``contact_ids`` (one per position), shared
    between the two: -1 for an id with no visit. Joins on them hash no text."""
    column = visits[schema.CONTACT_ID]
    if isinstance(column.dtype, pd.CategoricalDtype):
        known = pd.Index(column.cat.categories.astype(str))
        visit_codes = column.cat.codes.to_numpy()
    else:
        visit_codes, known = pd.factorize(column.astype(str))
    return np.asarray(visit_codes, dtype=np.int64), _places_in(known, contact_ids)


def _places_in(known: pd.Index, contact_ids: pd.Series) -> np.ndarray:
    """Each of ``contact_ids``' place in ``known`` (texts, each once), -1 where it is not
    there: a category's texts are looked up once each, and texts of a store in arrow, with no
    Python string per guest."""
    if isinstance(contact_ids.dtype, pd.CategoricalDtype):
        places = _places_in(known, pd.Series(contact_ids.cat.categories))
        codes = contact_ids.cat.codes.to_numpy()
        return np.where(codes >= 0, places[np.maximum(codes, 0)], -1)
    if isinstance(known.dtype, pd.StringDtype) and isinstance(contact_ids.dtype, pd.StringDtype):
        found = pc.index_in(pa.array(contact_ids.array), value_set=pa.array(known.array))
        return found.fill_null(-1).to_numpy().astype(np.int64)
    asked = known.get_indexer(pd.Index(contact_ids.astype(object).astype(str)))
    return np.asarray(asked, dtype=np.int64)


def visited_between(
    visits: pd.DataFrame,
    contact_ids: pd.Series,
    after: pd.Series,
    until: pd.Series,
    *,
    before_start: bool = False,
) -> np.ndarray:
    """For each (contact, after, until), aligned by position: whether the contact has a visit
    starting in ``(after, until]``, or in ``[after, until)`` with ``before_start`` (the days
    before a send, the send time itself excluded). ``visits`` is ``visit_starts(...)``."""
    out = np.zeros(len(contact_ids), dtype=bool)
    if visits.empty or not len(contact_ids):
        return out
    visit_codes, asked = _contact_codes(visits, contact_ids)
    times = _utc_ns(visits["start"])
    timed = ~np.isnat(times)
    codes, starts = _by_guest_and_time(visit_codes[timed], times[timed].view(np.int64))
    lo, hi = _utc_ns(after), _utc_ns(until)
    q = np.flatnonzero((asked >= 0) & ~np.isnat(lo) & ~np.isnat(hi))
    if not len(q) or not len(codes):
        return out
    # each query's first visit of its guest starting after ``lo`` (or at it, with
    # ``before_start``), by a binary search within the guest's visits, all queries at once: it
    # is inside when it starts by ``hi``. Nothing the size of the visits is made.
    bounds = np.searchsorted(codes, np.arange(int(asked.max()) + 2))
    left, end = bounds[asked[q]], bounds[asked[q] + 1]
    lo_ns, hi_ns = lo[q].view(np.int64), hi[q].view(np.int64)
    right = end.copy()
    while True:
        open_ = left < right
        if not open_.any():
            break
        mid = (left + right) // 2
        at = starts[np.minimum(mid, len(starts) - 1)]
        earlier = at < lo_ns if before_start else at <= lo_ns
        left = np.where(open_ & earlier, mid + 1, left)
        right = np.where(open_ & ~earlier, mid, right)
    found = left < end
    first = starts[np.minimum(left, len(starts) - 1)]
    inside = found & ((first < hi_ns) if before_start else (first <= hi_ns))
    out[q[inside]] = True
    return out


def _by_guest_and_time(codes: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Visits' guest codes and start times sorted by guest, then start: as ``visit_starts``
    gives them (then only checked), or sorted here."""
    if len(codes) > 1:
        step = np.diff(codes)
        if not np.all((step > 0) | ((step == 0) & (np.diff(starts) >= 0))):
            order = np.lexsort((starts, codes))
            return codes[order], starts[order]
    return codes, starts


def _utc_ns(times: pd.Series) -> np.ndarray:
    """``times`` as UTC nanoseconds, whatever unit and zone they come in."""
    return pd.to_datetime(times, utc=True).astype("datetime64[ns, UTC]").to_numpy("datetime64[ns]")


# --- returned ------------------------------------------------------------------------------------
def with_returned(
    people: pd.DataFrame, visits: pd.DataFrame, days: int = DEFAULT_DAYS
) -> pd.DataFrame:
    """A copy of ``people`` (``contact_id, send_at``, ...) with ``returned`` (a visit starting in
    the ``days`` days after the send) and ``before`` (one starting in the ``days`` days before
    it, the send time excluded)."""
    out = people.copy()
    window = pd.Timedelta(days=days)
    send = pd.to_datetime(out[SEND_AT], utc=True)
    ids = out[schema.CONTACT_ID]
    out[RETURNED] = visited_between(visits, ids, send, send + window)
    out[BEFORE] = visited_between(visits, ids, send - window, send, before_start=True)
    return out


def returned_by_engagement(people: pd.DataFrame) -> pd.DataFrame:
    """Returned share by what the recipient did: ``clicked``, ``opened, no click``, ``neither``
    (rows ``group, recipients, returned, returned_share``). ``people`` is ``with_returned``."""
    clicked = people[CLICKED].to_numpy(dtype=bool)
    opened = people[OPENED].to_numpy(dtype=bool) & ~clicked
    neither = ~clicked & ~opened
    rows = []
    for label, mask in (("clicked", clicked), ("opened, no click", opened), ("neither", neither)):
        n = int(mask.sum())
        back = int(people[RETURNED].to_numpy(dtype=bool)[mask].sum())
        rows.append(
            {
                "group": label,
                "recipients": n,
                RETURNED: back,
                "returned_share": back / n if n else np.nan,
            }
        )
    return pd.DataFrame(rows)


def _visits_of(
    visits: pd.DataFrame, contact_ids: pd.Series, at: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The queries (``q``, their position, and ``at``) and every visit of each one's contact
    (``q, at, start``), joined on integer codes; times as UTC nanoseconds."""
    visit_codes, asked = _contact_codes(visits, contact_ids)
    queries = pd.DataFrame({"q": np.arange(len(contact_ids)), "who": asked, "at": _utc_ns(at)})
    starts = pd.DataFrame({"who": visit_codes, "start": _utc_ns(visits["start"])})
    pairs = queries[(queries["who"] >= 0).to_numpy()].merge(starts, on="who", how="inner")
    return queries, pairs


def visit_band(visits: pd.DataFrame, contact_ids: pd.Series, at: pd.Series) -> np.ndarray:
    """The visit-history band of each contact at time ``at``: visits starting in the
    ``HISTORY_DAYS`` days before it ("none", "1", "2-3", "4+")."""
    queries, pairs = _visits_of(visits, contact_ids, at)
    inside = (pairs["start"] < pairs["at"]) & (
        pairs["start"] >= pairs["at"] - pd.Timedelta(days=HISTORY_DAYS)
    )
    counts = np.bincount(
        pairs.loc[inside.to_numpy(), "q"].to_numpy(dtype=np.int64), minlength=len(queries)
    )
    return np.select([counts == 0, counts == 1, counts <= 3], ["none", "1", "2-3"], "4+")


def recency_band(visits: pd.DataFrame, contact_ids: pd.Series, at: pd.Series) -> np.ndarray:
    """Days from each contact's last visit start before ``at`` to ``at``: "0-7", "8-28",
    "29-56", "57+ or never"."""
    queries, pairs = _visits_of(visits, contact_ids, at)
    pairs = pairs[(pairs["start"] < pairs["at"]).to_numpy()]
    last = pairs.groupby("q")["start"].max()
    gap = np.full(len(queries), np.inf)
    at_q = queries["at"].iloc[last.index.to_numpy()]
    gap[last.index.to_numpy()] = (at_q.to_numpy() - last.to_numpy()) / np.timedelta64(1, "D")
    return np.select([gap <= 7, gap <= 28, gap <= 56], ["0-7", "8-28", "29-56"], "57+ or never")


# --- who the baselines hold ----------------------------------------------------------------------
def first_events(events: pd.DataFrame) -> pd.DataFrame:
    """When each contact's first event in ``events`` happened, and the first event with no
    contact (``contact_id`` missing): ``contact_id, created_at``, by contact id, the one with no
    contact last. All that ``known_since`` and ``prepared`` read of the history's own times, so
    a page can hand them this (of every event type) beside a history of some types only. The
    ids are texts (arrow's), the missing one NaN."""
    times = pd.to_datetime(events[schema.CREATED_AT], utc=True)
    contact = events[schema.CONTACT_ID].astype(object)
    first = times.groupby(contact.to_numpy(), dropna=False, sort=True).min()
    return pd.DataFrame(
        {
            schema.CONTACT_ID: pd.Series(first.index, dtype="str"),
            schema.CREATED_AT: first.astype("datetime64[ns, UTC]").array,
        }
    )


def known_since(contacts_created: pd.Series, events: pd.DataFrame) -> pd.Series:
    """contact_id -> when the dashboard first knows the contact: its creation time in Cloud4Wi
    or its first event, whichever is earlier. ``events`` is the history, or its
    ``first_events``."""
    ids = events[schema.CONTACT_ID]
    seen = ids.notna().to_numpy()
    created = pd.to_datetime(contacts_created, utc=True).reset_index(drop=True)
    kept = created.notna().to_numpy()
    times = pd.concat(
        [pd.to_datetime(events[schema.CREATED_AT], utc=True)[seen], created[kept]],
        ignore_index=True,
    )
    # grouped on numbers: each text id hashed once (by arrow for a store's texts), where a
    # Python string per guest, twice over, took ~90 bytes each (and a text index, more)
    every = [_id_texts(ids[seen]), _id_texts(pd.Series(contacts_created.index)[kept])]
    codes, texts = pd.factorize(pd.concat(every, ignore_index=True))
    first = times.groupby(codes).min()
    found = texts.take(first.index.to_numpy())
    order = found.argsort()
    return pd.Series(
        first.array.take(order), index=pd.Index(found.take(order), name=schema.CONTACT_ID)
    )


def _id_texts(ids: pd.Series) -> pd.Series:
    """Contact ids (none missing) as texts: a store's text ids as they are, others through
    ``str``."""
    if isinstance(ids.dtype, pd.StringDtype):
        return ids
    return pd.Series(ids.astype(object).astype(str).to_numpy(), dtype="str")


def baseline_pool(
    kind: str,
    known: pd.Series,
    consent: pd.Series,
    sent_this: set[str],
    sent_any: set[str],
    first_send: pd.Timestamp,
) -> list[str]:
    """The guests a baseline compares with: known before ``first_send``, not refusing marketing
    (``consent`` False; missing = not stated, kept), and not sent this campaign (``comparable``)
    or no campaign at all (``holdout``)."""
    ids = known.index[(known < first_send).to_numpy()]
    refused = set(consent.index[(consent == False).fillna(False).to_numpy()])  # noqa: E712
    excluded = sent_this if kind == "comparable" else sent_any
    return sorted(set(ids.astype(str)) - refused - excluded)


TRIGGER_HOURS = 24  # a send this soon after the guest is first known follows their sign-up
TRIGGERED_SHARE = 0.5  # a campaign is triggered when this share of its sends is that soon


def sign_up_lag(people: pd.DataFrame, known: pd.Series) -> pd.Timedelta | None:
    """For a campaign sent on a trigger (most recipients sent within ``TRIGGER_HOURS`` of when
    the dashboard first knows them, e.g. a welcome email after a sign-up): the median time from
    being known to the send. None for a campaign sent on its own days."""
    if people.empty:
        return None
    send = pd.to_datetime(people[SEND_AT], utc=True)
    since = pd.to_datetime(people[schema.CONTACT_ID].map(known), utc=True)
    lag = (send - since).dropna()
    # a send that is the first thing known of a guest (lag 0) says nothing about a trigger
    soon = (lag > pd.Timedelta(0)) & (lag <= pd.Timedelta(hours=TRIGGER_HOURS))
    if len(lag) == 0 or soon.sum() < TRIGGERED_SHARE * len(people):
        return None
    return lag[soon].median()


def pool_send_times(
    pool: list[str],
    homes: pd.Series,
    people: pd.DataFrame,
    known: pd.Series | None = None,
    lag: pd.Timedelta | None = None,
) -> pd.Series:
    """A stand-in send time for each guest of a baseline: the median send time of the
    recipients of their home store, or of all recipients when that store has none. For a
    campaign sent on a trigger (``lag``, see ``sign_up_lag``): when the guest was first known
    plus that lag."""
    if lag is not None and known is not None:
        times = pd.to_datetime(pd.Series(pool, dtype=object).map(known), utc=True) + lag
        return pd.Series(times.to_numpy(), index=pd.Index(pool, dtype=object), name=SEND_AT)
    send = pd.to_datetime(people[SEND_AT], utc=True)
    r_home = people[schema.CONTACT_ID].map(homes)
    by_home = send.groupby(r_home.to_numpy()).median()
    overall = send.median()
    p_home = pd.Series(pool, dtype=object).map(homes)
    times = p_home.map(by_home)
    times = pd.to_datetime(times, utc=True).fillna(overall)
    return pd.Series(times.to_numpy(), index=pd.Index(pool, dtype=object), name=SEND_AT)


def _not_enough(
    kind: str, people: pd.DataFrame, n_base: int, x_base: int, method: str, reason: str = ""
) -> Uplift:
    n, x = len(people), int(people[RETURNED].sum()) if len(people) else 0
    return Uplift(
        kind,
        n,
        x,
        n_base,
        x_base,
        x / n if n else float("nan"),
        x_base / n_base if n_base else float("nan"),
        float("nan"),
        float("nan"),
        float("nan"),
        method,
        False,
        reason,
    )


UNFAIR_NEW_SHARE = 0.5  # "before" is unfair when more recipients than this are that new
UNFAIR_RECENT_RATIO = 0.5  # ... or when their share with a visit in the 28 days before is
# under half that of the other guests: chosen for not coming


def recent_visit_shares(
    people: pd.DataFrame, visits: pd.DataFrame, known: pd.Series
) -> tuple[float, float]:
    """The recipients' share with a visit in the ``HISTORY_DAYS`` days before their send, and
    that of the other guests known by then, at the recipients' median send time."""
    if people.empty:
        return float("nan"), float("nan")
    send = pd.to_datetime(people[SEND_AT], utc=True)
    back = pd.Timedelta(days=HISTORY_DAYS)
    mine = visited_between(visits, people[schema.CONTACT_ID], send - back, send, before_start=True)
    at_ = send.median()
    others = known.index[(known <= at_ - back).to_numpy()].difference(people[schema.CONTACT_ID])
    if len(others) == 0:
        return float(mine.mean()), float("nan")
    ids = pd.Series(others, dtype=object)
    theirs = visited_between(
        visits,
        ids,
        pd.Series([at_ - back] * len(ids)),
        pd.Series([at_] * len(ids)),
        before_start=True,
    )
    return float(mine.mean()), float(theirs.mean())


def sent_other_around(people: pd.DataFrame, other_sends: pd.DataFrame, days: int) -> np.ndarray:
    """For each guest (aligned with ``people``: ``contact_id, send_at``): whether they were sent
    another campaign (``other_sends``: ``contact_id, at``) from ``days`` days before their send
    to ``days`` days after it."""
    fake = pd.DataFrame(
        {schema.CONTACT_ID: other_sends[schema.CONTACT_ID].astype(str), "start": other_sends[AT]}
    )
    send = pd.to_datetime(people[SEND_AT], utc=True)
    window = pd.Timedelta(days=days)
    ids = people[schema.CONTACT_ID]
    return visited_between(fake, ids, send - window, send + window, before_start=True)


def sent_other_before(people: pd.DataFrame, other_sends: pd.DataFrame, days: int) -> np.ndarray:
    """For each recipient (aligned with ``people``): whether they were sent another campaign
    (``other_sends``: ``contact_id, at``) in the ``days`` days before their send."""
    fake = pd.DataFrame(
        {schema.CONTACT_ID: other_sends[schema.CONTACT_ID].astype(str), "start": other_sends[AT]}
    )
    send = pd.to_datetime(people[SEND_AT], utc=True)
    window = pd.Timedelta(days=days)
    return visited_between(fake, people[schema.CONTACT_ID], send - window, send, before_start=True)


def uplift_before(
    people: pd.DataFrame,
    known: pd.Series | None = None,
    days: int = DEFAULT_DAYS,
    recent: tuple[float, float] = (float("nan"), float("nan")),
    other_before: np.ndarray | None = None,
    held_from: pd.Timestamp | None = None,
) -> Uplift:
    """Returned share against the same recipients' share in the days before their send.

    Only recipients first known (``known``: contact_id -> time) at least ``days`` before their
    send count: for a newer guest the days before hold their sign-up visit, so they are not
    ordinary days. Recipients sent another campaign in the days before (``other_before``,
    aligned with ``people``) are left out too: that campaign's visits sit in their days before.
    So are recipients whose days before start before ``held_from`` (the first day the history
    holds); when that is most of them, the baseline gives no figure. It is not fair either,
    and gives no figure (``reason``), when more than half of the recipients are that new (a
    campaign sent on a sign-up follows a visit by construction), or when ``recent``
    (``recent_visit_shares``) shows them chosen for not coming (a win-back): their share with
    a visit in the 28 days before is under half the other guests'."""
    method = "Wald interval for paired proportions"
    total = len(people)
    if known is not None and total:
        since = pd.to_datetime(people[schema.CONTACT_ID].map(known), utc=True)
        send = pd.to_datetime(people[SEND_AT], utc=True)
        settled = (since <= send - pd.Timedelta(days=days)).to_numpy(dtype=bool)
        if total >= MIN_GROUP and (~settled).mean() > UNFAIR_NEW_SHARE:
            reason = (
                f"not a fair baseline here: {(~settled).mean():.0%} of the recipients were first "
                f"known less than {days} days before their send (the send follows a sign-up, "
                "which follows a visit), so their days before are not ordinary days"
            )
            return _not_enough("before", people, total, int(people[BEFORE].sum()), method, reason)
        if held_from is not None:
            cut = (send - pd.Timedelta(days=days) < held_from).to_numpy(dtype=bool)
            if total >= MIN_GROUP and cut.mean() > UNFAIR_NEW_SHARE:
                reason = (
                    f"not a fair baseline here: the history held starts on "
                    f"{held_from:%d %b %Y}, less than {days} days before most sends, so their "
                    "days before are cut short"
                )
                return _not_enough(
                    "before", people, total, int(people[BEFORE].sum()), method, reason
                )
            settled = settled & ~cut
        people = people[settled & (True if other_before is None else ~other_before)]
    n = len(people)
    after = people[RETURNED].to_numpy(dtype=bool)
    before = people[BEFORE].to_numpy(dtype=bool)
    if n < MIN_GROUP:
        return _not_enough("before", people, n, int(before.sum()), method)
    mine, theirs = recent
    if mine < UNFAIR_RECENT_RATIO * theirs:
        reason = (
            f"not a fair baseline here: {mine:.0%} of the recipients visited in the "
            f"{HISTORY_DAYS} days before their send against {theirs:.0%} of the other guests, "
            "so they look chosen for not coming (a win-back); their days before say nothing of "
            "what they would have done"
        )
        return _not_enough("before", people, n, int(before.sum()), method, reason)
    d, low, high = paired_wald(after, before)
    return Uplift(
        "before",
        n,
        int(after.sum()),
        n,
        int(before.sum()),
        after.mean(),
        before.mean(),
        d,
        low,
        high,
        method,
        True,
    )


def uplift_holdout(
    people: pd.DataFrame,
    holdout: pd.DataFrame,
    recent: tuple[float, float] = (float("nan"), float("nan")),
) -> Uplift:
    """Returned share against the holdout's (``holdout``: ``contact_id, send_at, returned``).

    ``recent``: the recipients' and the holdout's shares with a visit in the ``HISTORY_DAYS``
    days before the (stand-in) send. When the recipients' is under half the holdout's or over
    twice it, they were picked by their visits (a win-back, say) and a holdout of all guests
    is no comparison: no figure, and ``reason`` says why."""
    method = "Newcombe hybrid score interval (method 10)"
    n, m = len(people), len(holdout)
    x = int(people[RETURNED].sum()) if n else 0
    y = int(holdout[RETURNED].sum()) if m else 0
    if n < MIN_GROUP or m < MIN_GROUP:
        return _not_enough("holdout", people, m, y, method)
    mine, theirs = recent
    if mine < UNFAIR_RECENT_RATIO * theirs or mine > theirs / UNFAIR_RECENT_RATIO:
        reason = (
            f"no comparable guests in the holdout: {mine:.0%} of the recipients visited in the "
            f"{HISTORY_DAYS} days before their send against {theirs:.0%} of the holdout, so the "
            "campaign picked its guests by their visits"
        )
        return _not_enough("holdout", people, m, y, method, reason)
    d, low, high = newcombe(x, n, y, m)
    return Uplift("holdout", n, x, m, y, x / n, y / m, d, low, high, method, True)


def uplift_comparable(
    people: pd.DataFrame, pool: pd.DataFrame, homes: pd.Series, visits: pd.DataFrame
) -> Uplift:
    """Returned share against comparable guests (``pool``: ``contact_id, send_at, returned``),
    stratified by home store and visit-history band; recipients of strata without a comparable
    guest are left out."""
    method = "stratified Wald interval"

    def strata(frame: pd.DataFrame) -> pd.Series:
        home = frame[schema.CONTACT_ID].map(homes).fillna("no home store").astype(str)
        ids, at_ = frame[schema.CONTACT_ID], frame[SEND_AT]
        band = pd.Series(visit_band(visits, ids, at_), index=frame.index)
        recent = pd.Series(recency_band(visits, ids, at_), index=frame.index)
        return home + " · " + band + " · " + recent

    r = people.assign(stratum=strata(people).to_numpy())
    c = pool.assign(stratum=strata(pool).to_numpy()) if len(pool) else pool.assign(stratum=[])
    r_by = r.groupby("stratum")[RETURNED].agg(["size", "sum"])
    c_by = c.groupby("stratum")[RETURNED].agg(["size", "sum"])
    both = r_by.add_suffix("_r").join(c_by.add_suffix("_c"), how="inner")
    both = both[both["size_c"] >= MIN_STRATUM]
    n = int(both["size_r"].sum())
    m = int(both["size_c"].sum())
    kept = r[r["stratum"].isin(both.index).to_numpy()]
    if len(r) >= MIN_GROUP and n < MIN_COVERED * len(r):
        reason = (
            f"no comparable guests: only {n / len(r):.0%} of the recipients have at least "
            f"{MIN_STRATUM} guests like them (same home store and visit history) who were not "
            "sent it, so the campaign reached nearly everyone of their kind"
        )
        return _not_enough("comparable", kept, m, int(both["sum_c"].sum()), method, reason)
    if n < MIN_GROUP or m < MIN_GROUP:
        return _not_enough("comparable", kept, m, int(both["sum_c"].sum()) if m else 0, method)
    w = both["size_r"] / n
    p_r = both["sum_r"] / both["size_r"]
    p_c = both["sum_c"] / both["size_c"]
    share_r = float((w * p_r).sum())
    share_c = float((w * p_c).sum())
    # variances from (x + 0.5) / (n + 1), so a stratum where everyone (or no one) returned does
    # not count as certain
    q_r = (both["sum_r"] + 0.5) / (both["size_r"] + 1)
    q_c = (both["sum_c"] + 0.5) / (both["size_c"] + 1)
    var = float(
        (w**2 * (q_r * (1 - q_r) / both["size_r"] + q_c * (1 - q_c) / both["size_c"])).sum()
    )
    d = share_r - share_c
    half = Z95 * math.sqrt(var)
    x = int(both["sum_r"].sum())
    return Uplift(
        "comparable",
        n,
        x,
        m,
        int(both["sum_c"].sum()),
        share_r,
        share_c,
        d,
        d - half,
        d + half,
        method,
        True,
    )


def pool_returned(
    pool: list[str],
    homes: pd.Series,
    people: pd.DataFrame,
    visits: pd.DataFrame,
    days: int,
    known: pd.Series | None = None,
    lag: pd.Timedelta | None = None,
) -> pd.DataFrame:
    """``contact_id, send_at, returned`` for the guests of a baseline (stand-in send times)."""
    times = pool_send_times(pool, homes, people, known, lag)
    frame = pd.DataFrame({schema.CONTACT_ID: list(pool), SEND_AT: times.to_numpy()})
    frame[SEND_AT] = pd.to_datetime(frame[SEND_AT], utc=True)
    window = pd.Timedelta(days=days)
    frame[RETURNED] = visited_between(
        visits, frame[schema.CONTACT_ID], frame[SEND_AT], frame[SEND_AT] + window
    )
    return frame


class Attribution(NamedTuple):
    """One campaign's recipients with their returns, and the uplift against one baseline."""

    people: pd.DataFrame  # campaigns.recipients(...) + returned, before
    uplift: Uplift
    baseline_guests: pd.DataFrame  # contact_id, send_at, returned (empty for "before")


class Prepared(NamedTuple):
    """What every campaign's attribution reads from one history and contacts frame."""

    actions: pd.DataFrame  # campaigns.campaign_events(history)
    sends: pd.DataFrame  # its sends: contact_id, campaign_id, channel, at
    visits: pd.DataFrame  # visit_starts(history)
    homes: pd.Series  # campaigns.home_stores(history)
    consent: pd.Series  # contact_id -> marketing consent (empty when unknown)
    known: pd.Series  # known_since(...)
    held_from: pd.Timestamp  # the first event's time


@memo.remember(size=4)
def prepared(
    history: pd.DataFrame,
    contacts: pd.DataFrame,
    firsts: pd.DataFrame | None = None,
    visits: pd.DataFrame | None = None,
    homes: pd.Series | None = None,
) -> Prepared:
    """The parts of ``campaign_uplift`` that depend on the frames only, kept for the next
    campaign or baseline of the same frames (see ``c4w.metrics.memo``). ``firsts`` is the
    ``first_events`` of the whole history when ``history`` holds only the event types the
    campaign figures read (``campaigns.EVENT_TYPES``): when guests were first known, and when
    the history starts, come from every type. ``visits`` and ``homes`` are the
    ``visit_starts`` and ``campaigns.home_stores`` of the history's visits when ``history``
    holds only the campaign events (``campaigns.ACTION_TYPES``; from the store:
    ``c4w.queries.campaigns``)."""
    from c4w import contacts as ct
    from c4w.metrics import campaigns as cm

    actions = cm.campaign_events(history)
    sends = actions.loc[
        (actions[cm.ACTION] == cm.SEND).to_numpy(),
        [schema.CONTACT_ID, schema.CAMPAIGN_ID, schema.CHANNEL, cm.AT],
    ]
    by_id = contacts.set_index(schema.CONTACT_ID) if len(contacts) else None
    consent = by_id[ct.MARKETING_CONSENT] if by_id is not None else pd.Series(dtype="boolean")
    created = by_id[ct.CREATED] if by_id is not None else pd.Series(dtype="datetime64[ns, UTC]")
    seen = history if firsts is None else firsts
    return Prepared(
        actions,
        sends,
        visit_starts(history) if visits is None else visits,
        cm.home_stores(history) if homes is None else homes,
        consent,
        known_since(created, seen),
        pd.to_datetime(seen[schema.CREATED_AT], utc=True).min(),
    )


def campaign_uplift(
    history: pd.DataFrame,
    contacts: pd.DataFrame,
    campaign_id: str,
    channel: str,
    start,
    end,
    days: int = DEFAULT_DAYS,
    baseline: str = "holdout",
    firsts: pd.DataFrame | None = None,
    visits: pd.DataFrame | None = None,
    homes: pd.Series | None = None,
) -> Attribution:
    """Everything the attribution shows for one campaign sent on days ``start..end``.

    ``history`` holds the events of the days around the sends (at least ``days`` before the
    first and after the last, plus ``HISTORY_DAYS`` before for the comparable guests' bands);
    ``contacts`` is the contacts frame (empty when unknown: then nobody's consent is known and
    guests are known from their first event); ``firsts``, the ``first_events`` of those days
    when ``history`` holds only some event types, and ``visits`` and ``homes`` when it holds
    no visit (see ``prepared``)."""
    from c4w.metrics import campaigns as cm

    if baseline not in BASELINES:
        raise ValueError(f"baseline must be one of {sorted(BASELINES)}, not {baseline!r}")
    held = prepared(history, contacts, firsts, visits, homes)
    actions, visits, sends, known = held.actions, held.visits, held.sends, held.known
    people = cm.recipients(actions, campaign_id, channel, start, end)
    people = with_returned(people, visits, days)
    empty = pd.DataFrame({schema.CONTACT_ID: [], SEND_AT: [], RETURNED: []})
    if people.empty:
        return Attribution(people, uplift_before(people), empty)
    homes, consent = held.homes, held.consent
    this = (sends[schema.CAMPAIGN_ID] == campaign_id) & (sends[schema.CHANNEL] == channel)
    # each guest once, not each send (a Python string per send)
    sent_this = set(sends.loc[this.to_numpy(), schema.CONTACT_ID].unique())
    sent_any = set(sends[schema.CONTACT_ID].unique())
    if baseline == "before":
        held_from = held.held_from
        recent = recent_visit_shares(people, visits, known)
        other = sent_other_before(people, sends[~this.to_numpy()], days)
        found = uplift_before(people, known, days, recent, other, held_from)
        return Attribution(people, found, empty)
    first_send, last_send = people[SEND_AT].min(), people[SEND_AT].max()
    lag = sign_up_lag(people, known) if baseline == "comparable" else None
    if lag is None:
        pool = baseline_pool(baseline, known, consent, sent_this, sent_any, first_send)
    else:  # guests first known while the campaign was being sent, each on their own day
        pool = baseline_pool(baseline, known, consent, sent_this, sent_any, last_send)
        since = known.reindex(pool)
        pool = list(since.index[(since + lag >= first_send).to_numpy()])
    guests = pool_returned(pool, homes, people, visits, days, known, lag)
    if baseline == "comparable":
        # Guests sent another campaign within N days of their stand-in send carry that
        # campaign's effect. (Only near it: a later win-back goes to those who stopped coming.)
        others = sends[~this.to_numpy()]
        busy = sent_other_around(guests, others, days)
        guests = guests[~busy].reset_index(drop=True)
        # The same rule for the recipients, or the two groups differ by whom the other
        # campaigns picked: a welcome email leaves out of the pool, not of the recipients, the
        # guests who signed up in the days before, and they come back less than older guests
        # with the same visit history.
        alone = people[~sent_other_around(people, others, days)]
        return Attribution(people, uplift_comparable(alone, guests, homes, visits), guests)
    if baseline == "holdout":
        back = pd.Timedelta(days=HISTORY_DAYS)

        def recent_share(frame: pd.DataFrame) -> float:
            send = frame[SEND_AT]
            ids = frame[schema.CONTACT_ID]
            hit = visited_between(visits, ids, send - back, send, before_start=True)
            return float(hit.mean()) if len(hit) else float("nan")

        recent = (recent_share(people), recent_share(guests))
        return Attribution(people, uplift_holdout(people, guests, recent), guests)
    return Attribution(people, uplift_comparable(people, guests, homes, visits), guests)


# The Campaigns page's entry: one result per campaign, baseline and days, kept while the same
# frames come back (the page reruns on every click).
remembered_uplift = memo.remember(campaign_uplift, size=32)

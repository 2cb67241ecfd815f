"""How each email and SMS campaign did: sends, opens, clicks, rates, timing, who did what.

Rules (shown as help text on the Campaigns page):
- A campaign is its ``campaign_id`` and channel (email or SMS; from the event's ``channel``, else
  from its type). Its name is the latest ``campaign_name`` seen for it.
- Sent counts send events in the chosen days; recipients are the distinct contacts sent it. A
  recipient's send time is their first send of the campaign in those days.
- Opened / clicked count recipients with an open / click of the same campaign at or after their
  send time (each contact once). An open or click from a contact with no recorded send of that
  campaign is not counted as an open or click; it is counted apart ("without a recorded send").
- Open rate = opened / recipients; click rate = clicked / recipients; click-to-open = clicked /
  opened (email only: SMS has no opens).

Pure functions; nothing here changes its input.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from c4w import schema
from c4w.metrics import memo
from c4w.metrics.overview import codes_and_labels, time_ns

# Every column the campaign figures here and in `c4w.metrics.attribution` read: a page reads
# only these of the history.
ACTION_COLUMNS = (  # of the campaign events: all a page with the visits from the store reads
    schema.CONTACT_ID,
    schema.TYPE,
    schema.CREATED_AT,
    schema.CAMPAIGN_ID,
    schema.CAMPAIGN_NAME,
    schema.CHANNEL,
)
COLUMNS_READ = (*ACTION_COLUMNS, schema.LOCATION_ID, schema.VISIT_START)

SEND, OPEN, CLICK = "send", "open", "click"
CHANNELS = ("email", "sms")
ACTIONS: dict[str, tuple[str, str]] = {  # event type -> (channel, action)
    schema.SEND_EMAIL: ("email", SEND),
    schema.OPEN_EMAIL: ("email", OPEN),
    schema.CLICK_EMAIL: ("email", CLICK),
    schema.SEND_SMS: ("sms", SEND),
    schema.CLICK_SMS: ("sms", CLICK),
}
# Every event type they read: sends, opens and clicks (the campaign table, the recipients)
# and WiFi and geofence visits (returned, home stores, visit bands). When guests were first
# known, and when the history starts, are read of every type apart (``attribution.prepared``).
ACTION_TYPES: tuple[str, ...] = tuple(ACTIONS)
EVENT_TYPES: tuple[str, ...] = (*ACTION_TYPES, *schema.VISIT_TYPES)
CAMPAIGN = "campaign"  # the campaign's name (its id when it has none)
ACTION, AT = "action", "at"
SEND_AT, OPENED, CLICKED = "send_at", "opened", "clicked"
OPEN_AT, CLICK_AT = "open_at", "click_at"

SENT, RECIPIENTS = "sent", "recipients"
OPEN_RATE, CLICK_RATE, CLICK_TO_OPEN = "open_rate", "click_rate", "click_to_open"
FIRST_SEND, LAST_SEND = "first_send", "last_send"
SENDS_PER_DAY, OPENS_PER_DAY = "sends_per_day", "opens_per_day"
WITHOUT_SEND = "without_send"

HELP = {
    SENT: "Send events of this campaign on the chosen days (a contact sent it twice counts twice).",
    RECIPIENTS: "Distinct contacts sent this campaign on the chosen days.",
    OPENED: "Recipients with an open of this campaign at or after their first send (each once).",
    CLICKED: "Recipients with a click of this campaign at or after their first send (each once).",
    OPEN_RATE: "Opened ÷ recipients. SMS have no opens.",
    CLICK_RATE: "Clicked ÷ recipients.",
    CLICK_TO_OPEN: "Clicked ÷ opened (email only).",
    FIRST_SEND: "The first send of this campaign on the chosen days (UTC).",
    LAST_SEND: "The last send of this campaign on the chosen days (UTC).",
    SENDS_PER_DAY: "Sends per UTC day, first to last chosen day.",
    OPENS_PER_DAY: "Opens per UTC day (all open events of recipients), first to last chosen day.",
    WITHOUT_SEND: "Contacts who opened or clicked this campaign with no recorded send of it "
    "(not counted as opened or clicked).",
}
TIME_TO_HELP = (
    "Hours from a recipient's first send to their first open (or first click) of the campaign: "
    "the median and the 90th percentile over the recipients who opened (clicked)."
)
NEW_DAYS = 30  # a guest is new when they signed up within this many days before the send


def text_values(column: pd.Series) -> np.ndarray:
    """``column``'s values as text, an object array (missing values stay missing). A category
    column gives one Python string per category, shared by its rows, not one per row: a
    million rows of a few hundred thousand guests hold that many strings, not a million."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        names = [str(value) for value in column.cat.categories]
        lookup = np.array([*names, np.nan], dtype=object)  # code -1 (missing) -> the last
        return lookup[column.cat.codes.to_numpy()]
    return column.astype(object).astype(str).to_numpy()


def text_category(column: pd.Series) -> pd.Categorical:
    """``column`` as ``pd.Categorical(text_values(column))`` gives it (text categories: the
    values present, sorted), without a Python object per row when ``column`` is a category."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return pd.Categorical(text_values(column))
    codes = column.cat.codes.to_numpy()
    used = np.unique(codes[codes >= 0])
    categories = column.cat.categories
    if isinstance(categories.dtype, pd.StringDtype):
        # texts already, each once (a store's frame): sorted by arrow, kept in arrow, where a
        # Python string per guest took about 90 bytes each and a slow sort
        texts = pa.array(categories.array).take(pa.array(used))
        order = pc.array_sort_indices(texts).to_numpy()
        names = pd.Index(pd.array(texts.take(pa.array(order)), dtype="str"), dtype="str")
    else:
        texts = np.array([str(value) for value in categories[used]], dtype=object)
        if len(set(texts)) < len(texts):  # two categories with one text (5 and "5"): merge them
            return pd.Categorical(text_values(column))
        order = np.argsort(texts, kind="stable")
        names = pd.Index(texts[order])
    recode = np.full(len(categories), -1, dtype=np.int64)
    recode[used[order]] = np.arange(len(used))
    new_codes = np.where(codes >= 0, recode[np.maximum(codes, 0)], -1)
    return pd.Categorical.from_codes(new_codes, categories=names)


def campaign_events(events: pd.DataFrame) -> pd.DataFrame:
    """One row per send, open and click with a contact, a campaign id and a time:
    ``contact_id, campaign_id, campaign, channel, action, at`` (every column but the time a
    category, its categories the texts present, sorted), in time order. Computed on category
    codes: no text is held per row."""
    kinds, kind_names = codes_and_labels(events[schema.TYPE])
    is_action = np.array([name in ACTIONS for name in kind_names] + [False])  # -1: the last
    part = events[is_action[kinds]]
    part = part[
        (
            part[schema.CONTACT_ID].notna()
            & part[schema.CAMPAIGN_ID].notna()
            & part[schema.CREATED_AT].notna()
        ).to_numpy()
    ]
    at = pd.to_datetime(part[schema.CREATED_AT], utc=True)
    order = np.argsort(time_ns(at), kind="stable")
    part = part.iloc[order]
    kinds, kind_names = codes_and_labels(part[schema.TYPE])
    of_kind = [ACTIONS.get(name, ("", "")) for name in kind_names]
    channel = _channel_codes(part[schema.CHANNEL], kinds, [c for c, _ in of_kind])
    actions = sorted({action for _, action in ACTIONS.values()})
    action = np.array([actions.index(a) if a in actions else -1 for _, a in of_kind] + [-1])[kinds]
    campaign = text_category(part[schema.CAMPAIGN_ID])
    return pd.DataFrame(
        {
            schema.CONTACT_ID: text_category(part[schema.CONTACT_ID]),
            schema.CAMPAIGN_ID: campaign,
            CAMPAIGN: _campaign_names(part[schema.CAMPAIGN_NAME], campaign, channel),
            schema.CHANNEL: _used_category(channel, CHANNELS),
            ACTION: _used_category(action, actions),
            AT: at.iloc[order].array,
        }
    )


def _used_category(codes: np.ndarray, names: Sequence[str]) -> pd.Categorical:
    """A category of ``names[code]`` for each code (-1: missing), its categories the names
    used, sorted."""
    return text_category(pd.Series(pd.Categorical.from_codes(codes, categories=list(names))))


def _channel_codes(given: pd.Series, kinds: np.ndarray, kind_channels: list[str]) -> np.ndarray:
    """Each row's channel, a code into ``CHANNELS``: the event's own channel when it says email
    or SMS (in any case), else the channel of its type (``kind_channels[kind]``)."""
    codes, names = codes_and_labels(given)
    lowered = [str(name).lower() for name in names]
    own = np.array([CHANNELS.index(n) if n in CHANNELS else -1 for n in lowered] + [-1])[codes]
    of_kind = np.array([CHANNELS.index(c) if c in CHANNELS else -1 for c in kind_channels] + [-1])
    return np.where(own >= 0, own, of_kind[kinds])


def _campaign_names(
    names: pd.Series, campaign: pd.Categorical, channel: np.ndarray
) -> pd.Categorical:
    """Each row's campaign name: the latest name given to its campaign id on its channel (rows
    in time order), the id when it was never named."""
    name_codes, labels = codes_and_labels(names)
    pair = campaign.codes.astype(np.int64) * len(CHANNELS) + channel
    pairs, pair_of_row = np.unique(pair, return_inverse=True)
    named = name_codes >= 0
    latest = pd.Series(name_codes[named]).groupby(pair[named]).last().reindex(pairs)
    texts = [
        str(labels[int(code)]) if code == code else str(campaign.categories[p // len(CHANNELS)])
        for code, p in zip(latest.to_numpy(), pairs, strict=True)
    ]
    categories = sorted(set(texts))
    place = {text: n for n, text in enumerate(categories)}
    of_pair = np.array([place[text] for text in texts], dtype=np.int64)
    return pd.Categorical.from_codes(of_pair[pair_of_row], categories=pd.Index(categories))


def _in_days(times: pd.Series, start: dt.date | None, end: dt.date | None) -> np.ndarray:
    ok = np.ones(len(times), dtype=bool)
    if start is not None:
        ok &= (times >= pd.Timestamp(start, tz="UTC")).to_numpy()
    if end is not None:
        ok &= (times < pd.Timestamp(end + dt.timedelta(days=1), tz="UTC")).to_numpy()
    return ok


def recipients(
    actions: pd.DataFrame,
    campaign_id: str,
    channel: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pd.DataFrame:
    """One row per contact sent the campaign on days ``start..end`` (None = no bound):
    ``contact_id, send_at`` (their first send), ``open_at``, ``click_at`` (their first open /
    click at or after it, NaT when none), ``opened``, ``clicked``. ``actions`` is
    ``campaign_events(...)``."""
    mine = actions[
        ((actions[schema.CAMPAIGN_ID] == campaign_id) & (actions[schema.CHANNEL] == channel))
        .fillna(False)
        .to_numpy()
    ]
    out = _recipients_of(mine, start, end)
    out[schema.CONTACT_ID] = out[schema.CONTACT_ID].astype(str)  # one row per recipient: text
    return out


def _recipients_of(mine: pd.DataFrame, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
    """``recipients`` of one campaign's actions ``mine``, the contact still a category of
    ``mine``'s contacts."""
    sends = mine[(mine[ACTION] == SEND).to_numpy() & _in_days(mine[AT], start, end)]
    first = sends.groupby(schema.CONTACT_ID, sort=True, observed=True)[AT].min().rename(SEND_AT)
    out = first.reset_index()
    for action, column in ((OPEN, OPEN_AT), (CLICK, CLICK_AT)):
        done = mine[(mine[ACTION] == action).to_numpy()]
        done = done.merge(out, on=schema.CONTACT_ID, how="inner")
        done = done[(done[AT] >= done[SEND_AT]).to_numpy()]
        when = done.groupby(schema.CONTACT_ID, observed=True)[AT].min().rename(column)
        out = out.merge(when, left_on=schema.CONTACT_ID, right_index=True, how="left")
        out[column] = pd.to_datetime(out[column], utc=True)
    out[OPENED] = out[OPEN_AT].notna()
    out[CLICKED] = out[CLICK_AT].notna()
    return out[[schema.CONTACT_ID, SEND_AT, OPEN_AT, CLICK_AT, OPENED, CLICKED]]


def _codes(contacts: pd.Series) -> np.ndarray:
    return contacts.cat.codes.to_numpy()


def _rate(part: float, whole: float) -> float:
    return float(part) / float(whole) if whole else float("nan")


def _per_day(times: pd.Series, start: dt.date, end: dt.date) -> list[int]:
    days = (end - start).days + 1
    if days <= 0:
        return []
    index = ((times - pd.Timestamp(start, tz="UTC")) // pd.Timedelta(days=1)).to_numpy()
    index = index[(index >= 0) & (index < days)].astype(int)
    return np.bincount(index, minlength=days).tolist()


def campaign_summary(events: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    """One row per campaign and channel sent on days ``start..end``: ``campaign_id, campaign,
    channel, sent, recipients, opened, clicked, open_rate, click_rate, click_to_open,
    first_send, last_send, sends_per_day, opens_per_day, without_send``, most recipients first.

    ``events`` may reach past ``end`` so opens and clicks after the last day are counted."""
    actions = campaign_events(events)
    in_days = _in_days(actions[AT], start, end)
    sends = actions[(actions[ACTION] == SEND).to_numpy() & in_days]
    of_campaign = actions.groupby(
        [schema.CAMPAIGN_ID, schema.CHANNEL], sort=False, observed=True
    ).indices
    rows = []
    for (campaign_id, channel), group in sends.groupby(
        [schema.CAMPAIGN_ID, schema.CHANNEL], sort=False, observed=True
    ):
        mine = actions.iloc[of_campaign[(campaign_id, channel)]]
        people = _recipients_of(mine, start, end)
        n = len(people)
        opened, clicked = int(people[OPENED].sum()), int(people[CLICKED].sum())
        # contacts as codes of the actions' one category: no text per row
        who = _codes(mine[schema.CONTACT_ID])
        is_open, is_send = (mine[ACTION] == OPEN).to_numpy(), (mine[ACTION] == SEND).to_numpy()
        engaged = is_open | (mine[ACTION] == CLICK).to_numpy()
        opens = mine[is_open & np.isin(who, _codes(people[schema.CONTACT_ID]))]
        without_send = np.setdiff1d(who[engaged], who[is_send]).size
        rows.append(
            {
                schema.CAMPAIGN_ID: campaign_id,
                CAMPAIGN: group[CAMPAIGN].iloc[-1],
                schema.CHANNEL: channel,
                SENT: len(group),
                RECIPIENTS: n,
                OPENED: opened if channel == "email" else None,
                CLICKED: clicked,
                OPEN_RATE: _rate(opened, n) if channel == "email" else float("nan"),
                CLICK_RATE: _rate(clicked, n),
                CLICK_TO_OPEN: _rate(clicked, opened) if channel == "email" else float("nan"),
                FIRST_SEND: group[AT].min(),
                LAST_SEND: group[AT].max(),
                SENDS_PER_DAY: _per_day(group[AT], start, end),
                OPENS_PER_DAY: _per_day(opens[AT], start, end),
                WITHOUT_SEND: int(without_send),
            }
        )
    columns = [
        schema.CAMPAIGN_ID,
        CAMPAIGN,
        schema.CHANNEL,
        SENT,
        RECIPIENTS,
        OPENED,
        CLICKED,
        OPEN_RATE,
        CLICK_RATE,
        CLICK_TO_OPEN,
        FIRST_SEND,
        LAST_SEND,
        SENDS_PER_DAY,
        OPENS_PER_DAY,
        WITHOUT_SEND,
    ]
    out = pd.DataFrame(rows, columns=columns)
    out[OPENED] = out[OPENED].astype("Int64")
    return out.sort_values([RECIPIENTS, FIRST_SEND], ascending=[False, True], kind="stable")[
        columns
    ].reset_index(drop=True)


def engagement_over_time(people: pd.DataFrame, max_hours: int = 7 * 24) -> pd.DataFrame:
    """Opens and clicks by whole hours since each recipient's send, 0..max_hours-1:
    ``hours_since_send, opens, clicks, opened_share, clicked_share`` (shares are cumulative,
    of all recipients). ``people`` is ``recipients(...)``."""
    hours = np.arange(max_hours)
    out = pd.DataFrame({"hours_since_send": hours})
    n = len(people)
    for at, count, share in (
        (OPEN_AT, "opens", "opened_share"),
        (CLICK_AT, "clicks", "clicked_share"),
    ):
        lag = (people[at] - people[SEND_AT]).dropna() / pd.Timedelta(hours=1)
        lag = np.floor(lag.to_numpy()).astype(int)
        lag = lag[(lag >= 0) & (lag < max_hours)]
        counts = np.bincount(lag, minlength=max_hours)
        out[count] = counts
        out[share] = np.cumsum(counts) / n if n else np.nan
    return out


def time_to_engage(people: pd.DataFrame) -> pd.DataFrame:
    """Hours from send to first open and to first click: ``action, contacts, median_hours,
    p90_hours`` (linear-interpolated percentiles; NaN when nobody did it)."""
    rows = []
    for label, at in (("open", OPEN_AT), ("click", CLICK_AT)):
        lag = ((people[at] - people[SEND_AT]).dropna() / pd.Timedelta(hours=1)).to_numpy()
        rows.append(
            {
                ACTION: label,
                "contacts": len(lag),
                "median_hours": float(np.median(lag)) if len(lag) else float("nan"),
                "p90_hours": float(np.percentile(lag, 90)) if len(lag) else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def home_stores(events: pd.DataFrame) -> pd.Series:
    """Each contact's home store: the location of most of their WiFi visits (a tie goes to the
    location visited last). A Series contact_id -> location_id (contacts with no WiFi visit are
    not in it)."""
    visits = events[(events[schema.TYPE] == schema.VISIT).fillna(False).to_numpy()]
    visits = visits[
        (visits[schema.CONTACT_ID].notna() & visits[schema.LOCATION_ID].notna()).to_numpy()
    ]
    if visits.empty:
        return pd.Series(dtype=object, name=schema.LOCATION_ID)
    contacts = text_category(visits[schema.CONTACT_ID])
    places = text_category(visits[schema.LOCATION_ID])
    # codes in the order of the sorted texts: ties fall as they would on the texts
    frame = pd.DataFrame(
        {"c": contacts.codes, "l": places.codes, "t": time_ns(visits[schema.CREATED_AT])}
    )
    per = frame.groupby(["c", "l"]).agg(n=("t", "size"), last=("t", "max")).reset_index()
    per = per.sort_values(["c", "n", "last"], ascending=[True, False, False], kind="stable")
    best = per.drop_duplicates("c", keep="first")
    return pd.Series(
        np.asarray(places.categories.take(best["l"].to_numpy()), dtype=object),
        index=contacts.categories.take(best["c"].to_numpy()),
        name=schema.LOCATION_ID,
    )


def new_or_returning(people: pd.DataFrame, signed_up: pd.Series, days: int = NEW_DAYS) -> pd.Series:
    """``new`` when the recipient signed up within ``days`` days before their send, else
    ``returning``; ``unknown`` without a sign-up time. ``signed_up`` maps contact_id -> UTC
    time (the contact's creation, or their sign-up event)."""
    when = people[schema.CONTACT_ID].map(signed_up)
    when = pd.to_datetime(when, utc=True)
    new = (when >= people[SEND_AT] - pd.Timedelta(days=days)).to_numpy()
    out = np.where(when.isna().to_numpy(), "unknown", np.where(new, "new", "returning"))
    return pd.Series(out, index=people.index, name="guest")


def results_by_home_store(
    people: pd.DataFrame, homes: pd.Series, locations: pd.DataFrame
) -> pd.DataFrame:
    """``results_by`` each recipient's home store (``homes``: contact_id -> location id), named
    as ``locations`` names it (its id when it is not listed)."""
    names = dict(zip(locations["id"].astype(str), locations["name"].astype(str), strict=False))
    store = people[schema.CONTACT_ID].map(homes)
    return results_by(people, store.map(names).fillna(store), "home_store")


def results_by_guest(people: pd.DataFrame, signed_up: pd.Series) -> pd.DataFrame:
    """``results_by`` new or returning guest (``new_or_returning``)."""
    return results_by(people, new_or_returning(people, signed_up), "guest")


def results_by(people: pd.DataFrame, groups: pd.Series, label: str) -> pd.DataFrame:
    """Recipients, opened, clicked and their rates for each value of ``groups`` (aligned with
    ``people``; missing values become "unknown"), most recipients first. If ``people`` carries
    a ``returned`` column, the returned share too."""
    keyed = people.assign(**{label: groups.fillna("unknown").astype(str).to_numpy()})
    agg = {
        RECIPIENTS: (schema.CONTACT_ID, "size"),
        OPENED: (OPENED, "sum"),
        CLICKED: (CLICKED, "sum"),
    }
    if "returned" in people.columns:
        agg["returned"] = ("returned", "sum")
    out = keyed.groupby(label).agg(**agg).reset_index()
    out[OPEN_RATE] = out[OPENED] / out[RECIPIENTS]
    out[CLICK_RATE] = out[CLICKED] / out[RECIPIENTS]
    if "returned" in out.columns:
        out["returned_share"] = out["returned"] / out[RECIPIENTS]
    return out.sort_values([RECIPIENTS, label], ascending=[False, True]).reset_index(drop=True)


def who_clicked(people: pd.DataFrame) -> pd.DataFrame:
    """The recipients who clicked: ``contact_id, send_at, open_at, click_at``, first click first."""
    part = people[people[CLICKED].to_numpy()]
    return (
        part[[schema.CONTACT_ID, SEND_AT, OPEN_AT, CLICK_AT]]
        .sort_values(CLICK_AT)
        .reset_index(drop=True)
    )


def who_did_not_open(people: pd.DataFrame) -> pd.DataFrame:
    """The recipients with no open and no click: ``contact_id, send_at``, in send order."""
    part = people[(~people[OPENED] & ~people[CLICKED]).to_numpy()]
    return part[[schema.CONTACT_ID, SEND_AT]].sort_values(SEND_AT).reset_index(drop=True)


remembered_summary = memo.remember(campaign_summary, size=8)  # the Campaigns page's table

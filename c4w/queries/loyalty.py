"""The Loyalty page's inputs in DuckDB over the store: a guest's visit days, first sign-up and
contact details, so the page never holds the rows of a long history (twins of
``c4w.metrics.loyalty``; the test that they agree: ``tests/test_queries_loyalty.py``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from c4w import schema
from c4w.metrics import loyalty as lm
from c4w.queries.overview import _period, _placeholders
from c4w.store.store import EventStore

# the local day of a visit: its own start's, else the time it was recorded's
_VISIT_DAY = (
    "date_diff('day', DATE '1970-01-01', "
    "CAST(coalesce(visit_start_local, created_at_local) AS DATE))"
)


def guest_days(
    store: EventStore, start: dt.date, end: dt.date, location_ids: Sequence[str] = ()
) -> pd.DataFrame:
    """``lm.guest_days`` of the events recorded on UTC days ``start..end`` at ``location_ids``
    (every location when empty): one row per guest and local day with a WiFi visit, columns
    contact (a category), day (days since 1970-01-01), visits. Rows in no particular order."""
    where, params = _period(start, end, location_ids, None)
    sql = f"""
        SELECT contact_id AS contact, {_VISIT_DAY} AS day, count(*) AS visits FROM events
        WHERE type = ? AND contact_id IS NOT NULL
          AND coalesce(visit_start_local, created_at_local) IS NOT NULL AND {where}
        GROUP BY ALL
    """
    table = store.query(sql, [schema.VISIT, *params], start=start, end=end)
    return pd.DataFrame(
        {
            "contact": _categories(table.column("contact")),
            "day": table.column("day").to_numpy().astype(np.int64),
            "visits": table.column("visits").to_numpy().astype(np.int64),
        }
    )


def first_signup_days(
    store: EventStore, start: dt.date, end: dt.date, location_ids: Sequence[str] = ()
) -> pd.Series:
    """``lm.first_signup_days`` of the events of UTC days ``start..end`` at ``location_ids``:
    each guest's first sign-up, as a local day number, indexed by contact."""
    where, params = _period(start, end, location_ids, None)
    sql = f"""
        SELECT contact_id,
               min(date_diff('day', DATE '1970-01-01', CAST(created_at_local AS DATE))) AS day
        FROM events
        WHERE type = ? AND contact_id IS NOT NULL AND created_at_local IS NOT NULL AND {where}
        GROUP BY contact_id
    """
    table = store.query(sql, [schema.SIGNUP, *params], start=start, end=end)
    return pd.Series(
        table.column("day").to_numpy().astype(np.int64),
        index=pd.Index(table.column("contact_id").to_pylist(), dtype=object),
    )


def contact_details(
    store: EventStore,
    start: dt.date,
    end: dt.date,
    location_ids: Sequence[str],
    who: Sequence[str],
) -> pd.DataFrame:
    """``lm.contact_details`` of the guests ``who`` from the events of UTC days ``start..end``
    at ``location_ids``: the latest email and phone of their email and SMS events (latest in
    the order the store keeps: by day, then by place in the day's file) and the location of
    most of their visits (ties: the first name in alphabetical order)."""
    columns = {schema.EMAIL: [], schema.PHONE: [], "usual_location": []}
    if not who:
        return pd.DataFrame(columns, index=pd.Index([], dtype=object), dtype=object)
    where, params = _period(start, end, location_ids, None)
    messages = _placeholders(lm.MESSAGE_TYPES)
    order = "date_diff('day', DATE '1970-01-01', day) * 4294967296 + file_row_number"
    sql = f"""
        WITH who AS (SELECT DISTINCT unnest(?::VARCHAR[]) AS contact_id),
        mine AS (
            SELECT contact_id, type, email, phone, location_name, day, file_row_number
            FROM events SEMI JOIN who USING (contact_id) WHERE {where}
        ),
        latest AS (
            SELECT contact_id,
                   arg_max(email, {order}) FILTER (WHERE email IS NOT NULL) AS email,
                   arg_max(phone, {order}) FILTER (WHERE phone IS NOT NULL) AS phone
            FROM mine WHERE type IN ({messages}) GROUP BY contact_id
        ),
        places AS (
            SELECT contact_id, location_name, count(*) AS visits FROM mine
            WHERE type = ? AND location_name IS NOT NULL GROUP BY ALL
        ),
        usual AS (
            SELECT contact_id, location_name AS usual_location FROM places
            QUALIFY row_number() OVER (
                PARTITION BY contact_id ORDER BY visits DESC, location_name
            ) = 1
        )
        SELECT who.contact_id, latest.email, latest.phone, usual.usual_location FROM who
        LEFT JOIN latest USING (contact_id) LEFT JOIN usual USING (contact_id)
    """
    values = [list(who), *params, *lm.MESSAGE_TYPES, schema.VISIT]
    table = store.query(sql, values, start=start, end=end, row_numbers=True)
    found = pd.DataFrame(
        {c: pd.Series(table.column(c).to_pylist(), dtype=object) for c in columns},
    ).set_index(pd.Index(table.column("contact_id").to_pylist(), dtype=object))
    return found.reindex(pd.Index(list(who), dtype=object, name=schema.CONTACT_ID))


def _categories(column: pa.ChunkedArray) -> pd.Categorical:
    """A text column as a pandas category (one Python string per distinct value)."""
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    return column.to_pandas()

"""Page figures computed in DuckDB straight over the history store's Parquet files, so a page
shows them without pulling a whole range into pandas.

One module per page, beside its pandas twin in ``c4w.metrics`` (the definition). Each function
takes the ``EventStore`` and the sidebar's dates and locations; a test shows that it gives the
same figures as the pandas function on the same events.
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import threading
from collections.abc import Callable
from typing import Any

MEMO_SIZE = 64  # results kept per function (small tables: a few rows each)


def _marks(store: Any, start: dt.date, end: dt.date) -> tuple:
    """What the store holds for ``start..end``: (day, fetched at, events) of each stored day; a
    result computed over these days is good while this is unchanged."""
    return tuple(
        (day, getattr(state, "fetched_at", None), getattr(state, "events", None))
        for day, state in sorted(store.day_states().items())
        if start <= day <= end
    )


def memoized(query: Callable) -> Callable:
    """``query(store, start, end, *args)`` remembered by its arguments (the store's folder, the
    marks of its days ``start..end``, the rest as given), not by any frame's content, so a rerun
    with the same filters costs no scan. Extra arguments must be hashable (tuples, not lists)."""
    kept: collections.OrderedDict = collections.OrderedDict()
    lock = threading.Lock()

    @functools.wraps(query)
    def remembered(store: Any, start: dt.date, end: dt.date, *args: Any) -> Any:
        key = (str(store.root), store.org_id, start, end, _marks(store, start, end), args)
        with lock:
            if key in kept:
                kept.move_to_end(key)
                return _fresh(kept[key])
        value = query(store, start, end, *args)
        with lock:
            kept[key] = value
            while len(kept) > MEMO_SIZE:
                kept.popitem(last=False)
        return _fresh(value)

    return remembered


def _fresh(value: Any) -> Any:
    """A copy of a remembered table, so a page that changes it leaves the memo as it was."""
    return value.copy() if hasattr(value, "copy") else value

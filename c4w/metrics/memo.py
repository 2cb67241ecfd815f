"""A small, bounded memo for pure metric functions whose arguments include frames.

A frame is keyed by its content (shape, column names and dtypes, and a digest of pandas' row
hashes, in row order), so two equal frames read on two page runs share one result. What a
remembered function returns is shared between its callers: they must not change it.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

import pandas as pd

F = TypeVar("F", bound=Callable)
DEFAULT_SIZE = 16


def frame_key(frame: pd.DataFrame | pd.Series) -> tuple:
    """A key that two frames share exactly when their content is the same (up to a 128-bit
    digest collision)."""
    rows = pd.util.hash_pandas_object(frame, index=True).to_numpy()
    digest = hashlib.blake2b(rows.tobytes(), digest_size=16).hexdigest()
    if isinstance(frame, pd.Series):
        return ("series", len(frame), str(frame.dtype), digest)
    columns = tuple((str(c), str(t)) for c, t in frame.dtypes.items())
    return ("frame", frame.shape, columns, digest)


def _key_of(value: object) -> object:
    if isinstance(value, pd.DataFrame | pd.Series):
        return frame_key(value)
    return value


def remember(function: F | None = None, *, size: int = DEFAULT_SIZE):
    """``function`` with its last ``size`` results kept, keyed by its arguments' content."""

    def wrap(function: F) -> F:
        kept: OrderedDict[tuple, object] = OrderedDict()
        lock = threading.Lock()

        @functools.wraps(function)
        def remembered(*args, **kwargs):
            key = (
                tuple(_key_of(a) for a in args),
                tuple(sorted((k, _key_of(v)) for k, v in kwargs.items())),
            )
            with lock:
                if key in kept:
                    kept.move_to_end(key)
                    return kept[key]
            result = function(*args, **kwargs)
            with lock:
                kept[key] = result
                kept.move_to_end(key)
                while len(kept) > size:
                    kept.popitem(last=False)
            return result

        remembered.cache_clear = kept.clear  # type: ignore[attr-defined]
        remembered.uncached = function  # type: ignore[attr-defined]
        return remembered  # type: ignore[return-value]

    return wrap(function) if function is not None else wrap

"""A small, bounded memo for pure metric functions whose arguments include frames.

A frame is keyed by its content (shape, column names and dtypes, and a digest of pandas' row
hashes, in row order), so two equal frames read on two page runs share one result; a frame
given a name (``name_frame``: what it holds, e.g. which stored days of which store, in which
state) is keyed by that name instead, with no hashing. A frame not read yet (``Later``: its
name and how to read it) is keyed by its name too and read only when a result is not remembered,
so a rerun whose figures are all remembered reads nothing. What a remembered function returns is
shared between its callers: they must not change it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TypeVar

import pandas as pd

F = TypeVar("F", bound=Callable)
DEFAULT_SIZE = 16


_NAMES: dict[int, tuple[weakref.ref, object]] = {}  # id(frame) -> (the frame, its name)


def name_frame(frame: pd.DataFrame, name: object) -> pd.DataFrame:
    """Key ``frame`` by ``name`` from now on (a hashable that only frames of the same content
    share, such as the stored days it was read from and their state). The frame must not be
    changed afterwards. Returns ``frame``."""
    ident = id(frame)
    _NAMES[ident] = (weakref.ref(frame, lambda _ref: _NAMES.pop(ident, None)), name)
    return frame


def _name_of(frame: pd.DataFrame | pd.Series) -> object | None:
    named = _NAMES.get(id(frame))
    if named is None or named[0]() is not frame:
        return None
    return named[1]


def frame_key(frame: pd.DataFrame | pd.Series) -> tuple:
    """A key that two frames share exactly when their content is the same (up to a 128-bit
    digest collision)."""
    rows = pd.util.hash_pandas_object(frame, index=True).to_numpy()
    digest = hashlib.blake2b(rows.tobytes(), digest_size=16).hexdigest()
    if isinstance(frame, pd.Series):
        return ("series", len(frame), str(frame.dtype), digest)
    columns = tuple((str(c), str(t)) for c, t in frame.dtypes.items())
    return ("frame", frame.shape, columns, digest)


class Later:
    """A frame read only when first needed (``frame``): a remembered function given it looks up
    its result by ``name`` (what the frame holds, as for ``name_frame``) without reading it."""

    def __init__(self, name: object, read: Callable[[], pd.DataFrame]) -> None:
        self.name = name
        self._read: Callable[[], pd.DataFrame] | None = read
        self._frame: pd.DataFrame | None = None
        self._lock = threading.Lock()

    @property
    def frame(self) -> pd.DataFrame:
        """The frame, read on the first call (and named), the same one on every later call."""
        with self._lock:
            if self._frame is None:
                assert self._read is not None
                frame = self._read()
                self._frame = frame if _name_of(frame) is not None else name_frame(frame, self.name)
                self._read = None  # what the reader held is let go
            return self._frame

    def then(self, how: Callable[[pd.DataFrame], pd.DataFrame], *named: object) -> Later:
        """``how(frame)``, read later too: named by ``named`` after this frame's name."""
        return Later((named, self.name), lambda: how(self.frame))


def now(value: object) -> object:
    """``value``, with a ``Later`` frame read."""
    return value.frame if isinstance(value, Later) else value


def _key_of(value: object) -> object:
    if isinstance(value, Later):
        return ("named", value.name)
    if isinstance(value, pd.DataFrame | pd.Series):
        name = _name_of(value)
        return ("named", name) if name is not None else frame_key(value)
    return value


_EVERY_MEMO: list[Callable[[], None]] = []  # how to empty each memo of this process


def forget() -> None:
    """Drop every remembered result of every memo in this process."""
    for clear in list(_EVERY_MEMO):
        clear()


def remember(function: F | None = None, *, size: int = DEFAULT_SIZE):
    """``function`` with its last ``size`` results kept, keyed by its arguments' content."""

    def wrap(function: F) -> F:
        kept: OrderedDict[tuple, object] = OrderedDict()
        lock = threading.Lock()

        def clear() -> None:
            with lock:
                kept.clear()

        _EVERY_MEMO.append(clear)

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
            result = function(*(now(a) for a in args), **{k: now(v) for k, v in kwargs.items()})
            # a frame made from these arguments (or held by the result): keyed by them in turn,
            # with no hashing
            name_result(result, ("result", function.__module__, function.__qualname__, key))
            with lock:
                kept[key] = result
                kept.move_to_end(key)
                while len(kept) > size:
                    kept.popitem(last=False)
            return result

        remembered.cache_clear = clear  # type: ignore[attr-defined]
        remembered.uncached = function  # type: ignore[attr-defined]
        return remembered  # type: ignore[return-value]

    return wrap(function) if function is not None else wrap


def name_result(result: object, name: tuple) -> None:
    """Name ``result`` when it is a frame, else each frame a dataclass or tuple result holds
    (``name`` and the field), unless already named."""
    if isinstance(result, pd.DataFrame | pd.Series):
        if _name_of(result) is None:
            name_frame(result, name)
        return
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        parts = [(f.name, getattr(result, f.name)) for f in dataclasses.fields(result)]
    elif isinstance(result, tuple):
        parts = list(enumerate(result))
    else:
        return
    for field, value in parts:
        if isinstance(value, pd.DataFrame | pd.Series) and _name_of(value) is None:
            name_frame(value, (*name, field))


_REMEMBERED: dict[Callable, Callable] = {}
_REMEMBERED_LOCK = threading.Lock()


def remembered(function: F, size: int = DEFAULT_SIZE) -> F:
    """The one remembered version of ``function`` in this process (see ``remember``), for a
    page script, which runs anew on every rerun and so cannot keep its own."""
    with _REMEMBERED_LOCK:
        if function not in _REMEMBERED:
            _REMEMBERED[function] = remember(function, size=size)
        return _REMEMBERED[function]  # type: ignore[return-value]


def name_after(part: pd.DataFrame, frame: pd.DataFrame | Later, *how: object) -> pd.DataFrame:
    """Name ``part``, taken from ``frame`` as ``how`` says, after ``frame`` when that has a
    name (so the memo keys it with no hashing too). Returns ``part``."""
    name = frame.name if isinstance(frame, Later) else _name_of(frame)
    if name is None or part is frame:
        return part
    return name_frame(part, (how, name))


def columns_of(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``frame[columns]``, named after ``frame`` when it has a name."""
    return name_after(frame[list(columns)], frame, "columns", tuple(columns))

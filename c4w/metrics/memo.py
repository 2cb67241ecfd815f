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
import os
import sys
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import NamedTuple, TypeVar

import numpy as np
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


# --- every remembered result of the process, bounded in bytes ------------------------------------
KEPT_ENV = "C4W_FIGURES_MB"
DEFAULT_KEPT_MB = 256
_SAMPLED = 200  # texts measured to size a column of texts


def kept_budget(environ: dict[str, str] | None = None) -> int:
    """Bytes the remembered results may hold in all (``C4W_FIGURES_MB``, default 256 MB)."""
    raw = str((os.environ if environ is None else environ).get(KEPT_ENV, "")).strip()
    return (int(raw) if raw.isdigit() else DEFAULT_KEPT_MB) * 2**20


def size_of(value: object, depth: int = 0) -> int:
    """About how many bytes ``value`` holds: arrays in full, a column of texts from a sample
    of its texts (a frame is sized without a pass over its rows)."""
    if isinstance(value, pd.DataFrame):
        columns = sum(size_of(value.iloc[:, n].array, depth) for n in range(value.shape[1]))
        return columns + size_of(value.index, depth)
    if isinstance(value, pd.RangeIndex):
        return int(value.memory_usage())  # its bounds, not an array (``.array`` would make one)
    if isinstance(value, pd.MultiIndex):  # no single array: its levels and their codes
        levels = sum(size_of(level, depth) for level in value.levels)
        return levels + sum(codes.nbytes for codes in value.codes)
    if isinstance(value, pd.Series | pd.Index):
        index = 0 if isinstance(value, pd.Index) else size_of(value.index, depth)
        return size_of(value.array, depth) + index
    if isinstance(value, pd.Categorical):
        return value.codes.nbytes + size_of(value.categories, depth)
    if isinstance(value, pd.arrays.NumpyExtensionArray):
        value = value.to_numpy()
    if isinstance(value, np.ndarray):
        if value.dtype != object or not len(value):
            return int(value.nbytes)
        step = max(len(value) // _SAMPLED, 1)
        sample = value[::step][:_SAMPLED]
        return int(value.nbytes + len(value) * sum(map(sys.getsizeof, sample)) / len(sample))
    if depth < 3 and isinstance(value, tuple | list) and value:
        step = max(len(value) // _SAMPLED, 1)
        sample = value[::step][:_SAMPLED]
        each = sum(size_of(v, depth + 1) for v in sample) / len(sample)
        return int(sys.getsizeof(value) + len(value) * each)
    if depth < 3 and isinstance(value, dict) and len(value) <= _SAMPLED:
        return sys.getsizeof(value) + sum(size_of(v, depth + 1) for v in value.values())
    if depth < 3 and dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(size_of(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value))
    nbytes = getattr(value, "nbytes", None)  # arrow tables and arrays, pandas' extension arrays
    if isinstance(nbytes, int):
        return nbytes
    return sys.getsizeof(value)


class _Kept(NamedTuple):
    nbytes: int
    forget: Callable[[], None]
    run: int  # the run that last used it


class KeptResults:
    """The results every memo of the process keeps, least recently used first, with their
    sizes. When they hold more than ``budget`` bytes the least recently used are forgotten,
    except those the run under way has used: a page keeps every figure of its own, so its next
    rerun computes nothing, and what other pages left is what makes room."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._entries: OrderedDict[tuple, _Kept] = OrderedDict()
        self._run = 0
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(e.nbytes for e in self._entries.values())

    def start_run(self) -> None:
        """A new script run begins: what earlier runs used may make room from now on."""
        with self._lock:
            self._run += 1

    def add(self, key: tuple, value: object, forget: Callable[[], None]) -> None:
        """Count ``value``, kept under ``key`` (``forget`` drops it), then make room."""
        try:
            nbytes = size_of(value)
        except Exception:  # a result of a kind it cannot size is kept all the same, not lost
            nbytes = sys.getsizeof(value)
        with self._lock:
            self._entries[key] = _Kept(nbytes, forget, self._run)
            self._entries.move_to_end(key)
            gone = self._over_budget()
        for forget_one in gone:
            forget_one()

    def used(self, key: tuple) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries[key] = entry._replace(run=self._run)
                self._entries.move_to_end(key)

    def dropped(self, keys: Sequence[tuple]) -> None:
        """``keys`` are no longer kept (their memo let them go)."""
        with self._lock:
            for key in keys:
                self._entries.pop(key, None)

    def _over_budget(self) -> list[Callable[[], None]]:
        total = sum(e.nbytes for e in self._entries.values())
        gone = []
        for key, entry in list(self._entries.items()):
            if total <= self.budget:
                break
            if entry.run == self._run:
                continue
            del self._entries[key]
            total -= entry.nbytes
            gone.append(entry.forget)
        return gone


KEPT = KeptResults(kept_budget())
_EVERY_MEMO: list[Callable[[], None]] = []  # how to empty each memo of this process


def forget() -> None:
    """Drop every remembered result of every memo in this process."""
    for clear in list(_EVERY_MEMO):
        clear()


def start_run() -> None:
    """Tell the memos a script run begins (see ``KeptResults``)."""
    KEPT.start_run()


def remember(function: F | None = None, *, size: int = DEFAULT_SIZE):
    """``function`` with its last ``size`` results kept, keyed by its arguments' content, and
    within the process's budget of kept bytes (``KEPT``)."""

    def wrap(function: F) -> F:
        kept: OrderedDict[tuple, object] = OrderedDict()
        lock = threading.Lock()
        owner = (function.__module__, function.__qualname__, id(kept))

        def clear() -> None:
            with lock:
                keys = [(owner, key) for key in kept]
                kept.clear()
            KEPT.dropped(keys)

        def forget_one(key: tuple) -> None:
            with lock:
                kept.pop(key, None)

        _EVERY_MEMO.append(clear)

        @functools.wraps(function)
        def remembered(*args, **kwargs):
            key = (
                tuple(_key_of(a) for a in args),
                tuple(sorted((k, _key_of(v)) for k, v in kwargs.items())),
            )
            with lock:
                found = key in kept
                if found:
                    kept.move_to_end(key)
                    result = kept[key]
            if found:
                KEPT.used((owner, key))
                return result
            result = function(*(now(a) for a in args), **{k: now(v) for k, v in kwargs.items()})
            # a frame made from these arguments (or held by the result): keyed by them in turn,
            # with no hashing
            name_result(result, ("result", function.__module__, function.__qualname__, key))
            with lock:
                kept[key] = result
                kept.move_to_end(key)
                extra = []
                while len(kept) > size:
                    extra.append((owner, kept.popitem(last=False)[0]))
            KEPT.dropped(extra)
            KEPT.add((owner, key), result, functools.partial(forget_one, key))
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

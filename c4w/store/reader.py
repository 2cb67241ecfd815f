"""Stored days read into one canonical frame, a day at a time.

Reading every file into one arrow table first and converting it afterwards holds both at once,
and the arrow form is the larger (int32 dictionary codes in every text column where the frame
keeps int8 or int16 ones): 2.0 GB of arrow for a 1.3 GB frame at 10 million events. Here each
day is read and turned into the frame's compact pieces straight away (on a few threads), and
only the pieces are joined, so the peak stays close to the frame itself. The result is the
frame ``c4w.frame.columns_to_frame`` makes of the same rows: same values, dtypes and category
lists.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from c4w import frame, schema

Piece = dict[str, object]  # column name -> that column's values for one day, compact


def read_frame(
    paths: Sequence[Path],
    columns: Sequence[str],
    read_day: Callable[[Path], pa.Table],
    workers: int | None = None,
) -> pd.DataFrame:
    """The canonical frame of ``columns`` over the day files ``paths`` (in that order), each
    read by ``read_day(path)`` as canonical arrow columns (times as int64 ns with NaT)."""
    workers = workers or min(4, os.cpu_count() or 1)

    def piece(path: Path) -> Piece:
        return _compact(read_day(path), columns)

    if workers > 1 and len(paths) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            pieces = list(pool.map(piece, paths))
    else:
        pieces = [piece(path) for path in paths]
    rows = sum(_length(p[columns[0]]) for p in pieces) if columns else 0
    data = {name: _join(name, [p.pop(name) for p in pieces]) for name in columns}
    return pd.DataFrame(data, index=pd.RangeIndex(rows), columns=list(columns), copy=False)


def _compact(table: pa.Table, columns: Sequence[str]) -> Piece:
    """One day's columns in the form they take in the frame: texts as (codes, values) with
    the narrowest codes, times and numbers as numpy, event ids as arrow text."""
    out: Piece = {}
    for name in columns:
        column = table.column(name)
        if name in frame.CATEGORY_COLUMNS:
            encoded = _one_dictionary(column)
            codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
            width = frame.code_width(len(encoded.dictionary))
            out[name] = (codes.astype(width), encoded.dictionary)
        elif name == schema.EVENT_ID:
            out[name] = column.combine_chunks()
        else:
            out[name] = frame._numpy(column)  # noqa: SLF001 - the frame's own null-free numbers
    return out


def _one_dictionary(column: pa.ChunkedArray) -> pa.DictionaryArray:
    if column.num_chunks == 1:
        return column.chunk(0)
    if column.num_chunks == 0:
        return pa.array([], pa.string()).dictionary_encode()
    return pa.concat_arrays(column.unify_dictionaries().chunks)


def _length(value: object) -> int:
    return len(value[0]) if isinstance(value, tuple) else len(value)


def _join(name: str, parts: list) -> object:
    """One column of the frame from its days' pieces (each day's piece freed as it is used)."""
    if name in frame.CATEGORY_COLUMNS:
        return _join_categories(parts)
    if name == schema.EVENT_ID:
        return pd.array(pa.chunked_array(parts, type=pa.string()), dtype="str")
    values = np.concatenate(parts) if parts else np.zeros(0, dtype=_empty_dtype(name))
    parts.clear()
    if name in schema.UTC_TIME_COLUMNS:
        return frame._utc(values)  # noqa: SLF001
    if name in schema.LOCAL_TIME_COLUMNS:
        return values.view("M8[ns]")
    return values


def _empty_dtype(name: str) -> np.dtype:
    if name in (*schema.UTC_TIME_COLUMNS, *schema.LOCAL_TIME_COLUMNS):
        return np.dtype(np.int64)
    if name == schema.DATA_PROBLEMS:
        return np.dtype(np.uint16)
    return np.dtype(np.float64)


def _join_categories(parts: list[tuple[np.ndarray, pa.Array]]) -> pd.Categorical:
    """Days' (codes, values) as one categorical: the values in order of first appearance, as
    arrow's own dictionary unification lists them."""
    every = pa.chunked_array([values for _, values in parts], type=pa.string())
    categories = pc.unique(every)
    width = frame.code_width(len(categories))
    # each day's value -> its place in the whole list, found in one pass over every day's values
    places = pc.index_in(every, value_set=categories).to_numpy().astype(width)
    codes = np.empty(sum(len(c) for c, _ in parts), dtype=width)
    at = place = 0
    while parts:
        day_codes, values = parts.pop(0)
        lookup = np.append(places[place : place + len(values)], width(-1))  # -1 (null) stays -1
        np.take(lookup, day_codes, out=codes[at : at + len(day_codes)])
        at, place = at + len(day_codes), place + len(values)
    index = pd.Index(pd.array(categories, dtype="str"), dtype="str")
    categorical = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(index), validate=False)
    return frame._without_lookup_table(categorical)  # noqa: SLF001

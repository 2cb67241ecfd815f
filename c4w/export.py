"""Spreadsheet-safe CSV files, their names, and masking of personal data.

Pure functions (no Streamlit): the dashboard's download buttons and tables call them, and the
tests check them on small hand-made frames.

Why the care: a CSV opened in Excel or Google Sheets runs any cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return as a formula (OWASP "CSV injection"). Event data holds
text typed by strangers (names, campaign names, survey answers), so every text cell that starts
with one of those characters gets a leading single quote, which spreadsheets show as plain text.
Numbers stay numbers. The file starts with a UTF-8 byte order mark so that a double-click in
Excel keeps accented names intact.

The same strangers' text reaches elements that render Markdown on screen (``st.metric``,
``st.caption``, labels...): ``escape_markdown`` makes it show as typed, so an image, a link, an
HTML comment or ``$...$`` in a name is never drawn. Emails and phone numbers are masked by column,
and inside free text (survey answers) wherever they look like one, unless the viewer reveals them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
from collections.abc import Iterable
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from c4w import schema

# Leading characters a spreadsheet may read as the start of a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START = re.compile(r"^\s*[=+\-@\t\r]")
MASK = "***"
UTF8_BOM = b"\xef\xbb\xbf"
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_SAFE_NAME = re.compile(r"[^a-z0-9]+")


# --- one value at a time ----------------------------------------------------------------------
def safe_cell(value: object) -> object:
    """Return a text value that cannot run as a formula; any non-text value is returned as is.

    A text starting with ``= + - @``, a tab or a carriage return (also after leading spaces) gets
    a leading single quote.
    """
    if isinstance(value, str) and _FORMULA_START.match(value):
        return "'" + value
    return value


def mask_email(value: object) -> object:
    """``john@example.com`` -> ``j***@example.com``; text without ``@`` -> ``***``; NA stays NA."""
    if not isinstance(value, str):
        return value
    local, sep, domain = value.partition("@")
    if not sep or not local:
        return MASK
    return f"{local[0]}{MASK}@{domain}"


def mask_phone(value: object) -> object:
    """``+39 333 123 4567`` -> ``***4567`` (last four digits only); NA stays NA."""
    if not isinstance(value, str):
        return value
    digits = re.sub(r"\D", "", value)
    if len(digits) <= 4:
        return MASK
    return MASK + digits[-4:]


_MASKERS = {schema.EMAIL: mask_email, schema.PHONE: mask_phone}

# Columns of text typed by guests or by whoever set up a form, where personal data may hide.
FREE_TEXT_COLUMNS = (schema.SURVEY_ANSWERS, schema.SIGNUP_SOURCE)
_EMAIL_IN_TEXT = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# a phone number: an optional +, then 7 to 15 digits in groups split by a space, dot, dash or
# parentheses; it must not touch letters, digits or a dash (so ids such as c-12345678 stay)
_PHONE_IN_TEXT = re.compile(r"(?<![\w+-])\+?\(?\d(?:[\s().-]{0,2}\d){6,14}(?![\w-])")
_DATE_OR_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?|\d{2}:\d{2}:\d{2}")


def mask_free_text(value: object) -> object:
    """Free text with every email-shaped part masked as ``mask_email`` does and every
    phone-shaped part as ``mask_phone`` does (dates and times are left alone); NA stays NA.

    ``"call +39 333 123 4567 or a@b.it"`` -> ``"call ***4567 or a***@b.it"``.
    """
    if not isinstance(value, str) or not value:
        return value
    text = _EMAIL_IN_TEXT.sub(lambda m: str(mask_email(m.group(0))), value)
    dates = [m.span() for m in _DATE_OR_TIME.finditer(text)]

    def phone(match: re.Match[str]) -> str:
        start, end = match.span()
        if any(a < end and start < b for a, b in dates):
            return match.group(0)
        return str(mask_phone(match.group(0)))

    return _PHONE_IN_TEXT.sub(phone, text)


# Every ASCII punctuation character: CommonMark lets each be escaped with a backslash, and
# Streamlit's Markdown (links, images, HTML, emphasis, $math$, :emoji: and :color[...]) is
# built from them only.
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\u2028\u2029]+")
# GitHub-flavoured Markdown also turns bare addresses into links after reading the escapes
# (``http://``, ``www.``, ``name@domain``): an invisible word joiner keeps them plain text.
_AUTOLINK = re.compile(r"(?i)(?<=https)(?=:)|(?<=http)(?=:)|(?<=www)(?=\.)|(?=@)")
WORD_JOINER = "\u2060"


def escape_markdown(value: object) -> str:
    """``value`` as text that an element rendering Markdown shows as typed, on one line (with an
    invisible word joiner that keeps a bare web or email address from becoming a link):
    ``"![x](a) $y$"`` -> ``"\\!\\[x\\]\\(a\\) \\$y\\$"``. NA and None are an empty text."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = _AUTOLINK.sub(WORD_JOINER, _LINE_BREAKS.sub(" ", str(value)))
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


# --- whole columns -----------------------------------------------------------------------------
def _map_text(series: pd.Series, func) -> pd.Series:
    """Apply ``func`` to each distinct text value of a column (cheap on category columns)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        cats = np.array([func(c) for c in series.cat.categories] + [None], dtype=object)
        codes = series.cat.codes.to_numpy()
        # code -1 (missing) picks the trailing None
        values = cats[np.where(codes >= 0, codes, len(cats) - 1)]
        return pd.Series(values, index=series.index, name=series.name, dtype=object)
    values = series.astype(object)
    lookup = {u: func(u) for u in pd.unique(values.dropna()) if isinstance(u, str)}
    return values.map(lambda v: lookup.get(v, v) if isinstance(v, str) else v)


def mask_personal(
    df: pd.DataFrame,
    columns: Iterable[str] = schema.PERSONAL_COLUMNS,
    free_text: Iterable[str] = FREE_TEXT_COLUMNS,
) -> pd.DataFrame:
    """Return a copy of ``df`` with emails and phone numbers masked: whole cells of ``columns``,
    and the email- and phone-shaped parts of the text in ``free_text`` columns; ``df`` is not
    changed (and is returned as it is when it has none of those columns)."""
    present = [c for c in columns if c in df.columns]
    texts = [c for c in free_text if c in df.columns and c not in present]
    if not present and not texts:
        return df
    out = df.copy()
    for col in present:
        masker = _MASKERS.get(col, lambda v: MASK if isinstance(v, str) else v)
        out[col] = _map_text(out[col], masker)
    for col in texts:
        if _is_text(out[col]):
            out[col] = _map_text(out[col], mask_free_text)
    return out


def _is_text(series: pd.Series) -> bool:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return not pd.api.types.is_numeric_dtype(dtype.categories.dtype)
    return pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype)


def _safe_text_column(series: pd.Series) -> pd.Series:
    """One text column made formula-safe; returned unchanged (same object) when nothing starts
    with a formula character, which is the usual case and costs one vectorised scan."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = list(series.cat.categories)
        safe = [safe_cell(c) for c in categories]
        if safe == categories:
            return series
        if len(set(safe)) == len(safe):
            return series.cat.rename_categories(safe)
        return _map_text(series, safe_cell)  # "=x" and "'=x" both present: plain text column
    if pd.api.types.is_string_dtype(series.dtype) and not pd.api.types.is_object_dtype(
        series.dtype
    ):
        hit = series.str.match(_FORMULA_START.pattern).fillna(False).astype(bool)
        if not hit.any():
            return series
        return series.where(~hit, "'" + series)
    return _map_text(series, safe_cell)


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` whose text cells cannot run as formulas; numbers are untouched.

    Text column names are made safe too.
    """
    out = df.copy()
    for col in out.columns:
        if _is_text(out[col]):
            safe = _safe_text_column(out[col])
            if safe is not out[col]:
                out[col] = safe
    out.columns = [safe_cell(str(c)) for c in out.columns]
    return out


def _format_times(df: pd.DataFrame) -> pd.DataFrame:
    """Write dates and times as ``YYYY-MM-DD HH:MM:SS`` text that spreadsheets read as times."""
    out = df
    for col in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[col].dtype):
            if out is df:
                out = df.copy()
            series = df[col]
            if getattr(series.dt, "tz", None) is not None:
                series = series.dt.tz_convert("UTC").dt.tz_localize(None)
            # whole seconds, then Arrow's own text form of a timestamp: "2024-05-01 09:30:00"
            seconds = pc.cast(pa.array(series), pa.timestamp("s"), safe=False)
            out[col] = pd.Series(seconds.cast(pa.string()), dtype="str", index=series.index)
    return out


CSV_CHUNK_ROWS = 100_000  # rows masked, formatted and written at a time


def write_csv(
    df: pd.DataFrame,
    out: BinaryIO,
    *,
    reveal_personal: bool = False,
    chunk_rows: int = CSV_CHUNK_ROWS,
) -> None:
    """Write ``df`` to ``out`` as a CSV: UTF-8 with BOM, formulas neutralised, personal data
    masked unless ``reveal_personal``. Times are written as ``YYYY-MM-DD HH:MM:SS`` (UTC columns
    in UTC, local columns as local wall-clock). ``df`` is not changed.

    It goes ``chunk_rows`` rows at a time, so the copies that masking and formatting make are
    those of one chunk, not of the whole frame. Arrow's CSV writer does the writing (several
    times faster than pandas on large frames); a chunk Arrow cannot take (mixed types in one
    column) is written by pandas instead.
    """
    out.write(UTF8_BOM)
    for first in range(0, max(len(df), 1), chunk_rows):
        part = df.iloc[first : first + chunk_rows]
        if len(part) < len(df):  # mask and check only the categories this chunk holds
            part = _used_categories_only(part)
        frame = part if reveal_personal else mask_personal(part)
        frame = spreadsheet_safe(_format_times(frame))
        try:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            options = pacsv.WriteOptions(quoting_style="needed", include_header=first == 0)
            pacsv.write_csv(table, out, write_options=options)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            text = frame.to_csv(
                index=False, header=first == 0, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL
            )
            out.write(text.encode("utf-8"))


def _used_categories_only(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with each category column's unused categories dropped (a new frame)."""
    categorical = [c for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)]
    if not categorical:
        return df
    return df.assign(**{c: df[c].cat.remove_unused_categories() for c in categorical})


def csv_bytes(df: pd.DataFrame, *, reveal_personal: bool = False) -> bytes:
    """The CSV of ``write_csv`` as bytes (for small frames and tests)."""
    buffer = io.BytesIO()
    write_csv(df, buffer, reveal_personal=reveal_personal)
    return buffer.getvalue()


def csv_file(df: pd.DataFrame, *, reveal_personal: bool = False) -> BinaryIO:
    """The CSV of ``write_csv`` in an anonymous temporary file on disk, read from its start (it
    disappears when closed), then Arrow's freed buffers handed back to the system: building a
    large CSV holds one chunk's copies in memory, not the file."""
    file = tempfile.TemporaryFile(prefix="c4w-csv-")
    try:
        write_csv(df, file, reveal_personal=reveal_personal)
    except BaseException:
        file.close()
        raise
    file.seek(0)
    pa.default_memory_pool().release_unused()
    return file


def csv_file_name(what: str, start: dt.date | None = None, end: dt.date | None = None) -> str:
    """``visits_2024-05-01_2024-05-31.csv``: what the file holds and which dates, safe characters
    only (lower-case letters, digits, ``_``, ``-``)."""
    label = _SAFE_NAME.sub("_", str(what).lower()).strip("_")[:60].strip("_") or "data"
    parts = [label]
    for day in (start, end):
        if isinstance(day, dt.date):
            parts.append(day.isoformat())
    return "_".join(parts) + ".csv"

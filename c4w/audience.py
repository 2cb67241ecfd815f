"""Audience files: a list of contacts, ready to import into Cloud4Wi or an email tool.

Every page that lists contacts (funnel drop-offs, did not open, clicked but did not visit, the
loyalty lists) downloads its list through ``audience_frame`` + ``audience_csv``:

- columns ``contact_id, first_name, last_name, email, phone, marketing_consent``;
- ``email`` a plain address, ``phone`` in E.164 form (``+14155550123``: a plus, the country
  code, the number, nothing else), ``marketing_consent`` ``yes`` / ``no`` / empty (not stated);
- names, emails and phones in full only when the viewer revealed personal data; otherwise masked
  (``Emma S.``, ``e***@example.com``, ``***0123``);
- by default only contacts who accepted marketing communications (``mktgCommunications``), and
  the file name says which (``..._consented_...`` or ``..._all-consents_...``);
- plain UTF-8 without a byte order mark, comma separated, a header row: the file imports as is.

Pure functions, no Streamlit.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable

import pandas as pd

from c4w import contacts as ct
from c4w import export, schema

AUDIENCE_COLUMNS: tuple[str, ...] = (
    schema.CONTACT_ID,
    ct.FIRST_NAME,
    ct.LAST_NAME,
    schema.EMAIL,
    schema.PHONE,
    ct.MARKETING_CONSENT,
)
CONSENTED_TAG, ALL_TAG = "consented", "all-consents"
CONSENT_ONLY_HELP = (
    "On: the file keeps only contacts who accepted marketing communications "
    "(mktgCommunications). Off: everyone on the list, with their consent in a column."
)
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_KEEP_TRUNK_ZERO = ("39",)  # Italy keeps the leading 0 of landline numbers after the prefix


def to_e164(phone: object, prefix: object = None) -> str | None:
    """A phone number in E.164 form, or None when it cannot be one.

    ``+39 320 555 1234`` -> ``+393205551234``; ``0044 7700 900123`` -> ``+447700900123``;
    ``(212) 555-0123`` with prefix ``+1`` -> ``+12125550123``; ``07700 900123`` with ``+44``
    drops the national trunk 0 -> ``+447700900123``. A number without a country code and no
    prefix is None (guessing a country would dial someone else).
    """
    if not isinstance(phone, str) or not phone.strip():
        return None
    text = phone.strip()
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        number = digits
    elif digits.startswith("00"):
        number = digits[2:]
    else:
        country = re.sub(r"\D", "", prefix) if isinstance(prefix, str) else ""
        if not country:
            return None
        national = digits
        if national.startswith("0") and country not in _KEEP_TRUNK_ZERO:
            national = national[1:]
        number = country + national
    candidate = "+" + number
    return candidate if _E164.match(candidate) else None


def _consent_text(value: object) -> str | None:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return None


def audience_frame(
    contacts: pd.DataFrame,
    contact_ids: Iterable[object],
    *,
    reveal: bool,
    consent_only: bool = True,
) -> pd.DataFrame:
    """The audience file's rows for ``contact_ids`` (in their order, each once).

    ``contacts`` is the contacts frame (``c4w.contacts.CONTACT_COLUMNS``). An id it does not
    hold keeps its row with empty fields and unknown consent. ``consent_only`` keeps only
    contacts whose marketing consent is given (unknown is not given). Without ``reveal`` names,
    emails and phones are masked. ``contacts`` is not changed.
    """
    wanted = list(dict.fromkeys(c for c in contact_ids if isinstance(c, str) and c))
    rows = ct.by_id(contacts).reindex(pd.Index(wanted, dtype=object))
    consent = rows[ct.MARKETING_CONSENT].astype(object)
    out = pd.DataFrame(
        {
            schema.CONTACT_ID: pd.Series(wanted, dtype="str"),
            ct.FIRST_NAME: rows[ct.FIRST_NAME].astype(object).to_numpy(),
            ct.LAST_NAME: rows[ct.LAST_NAME].astype(object).to_numpy(),
            schema.EMAIL: rows[schema.EMAIL].astype(object).str.strip().to_numpy(),
            schema.PHONE: pd.Series(
                [to_e164(p) for p in rows[schema.PHONE].astype(object)], dtype=object
            ),
            ct.MARKETING_CONSENT: pd.Series([_consent_text(v) for v in consent], dtype=object),
        }
    )
    if consent_only:
        out = out[(out[ct.MARKETING_CONSENT] == "yes").to_numpy()]
    if not reveal:
        out = out.assign(
            **{
                ct.FIRST_NAME: out[ct.FIRST_NAME].map(lambda v: v[0] if isinstance(v, str) else v),
                ct.LAST_NAME: out[ct.LAST_NAME].map(
                    lambda v: v[0] + "." if isinstance(v, str) else v
                ),
            }
        )
        out = export.mask_personal(out)
    return out.reset_index(drop=True)[list(AUDIENCE_COLUMNS)]


def audience_csv(frame: pd.DataFrame) -> bytes:
    """The audience file: plain UTF-8 CSV (no byte order mark), header row, comma separated.

    Text cells that a spreadsheet would run as a formula get a leading quote, except the
    phone column, whose every value is checked to be E.164 (``+`` and digits only) so that an
    importer reads it as the number it is.
    """
    phones = frame[schema.PHONE] if schema.PHONE in frame.columns else None
    safe = export.spreadsheet_safe(frame.drop(columns=[schema.PHONE], errors="ignore"))
    if phones is not None:
        checked = [
            p if isinstance(p, str) and (_E164.match(p) or p.startswith(export.MASK)) else None
            for p in phones
        ]
        position = list(frame.columns).index(schema.PHONE)
        safe.insert(position, schema.PHONE, checked)
    buffer = io.StringIO()
    safe.to_csv(buffer, index=False, lineterminator="\r\n")
    return buffer.getvalue().encode("utf-8")


def audience_file_name(
    what: str,
    consent_only: bool,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> str:
    """``audience_did-not-open_consented_2024-05-01_2024-05-31.csv``: what the list is, whether
    it keeps only consenting contacts, and the dates."""
    tag = CONSENTED_TAG if consent_only else ALL_TAG
    name = export.csv_file_name(f"audience {what}", start, end)
    stem = name[: -len(".csv")]
    label = export.csv_file_name(f"audience {what}")[: -len(".csv")]
    return f"{label}_{tag}{stem[len(label) :]}.csv"


def consent_note(kept: int, listed: int, consent_only: bool) -> str:
    """What the page says under an audience download."""
    if consent_only:
        return (
            f"{kept:,} of {listed:,} contacts on this list accepted marketing communications; "
            "the file holds only them."
        )
    return f"All {listed:,} contacts on this list, with their marketing consent in a column."

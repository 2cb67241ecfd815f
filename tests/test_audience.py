"""Audience files (c4w.audience) and the contacts frame they read (c4w.contacts)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pandas as pd
import pytest

from c4w import audience, schema, ui
from c4w import contacts as ct

ITEMS = [
    {
        "id": "c1",
        "firstName": "Emma",
        "lastName": "Smith",
        "email": "emma.smith@example.com",
        "phone": "+1 (212) 555-0101",
        "created": "2024-01-02T10:00:00Z",
        "signupMethod": "wifi",
        "policies": [
            {"name": "privacy", "accepted": True},
            {"name": "mktgCommunications", "accepted": True},
        ],
        "metrics": {"countTotalVisits": 4, "lastVisitDateUtc": "2024-03-01T09:00:00Z"},
    },
    {
        "id": "c2",
        "firstName": "Luca",
        "lastName": "Rossi",
        "email": "=HYPERLINK(1)@example.org",
        "phone": "0039 320 555 1234",
        "policies": [{"name": "mktgCommunications", "accepted": False}],
    },
    {"id": "c3", "email": "nobody@example.net"},  # consent not stated
    {"firstName": "No id"},  # left out
    "not an object",  # left out
]


def frame() -> pd.DataFrame:
    return ct.contacts_frame(ITEMS)


def read(data: bytes) -> list[list[str]]:
    assert not data.startswith(b"\xef\xbb\xbf")  # plain UTF-8: importers read it as is
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def test_contacts_frame_reads_names_consents_and_metrics() -> None:
    f = frame()
    assert f[schema.CONTACT_ID].tolist() == ["c1", "c2", "c3"]
    assert f.loc[0, ct.NAME] == "Emma Smith"
    assert bool(f.loc[0, ct.MARKETING_CONSENT]) is True
    assert bool(f.loc[1, ct.MARKETING_CONSENT]) is False
    assert pd.isna(f.loc[2, ct.MARKETING_CONSENT])
    assert f.loc[0, ct.TOTAL_VISITS] == 4
    assert f.loc[0, ct.CREATED] == pd.Timestamp("2024-01-02 10:00", tz="UTC")
    assert pd.isna(f.loc[2, ct.NAME])


@pytest.mark.parametrize(
    ("phone", "prefix", "expected"),
    [
        ("+39 320 555 1234", None, "+393205551234"),
        ("0044 7700 900123", None, "+447700900123"),
        ("(212) 555-0123", "+1", "+12125550123"),
        ("07700 900123", "+44", "+447700900123"),  # the UK trunk 0 goes
        ("06 1234 5678", "+39", "+390612345678"),  # an Italian landline keeps its 0
        ("2125550123", None, None),  # no country: not guessed
        ("+12", None, None),  # too short to be a number
        ("", "+1", None),
        (None, "+1", None),
    ],
)
def test_to_e164(phone, prefix, expected) -> None:
    assert audience.to_e164(phone, prefix) == expected


def test_revealed_audience_keeps_only_consenting_contacts_by_default() -> None:
    out = audience.audience_frame(frame(), ["c1", "c2", "c3", "c1", "ghost"], reveal=True)
    # c2 refused, c3 and the unknown id never said yes: only c1, once
    assert out.to_dict("records") == [
        {
            "contact_id": "c1",
            "first_name": "Emma",
            "last_name": "Smith",
            "email": "emma.smith@example.com",
            "phone": "+12125550101",
            "marketing_consent": "yes",
        }
    ]


def test_everyone_with_their_consent_when_the_option_is_off() -> None:
    out = audience.audience_frame(
        frame(), ["c3", "c2", "ghost", "c1"], reveal=True, consent_only=False
    )
    assert out["contact_id"].tolist() == ["c3", "c2", "ghost", "c1"]
    assert out["marketing_consent"].tolist() == [None, "no", None, "yes"]
    assert out["phone"].tolist() == [None, "+393205551234", None, "+12125550101"]


def test_masked_audience_hides_names_emails_and_phones() -> None:
    out = audience.audience_frame(frame(), ["c1", "c2"], reveal=False, consent_only=False)
    assert out["first_name"].tolist() == ["E", "L"]
    assert out["last_name"].tolist() == ["S.", "R."]
    assert out["email"].tolist() == ["e***@example.com", "=***@example.org"]
    assert out["phone"].tolist() == ["***0101", "***1234"]


def test_audience_csv_is_a_clean_table_with_e164_phones_and_safe_text() -> None:
    out = audience.audience_frame(frame(), ["c1", "c2"], reveal=True, consent_only=False)
    rows = read(audience.audience_csv(out))
    assert rows[0] == list(audience.AUDIENCE_COLUMNS)
    assert rows[1] == ["c1", "Emma", "Smith", "emma.smith@example.com", "+12125550101", "yes"]
    # the phone keeps its plus (no quote), the formula-looking email gets one
    assert rows[2] == ["c2", "Luca", "Rossi", "'=HYPERLINK(1)@example.org", "+393205551234", "no"]


def test_masked_and_revealed_files_differ_only_where_personal() -> None:
    shown = audience.audience_frame(frame(), ["c1"], reveal=True)
    hidden = audience.audience_frame(frame(), ["c1"], reveal=False)
    full, masked = audience.audience_csv(shown), audience.audience_csv(hidden)
    assert b"emma.smith@example.com" in full and b"emma.smith" not in masked
    assert b"+12125550101" in full and b"5550101" not in masked
    assert read(masked)[1] == ["c1", "E", "S.", "e***@example.com", "***0101", "yes"]


def test_file_name_says_which_consent_rule() -> None:
    day = dt.date(2024, 5, 1)
    assert (
        audience.audience_file_name("did not open", True, day, dt.date(2024, 5, 31))
        == "audience_did_not_open_consented_2024-05-01_2024-05-31.csv"
    )
    assert audience.audience_file_name("Clicked, no visit", False) == (
        "audience_clicked_no_visit_all-consents.csv"
    )


def test_display_names_take_an_ids_last_row_and_skip_ids_that_are_not_text() -> None:
    f = frame()
    again = f.iloc[[0]].assign(**{ct.NAME: "Emma Jones", ct.LAST_NAME: "Jones"})
    no_id = f.iloc[[1]].assign(**{schema.CONTACT_ID: None})
    contacts = pd.concat([f, again, no_id], ignore_index=True)
    assert ct.names_for(contacts, ["c1", None, 7, "c2", "c1"], reveal=True) == [
        "Emma Jones",
        None,
        None,
        "Luca Rossi",
        "Emma Jones",
    ]
    # the same with the ids as categories, as a frame read from the store holds them
    as_categories = contacts.assign(
        **{schema.CONTACT_ID: contacts[schema.CONTACT_ID].astype("category")}
    )
    assert ct.names_for(as_categories, ["c1", "ghost"], reveal=False) == ["Emma J.", None]


def test_display_names_and_search() -> None:
    f = frame()
    assert ct.names_for(f, ["c1", "c3", "ghost"], reveal=False) == [
        "Emma S.",
        "n***@example.net",
        None,
    ]
    assert ct.names_for(f, ["c1"], reveal=True) == ["Emma Smith"]
    assert ct.search_contacts(f, "c2")[schema.CONTACT_ID].tolist() == ["c2"]
    assert ct.search_contacts(f, " EMMA.smith@example.com ")[schema.CONTACT_ID].tolist() == ["c1"]
    assert ct.search_contacts(f, "555 0101")[schema.CONTACT_ID].tolist() == ["c1"]
    assert ct.search_contacts(f, "+1 212 555 0101")[schema.CONTACT_ID].tolist() == ["c1"]
    assert ct.search_contacts(f, "ross")[schema.CONTACT_ID].tolist() == ["c2"]
    assert ct.search_contacts(f, "emma sm")[schema.CONTACT_ID].tolist() == ["c1"]
    assert ct.search_contacts(f, "smith emma")[schema.CONTACT_ID].tolist() == ["c1"]
    assert ct.search_contacts(f, "mith").empty  # words match from their start
    assert ct.search_contacts(f, "").empty


def test_identity_card_is_masked_until_revealed() -> None:
    f = frame()
    hidden = ct.identity(f, "c1", reveal=False)
    assert hidden == ct.Identity("Emma S.", "e***@example.com", "***0101", "given")
    shown = ct.identity(f, "c1", reveal=True)
    assert shown == ct.Identity(
        "Emma Smith", "emma.smith@example.com", "+1 (212) 555-0101", "given"
    )
    assert ct.identity(f, "c2", reveal=False).consent == "refused"
    assert ct.identity(f, "c3", reveal=False) == ct.Identity(
        "n***@example.net", "n***@example.net", "–", "not stated"
    )
    assert ct.identity(f, "ghost", reveal=True) is None


def test_an_audience_lists_each_text_id_once_in_order_of_first_appearance() -> None:

    given = ["c2", None, "c1", "c2", "", 3, float("nan"), "c3", "c1"]
    assert ui.audience_ids(given) == ["c2", "c1", "c3"]
    assert ui.audience_ids(pd.Series(given, dtype=object)) == ["c2", "c1", "c3"]
    as_text = pd.Series(["c2", None, "c1", "c2", "c3"], dtype="str")
    assert ui.audience_ids(as_text) == ["c2", "c1", "c3"]
    assert ui.audience_ids(as_text.astype("category")) == ["c2", "c1", "c3"]
    assert ui.audience_ids(iter(["c9", "c9"])) == ["c9"]

"""Spreadsheet-safe CSV, file names and masking of personal data (c4w.export)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pandas as pd

from c4w import export, schema

HYPERLINK = '=HYPERLINK("http://example.invalid","x")'


def read_back(data: bytes) -> list[list[str]]:
    """Parse CSV bytes the way a spreadsheet import would (after the byte order mark)."""
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"))))


def test_formula_cells_get_a_leading_quote_and_numbers_stay_numbers() -> None:
    df = pd.DataFrame(
        {
            "name": [HYPERLINK, "+1", "@SUM(A1)", "-5", "\tx", "\rx", "plain", " =1+1"],
            "amount": [-5, 3, 0, 1, 2, 7, -1, 4],
        }
    )
    rows = read_back(export.csv_bytes(df))
    assert rows[0] == ["name", "amount"]
    names = [r[0] for r in rows[1:]]
    # each dangerous text is kept, with a single quote in front
    assert names == [
        "'" + HYPERLINK,
        "'+1",
        "'@SUM(A1)",
        "'-5",
        "'\tx",
        "'\rx",
        "plain",
        "' =1+1",
    ]
    # the numeric column is written as plain numbers: -5 stays -5
    assert [r[1] for r in rows[1:]] == ["-5", "3", "0", "1", "2", "7", "-1", "4"]


def test_no_cell_of_the_file_starts_with_a_formula_character() -> None:
    df = pd.DataFrame(
        {
            schema.LOCATION_NAME: pd.Series([HYPERLINK, "<img src=x onerror=alert(1)>"]),
            schema.CAMPAIGN_NAME: pd.Series(["-2+3", None], dtype="category"),
            schema.SURVEY_ANSWERS: pd.Series(["answer_1: =1", "@x"], dtype="str"),
        }
    )
    rows = read_back(export.csv_bytes(df))
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(export.FORMULA_PREFIXES), cell
    # the HTML is kept as plain text (a CSV is not HTML), the empty campaign stays empty
    assert rows[2] == ["<img src=x onerror=alert(1)>", "", "'@x"]


def test_text_minus_five_is_quoted_but_number_minus_five_is_not() -> None:
    df = pd.DataFrame({"as_text": ["-5"], "as_number": [-5], "as_float": [-5.5]})
    rows = read_back(export.csv_bytes(df))
    assert rows[1] == ["'-5", "-5", "-5.5"]


def test_non_ascii_names_survive_with_a_byte_order_mark() -> None:
    df = pd.DataFrame({schema.LOCATION_NAME: ["Café Zoë", "東京駅", "Łódź 🚀"]})
    data = export.csv_bytes(df)
    # UTF-8 BOM first: Excel then reads the file as UTF-8 on a double-click
    assert data[:3] == b"\xef\xbb\xbf"
    assert "Café Zoë".encode() in data
    assert [r[0] for r in read_back(data)[1:]] == ["Café Zoë", "東京駅", "Łódź 🚀"]


def test_category_and_missing_values() -> None:
    df = pd.DataFrame(
        {
            "type": pd.Series(["visit", None, "=cmd"], dtype="category"),
            "n": pd.Series([1.5, None, 3.0]),
        }
    )
    rows = read_back(export.csv_bytes(df))
    # missing text and missing numbers are empty cells; 3.0 is written as the number 3
    assert rows[1:] == [["visit", "1.5"], ["", ""], ["'=cmd", "3"]]


def test_times_are_written_as_plain_date_and_time() -> None:
    df = pd.DataFrame(
        {
            schema.CREATED_AT: pd.to_datetime(["2024-05-01T09:30:00Z"], utc=True),
            schema.CREATED_AT_LOCAL: pd.to_datetime(["2024-05-01T11:30:00"]),
        }
    )
    rows = read_back(export.csv_bytes(df))
    assert rows[1] == ["2024-05-01 09:30:00", "2024-05-01 11:30:00"]


def test_input_frame_is_not_changed() -> None:
    df = pd.DataFrame({schema.EMAIL: ["john@example.com"], "name": ["=x"]})
    before = df.copy()
    export.csv_bytes(df)
    pd.testing.assert_frame_equal(df, before)


def test_masking_of_emails_and_phones() -> None:
    assert export.mask_email("john@example.com") == "j***@example.com"
    assert export.mask_email("x@y.org") == "x***@y.org"
    assert export.mask_email("not-an-email") == "***"
    assert export.mask_email(None) is None
    # last four digits only: "+39 333 123 4567" -> digits 393331234567 -> "4567"
    assert export.mask_phone("+39 333 123 4567") == "***4567"
    # four digits or fewer would give the whole number away
    assert export.mask_phone("1234") == "***"
    assert export.mask_phone(None) is None


def test_csv_masks_personal_columns_unless_revealed() -> None:
    df = pd.DataFrame(
        {
            schema.CONTACT_ID: ["c1", "c2"],
            schema.EMAIL: pd.Series(["anna@shop.example", None], dtype="category"),
            schema.PHONE: pd.Series(["+1 555 0100 9876", "5550001111"], dtype="str"),
        }
    )
    masked = read_back(export.csv_bytes(df))
    assert masked[1] == ["c1", "a***@shop.example", "***9876"]
    assert masked[2] == ["c2", "", "***1111"]
    revealed = read_back(export.csv_bytes(df, reveal_personal=True))
    # a phone number starting with "+" is still neutralised when revealed
    assert revealed[1] == ["c1", "anna@shop.example", "'+1 555 0100 9876"]
    assert revealed[2] == ["c2", "", "5550001111"]


def test_mask_personal_returns_a_copy() -> None:
    df = pd.DataFrame({schema.EMAIL: ["bob@example.com"], "other": [1]})
    out = export.mask_personal(df)
    assert out[schema.EMAIL].tolist() == ["b***@example.com"]
    assert df[schema.EMAIL].tolist() == ["bob@example.com"]


def test_file_names_say_what_and_which_dates() -> None:
    start, end = dt.date(2024, 5, 1), dt.date(2024, 5, 31)
    assert export.csv_file_name("visits", start, end) == "visits_2024-05-01_2024-05-31.csv"
    # anything but letters and digits becomes one underscore; no path can sneak in
    assert (
        export.csv_file_name("../Dropped at: step 2/3", start, end)
        == "dropped_at_step_2_3_2024-05-01_2024-05-31.csv"
    )
    assert export.csv_file_name("", start, end) == "data_2024-05-01_2024-05-31.csv"
    assert export.csv_file_name("Overview") == "overview.csv"


def test_a_column_mixing_numbers_and_text_is_still_written_safely() -> None:
    df = pd.DataFrame({"mixed": pd.Series([1, "=x", None], dtype=object), "n": [1, 2, 3]})
    rows = read_back(export.csv_bytes(df))
    # the number 1 stays 1, the text "=x" gets its quote, the missing value is empty
    assert rows[1:] == [["1", "1"], ["'=x", "2"], ["", "3"]]

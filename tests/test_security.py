"""What a hostile or broken link, or a failing API, cannot do to the dashboard.

Pure functions of ``c4w.ui`` first, then the app through AppTest in live mode against the
sandbox: contact ids that are dot segments, error pages that keep the sidebar and a way to try
again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from c4w import export, schema, ui

TODAY = dt.date(2024, 6, 15)
CREDENTIAL_VARS = ("C4W_TOKEN", "C4W_CLIENT_KEY", "C4W_CLIENT_SECRET", "C4W_ORG_ID", "C4W_BASE_URL")


# --- 10: the loc parameter ------------------------------------------------------------------------
def test_comma_separated_location_ids_count_towards_the_cap() -> None:
    cap = ui.MAX_LOCATIONS_IN_LINK
    one_value = ",".join(f"loc-{i}" for i in range(40_000))  # 40,000 ids in one `loc` value
    filters, notes = ui.parse_url_filters({"loc": [one_value]}, TODAY)
    assert filters.location_ids == tuple(f"loc-{i}" for i in range(cap))
    assert notes == [f"The link names more than {cap} locations; only the first {cap} are used."]


def test_the_cap_counts_ids_over_repeated_and_comma_separated_values() -> None:
    cap = ui.MAX_LOCATIONS_IN_LINK
    # 300 values of 2 ids each: 600 ids, of which the first `cap` are kept
    values = [f"a{i},b{i}" for i in range(300)]
    filters, notes = ui.parse_url_filters({"loc": values}, TODAY)
    expected = [x for i in range(300) for x in (f"a{i}", f"b{i}")][:cap]
    assert list(filters.location_ids) == expected and len(notes) == 1


def test_repeated_ids_are_kept_once_in_their_first_order() -> None:
    filters, notes = ui.parse_url_filters({"loc": ["b,a", "b", " a ,c", "c,,"]}, TODAY)
    assert filters.location_ids == ("b", "a", "c")
    assert notes == []
    # exactly the cap is not "more than" it
    exactly = ",".join(str(i) for i in range(ui.MAX_LOCATIONS_IN_LINK))
    filters, notes = ui.parse_url_filters({"loc": [exactly, "0,1"]}, TODAY)
    assert len(filters.location_ids) == ui.MAX_LOCATIONS_IN_LINK and notes == []


# --- the app in live mode -------------------------------------------------------------------------
@pytest.fixture
def live(sandbox_factory, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """A sandbox over the small test organization, the app pointed at it."""
    box = sandbox_factory()
    monkeypatch.setenv("C4W_DEMO_EVENTS", "2000")
    for name in CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("C4W_BASE_URL", box.url)
    monkeypatch.setenv("C4W_TOKEN", box.token)
    monkeypatch.setenv("C4W_ORG_ID", box.org_id)
    yield box


def run_app(page: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.query_params.update(params)
    at.run()
    if page is not None:
        at.switch_page(f"pages/{page}.py").run()
    return at


# --- 6: contact ids that are dot segments ---------------------------------------------------------
# what a browser's address gives the page for ?contact=.., ., %2e%2e, %20..%20 and %00..
@pytest.mark.parametrize("contact_id", ["..", ".", " .. ", "\x00..", ".\x00."])
def test_dot_segment_contact_ids_get_the_bad_id_message(live, contact_id: str) -> None:
    at = run_app("contact", contact=contact_id)
    assert not at.exception, [e.value for e in at.exception]
    assert any("No events found for that contact id" in i.value for i in at.info)
    assert all(entry["endpoint"] != "contact" for entry in live.requests)  # nothing was asked


def test_a_literal_percent_encoded_dot_id_is_sent_as_data(live) -> None:
    at = run_app("contact", contact="%2e%2e")
    assert not at.exception, [e.value for e in at.exception]
    assert any("No events found" in i.value for i in at.info)
    assert [e["contact_id"] for e in live.requests if e["endpoint"] == "contact"] == ["%2e%2e"]


# --- 7: error pages keep the sidebar and a way to try again ---------------------------------------
@pytest.mark.parametrize("endpoint", ["events", "locations"])
def test_an_error_page_keeps_the_sidebar_and_offers_to_try_again(live, endpoint: str) -> None:
    live.add_fault(410, endpoint=endpoint, times=1)  # refused once, then answered
    at = run_app()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1 and "revoked" not in at.error[0].value  # the short message only
    assert at.button(key="error_refresh").label == "Try again"
    assert at.sidebar.button(key="error_refresh_side").label == "Refresh data"
    if endpoint == "events":  # the filters were drawn before the events were asked for
        assert at.sidebar.selectbox(key="flt_range").value == "30d"
    at.button(key="error_refresh").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(at.metric) >= 6  # the Overview, now that the API answers


# --- 4: Markdown from event data is shown as typed ------------------------------------------------
MARKDOWN = "![px](http://127.0.0.1:8729/p.png) [Sign in again](http://phish.invalid/x)"


def test_escaped_markdown_keeps_every_character_behind_a_backslash() -> None:
    # every ASCII punctuation character is escaped; letters, digits and spaces are not
    assert export.escape_markdown("![a](b) $x$") == r"\!\[a\]\(b\) \$x\$"
    assert export.escape_markdown("<!-- c -->") == r"\<\!\-\- c \-\-\>"
    assert export.escape_markdown(":red[x] **b** _i_ `c`") == r"\:red\[x\] \*\*b\*\* \_i\_ \`c\`"
    assert export.escape_markdown("# title\n- item\r\n1. x") == r"\# title \- item 1\. x"
    assert export.escape_markdown("Café 5 à 7") == "Café 5 à 7"
    assert export.escape_markdown(None) == "" and export.escape_markdown(pd.NA) == ""


def test_unescaping_gives_back_the_text() -> None:
    import re

    for text in (MARKDOWN, "<!-- hidden -->", "$$\\sum_i x_i$$", "a\\b", "=1+2"):
        escaped = export.escape_markdown(text).replace(export.WORD_JOINER, "")
        assert re.sub(r"\\(.)", r"\1", escaped) == text  # CommonMark's reading of the escapes


def test_bare_addresses_are_kept_from_becoming_links() -> None:
    # GitHub-flavoured Markdown links "http://", "www." and "name@domain" even when escaped
    joiner = export.WORD_JOINER
    assert export.escape_markdown("http://a") == f"http{joiner}\\:\\/\\/a"
    assert export.escape_markdown("WWW.a.b") == f"WWW{joiner}\\.a\\.b"
    assert export.escape_markdown("x@y.z") == f"x{joiner}\\@y\\.z"


# --- 5: personal data inside free text -----------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("call me: +39 333 123 4567", "call me: ***4567"),
        ("mail john.doe@example.com please", "mail j***@example.com please"),
        ("answer_1: (555) 123-4567; answer_2: 4", "answer_1: ***4567; answer_2: 4"),
        ("answer_1: 333.123.4567", "answer_1: ***4567"),
        # left alone: dates and times, short numbers, ids with letters or dashes
        ("answer_1: 2024-05-01 09:30:00", "answer_1: 2024-05-01 09:30:00"),
        ("code 123456, id c-12345678, ev-2-000012", "code 123456, id c-12345678, ev-2-000012"),
    ],
)
def test_emails_and_phones_inside_free_text_are_masked(text: str, masked: str) -> None:
    assert export.mask_free_text(text) == masked


def test_survey_answers_are_masked_on_screen_and_in_csv_unless_revealed() -> None:
    answers = "answer_1: anna@example.com; answer_2: +44 20 7946 0958"
    df = pd.DataFrame(
        {
            schema.CONTACT_ID: ["c-1", "c-2"],
            schema.SURVEY_ANSWERS: pd.Series([answers, "answer_1: yes"], dtype="category"),
        }
    )
    masked = export.mask_personal(df)
    assert masked[schema.SURVEY_ANSWERS].tolist() == [
        "answer_1: a***@example.com; answer_2: ***0958",
        "answer_1: yes",
    ]
    assert df[schema.SURVEY_ANSWERS].tolist()[0] == answers  # the input is not changed
    hidden = export.csv_bytes(df).decode("utf-8-sig")
    assert "anna@example.com" not in hidden and "7946" not in hidden
    assert "a***@example.com" in hidden
    assert answers in export.csv_bytes(df, reveal_personal=True).decode("utf-8-sig")


def hostile_contact_source():
    """One contact whose signup source is Markdown and whose survey answer holds an email and a
    phone number, in the last days (so the default dates show them)."""
    from c4w.sandbox import source_from_events
    from tests.conftest import LOCATIONS, ORG_ID, nested_event

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    signup = nested_event(
        "ev-md-1", schema.SIGNUP, "c-md", now - dt.timedelta(hours=5), LOCATIONS[0]
    )
    signup["event"]["signup"] = {"source": MARKDOWN}
    survey = nested_event(
        "ev-md-2", schema.SURVEY, "c-md", now - dt.timedelta(hours=4), LOCATIONS[0]
    )
    survey["event"]["survey"] = {
        "campaignId": "cmp-s",
        "campaignName": "Feedback",
        "answerId": "a1",
        "questions": {"question_1": "How can we reach you?"},
        "answers": {"answer_1": "anna@example.com or +39 333 123 4567"},
    }
    return source_from_events([signup, survey], ORG_ID, LOCATIONS)


def test_the_contact_page_escapes_and_masks_event_text(
    sandbox_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = sandbox_factory(hostile_contact_source())
    for name in CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("C4W_BASE_URL", box.url)
    monkeypatch.setenv("C4W_TOKEN", box.token)
    monkeypatch.setenv("C4W_ORG_ID", box.org_id)
    at = run_app("contact", contact="c-md")
    assert not at.exception, [e.value for e in at.exception]
    source = {m.label: m.value for m in at.metric}["Signup source"]
    assert source == export.escape_markdown(MARKDOWN)
    assert "](" not in source.replace("\\]\\(", "")  # no unescaped link or image syntax is left
    shown = " ".join(
        " ".join(t.value[schema.SURVEY_ANSWERS].dropna().astype(str))
        for t in at.dataframe
        if schema.SURVEY_ANSWERS in t.value.columns
    )
    assert "a***@example.com" in shown and "***4567" in shown
    assert "anna@example.com" not in shown and "333 123" not in shown
    at.sidebar.toggle(key="flt_reveal").set_value(True).run()
    shown = " ".join(
        " ".join(t.value[schema.SURVEY_ANSWERS].dropna().astype(str))
        for t in at.dataframe
        if schema.SURVEY_ANSWERS in t.value.columns
    )
    assert "anna@example.com or +39 333 123 4567" in shown

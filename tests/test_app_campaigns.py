"""The Campaigns page, the contact search and audience downloads through AppTest (demo data)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from c4w import contacts as ct
from c4w import data, schema
from tests.test_app import CREDENTIAL_VARS, DEMO_EVENTS, param, run_app


@pytest.fixture(autouse=True)
def demo_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("C4W_DEMO_EVENTS", DEMO_EVENTS)
    for name in CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    yield


def demo_contacts():
    return data.load_contacts(data.Source("demo"))


def a_guest_with_email_and_phone() -> dict:
    people = demo_contacts()
    has = people[people[schema.EMAIL].notna() & people[schema.PHONE].notna()]
    return has.iloc[0].to_dict()


def test_contact_search_by_email_finds_the_guest_and_keeps_the_email_out_of_the_address():
    guest = a_guest_with_email_and_phone()
    at = run_app("contact")
    at.text_input(key="contact_search").set_value(guest[schema.EMAIL].upper()).run()
    assert not at.exception, [e.value for e in at.exception]
    # the address names the contact by id only
    assert param(at, "contact") == [guest[schema.CONTACT_ID]]
    for name in at.query_params:
        for value in param(at, name):
            assert "@" not in value and guest[schema.EMAIL] not in value
    shown = {m.label: m.value for m in at.metric}
    first, last = guest[ct.FIRST_NAME], guest[ct.LAST_NAME]
    assert shown["Guest"] == f"{first} {last[0]}."
    local, _, domain = guest[schema.EMAIL].partition("@")
    assert shown["Email"] == f"{local[0]}***@{domain}"
    digits = "".join(ch for ch in guest[schema.PHONE] if ch.isdigit())
    assert shown["Phone"] == "***" + digits[-4:]
    assert shown["Marketing consent"] in ("given", "refused", "not stated")
    at.sidebar.toggle(key="flt_reveal").set_value(True).run()
    shown = {m.label: m.value for m in at.metric}
    assert shown["Guest"] == f"{first} {last}" and shown["Email"] == guest[schema.EMAIL]
    assert shown["Phone"] == guest[schema.PHONE]


def test_contact_search_by_phone_and_by_name():
    guest = a_guest_with_email_and_phone()
    at = run_app("contact")
    for typed in (guest[schema.PHONE], guest[ct.NAME]):
        at.text_input(key="contact_search").set_value(typed).run()
        assert not at.exception, [e.value for e in at.exception]
        matches = ct.search_contacts(demo_contacts(), typed)
        assert guest[schema.CONTACT_ID] in set(matches[schema.CONTACT_ID])
        # one match opens that guest; several give a list to open from
        if len(matches) == 1:
            assert param(at, "contact") == [guest[schema.CONTACT_ID]]
        else:
            assert any(f"{len(matches):,} guests match" in str(i.value) for i in at.info)
            listed = set(at.dataframe[0].value[schema.CONTACT_ID])
            assert guest[schema.CONTACT_ID] in listed
        assert typed not in str(dict(at.query_params))
        digits = "".join(ch for ch in guest[schema.PHONE] if ch.isdigit())
        assert digits not in str(dict(at.query_params))


def test_campaigns_page_shows_every_campaign_and_one_in_detail():
    at = run_app()
    at.switch_page("pages/campaigns.py").run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert {"campaign", "sent", "recipients", "open_rate", "click_rate"} <= set(table.columns)
    assert len(table) >= 2
    labels = {m.label for m in at.metric}
    assert {"Recipients", "Click rate", "Returned", "Baseline", "Uplift"} <= labels
    for metric in at.metric:
        assert metric.help, metric.label  # every figure says what it is
    assert len(at.get("plotly_chart")) >= 2
    # another campaign and another baseline redraw without a traceback
    options = at.selectbox(key="campaign_pick").options
    at.selectbox(key="campaign_pick").set_value(options[-1]).run()
    at.radio(key="campaign_baseline").set_value("before").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.header[0].value in options[-1]


def test_a_baseline_that_is_not_fair_says_why_instead_of_a_figure():
    # The demo's welcome email follows each sign-up, which follows a visit: the same guests'
    # days before are no baseline for it.
    at = run_app()
    at.switch_page("pages/campaigns.py").run()
    welcome = next(o for o in at.selectbox(key="campaign_pick").options if "Welcome" in o)
    at.selectbox(key="campaign_pick").set_value(welcome).run()
    at.radio(key="campaign_baseline").set_value("before").run()
    assert not at.exception, [e.value for e in at.exception]
    uplift = next(m for m in at.metric if m.label == "Uplift")
    assert uplift.value == "Not comparable"
    warnings = [w.value for w in at.warning]
    assert any("not a fair baseline here" in w and "sign-up" in w for w in warnings), warnings
    # the holdout gives a figure for the brunch email, sent to a random draw of guests (for the
    # welcome email it depends on the hour the demo ends)
    brunch = next(o for o in at.selectbox(key="campaign_pick").options if "brunch" in o)
    at.selectbox(key="campaign_pick").set_value(brunch).run()
    at.radio(key="campaign_baseline").set_value("holdout").run()
    uplift = next(m for m in at.metric if m.label == "Uplift")
    assert uplift.value.endswith("pts") or uplift.value == "Not enough data"


@pytest.mark.parametrize(
    ("page", "key"),
    [
        ("pages/funnels.py", "funnels_dropped_audience"),
        ("pages/loyalty.py", "loyalty_lapsed_audience"),
    ],
)
def test_contact_lists_of_other_pages_download_as_audiences(page, key):
    at = run_app()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.toggle(key=f"{key}_consent").value is True  # consenting contacts only, by default
    assert any("accepted marketing" in str(c.value) for c in at.caption)

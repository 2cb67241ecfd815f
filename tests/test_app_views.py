"""What a new user meets on every page through AppTest: the glossary, the demo notice, a note
for a page that does not exist, the funnel's counting rule, and choices kept in the address."""

from __future__ import annotations

from c4w import glossary, ui
from tests.test_app import PAGES, demo_environment, param, run_app  # noqa: F401 (autouse)


def test_the_glossary_is_one_click_away_on_every_page() -> None:
    at = run_app()
    for page in PAGES:
        at.switch_page(PAGES[page]).run()
        assert not at.exception
        texts = [m.value for m in at.sidebar.markdown]
        assert any("**Returning**" in t and "**Bounce**" in t for t in texts), page
    words = dict(glossary.GLOSSARY)
    for term in ("WiFi login", "WiFi visit", "WiFi arrival", "Geofence visit", "Returning"):
        assert term in words
    assert "Contacts reached" in words and "Guests" in words
    assert "UTC" in words["Dates (UTC) and local time"]
    assert "local time" in words["Dates (UTC) and local time"]


def test_the_demo_notice_speaks_to_the_marketer_and_hides_the_admin_steps() -> None:
    at = run_app()
    notice = next(i.value for i in at.info if "Demo data" in i.value)
    assert "sample data" in notice and "ask whoever runs this dashboard" in notice
    assert "README" not in notice
    labels = [e.label for e in at.expander]
    assert any("For whoever runs this dashboard" in label for label in labels)
    assert any("Manage > Developers > APIs" in m.value for m in at.markdown)


def test_a_link_to_a_page_that_does_not_exist_gets_a_short_note() -> None:
    known = {"", "visits", "contact"}
    assert ui.missing_page_note("visitz", known) == (
        "There is no page called “visitz”, so the Overview is shown instead. Pick a page on "
        "the left."
    )
    assert ui.missing_page_note("visits", known) is None
    assert ui.missing_page_note(None, known) is None
    # anything but a plain name is not repeated on screen
    assert ui.missing_page_note("**x**](javascript:1)", known).startswith(
        "The address names no page"
    )


def test_the_funnel_page_writes_its_rule_and_keeps_its_choices_in_the_address() -> None:
    at = run_app("funnels")
    assert not at.exception
    rule = next(i.value for i in at.info if "How contacts are counted" in i.value)
    assert "Steps follow one message" in rule
    one = {m.label: m.value for m in at.metric}
    at.segmented_control(key="funnels_follow").set_value("any").run()
    assert not at.exception
    rule = next(i.value for i in at.info if "How contacts are counted" in i.value)
    assert "Any campaign" in rule
    assert param(at, "follow") == ["any"]
    anyone = {m.label: m.value for m in at.metric}
    # counting any campaign's open and click can only add contacts who reach the last step
    assert int(anyone["Reached the last step"].replace(",", "")) >= int(
        one["Reached the last step"].replace(",", "")
    )
    at.number_input(key="funnels_window_days").set_value(7).run()
    assert param(at, "window") == ["7"]


def test_a_shared_link_with_page_choices_opens_that_view() -> None:
    at = run_app("visits", bins="10", split="kind", kind="wifi")
    assert not at.exception
    assert at.select_slider(key="visits_binwidth").value == 10
    assert at.segmented_control(key="visits_split").value == "kind"
    assert at.segmented_control(key="visits_kind").value == "wifi"
    # a bad value falls back to the default
    at = run_app("visits", bins="7")
    assert at.select_slider(key="visits_binwidth").value == 5

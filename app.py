"""Cloud4Wi guest analytics: the router and the sidebar every page shares.

Start it with ``streamlit run app.py``. Without credentials it shows the demo organization; with
a ``[c4w]`` section in ``.streamlit/secrets.toml`` (or ``C4W_*`` environment variables) it shows
the live account. With an ``[auth]`` section, visitors sign in first.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from c4w import data, memory, ui

memory.use_returning_pool()  # before the store is read (cheap on every later run)
ui.start_run()
st.set_page_config(
    page_title="Guest analytics · Cloud4Wi",
    # bundled: a material icon or an emoji would be fetched from an outside server
    page_icon=str(Path(__file__).parent / "assets" / "icon.png"),
    layout="wide",
    initial_sidebar_state="expanded",
)

ui.require_sign_in()

PAGES = {
    "At a glance": [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("pages/quality.py", title="Data quality", icon=":material/fact_check:"),
    ],
    "Guests in stores": [
        st.Page("pages/visits.py", title="Visits", icon=":material/timer:"),
        st.Page("pages/logins.py", title="WiFi logins", icon=":material/wifi:"),
        st.Page("pages/loyalty.py", title="Loyalty", icon=":material/loyalty:"),
        st.Page("pages/locations.py", title="Locations", icon=":material/storefront:"),
        st.Page("pages/geofences.py", title="Geofences", icon=":material/map:"),
    ],
    "Marketing": [
        st.Page("pages/funnels.py", title="Campaign funnels", icon=":material/filter_alt:"),
        st.Page("pages/campaigns.py", title="Campaigns", icon=":material/campaign:"),
    ],
    "People": [
        st.Page(
            "pages/contact.py",
            title="Contact",
            icon=":material/person_search:",
            url_path=ui.CONTACT_PAGE_PATH,
        ),
    ],
}
# the page links are drawn by ui.page_menu: they carry the address's filters to the next page
navigation = st.navigation(PAGES, position="hidden")
ui.page_menu(PAGES)

source = data.current_source()
try:
    with st.spinner("Loading the locations from Cloud4Wi…", show_time=True):
        locations = data.load_locations(source)
except Exception as exc:
    if not ui.is_api_error(exc):
        raise
    ui.show_error(exc)
    ui.stop_page()

filters, reveal = ui.sidebar_filters(locations, page=navigation.url_path)
ui.glossary_popover()
ui.demo_banner(source)
no_such_page = ui.missing_page_note(
    ui.requested_page(), {page.url_path for section in PAGES.values() for page in section}
)
if no_such_page:
    st.warning(no_such_page, icon=":material/link_off:")
try:
    ctx = ui.load_context(source, filters, reveal=reveal)
except Exception as exc:
    if not ui.is_api_error(exc):
        raise
    ui.show_error(exc)
    ui.stop_page()
ui.data_status(ctx)

ui.begin_run(ctx)
try:
    navigation.run()
finally:
    try:
        ui.finish_run()
    finally:
        ui.end_run()

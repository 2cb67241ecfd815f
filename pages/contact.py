"""Contact: everything one guest did, from signup to the last visit, as figures and a timeline."""

from __future__ import annotations

import streamlit as st

from c4w import contacts as people
from c4w import schema, ui
from c4w.charts import contacts as charts
from c4w.metrics import contacts as cm
from c4w.queries import contacts as cq

SEARCH_KEY, SEEN_KEY = "contact_search", "contact_seen_link"
WHEN = "DD MMM YYYY, HH:mm"

ctx = ui.page_context()
st.title("Contact")
st.caption(
    "Everything one guest did: signup, WiFi logins, visits and how long they stayed, "
    "geofences, and the emails and SMS they received, opened and clicked."
)

# A link (?contact=...) fills the search box. A search that finds one contact puts that contact's
# id (never the typed email, phone or name) into the link, so it can be shared.
from_link = ui.contact_id_from_url()
if from_link != st.session_state.get(SEEN_KEY):
    st.session_state[SEEN_KEY] = from_link
    st.session_state[SEARCH_KEY] = from_link or ""
typed = st.text_input(
    "Contact id, email, phone or name",
    key=SEARCH_KEY,
    max_chars=ui.MAX_CONTACT_ID_CHARS,
    placeholder="Paste a contact id, type an email, a phone number or a name",
    help="The Cloud4Wi customer id, the whole email address, the last 6 or more digits of the "
    "phone, or the start of the first and last name. What you type stays out of the page "
    "address; only the contact id found goes there.",
)
directory = ui.contacts_of(ctx)
contact_id, problem = ui.clean_contact_id(typed)
if problem:
    st.warning(problem)
matches = people.search_contacts(directory, contact_id) if contact_id else directory.iloc[0:0]
if contact_id and len(matches) == 1:
    contact_id = str(matches[schema.CONTACT_ID].iloc[0])
elif len(matches) > 1:
    st.info(f"{len(matches):,} guests match. Open one:")
    listing = matches[[schema.CONTACT_ID, people.SIGNUP_METHOD, people.CREATED]]
    ui.show_table(
        listing,
        ctx=ctx,
        key="contact_matches_table",
        column_config={people.CREATED: st.column_config.DatetimeColumn("Signed up", format=WHEN)},
    )
    ui.stop_page()
known = contact_id is not None and (
    len(matches) == 1
    or ui.store_figure(cq.has_events, *ctx.loaded_span, contact_id, store=ctx.store)
)
if contact_id != from_link:
    st.session_state[SEEN_KEY] = contact_id
    if contact_id and (known or not ctx.is_demo) and "@" not in contact_id:
        st.query_params[ui.CONTACT_PARAM] = contact_id
    elif ui.CONTACT_PARAM in st.query_params:
        del st.query_params[ui.CONTACT_PARAM]

if not contact_id:
    st.info("Type or paste a contact id above, or open one of the most active guests below.")
    st.subheader("Most active guests in the selected dates")
    active = ui.store_figure(
        cq.most_active_contacts, ctx.start, ctx.end, ctx.location_ids, 20, store=ctx.store
    )
    ui.show_table(
        active,
        ctx=ctx,
        key="contact_active_table",
        column_config={
            "events": st.column_config.NumberColumn("Events"),
            "visits": st.column_config.NumberColumn("WiFi visits"),
            "last_seen": st.column_config.DatetimeColumn("Last seen (UTC)", format=WHEN),
        },
    )
    ui.download_csv(
        active, what="most-active-contacts", ctx=ctx, key="contact_active_csv", readable=True
    )
    ui.stop_page()

events = ui.contact_events(ctx, contact_id)
if events.empty:
    st.info(
        "No events found for that contact id. Check the id (it is the Cloud4Wi customer id), "
        "or open a contact from a table on another page."
    )
    ui.stop_page()

summary = cm.contact_summary(events, contact_id)
st.code(contact_id, language=None)
card = people.identity(directory, contact_id, ctx.reveal_personal)
if card is None:
    st.caption("Cloud4Wi holds no name, email or consent for this contact id.")
else:
    ids = st.columns(4)
    ids[0].metric("Guest", card.name, help=people.NAME_HELP)
    ids[1].metric("Email", card.email, help=people.EMAIL_HELP)
    ids[2].metric("Phone", card.phone, help=people.PHONE_HELP)
    ids[3].metric("Marketing consent", card.consent, help=people.CONSENT_HELP)
st.caption(
    f"All events we have for this guest, not only the selected dates: first on "
    f"{cm.format_time(summary.first_seen)}, last on {cm.format_time(summary.last_seen)}."
)
r1 = st.columns(4)
r1[0].metric("First seen", cm.format_day(summary.first_seen), help=cm.FIRST_SEEN_HELP)
r1[1].metric("Last seen", cm.format_day(summary.last_seen), help=cm.LAST_SEEN_HELP)
r1[2].metric(
    "Signup source", ui.md_text(summary.signup_source, ctx) or "–", help=cm.SIGNUP_SOURCE_HELP
)
r1[3].metric("Locations visited", f"{len(summary.locations_visited):,}", help=cm.LOCATIONS_HELP)
r2 = st.columns(6)
r2[0].metric("WiFi visits", f"{summary.visits:,}", help=cm.VISITS_HELP)
r2[1].metric("Median dwell", cm.format_minutes(summary.median_dwell_min), help=cm.DWELL_HELP)
r2[2].metric("Geofence visits", f"{summary.geofence_visits:,}", help=cm.GEOFENCE_VISITS_HELP)
r2[3].metric("Campaigns sent", f"{summary.campaigns_received:,}", help=cm.RECEIVED_HELP)
r2[4].metric("Campaigns opened", f"{summary.campaigns_opened:,}", help=cm.OPENED_HELP)
r2[5].metric("Campaigns clicked", f"{summary.campaigns_clicked:,}", help=cm.CLICKED_HELP)
if summary.locations_visited:
    with st.expander("Locations visited"):
        st.dataframe({"Location": summary.locations_visited}, hide_index=True)

st.subheader("Timeline")
st.caption(
    "Bars are visits, as long as the guest stayed; diamonds are single events. Drag across the "
    "chart to zoom in on a few days, double-click to zoom out."
)
timeline, left_out = cm.latest_on_timeline(cm.contact_timeline(events))
st.plotly_chart(charts.contact_timeline_chart(timeline), key="contact_timeline_chart")
if left_out:
    st.caption(
        f"The timeline shows this guest's latest {len(timeline):,} events, from "
        f"{cm.format_time(timeline['start'].min())}; the {left_out:,} older ones are in the "
        "table below and its CSV, which hold every event."
    )

st.subheader("Every event")
table = cm.contact_event_table(events)
ui.show_table(
    table,
    ctx=ctx,
    key="contact_events_table",
    column_config={schema.CONTACT_ID: st.column_config.TextColumn("contact_id")},
)
ui.download_csv(table, what="contact-events", ctx=ctx, key="contact_events_csv", readable=True)

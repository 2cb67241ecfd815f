"""What the browser tests and the browser benchmarks share: how Chromium is launched here, the
settings that would switch the app to live mode, and the pages by address."""

from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"  # Debian's Chromium: Playwright cannot download its own here
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
CREDENTIAL_VARS = ("C4W_TOKEN", "C4W_CLIENT_KEY", "C4W_CLIENT_SECRET", "C4W_ORG_ID", "C4W_BASE_URL")
# page address (after the host) -> the title drawn as the page's h1 and in the sidebar link
# a page link of the sidebar menu (ui.page_menu), filtered by its title
NAV_LINK = "[data-testid='stSidebar'] [data-testid='stPageLink-NavLink']"
PAGE_TITLES = {
    "": "Overview",
    "visits": "Visits",
    "logins": "WiFi logins",
    "geofences": "Geofences",
    "funnels": "Campaign funnels",
    "contact": "Contact",
}

# One round trip that reads what a session shows: script state, title, address, sidebar values,
# the text of any exception, and the messages and code blocks in the main area.
SNAPSHOT_JS = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  const h1 = document.querySelector("[data-testid='stMain'] h1");
  const side = document.querySelector("[data-testid='stSidebar']");
  const dates = side ? side.querySelector("input[aria-label='Dates']") : null;
  const tags = side ? Array.from(side.querySelectorAll(
      "[data-testid='stMultiSelect'] [data-tag] span[title]")).map(e => e.getAttribute("title"))
    : [];
  const contact = document.querySelector(
      "[data-testid='stMain'] input[aria-label='Contact id, email, phone or name']");
  const errors = Array.from(document.querySelectorAll("[data-testid='stException']"));
  const texts = (selector) => Array.from(document.querySelectorAll(
      "[data-testid='stMain'] " + selector)).map(e => e.innerText.trim().slice(0, 300));
  return {
    state: app ? app.getAttribute("data-test-script-state") : null,
    title: h1 ? h1.textContent.trim() : null,
    url: location.href,
    dates: dates ? dates.value : null,
    tags: tags,
    contact: contact ? contact.value : null,
    exceptions: errors.map(e => e.innerText.slice(0, 300)),
    alerts: texts("[data-testid='stAlert']"),
    codes: texts("[data-testid='stCode']"),
  };
}"""

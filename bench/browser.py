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
PAGE_TITLES = {
    "": "Overview",
    "visits": "Visits",
    "logins": "WiFi logins",
    "geofences": "Geofences",
    "funnels": "Campaign funnels",
    "contact": "Contact",
}

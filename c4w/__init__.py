"""Cloud4Wi guest analytics: API client, canonical events frame, metrics, charts and demo data.

Public names are imported lazily so that `import c4w` stays cheap and a page that needs only the
metrics does not pay for the HTTP client.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Client": "c4w.client",
    "FetchProgress": "c4w.client",
    "C4WError": "c4w.errors",
    "AuthError": "c4w.errors",
    "RateLimitError": "c4w.errors",
    "APIError": "c4w.errors",
    "TransportError": "c4w.errors",
    "events_frame": "c4w.frame",
    "data_quality_report": "c4w.frame",
    "locations_frame": "c4w.frame",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'c4w' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

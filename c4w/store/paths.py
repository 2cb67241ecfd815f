"""Where the history store lives: ``C4W_STORE_DIR``, or a per-user data folder."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

STORE_DIR_ENV = "C4W_STORE_DIR"
APP_FOLDER = "c4w-dashboard"


def default_store_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The per-user data folder of the store: ``$XDG_DATA_HOME/c4w-dashboard/store`` (by default
    ``~/.local/share/...``) on Linux, ``~/Library/Application Support/...`` on macOS and
    ``%LOCALAPPDATA%\\...`` on Windows."""
    environ = os.environ if environ is None else environ
    if sys.platform == "win32":
        base = Path(environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / APP_FOLDER / "store"


def store_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``C4W_STORE_DIR`` when set (``~`` expanded), else ``default_store_dir()``."""
    environ = os.environ if environ is None else environ
    chosen = (environ.get(STORE_DIR_ENV) or "").strip()
    return Path(chosen).expanduser() if chosen else default_store_dir(environ)

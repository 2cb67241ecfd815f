"""Command line: ``python -m c4w sync [--org ID] [--since DATE] [--until DATE] [--refetch-days N]``.

Credentials come from the environment (``C4W_TOKEN`` or ``C4W_CLIENT_KEY`` and
``C4W_CLIENT_SECRET``, ``C4W_ORG_ID``, ``C4W_BASE_URL``), else from the ``[c4w]`` section of
``.streamlit/secrets.toml``, as for the dashboard. The store is ``C4W_STORE_DIR`` or the
per-user data folder (``--store`` overrides both).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from c4w import memory
from c4w.client import DEFAULT_BASE_URL, Client
from c4w.errors import C4WError
from c4w.store import EventStore, StoreBusy, store_dir
from c4w.store.contacts import write_contacts
from c4w.sync import SyncProgress, fetch_workers, sync

DEFAULT_DAYS = 90
SECRETS_FILE = Path(".streamlit") / "secrets.toml"
EXIT_FAILED, EXIT_USAGE, EXIT_BUSY = 1, 2, 3


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-03-31") from None


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 0")
    return value


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m c4w", description="Cloud4Wi guest analytics")
    commands = main.add_subparsers(dest="command", required=True)
    cmd = commands.add_parser(
        "sync",
        help="fetch into the history store the days it lacks",
        description="Fetch into the history store the UTC days it does not hold, or holds from "
        "before they settled (2 h after the day ended in the latest time zone).",
    )
    cmd.add_argument("--org", help="organization id (default: C4W_ORG_ID)")
    cmd.add_argument(
        "--since",
        type=_date,
        help=f"first UTC day (default: the store's first day, or {DEFAULT_DAYS} days back)",
    )
    cmd.add_argument("--until", type=_date, help="last UTC day (default: today, UTC)")
    cmd.add_argument(
        "--refetch-days",
        type=_count,
        default=0,
        metavar="N",
        help="also fetch again the last N days of the range, complete or not",
    )
    cmd.add_argument("--workers", type=_count, help="days fetched at once (C4W_FETCH_WORKERS)")
    cmd.add_argument("--store", type=Path, help="store folder (default: C4W_STORE_DIR)")
    cmd.add_argument(
        "--wait",
        type=float,
        default=None,
        metavar="SECONDS",
        help="wait this long for another sync of the organization to finish (default: refuse)",
    )
    cmd.add_argument("--verify", action="store_true", help="read every stored page first")
    cmd.add_argument("--quiet", action="store_true", help="no progress bar")
    return main


def settings(environ: Mapping[str, str], secrets_file: Path = SECRETS_FILE) -> dict[str, str]:
    """The connection settings: each from the environment, else from ``[c4w]`` of the secrets
    file (a missing or unreadable file counts as empty)."""
    section: Mapping[str, Any] = {}
    try:
        loaded = tomllib.loads(secrets_file.read_text(encoding="utf-8")).get("c4w", {})
        section = loaded if isinstance(loaded, Mapping) else {}
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        pass
    names = {
        "token": "C4W_TOKEN",
        "client_key": "C4W_CLIENT_KEY",
        "client_secret": "C4W_CLIENT_SECRET",
        "org_id": "C4W_ORG_ID",
        "base_url": "C4W_BASE_URL",
    }
    found = {}
    for name, env in names.items():
        value = str(environ.get(env) or section.get(name) or "").strip()
        if value:
            found[name] = value
    return found


def _progress_bar(label: str, quiet: bool) -> Callable[[int, int], None] | None:
    """A terminal progress bar fed ``(done, total)``, shown from the first call (None when
    ``quiet``)."""
    if quiet:
        return None
    from tqdm import tqdm

    bar = None

    def show(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="day", desc=label, file=sys.stderr)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return show


def run_sync(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    given = settings(environ)
    org = args.org or given.get("org_id")
    if not org:
        print("No organization: pass --org or set C4W_ORG_ID.", file=sys.stderr)
        return EXIT_USAGE
    if not given.get("token") and not (given.get("client_key") and given.get("client_secret")):
        print(
            "No credentials: set C4W_TOKEN, or C4W_CLIENT_KEY and C4W_CLIENT_SECRET "
            "(or the [c4w] section of .streamlit/secrets.toml).",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        workers = args.workers or fetch_workers(environ)
        store = EventStore(args.store or store_dir(environ), org)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    until = args.until or dt.datetime.now(dt.UTC).date()
    span = store.span()
    since = args.since or (span[0] if span else until - dt.timedelta(days=DEFAULT_DAYS - 1))
    if since > until:
        print(f"--since ({since}) is after --until ({until}).", file=sys.stderr)
        return EXIT_USAGE
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=0, unit="day", desc=f"sync {since}..{until}", file=sys.stderr)

    def show(progress: SyncProgress) -> None:
        if bar is not None:
            bar.total = progress.days_total
            bar.n = progress.days_done
            postfix = {"events": f"{progress.events:,}"}
            if progress.retry_at is not None:  # the API asked to wait (429 with Retry-After)
                postfix["rate limited, retrying in"] = (
                    f"{max(0, progress.retry_at - time.time()):.0f} s"
                )
            bar.set_postfix(postfix, refresh=False)
            bar.refresh()

    client = Client(
        base_url=given.get("base_url") or DEFAULT_BASE_URL,
        token=given.get("token"),
        client_key=given.get("client_key"),
        client_secret=given.get("client_secret"),
        workers=workers,
    )
    try:
        with client:
            report = sync(
                client,
                store,
                since,
                until,
                refetch_days=args.refetch_days,
                progress=show,
                workers=workers,
                wait_s=args.wait,
                verify=args.verify,
            )
            # who the guests are, beside their events (replaced whole on every sync)
            people = client.contacts(org)
            write_contacts(store, people)
            numbered = store.number_earlier_days(_progress_bar("guest numbers", args.quiet))
    except StoreBusy as exc:
        print(exc, file=sys.stderr)
        return EXIT_BUSY
    except C4WError as exc:
        print(f"Sync stopped: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if bar is not None:
            bar.close()
    for day, reason in sorted(report.set_aside.items()):
        print(f"{day}: unreadable ({reason}); set aside and fetched again", file=sys.stderr)
    print(f"{store.root}: {report.summary()}; {len(people):,} contacts")
    if numbered:
        print(f"guest numbers given to {numbered:,} day(s) stored by an earlier build")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    memory.use_returning_pool()
    if args.command == "sync":
        return run_sync(args, os.environ)
    return EXIT_USAGE  # pragma: no cover - argparse refuses unknown commands


if __name__ == "__main__":
    sys.exit(main())

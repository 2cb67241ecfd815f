"""Start the dashboard the safe way: ``python -m c4w.launch [--host H] [--port P] [--allow-open]``.

``make run`` calls it. It serves on 127.0.0.1 (this computer only) unless told otherwise. Serving
on another address (``--host 0.0.0.0``: every network interface) is refused unless visitors must
sign in (an ``[auth]`` section in ``.streamlit/secrets.toml``) or ``--allow-open`` says that an
open dashboard is meant; then the app shows no "Show full emails and phone numbers" switch to
visitors who have not signed in (``C4W_ALLOW_OPEN`` tells it so). The Host names the websocket
accepts are pinned (Streamlit's ``server.allowedHosts``, against DNS rebinding), and the address
users should open is set (``browser.serverAddress``) so Streamlit does not look up this machine's
external IP at start-up. It prints the address to open, then runs ``streamlit run app.py``.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
import sys
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

from c4w import memory

ROOT = Path(__file__).resolve().parent.parent
SECRETS = ROOT / ".streamlit" / "secrets.toml"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501
ALLOW_OPEN_ENV = "C4W_ALLOW_OPEN"  # set for the app when an open dashboard is meant
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARDS = ("0.0.0.0", "::", "")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this computer only: ``localhost``, 127.x.x.x or ::1."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def auth_configured(secrets: Mapping[str, object]) -> bool:
    """Whether the secrets hold a non-empty ``[auth]`` section (visitors sign in first)."""
    auth = secrets.get("auth")
    return isinstance(auth, Mapping) and bool(auth)


def read_secrets(path: Path | None = None) -> dict[str, object]:
    """``.streamlit/secrets.toml`` (or ``path``) as a dict; empty when missing or unreadable."""
    try:
        with (path or SECRETS).open("rb") as file:
            return tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def exposure_problem(host: str, *, signs_in: bool, allow_open: bool) -> str | None:
    """Why serving on ``host`` is refused, or None when it is fine: beyond this computer, the
    dashboard (which holds guests' personal data) needs sign-in or an explicit ``allow_open``."""
    if is_loopback(host) or signs_in or allow_open:
        return None
    return (
        f"Refusing to serve the dashboard on {host or 'every address'}: anyone on the network "
        "could open it without signing in. Add an [auth] section to .streamlit/secrets.toml "
        "(see README, 'Who can open it'), or start it with --allow-open (make run "
        "HOST=... ALLOW_OPEN=1) if an open dashboard is really meant."
    )


def public_name(host: str) -> str:
    """The name users type to reach a server on ``host``: the host itself, or this machine's
    name for a wildcard address (no DNS lookup is made)."""
    return socket.gethostname() if host.strip() in WILDCARDS else host.strip()


def allowed_hosts(host: str, extra: Sequence[str] = ()) -> list[str]:
    """Host names the websocket accepts: this computer's names, the name users type, and
    ``extra`` (a reverse proxy's public name, say), each once."""
    names = list(LOCAL_NAMES)
    if not is_loopback(host):
        names.append(public_name(host))
    names.extend(name.strip() for name in extra if name.strip())
    return list(dict.fromkeys(names))


def streamlit_command(
    host: str, port: int, hosts: Sequence[str], app: Path = ROOT / "app.py"
) -> list[str]:
    """The ``streamlit run`` command line for ``host:port`` with ``hosts`` pinned."""
    command = [sys.executable, "-m", "streamlit", "run", str(app)]
    command += ["--server.address", host, "--server.port", str(port)]
    command += ["--browser.serverAddress", public_name(host) if not is_loopback(host) else host]
    for name in hosts:
        command += ["--server.allowedHosts", name]
    return command


def address_to_open(host: str, port: int) -> str:
    name = public_name(host) if not is_loopback(host) else host
    return f"http://{f'[{name}]' if ':' in name else name}:{port}"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m c4w.launch",
        description="Serve the dashboard (this computer only by default).",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument(
        "--allow-open",
        action="store_true",
        help="serve beyond this computer without sign-in (no [auth] section)",
    )
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another host name visitors use (a proxy's public name); repeatable",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    host = args.host.strip()
    signs_in = auth_configured(read_secrets())
    problem = exposure_problem(host, signs_in=signs_in, allow_open=args.allow_open)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    env = memory.server_environment(os.environ)
    if args.allow_open and not is_loopback(host) and not signs_in:
        env[ALLOW_OPEN_ENV] = "1"
    else:
        env.pop(ALLOW_OPEN_ENV, None)
    who = "visitors sign in first" if signs_in else "no sign-in"
    print(f"Open {address_to_open(host, args.port)} in your browser ({who}).", flush=True)
    command = streamlit_command(host, args.port, allowed_hosts(host, args.allowed_host))
    os.chdir(ROOT)
    os.execve(sys.executable, command, env)
    return 0  # pragma: no cover - execve does not return


if __name__ == "__main__":
    sys.exit(main())

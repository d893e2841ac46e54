"""`llm-roofline serve`: the live web app (the report page with controls, and its JSON API)."""

from __future__ import annotations

import argparse
import importlib.util
import ipaddress
import socket
import sys
from typing import Any

from . import UsageError
from .common import int_at_least, warn

EXAMPLE = """examples:
  llm-roofline serve                      # http://127.0.0.1:8000/
  llm-roofline serve --port 8123 --open   # and open it in the default browser
  llm-roofline serve --host 0.0.0.0 --allow-remote   # reachable from other machines"""

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
INSTALL = "pip install 'llm-roofline[serve]'"
NEEDED = ("fastapi", "uvicorn")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="start the local web app: pick model, device, layout and workload on the page",
        description="Serve the report page with controls (model, devices, workload, "
        "layout, engine, price) that re-analyze as you change them, and the JSON API behind "
        "it (/api/..., schema at /openapi.json, interactive docs at /docs). Binds to "
        f"{DEFAULT_HOST} unless told otherwise. Needs the serve extra: {INSTALL}.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})")
    p.add_argument(
        "--port",
        type=int_port,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0: any free port)",
    )
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host that is not a loopback address (the app has no authentication)",
    )
    p.add_argument("--open", action="store_true", help="open the page in the default browser")
    p.set_defaults(func=run)


def int_port(text: str) -> int:
    port = int_at_least(0)(text)
    if port > 65535:
        raise argparse.ArgumentTypeError(f"must be <= 65535, got {port}")
    return port


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def missing_extra() -> list[str]:
    return [name for name in NEEDED if importlib.util.find_spec(name) is None]


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (so a busy port is one clear error, and port 0 gets a real one)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(f"--host {host!r}: cannot resolve it ({exc.strerror})") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise UsageError(f"--host {host} --port {port}: cannot bind ({exc.strerror})") from None
    sock.listen(128)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def run(args: argparse.Namespace) -> int:
    missing = missing_extra()
    if missing:
        raise UsageError(f"serve needs {' and '.join(missing)}: {INSTALL}")
    remote = not is_loopback(args.host)
    if remote and not args.allow_remote:
        raise UsageError(
            f"--host {args.host} is not a loopback address and the app has no authentication: "
            "add --allow-remote to bind it anyway"
        )
    import uvicorn

    from ..serve.app import LOOPBACK_HOSTS, create_app

    sock = bind(args.host, args.port)
    url = url_of(sock)
    if remote:
        warn([f"serving on {args.host}: anyone who can reach this address can use the app"])
    app = create_app(allowed_hosts=None if remote else LOOPBACK_HOSTS)
    print(f"llm-roofline: serving on {url} (Ctrl-C stops)", file=sys.stderr, flush=True)
    if args.open:
        import webbrowser

        webbrowser.open(url)  # the socket already listens: the request waits for the server
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # pragma: no cover - uvicorn handles SIGINT itself
        pass
    finally:
        sock.close()
    return 0

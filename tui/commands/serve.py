"""`whirr serve`: whirr's models behind Ollama's API and the OpenAI API, with a running total of
what the answers cost on the console."""

from __future__ import annotations

import argparse
import errno
import ipaddress
import os
import socket
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui.commands.common import CommandError, load_context

if TYPE_CHECKING:
    from tui.server.service import Served, Service

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 11434


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `whirr serve`."""
    parser = subparsers.add_parser(
        "serve",
        help="serve models over Ollama's API and the OpenAI API",
        description="Serve whirr's models (and personas) over Ollama's API (/api/...) and the OpenAI "
        "API (/v1/...), on 127.0.0.1:11434 unless WHIRR_HOST=host:port or --host/--port say otherwise. "
        "Every answer carries its energy (energy_joules, energy_joules_per_token, energy_co2_grams, "
        "energy_method). "
        "Binding an address other than loopback needs --host and an API key (--api-key or "
        "WHIRR_API_KEY), or --no-auth.",
    )
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1, or WHIRR_HOST's)")
    parser.add_argument("--port", type=int, help=f"port (default {DEFAULT_PORT}, or WHIRR_HOST's)")
    parser.add_argument("--api-key", help="require 'Authorization: Bearer KEY' (default: WHIRR_API_KEY)")
    parser.add_argument("--no-auth", action="store_true", help="serve a non-loopback address without an API key")
    parser.add_argument(
        "--origins",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="also allow these browser origins (comma-separated, * matches anything; also WHIRR_ORIGINS); "
        "loopback origins are always allowed",
    )
    parser.add_argument(
        "--keepalive",
        metavar="DURATION",
        help="how long a model stays loaded after its last request unless the request's keep_alive "
        "says otherwise (5m, 1h30m, 300ms or seconds; 0 unloads at once, negative keeps it; "
        "default: WHIRR_KEEP_ALIVE, else config keep_alive, 5m)",
    )
    parser.set_defaults(func=serve_command)


@dataclass(frozen=True)
class Address:
    """Where to listen."""

    host: str
    port: int

    @property
    def loopback(self) -> bool:
        """True for 127.0.0.0/8, ::1 and localhost."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return False

    @property
    def url(self) -> str:
        """http://host:port (IPv6 in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def parse_host(text: str) -> Address:
    """WHIRR_HOST's forms, like OLLAMA_HOST's: host, host:port, :port, [v6]:port, http://host:port."""
    value = text.strip().removeprefix("http://").removeprefix("https://").rstrip("/")
    host, port = value, DEFAULT_PORT
    if value.startswith("["):
        inside, _, rest = value[1:].partition("]")
        host = inside
        if rest.startswith(":"):
            port = _port(rest[1:], text)
    elif value.count(":") == 1:
        host, _, number = value.partition(":")
        port = _port(number, text)
    return Address(host or DEFAULT_HOST, port)


def _port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise CommandError(f"invalid port in '{whole}': use a number from 1 to 65535")
    return int(text)


def choose_address(args: argparse.Namespace) -> Address:
    """--host/--port over WHIRR_HOST over 127.0.0.1:11434; a non-loopback address from WHIRR_HOST
    alone is refused (it must be asked for with --host)."""
    from_env = os.environ.get("WHIRR_HOST", "").strip()
    address = parse_host(from_env) if from_env else Address(DEFAULT_HOST, DEFAULT_PORT)
    if args.host:
        address = parse_host(args.host)
    elif not address.loopback:
        raise CommandError(
            f"WHIRR_HOST asks for {address.host}, which is not a loopback address: "
            f"serving the network needs an explicit --host {address.host}"
        )
    if args.port is not None:
        address = Address(address.host, _port(str(args.port), str(args.port)))
    return address


def bind(address: Address) -> socket.socket:
    """A listening socket, or CommandError naming the taken port and --port."""
    family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
    try:
        infos = socket.getaddrinfo(address.host, address.port, type=socket.SOCK_STREAM)
        family = infos[0][0]
    except socket.gaierror as error:
        raise CommandError(f"cannot listen on {address.host}: {error.strerror}") from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # answers are many small writes
    try:
        sock.bind(infos[0][4])
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise CommandError(
                f"port {address.port} on {address.host} is already in use (another whirr serve, or Ollama?); "
                "choose another with --port"
            ) from None
        raise CommandError(f"cannot listen on {address.host}:{address.port}: {error.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class ConsoleTotals:
    """The running total on the console after every answer: requests, tokens, energy, CO2e."""

    def __init__(self, service: "Service", out=sys.stdout) -> None:
        self.service = service
        self.out = out
        self.tty = out.isatty()

    def line(self) -> str:
        """`served 3 answers (10 requests) · 1,234 tokens · 12.3 J · 1.6 mg CO2e` (tokens: prompt and answer)."""
        from tui.format import format_co2, format_joules

        totals = self.service.totals
        energy = totals.energy
        answers = f"{energy.answers} answer{'s' if energy.answers != 1 else ''}"
        return (
            f"served {answers} ({totals.requests} requests) · {totals.tokens:,} tokens · "
            f"{format_joules(energy.whirr_j)} · {format_co2(energy.co2_g)}"
        )

    def __call__(self, served: "Served") -> None:
        text = self.line()
        if self.tty:
            self.out.write(f"\r{text}\x1b[K")
        else:
            self.out.write(text + "\n")
        self.out.flush()


def serve_command(args: argparse.Namespace) -> int:
    """Check the address and key, bind, then serve until Ctrl+C."""
    address = choose_address(args)
    api_key = args.api_key or os.environ.get("WHIRR_API_KEY") or None
    if not address.loopback:
        print(f"warning: serving {address.url} to the network", file=sys.stderr)
        if not api_key and not args.no_auth:
            raise CommandError(
                f"{address.host} is not a loopback address: set an API key (--api-key or WHIRR_API_KEY) "
                "or pass --no-auth to serve without one"
            )
    from tui.config import keep_alive_seconds

    context = load_context()
    try:
        keep_alive = keep_alive_seconds(context.config, args.keepalive)
    except ValueError as error:
        raise CommandError(str(error)) from None
    origins = [o for value in [*args.origins, os.environ.get("WHIRR_ORIGINS", "")] for o in value.split(",") if o.strip()]
    sock = bind(address)

    import uvicorn

    from tui.commands.chat import start_meter
    from tui.engine.runner.registry import served_dir
    from tui.logs import setup_logging
    from tui.server.app import create_app
    from tui.server.served import ServedRecord
    from tui.server.service import Service

    setup_logging(context.paths)
    meter = start_meter(context.config)
    service = Service(context.paths, context.config, meter, keep_alive)
    console = ConsoleTotals(service)
    service.listeners.append(console)
    record = ServedRecord(service, served_dir(context.paths), address.url.removeprefix("http://"))
    meter.sampler.add_listener(record.on_sample)  # the app's meters panel shows what is served
    app = create_app(service, api_key=api_key, origins=origins)
    auth = "API key required" if api_key else "no API key"
    print(f"whirr serve: {address.url} (Ollama's API at /api, OpenAI's at /v1; {auth}); Ctrl+C stops", flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=3)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        meter.sampler.remove_listener(record.on_sample)
        record.close()
        sock.close()
        if console.tty:
            print()
    return 0

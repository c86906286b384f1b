"""``wsinspector proxy``: the recording reverse proxy, headless. Listens on a local port, forwards each client to
the upstream URL (with a saved connection's settings when named), records both hops of each client as one
session, and pauses the messages its breakpoints match: forwarded or dropped at once (``--on-break``), or asked
about on standard input."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from wsinspector import APP_NAME
from wsinspector.cli_output import err, say, stopping_when_output_gone

if TYPE_CHECKING:
    from collections.abc import Callable

    from wsinspector.app.proxy import ProxiedClient
    from wsinspector.app.proxy_server import ProxyController
    from wsinspector.cli_proxy_status import ProxyStatus
    from wsinspector.core.profiles import ConnectionProfile
    from wsinspector.core.proxy.breakpoints import BreakRule, Held
    from wsinspector.core.store import Store

EXIT_OK = 0
EXIT_USAGE = 2

ON_BREAK = ("ask", "forward", "drop")

_ASK_HELP = ("at a paused message type: f [ID] forward, d [ID] drop, e [ID] TEXT forward edited, "
             "i out|in TEXT inject (ID: the oldest paused when left out; TEXT written hex:01ff or base64:Af8= is "
             "bytes, a binary message when injected; text:... is text as it is)")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from wsinspector.core.proxy.breakpoints import RULE_SYNTAX

    parser = sub.add_parser(
        "proxy", help="a recording reverse proxy: clients connect to a local port, every frame of both hops recorded",
        description="Listen on a local port and forward every WebSocket client that connects to the upstream URL: "
                    "the client's subprotocols go upstream and the upstream's choice comes back, messages and close "
                    "codes pass both ways, and a hop that dies takes the other with it. Each client's two hops "
                    "(client <-> proxy, proxy <-> upstream) are recorded as one session in the data folder (see "
                    f"`{APP_NAME} messages`, whose lines say each frame's hop). Prints its URL; Ctrl+C stops. "
                    "Exit status: 0 stopped, 2 a usage error (a port in use, an unknown connection, a bad rule).")
    parser.add_argument("--listen", default="127.0.0.1:0", metavar="HOST:PORT",
                        help="where clients connect (default 127.0.0.1 and a free port; another address than "
                             "loopback opens the proxy to the network, with a warning)")
    parser.add_argument("--upstream", metavar="URL", help="the ws:// or wss:// URL each client is forwarded to "
                        "(default: the saved connection's URL)")
    parser.add_argument("--connection", metavar="NAME", help="a saved connection whose settings the upstream hop "
                        "uses: TLS, proxy, its headers and auth (added to the client's, replacing those of the "
                        "same name)")
    parser.add_argument("--no-record", action="store_true", help="forward without recording")
    tls = parser.add_argument_group("the upstream's certificate (wss://; verified by default)")
    tls.add_argument("--ca-file", metavar="PATH", help="trust the CA certificates of this PEM file or folder as "
                     "well as the system's")
    tls.add_argument("--trust-cert", action="append", default=[], metavar="SHA256",
                     help="trust the upstream certificate with this SHA-256 fingerprint even when verification "
                          "fails (a self-signed one); repeat for more")
    tls.add_argument("--insecure", action="store_true",
                     help="do not verify the upstream's certificate (any certificate is accepted; said at start)")
    parser.add_argument("--break", dest="rules", action="append", default=[], metavar="RULE",
                        help=f"pause messages that match, written {RULE_SYNTAX}: out is what the client sends, in "
                             "what the upstream sends; e.g. out:regex:^subscribe, in:json:$.type=error, both:every "
                             "(repeatable)")
    parser.add_argument("--on-break", choices=ON_BREAK, default=None,
                        help="what a paused message gets: ask (the default on a terminal; " + _ASK_HELP + "), "
                             "forward or drop (the default without a terminal: forward); each pause is printed. "
                             "When standard input ends, what is paused and every later pause is forwarded, said "
                             "once")
    parser.add_argument("--max-clients", type=int, default=64, metavar="N",
                        help="clients at once; more are refused with HTTP 503 (default 64)")
    parser.add_argument("--json", action="store_true",
                        help="status lines as JSON, one object a line, each with its \"event\": listening (url, "
                             "upstream, recording), breakpoints (rules, on_break), and per client (peer, session) "
                             "connected, request (path), open (path, subprotocol, extensions), refused (status, "
                             "message), closed (hop: client|upstream, code, reason, message), failed (hop, "
                             "message), paused (id, direction, rule, opcode, length), forwarded/dropped (id, "
                             "edited; reason when its hop closed first), undelivered (direction, messages: sent "
                             "toward a hop that had begun closing), problem (message), recorded; input_ended "
                             "(paused) in ask mode; then stopped (clients, sessions); secrets redacted as in the "
                             "text lines")
    # SUPPRESS: without the option here, the top-level --data-dir stays
    parser.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                        help="where sessions are recorded and connections kept (default: the platform's user data "
                             "folder)")


def _edited(controller: ProxyController, message_id: int | None, data: bytes) -> bytes:
    """The bytes a paused message is edited to; ValueError when it is a text message and they are not UTF-8 (it
    stays text, or binary, as it came)."""
    from wsinspector.core.frames import Opcode

    waiting = [held for _client, held in controller.paused_messages() if message_id in (None, held.id)]
    if waiting and waiting[0].opcode is Opcode.TEXT:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"#{waiting[0].id} is a text message: its new bytes must be UTF-8") from None
    return data


def listen_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6; a bare port means 127.0.0.1); ValueError says what is wrong."""
    host, colon, port_text = text.rpartition(":")
    if not colon:
        host, port_text = "127.0.0.1", text
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"--listen {text!r}: write it HOST:PORT, e.g. 127.0.0.1:8080") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"--listen {text!r}: the port is between 0 and 65535")
    return host, port


def _rules(texts: list[str]) -> list[BreakRule]:
    from wsinspector.core.proxy.breakpoints import parse_rule

    return [parse_rule(text) for text in texts]


def _profile(args: argparse.Namespace, data_dir: Path) -> ConnectionProfile:
    """The settings the upstream hop uses: the named saved connection's (secrets from the keyring), or none;
    the app-wide connection defaults over either. ValueError says why it cannot be used."""
    from wsinspector.app.context import DB_NAME
    from wsinspector.core.connection_defaults import effective
    from wsinspector.core.profiles import ConnectionProfile
    from wsinspector.core.store import Store, StoreError

    profile = ConnectionProfile(name="")
    path = data_dir / DB_NAME
    if args.connection is not None:
        if not path.is_file():
            raise ValueError(f"there is no saved connection {args.connection!r}: no connections in {data_dir}")
        from wsinspector.app.connections import ConnectionsController
        from wsinspector.app.secrets import open_keeper

        try:
            store = Store(path)
        except StoreError as exc:
            raise ValueError(str(exc)) from None
        try:
            found = [p for p in ConnectionsController(store, secrets=open_keeper()[0]).profiles
                     if p.name == args.connection]
        finally:
            store.close()
        if not found:
            raise ValueError(f"there is no saved connection {args.connection!r} (list them with "
                             f"`{APP_NAME} connections`)")
        profile = found[0]
    defaults = None
    if path.is_file():
        from wsinspector.cli_defaults import _stored

        try:
            defaults = _stored(data_dir, with_secrets=True)[0]
        except (StoreError, OSError, ValueError) as exc:
            err(f"warning: the app-wide connection defaults cannot be read ({exc}); going without them")
    return _with_tls_options(effective(profile, defaults), args)


def _with_tls_options(profile: ConnectionProfile, args: argparse.Namespace) -> ConnectionProfile:
    """The upstream hop's TLS as --ca-file, --trust-cert and --insecure change it."""
    from dataclasses import replace

    from wsinspector.core.profiles import normal_fingerprint

    tls = profile.tls
    if args.ca_file:
        if not Path(args.ca_file).exists():
            raise ValueError(f"--ca-file {args.ca_file}: no such file or folder")
        tls = replace(tls, ca_file=args.ca_file)
    if args.trust_cert:
        tls = replace(tls, pinned=tuple(dict.fromkeys((*tls.pinned, *map(normal_fingerprint, args.trust_cert)))))
    if args.insecure:
        tls = replace(tls, verify=False)
    return replace(profile, tls=tls)


def run_proxy(args: argparse.Namespace) -> int:
    from wsinspector.app.context import default_data_dir
    from wsinspector.app.signals import hold_signals
    from wsinspector.core.profiles import ProfileError, validate_url
    from wsinspector.core.proxy.breakpoints import BreakpointError

    data_dir = getattr(args, "data_dir", None) or default_data_dir()
    try:
        host, port = listen_address(args.listen)
        rules = _rules(args.rules)
        if args.max_clients < 1:
            raise ValueError("--max-clients is at least 1")
        profile = _profile(args, data_dir)
        url = args.upstream or profile.endpoint.url
        if not url:
            raise ValueError("give the upstream URL (--upstream ws://host:port/path) or a saved --connection")
        url = validate_url(url)
    except (ValueError, BreakpointError, ProfileError) as exc:
        err(str(exc))
        return EXIT_USAGE
    hold_signals()  # Ctrl+C while it starts (the store opened, the port bound) stops it once it runs
    on_break = args.on_break or ("ask" if rules and sys.stdin.isatty() else "forward")
    store = None if args.no_record else _record_store(data_dir)
    try:
        return _serve(host, port, url, profile, rules, store, on_break, args.max_clients, data_dir, args.json)
    finally:
        if store is not None:
            store.close()


def _record_store(data_dir: Path) -> Store | None:
    from wsinspector.app.context import DB_NAME
    from wsinspector.core.store import Store, StoreError

    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        store = Store(data_dir / DB_NAME)
        store.start_writer()  # the frames are committed on a thread: forwarding never waits for the disk
        return store
    except (StoreError, OSError) as exc:
        why = (exc.strerror or exc) if isinstance(exc, OSError) else exc  # "File exists", not "[Errno 17] …"
        err(f"warning: nothing is recorded in {data_dir}: {why}")
        return None


def _serve(host: str, port: int, url: str, profile: ConnectionProfile, rules: list[BreakRule], store: Store | None,
           on_break: str, max_clients: int, data_dir: Path, as_json: bool = False) -> int:
    from PySide6.QtCore import QCoreApplication

    from wsinspector.app.proxy_server import ProxyController, ProxyError
    from wsinspector.app.signals import SignalWatcher
    from wsinspector.core.redact import redact_url

    app = QCoreApplication.instance() or QCoreApplication([APP_NAME])
    controller = ProxyController(url, profile, rules, store, max_clients=max_clients)
    try:
        listening = controller.listen(host, port)
    except ProxyError as exc:
        err(str(exc))
        return EXIT_USAGE
    if host not in ("127.0.0.1", "::1", "localhost"):
        err(f"warning: listening on {host}: any machine that reaches it can use the proxy")
    if url.lower().startswith("wss:") and not profile.tls.verify:
        err("warning: the upstream's certificate is not verified; any certificate is accepted")
    from wsinspector.cli_proxy_status import ProxyStatus

    status = ProxyStatus(controller, as_json, previews=on_break == "ask")
    asker = _Asker(controller, status, lambda: controller.paused.connect(
        lambda client, held: _decide_at_once(client, held, "forward"))) if on_break == "ask" else None
    if on_break != "ask":
        controller.paused.connect(lambda client, held: _decide_at_once(client, held, on_break))
    watcher = SignalWatcher()
    watcher.received.connect(lambda _signum: controller.stop())
    controller.stopped.connect(app.quit)
    with stopping_when_output_gone(controller.stop):
        status.line("listening", f"Proxy listening on {listening} -> {redact_url(url)}  (Ctrl+C to stop)",
                    url=listening, upstream=redact_url(url), recording=store is not None)
        if rules:
            described = [rule.describe() for rule in rules]
            status.line("breakpoints", f"Breakpoints: {', '.join(described)}; {_ASK_HELP}" if asker is not None
                        else "", rules=described, on_break=on_break)
        app.exec()
    watcher.close()
    if asker is not None:
        asker.close()
    recorded = controller.sessions_recorded
    where = f"; {recorded} session{'s' if recorded != 1 else ''} recorded in {data_dir}" if store is not None else ""
    status.line("stopped", f"Proxy stopped{where}", clients=status.clients, sessions=recorded)
    return EXIT_OK


def _decide_at_once(client: ProxiedClient, held: Held, action: str) -> None:
    client.decide(held.id, action)


class _Asker:
    """Reads the user's decisions on paused messages from standard input, a line at a time, without blocking
    the event loop."""

    def __init__(self, controller: ProxyController, status: ProxyStatus, forward_from_now: Callable[[], None]) -> None:
        from PySide6.QtCore import QSocketNotifier

        self._controller = controller
        self._status = status
        self._forward_from_now = forward_from_now
        self._pending = b""
        self._notifier = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._read)
        controller.paused.connect(self._show)

    def close(self) -> None:
        self._notifier.setEnabled(False)

    def _input_ended(self) -> None:
        """Standard input ended: nobody can answer any more. Said once; what is paused is forwarded unchanged,
        and so is every message paused from now on (as ``--on-break forward``): nothing waits for an answer that
        cannot come."""
        from wsinspector.core.words import counted

        self.close()
        waiting = self._controller.paused_messages()
        self._status.line("input_ended", "Standard input ended: paused messages are forwarded unchanged from now on "
                          f"({counted(len(waiting), 'message')} paused now)", paused=len(waiting))
        self._forward_from_now()
        for client, held in waiting:
            with contextlib.suppress(ValueError):  # let go meanwhile with the one before it
                client.decide(held.id, "forward")

    def _show(self, client: ProxiedClient, held: Held) -> None:
        if self._status.as_json:  # the paused event says it
            return
        preview = held.payload[:120].decode("utf-8", "replace") if held.opcode.name == "TEXT" else held.payload[
            :32].hex(" ")
        from wsinspector.cli import printable

        say(printable(f"  #{held.id} {held.direction.value} {client.peer}: {preview}"))

    def _read(self) -> None:
        # the descriptor itself, not sys.stdin: its buffer would keep lines the notifier never tells of
        data = os.read(sys.stdin.fileno(), 65536)
        if not data:
            self._input_ended()
            return
        self._pending += data
        *lines, self._pending = self._pending.split(b"\n")
        for line in lines:
            try:
                command(self._controller, line.decode("utf-8", "replace").strip())
            except ValueError as exc:
                err(str(exc))


def command(controller: ProxyController, line: str) -> None:
    """One line typed at the ask prompt (see ``_ASK_HELP``); ValueError says what is wrong with it."""
    from wsinspector.core.frames import Direction, Opcode
    from wsinspector.core.payloads import parse_line

    verb, _, rest = line.partition(" ")
    if verb == "i":
        side, _, text = rest.partition(" ")
        if side not in ("in", "out"):
            raise ValueError("inject with: i out TEXT (to the upstream) or i in TEXT (to the client)")
        payload = parse_line(text)
        controller.inject(Direction(side), Opcode.TEXT if payload.is_text else Opcode.BINARY, payload.data)
        return
    if verb not in ("f", "d", "e"):
        raise ValueError(_ASK_HELP)
    first, _, more = rest.partition(" ")
    message_id = int(first) if first.isdigit() else None
    text = more if message_id is not None else rest
    if verb == "e":
        if not text:  # "e" alone would forward the message emptied: most likely not what was meant
            raise ValueError("edit with: e [ID] TEXT (the message goes on as TEXT; f [ID] forwards it as it is)")
        controller.decide(message_id, "forward", _edited(controller, message_id, parse_line(text).data))
    else:
        controller.decide(message_id, "forward" if verb == "f" else "drop")

"""``wsinspector serve``: the built-in echo server, or a mock server (``--mock RULES``, docs/mock.md) or a recording
played back as the server (``--replay SESSION_OR_TEST``), headless until Ctrl+C. A mock or a replay records each
client as a session in the data folder unless ``--no-record``; it binds 127.0.0.1 unless ``--listen`` names
another address (with a warning), takes at most ``--max-clients`` at once, and speaks TLS with a certificate
given (``--tls-cert``/``--tls-key``) or made for localhost (``--tls-self-signed``).

Exit status of a mock or a replay: 0 stopped with Ctrl+C (or SIGTERM, or its standard output closed:
``cli_output``), 1 cannot listen (or record), 2 bad arguments or a bad rules file. Plain ``serve`` keeps its own: 0,
or 2 when it cannot listen.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wsinspector import APP_NAME
from wsinspector.cli_output import err, say, stopping_when_output_gone

if TYPE_CHECKING:
    from wsinspector.app.server import ClientSession, ServerController
    from wsinspector.core.mock.model import MockRules
    from wsinspector.core.store import Store
    from wsinspector.net.wire_server import ServerTls

EXIT_OK = 0
EXIT_CANNOT_LISTEN = 1
EXIT_USAGE = 2
#: after Ctrl+C, how long the clients have to answer our close frames before they are dropped
STOP_WAIT_MS = 2000


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "serve", help="run the built-in echo server, a mock server (--mock) or a recording played back "
                      "(--replay), headless until Ctrl+C",
        description="Without --mock or --replay: the built-in echo server on 127.0.0.1. With --mock RULES: a "
                    "server answering as the rules file says (docs/mock.md); with --replay: a recorded session or "
                    "a test file played back as the server. Both print their URL, record every client as a "
                    "session in the data folder unless --no-record, and stop on Ctrl+C. Exit status: 0 stopped, "
                    "1 cannot listen, 2 bad arguments or rules.")
    parser.add_argument("--port", type=int, default=None, help="port on 127.0.0.1 (default: a free one)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--mock", type=Path, metavar="RULES", help="a mock rules file (YAML, docs/mock.md)")
    source.add_argument("--replay", metavar="SESSION_OR_TEST",
                        help="a stored session (its id, its name or 'last'), an exported session file or a test "
                             "file, played back as the server")
    parser.add_argument("--listen", metavar="HOST:PORT",
                        help="where to listen (default 127.0.0.1 and a free port; another address is reachable "
                             "from other machines)")
    parser.add_argument("--speed", type=float, default=1.0, metavar="X",
                        help="--replay: scale the recorded delays (2: twice as fast; 0: no delays)")
    parser.add_argument("--no-record", action="store_true", help="record nothing")
    parser.add_argument("--max-clients", type=int, default=64, metavar="N",
                        help="clients at once (one more is answered 503; default 64)")
    parser.add_argument("--tls-cert", type=Path, metavar="FILE", help="the server's certificate (PEM, chain after)")
    parser.add_argument("--tls-key", type=Path, metavar="FILE", help="its private key (PEM, not encrypted)")
    parser.add_argument("--tls-self-signed", action="store_true",
                        help="TLS with a certificate made now for localhost (its fingerprint is printed)")
    parser.add_argument("--json", action="store_true", help="status lines as JSON, one object a line")
    parser.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                        help="the data folder (default: the platform's user data folder)")


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[::1]:PORT``, ``:PORT`` or ``PORT`` (127.0.0.1); ValueError with a one-line message."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "", text
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--listen {text!r}: give HOST:PORT with a port from 0 to 65535 (0: a free one)")
    return host, int(port)


def run_serve(args: argparse.Namespace) -> int:
    from wsinspector.app.signals import hold_signals  # noqa: PLC0415

    hold_signals()  # Ctrl+C while it starts stops it once it runs
    if args.mock is None and args.replay is None:
        given = [name for name, value in (("--listen", args.listen), ("--no-record", args.no_record),
                                          ("--tls-cert", args.tls_cert), ("--tls-key", args.tls_key),
                                          ("--tls-self-signed", args.tls_self_signed), ("--json", args.json))
                 if value]
        if given:
            err(f"{', '.join(given)}: only with --mock or --replay (plain serve is the echo server)")
            return EXIT_USAGE
        from wsinspector.cli import serve  # noqa: PLC0415

        return serve(args.port or 0)
    return _serve_rules(args)


def _bad_arguments(args: argparse.Namespace) -> str:
    """What is wrong with the arguments of a mock or a replay ("" when nothing)."""
    if args.port is not None and args.listen is not None:
        return "give --listen HOST:PORT or --port, not both"
    if args.port is not None and not 0 <= args.port <= 65535:
        return "--port must be between 0 and 65535"
    if args.max_clients < 1:
        return "--max-clients must be at least 1"
    if args.speed < 0:
        return "--speed must not be negative"
    if (args.tls_cert is None) != (args.tls_key is None):
        return "give both --tls-cert and --tls-key"
    if args.tls_self_signed and args.tls_cert is not None:
        return "give --tls-cert and --tls-key, or --tls-self-signed, not both"
    return ""


def _serve_rules(args: argparse.Namespace) -> int:
    problem = _bad_arguments(args)
    if problem:
        err(problem)
        return EXIT_USAGE
    try:
        host, port = parse_listen(args.listen) if args.listen is not None else ("127.0.0.1", args.port or 0)
    except ValueError as exc:
        err(str(exc))
        return EXIT_USAGE
    rules = _rules(args)
    if isinstance(rules, int):
        return rules
    tls = _tls(args)
    if isinstance(tls, int):
        return tls
    from PySide6.QtCore import QCoreApplication  # noqa: PLC0415

    from wsinspector.app.mock import MockServer  # noqa: PLC0415
    from wsinspector.app.server import ServerController  # noqa: PLC0415
    from wsinspector.app.signals import SignalWatcher  # noqa: PLC0415
    from wsinspector.core.wire.server import ServerSettings  # noqa: PLC0415
    from wsinspector.net.wire_server import ServerListenError, is_loopback  # noqa: PLC0415

    store = None if args.no_record else _store(args)
    if isinstance(store, int):
        return store
    app = QCoreApplication.instance() or QCoreApplication([APP_NAME])
    kind = "Mock" if args.mock is not None else "Replay"
    controller = ServerController(store, ServerSettings(subprotocols=rules.subprotocols),
                                  max_clients=args.max_clients, tls=tls, name=rules.name or kind, keep_ended=False)
    mock = MockServer(controller, rules)
    status = _Status(args.json, controller)
    mock.problem.connect(lambda text: status.line("problem", f"{kind} problem: {text}", message=text))
    try:
        url = controller.listen(host, port)
    except ServerListenError as exc:
        err(str(exc))
        if store is not None:
            store.close()
        return EXIT_CANNOT_LISTEN
    if not is_loopback(controller.server.host):
        err(f"listening on {controller.server.host}: other machines can connect, and every client is "
            f"{'recorded' if store is not None else 'served'}")
    watcher = SignalWatcher()
    watcher.received.connect(lambda _signum: app.quit())
    with stopping_when_output_gone(app.quit):
        if args.tls_self_signed and tls is not None:
            fingerprint = _fingerprint(tls.certificate_pem)
            status.line("certificate", f"self-signed certificate for localhost, SHA-256 {fingerprint}",
                        sha256=fingerprint)
        recording = "recording to the data folder" if store is not None else "not recording"
        status.line("listening", f"{kind} server listening on {url}  ({recording}; Ctrl+C to stop)", url=url,
                    recording=store is not None)
        app.exec()
    watcher.close()
    stop_clients(app, controller)
    status.line("stopped", f"{kind} server stopped", clients=controller.served)
    if store is not None:
        store.close()
    return EXIT_OK


def _rules(args: argparse.Namespace) -> MockRules | int:
    if args.mock is not None:
        from wsinspector.core.mock.yaml_io import MockFileError, read_rules  # noqa: PLC0415

        try:
            return read_rules(args.mock)
        except MockFileError as exc:
            err(f"{args.mock}: {exc}")
        except OSError as exc:
            err(f"cannot read {args.mock}: {exc.strerror or exc}")
        return EXIT_USAGE
    from wsinspector.cli_replay import replay_rules  # noqa: PLC0415

    return replay_rules(args)


def _tls(args: argparse.Namespace) -> ServerTls | int | None:
    from wsinspector.net.wire_server import ServerTls  # noqa: PLC0415

    if args.tls_self_signed:
        from wsinspector.core.self_signed import SelfSignedError, self_signed_localhost  # noqa: PLC0415

        try:
            certificate, key = self_signed_localhost()
        except SelfSignedError as exc:
            err(str(exc))
            return EXIT_USAGE
        return ServerTls(certificate, key)
    if args.tls_cert is None:
        return None
    try:
        return ServerTls(args.tls_cert.read_bytes(), args.tls_key.read_bytes())
    except OSError as exc:
        err(f"cannot read {exc.filename}: {exc.strerror or exc}")
        return EXIT_USAGE


def _fingerprint(certificate_pem: bytes) -> str:
    from PySide6.QtCore import QCryptographicHash  # noqa: PLC0415
    from PySide6.QtNetwork import QSslCertificate  # noqa: PLC0415

    digest = QSslCertificate(certificate_pem).digest(QCryptographicHash.Algorithm.Sha256)
    return ":".join(f"{byte:02X}" for byte in bytes(digest.data()))


def _store(args: argparse.Namespace) -> Store | int:
    from wsinspector.app.context import DB_NAME, default_data_dir  # noqa: PLC0415
    from wsinspector.core.store import Store, StoreError  # noqa: PLC0415

    folder = getattr(args, "data_dir", None) or default_data_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        store = Store(folder / DB_NAME)
    except (OSError, StoreError) as exc:
        why = (exc.strerror or exc) if isinstance(exc, OSError) else exc  # "File exists", not "[Errno 17] …"
        err(f"cannot record to {folder}: {why} (--no-record serves without recording)")
        return EXIT_CANNOT_LISTEN
    store.start_writer()  # the frames are committed on a thread: serving never waits for the disk
    return store


def stop_clients(app: Any, controller: ServerController) -> None:
    """Close every client (1001) and give them a moment to answer; drop the rest."""
    from PySide6.QtCore import QElapsedTimer, QEventLoop  # noqa: PLC0415

    controller.close()
    clock = QElapsedTimer()
    clock.start()
    while controller.live and clock.elapsed() < STOP_WAIT_MS:
        app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)
    controller.stop()
    app.processEvents()


class _Status:
    """The lines a running server prints: text, or JSON objects (``event`` and its fields)."""

    def __init__(self, as_json: bool, controller: ServerController) -> None:
        self.as_json = as_json
        controller.client_added.connect(self._client)
        controller.server.tls_refused.connect(lambda peer, detail: self.line(
            "refused", f"{peer} {detail}", peer=peer, message=detail))

    def line(self, event: str, text: str, **fields: object) -> None:
        from wsinspector.cli import printable  # noqa: PLC0415

        if self.as_json:
            say(json.dumps({"event": event, **fields}, ensure_ascii=False))
        else:
            say(printable(text))

    def _client(self, session: ClientSession) -> None:
        from wsinspector.core.redact import redact_url  # noqa: PLC0415
        from wsinspector.core.words import shortened  # noqa: PLC0415

        client = session.client

        def path() -> str:  # a token in the query stays out of what is printed (and of the logs it goes to)
            return redact_url(client.request.path) if client.request else ""

        client.opened.connect(lambda info: self.line(
            "open", f"{client.peer} {shortened(path())} open" + (f" ({info.subprotocol})" if info.subprotocol else ""),
            peer=client.peer, path=path(), subprotocol=info.subprotocol,
            extensions=info.extensions, session=session.session_id))
        client.failed.connect(lambda failure: self.line(
            "failed", f"{client.peer} {failure.message}", peer=client.peer, message=failure.message,
            session=session.session_id))
        client.closed.connect(lambda info: self.line(
            "closed", f"{client.peer} {info.message}", peer=client.peer, code=info.code, reason=info.reason,
            message=info.message, session=session.session_id))

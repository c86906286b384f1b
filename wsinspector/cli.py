"""One entry point: no arguments opens the window; subcommands run headless.

Opening the window is the common start and the one timed: it imports nothing here but what reads its few
arguments. The commands' parsers and modules (``cli_run``, ``cli_serve``, ``cli_connections``, ``cli_messages``,
``cli_sessions``, ``cli_transfer``, ``cli_handshake``, ``cli_decode``, ``cli_defaults``, ``cli_mcp``, ``cli_probe``,
``cli_proxy``) are imported when a command is given, or help asked for; so is ``cli_output``, through which every
command runs and writes.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from wsinspector import APP_NAME

if TYPE_CHECKING:
    import argparse

EXIT_OK = 0
EXIT_USAGE = 2
#: interrupted (Ctrl+C) before a command could stop of its own accord, as shells count it (128 + SIGINT)
EXIT_INTERRUPTED = 130


COMMANDS = ("serve", "proxy", "run", "connections", "messages", "sessions", "envs", "defaults", "import",
            "import-command", "export", "decode", "mcp", "probe")
SMOKE_TEST_ENV = "WSINSPECTOR_SMOKE_TEST"


def build_parser() -> argparse.ArgumentParser:
    import argparse

    from wsinspector import (
        cli_connections,
        cli_decode,
        cli_handshake,
        cli_mcp,
        cli_messages,
        cli_probe,
        cli_proxy,
        cli_run,
        cli_serve,
        cli_sessions,
        cli_transfer,
    )

    parser = argparse.ArgumentParser(
        prog=APP_NAME, description="Inspect and test WebSocket endpoints. With no command, open the window "
        "(with FILE: a test file opens on the Tests page, a session file is imported and shown).",
        usage=f"{APP_NAME} [-h] [--version] [--data-dir DIR] [--smoke-test] [FILE ... | COMMAND ...]")
    parser.add_argument("--version", action="store_true",
                        help="print the version, the Qt and Python it runs on, the data folder and the licence")
    parser.add_argument("--data-dir", type=Path, metavar="DIR", help="where sessions and connections are kept "
                        "(default: the platform's user data folder)")
    parser.add_argument("--smoke-test", action="store_true",
                        help="open the window, visit every page, check icons, TLS and the echo server, print "
                             f"the result and quit: 0 when all is well (also ${SMOKE_TEST_ENV}=1)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    cli_serve.add_parser(sub)
    cli_proxy.add_parser(sub)
    cli_run.add_parser(sub)
    cli_connections.add_parser(sub)
    cli_messages.add_parser(sub)
    cli_sessions.add_parser(sub)
    envs = sub.add_parser("envs", help="list the environments and globals kept in the data folder (secret values "
                          "left out); for run --env")
    envs.add_argument("--json", action="store_true", help="print them as JSON")
    # SUPPRESS: without the option here, the top-level --data-dir stays
    envs.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                      help="the data folder (default: the platform's user data folder)")
    defaults = sub.add_parser("defaults", help="print the app-wide connection defaults (TLS and proxy) kept in the "
                              "data folder, which run applies; secret values are never printed")
    defaults.add_argument("--json", action="store_true", help="print them as JSON")
    # SUPPRESS: without the option here, the top-level --data-dir stays
    defaults.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                          help="the data folder (default: the platform's user data folder)")
    cli_transfer.add_parsers(sub)
    cli_handshake.add_parser(sub)
    cli_decode.add_parser(sub)
    cli_mcp.add_parser(sub)
    cli_probe.add_parser(sub)
    runners: dict[str, Callable[[argparse.Namespace], int]] = {  # what runs each command
        "serve": cli_serve.run_serve, "proxy": cli_proxy.run_proxy, "run": cli_run.run_test_file,
        "connections": cli_connections.list_connections, "messages": cli_messages.run_messages,
        "sessions": cli_sessions.list_sessions,
        "mcp": cli_mcp.run_mcp, "import": cli_transfer.run_import,
        "import-command": cli_transfer.run_import_command, "export": cli_transfer.run_export,
        "decode": cli_decode.run_decode, "handshake": cli_handshake.print_handshake, "probe": cli_probe.run_probe,
    }
    for name, runner in runners.items():
        sub.choices[name].set_defaults(runner=runner)
    opener = sub.add_parser("open", help="open files in the window (the same as giving them without a command)")
    opener.add_argument("files", nargs="+", type=Path, metavar="FILE")
    return parser


def _with_open_command(argv: Sequence[str]) -> list[str]:
    """``wsinspector FILE ...`` (how desktops and file managers call us) means ``wsinspector open FILE ...``."""
    args = list(argv)
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--data-dir":
            index += 2
            continue
        if arg.startswith("-"):
            index += 1
            continue
        if arg in (*COMMANDS, "open") or not _names_a_file(arg):
            return args
        return [*args[:index], "open", *args[index:]]
    return args


def _names_a_file(arg: str) -> bool:
    """An existing file, or a name with a file's extension (a test or session that has gone missing is
    reported in the window); a mistyped command stays a usage error."""
    return Path(arg).is_file() or arg.lower().endswith((".yaml", ".yml", ".json"))


def window_arguments(argv: Sequence[str]) -> tuple[Path | None, bool, list[Path]] | None:
    """The window's own start, ``[--data-dir DIR] [--smoke-test] [FILE ...]``, read as the parser reads it
    (``data_dir``, ``smoke_test``, ``files``) without building the parser of every command: the window's first
    paint does not wait for the commands' modules. None for anything else (a command, help, an abbreviation,
    a mistake), which the parser reads."""
    data_dir: Path | None = None
    smoke_test = False
    files: list[Path] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        if files:  # after the first file only files, as `open FILE ...` takes them
            if arg.startswith("-"):
                return None
            files.append(Path(arg))
        elif arg == "--smoke-test":
            smoke_test = True
        elif arg == "--data-dir" and index + 1 < len(argv) and argv[index + 1][:1] not in ("", "-"):
            index += 1
            data_dir = Path(argv[index])
        elif arg.startswith("--data-dir=") and arg != "--data-dir=":
            data_dir = Path(arg.partition("=")[2])
        elif arg.startswith("-") or arg in (*COMMANDS, "open") or not _names_a_file(arg):
            return None
        else:
            files.append(Path(arg))
        index += 1
    return data_dir, smoke_test, files


def main(argv: Sequence[str] | None = None) -> int:
    from wsinspector.core.allocator import keep_freed_memory

    keep_freed_memory()  # payloads come and go in bursts: see the module
    from wsinspector.cli_output import ensure_streams

    ensure_streams()  # before anything opens a file: a closed standard stream's number stays its own
    arguments = sys.argv[1:] if argv is None else list(argv)
    window = window_arguments(arguments)
    if window is None:
        from wsinspector.cli_output import flush_before_exit, to_the_end

        try:
            args = build_parser().parse_args(_with_open_command(arguments))
        except SystemExit:  # the help, or a usage error: printed, whether or not anyone still reads it
            flush_before_exit()
            raise
        if args.version or args.command not in (None, "open"):
            try:
                return to_the_end(lambda: run_command(args))
            except KeyboardInterrupt:  # Ctrl+C before the command handles it itself: no traceback
                return EXIT_INTERRUPTED
        window = args.data_dir, args.smoke_test, getattr(args, "files", [])
    return open_window(*window)


def run_command(args: argparse.Namespace) -> int:
    """A command (or ``--version``), as the parser read it (the parser imported the commands' modules)."""
    if args.version:
        return print_version(args.data_dir)
    if args.command == "envs":
        return list_environments(getattr(args, "data_dir", None), args.json)
    if args.command == "defaults":
        from wsinspector.cli_defaults import print_defaults

        return print_defaults(getattr(args, "data_dir", None), args.json)
    runner: Callable[[argparse.Namespace], int] = args.runner
    return runner(args)


def open_window(data_dir: Path | None, smoke_test: bool, files: Sequence[Path]) -> int:
    from wsinspector.ui.launch import run_gui

    smoke_test = smoke_test or os.environ.get(SMOKE_TEST_ENV, "") not in ("", "0")
    return run_gui(data_dir, files, smoke_test=smoke_test)


def print_version(data_dir: Path | None) -> int:
    from wsinspector.app.about import version_text
    from wsinspector.app.context import default_data_dir

    print(version_text(data_dir or default_data_dir()))
    return EXIT_OK


def list_environments(data_dir: Path | None, as_json: bool) -> int:
    """``wsinspector envs``: one line per environment (``*`` marks the active one) with its variables' names."""
    import json

    from wsinspector.app.context import default_data_dir
    from wsinspector.app.environments import describe_environments
    from wsinspector.cli_output import err
    from wsinspector.core.environments import EnvironmentsError

    try:
        described = describe_environments(data_dir or default_data_dir())
    except EnvironmentsError as exc:
        err(f"envs: {exc}")
        return EXIT_USAGE
    if as_json:
        print(json.dumps(described, ensure_ascii=False, indent=2))
        return EXIT_OK
    for environment in (described["globals"], *described["environments"]):
        mark = "*" if environment["name"] == described["active"] else " "
        names = [*environment["variables"], *(f"{name} (secret)" for name in environment["secret_variables"])]
        print(printable(f"{mark} {environment['name']}: {', '.join(names) or 'no variables'}"))
    return EXIT_OK


def serve(port: int) -> int:
    """The echo server headless: every message back as it came, on the Wire engine in the server role (so a
    client that breaks the protocol is refused as ``serve --mock`` refuses it), nothing recorded."""
    from wsinspector.cli_output import err, say, stopping_when_output_gone

    if not 0 <= port <= 65535:
        err("--port must be between 0 and 65535")
        return EXIT_USAGE
    from PySide6.QtCore import QCoreApplication

    from wsinspector.app.mock import MockServer
    from wsinspector.app.server import ServerController
    from wsinspector.app.signals import SignalWatcher
    from wsinspector.cli_serve import stop_clients
    from wsinspector.core.mock.model import ECHO_RULES
    from wsinspector.net.wire_server import ServerListenError

    app = QCoreApplication.instance() or QCoreApplication([APP_NAME])
    controller = ServerController(None, name="Echo", keep_ended=False)
    echo = MockServer(controller, ECHO_RULES)
    try:
        url = controller.listen("127.0.0.1", port)
    except ServerListenError as exc:
        err(str(exc))
        return EXIT_USAGE
    watcher = SignalWatcher()
    watcher.received.connect(lambda _signum: app.quit())
    with stopping_when_output_gone(app.quit):
        say(f"Echo server listening on {url}  (Ctrl+C to stop)")
        app.exec()
    watcher.close()
    stop_clients(app, controller)
    echo.deleteLater()
    say("Echo server stopped")
    return EXIT_OK


#: characters a terminal must not get raw from a server: C0 controls but tab and line feed, DEL, C1 controls
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_CHARS = 400


def printable(text: str) -> str:
    """Control characters as ``\\xNN``: what a server sends cannot drive the terminal (escape sequences)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)

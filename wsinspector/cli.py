"""One entry point: no arguments opens the window; subcommands run headless."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from wsinspector import APP_NAME, __version__

EXIT_OK = 0
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=APP_NAME, description="Inspect and test WebSocket endpoints.")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument("--data-dir", type=Path, help="where sessions and connections are kept "
                        "(default: the platform's user data folder)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = sub.add_parser("serve", help="run the built-in echo server headless until Ctrl+C")
    serve.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args.port)
    return run_gui(args.data_dir)


def _quit_on_signals(app: object) -> None:
    """Let Ctrl+C and SIGTERM stop a Qt event loop: Python handlers run only when Python gets control."""
    from PySide6.QtCore import QCoreApplication, QTimer

    assert isinstance(app, QCoreApplication)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: app.quit())
    ticker = QTimer(app)
    ticker.timeout.connect(lambda: None)
    ticker.start(200)


def serve(port: int) -> int:
    if not 0 <= port <= 65535:
        print(f"{APP_NAME}: --port must be between 0 and 65535", file=sys.stderr)
        return EXIT_USAGE
    from PySide6.QtCore import QCoreApplication

    from wsinspector.net.server import EchoServer, EchoServerError

    app = QCoreApplication.instance() or QCoreApplication([APP_NAME])
    server = EchoServer()
    try:
        url = server.listen(port)
    except EchoServerError as exc:
        print(f"{APP_NAME}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"Echo server listening on {url}  (Ctrl+C to stop)", flush=True)
    _quit_on_signals(app)
    app.exec()
    server.close()
    print("Echo server stopped", flush=True)
    return EXIT_OK


def _install_excepthook(log_path: Path, report: object) -> None:
    """An unexpected error is logged with its traceback and reported in one line; the app keeps running."""

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        logging.getLogger(APP_NAME).error("unexpected error\n%s", text)
        with contextlib.suppress(Exception):  # the hook itself must never raise
            report(f"Unexpected error: {exc_type.__name__}: {exc}. Details in {log_path}")  # type: ignore[operator]

    sys.excepthook = hook


def run_gui(data_dir: Path | None) -> int:
    import asyncio

    import platformdirs
    import qasync
    from PySide6.QtWidgets import QApplication

    from wsinspector.app.context import AppContext
    from wsinspector.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_NAME)

    log_dir = Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
    log_path = log_dir / "wsinspector.log"
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        logging.basicConfig(filename=log_path, level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    except OSError:
        logging.basicConfig(level=logging.WARNING)

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    context = AppContext(data_dir)
    window = MainWindow(context)
    _install_excepthook(log_path, lambda message: window.banner.show_message(message, "error"))
    window.show()
    _quit_on_signals(app)
    if sys.stderr is not None:  # a Windows gui-script has no console
        echo = context.echo_url or "not running"
        print(f"{APP_NAME} {__version__}: data in {context.data_dir}; built-in echo server at {echo}",
              file=sys.stderr, flush=True)
    with loop:
        loop.run_forever()
    context.shutdown()
    return EXIT_OK

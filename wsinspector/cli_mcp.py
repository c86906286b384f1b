"""``wsinspector mcp``: a Model Context Protocol server over standard input and output, for agents.

One event loop: Qt's (a QCoreApplication, no display), with asyncio running inside it through qasync. The MCP
SDK is asyncio code; the connections, the recording and the test runs are the app's Qt controllers, driven by
signals and timers on the main thread as in the window. Inside Qt's loop, a tool awaits what a controller
signals without a second thread and without polling (docs/architecture.md, "For agents").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wsinspector import APP_NAME
from wsinspector.cli_output import err, flush_before_exit

EXIT_OK = 0
EXIT_USAGE = 2
#: how long the connections still open when the client ends the session may take to close
CLOSE_WAIT_S = 2.0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "mcp", help="serve the Model Context Protocol over stdin/stdout, for agents (Claude, VS Code, …)",
        description="Serve the Model Context Protocol over standard input and output: an agent lists the saved "
                    "connections and recorded sessions, reads a session's messages with filters, opens "
                    "connections, sends, waits for messages, pings, runs test files and decodes messages. Secret "
                    "values never leave. Exit status: 0 when the client ends the session, 2 when the server "
                    "cannot start.")
    # SUPPRESS: without the option here, the top-level --data-dir stays
    parser.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                        help="the data folder (default: the platform's user data folder)")


def run_mcp(args: argparse.Namespace) -> int:
    """Serve until the client closes standard input (or SIGINT/SIGTERM)."""
    import asyncio
    import logging
    import os

    try:
        import qasync
        from PySide6.QtCore import QCoreApplication

        from wsinspector.app.context import AppContext
        from wsinspector.app.signals import SignalWatcher
        from wsinspector.mcp_server import build_server
        from wsinspector.mcp_tools import AgentTools
    except ImportError as exc:  # an installation without the SDK
        err(f"mcp: {exc}")
        return EXIT_USAGE
    # standard output is the protocol's: what the app logs goes to standard error, warnings and worse only
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format=f"{APP_NAME}: %(message)s")
    app = QCoreApplication.instance() or QCoreApplication([APP_NAME])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    context = AppContext(getattr(args, "data_dir", None), start_echo=False)
    for warning in context.warnings:
        err(f"mcp: {warning}")
    tools = AgentTools(context)

    def stop_now(_signum: int = 0) -> None:
        """Ctrl+C or SIGTERM, or a session that broke off (the client stopped reading our standard output): each
        open connection closed, what was recorded saved, and out at once. The SDK reads stdin on a thread that
        waits until the client closes it: an orderly end would wait for that."""
        tools.links.shutdown()
        context.shutdown()
        flush_before_exit()
        os._exit(EXIT_OK)

    serving = asyncio.ensure_future(build_server(tools, broken=stop_now).run_stdio_async(), loop=loop)
    watcher = SignalWatcher()
    watcher.received.connect(stop_now)
    try:
        with loop:
            try:
                loop.run_until_complete(serving)
            except* OSError:  # the client went before the session's last answers were written: none can reach it
                pass
            # the client ended the session: each open connection closed (going away), what it recorded saved
            loop.run_until_complete(tools.links.close_all(1001, "the agent's session ended", CLOSE_WAIT_S))
    finally:
        watcher.close()
        context.shutdown()
    return EXIT_OK

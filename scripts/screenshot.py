"""Render the README screenshots from a real session against the built-in echo server: the Inspector
(docs/screenshot.png, with a second connection open in its own tab, to a plain echo server, and a stored
session of that one in a third), the Health page (docs/health.png) and the Tests page after a replay of the first
session in which one expectation was changed so that it fails (docs/tests.png); then, against a wss:// server
with a certificate from a private CA (made with `cryptography`, a test dependency), a connection's TLS settings
(docs/tls-settings.png) and the certificate view after connecting (docs/certificate.png).

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshot.py docs/screenshot.png

Every step waits for the app's own signals; nothing is faked.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import tempfile
import threading
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: its test PKI
from tests.net.pki import Authority
from wsinspector.app.context import AppContext
from wsinspector.core.payloads import PayloadMode
from wsinspector.core.profiles import ConnectionProfile, Endpoint
from wsinspector.ui.certificate_view import CertificateView
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.profile_dialog import ProfileDialog


def wait_for(signal: object, timeout_ms: int = 10_000) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)  # type: ignore[attr-defined]
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def echo_server(ssl: object = None) -> int:
    """A websockets echo server on 127.0.0.1 in a thread of its own (``ssl``: a server SSL context); its port."""
    ready = threading.Event()
    port: list[int] = []

    async def echo(ws: object) -> None:
        with contextlib.suppress(ConnectionClosed):  # the app aborting a connection is no error here
            async for message in ws:  # type: ignore[attr-defined]
                await ws.send(message)  # type: ignore[attr-defined]

    async def run() -> None:
        async with serve(echo, "127.0.0.1", 0, ssl=ssl) as listening:  # type: ignore[arg-type]
            port.append(listening.sockets[0].getsockname()[1])
            ready.set()
            await asyncio.Future()

    threading.Thread(target=lambda: asyncio.run(run()), daemon=True).start()
    ready.wait(10)
    return port[0]


def other_tabs(window: MainWindow, context: AppContext) -> None:
    """A second connection in a tab of its own (recorded once, then connected again), and that first recording
    in a read-only tab."""
    ticker = context.connections.save(ConnectionProfile(
        name="Ticker", endpoint=Endpoint(f"ws://127.0.0.1:{echo_server()}/ticker")))
    window.on_connect_requested(ticker)
    page = window.inspector
    wait_for(page.session.opened)
    for text in ('{"op": "subscribe", "channel": "ticker"}', '{"op": "ping"}'):
        page.session.send(text.encode(), True)
        wait_for(page.session.frames_appended)
    recorded = page.session.session_id
    page.session.disconnect()
    wait_for(page.session.closed)
    page.toggle_connection()
    wait_for(page.session.opened)
    page.session.send(b'{"op": "subscribe", "channel": "ticker"}', True)
    wait_for(page.session.frames_appended)
    if recorded is not None:
        window.open_session(recorded)


def main(out: Path) -> int:  # noqa: PLR0915  (one scene after the other)
    app = QApplication([])
    app.setApplicationName("wsinspector")
    context = AppContext(Path(tempfile.mkdtemp()))
    window = MainWindow(context)
    window.resize(1280, 800)
    window.show()
    session = context.session

    # a token in the handshake: the test made of this session keeps it out of its file
    profile = context.connections.profiles[0].with_changes(
        handshake={"headers": (("Authorization", "Bearer demo-7f3a9c21"),)})
    context.connections.save(profile)
    other_tabs(window, context)
    window.connection_tabs.setCurrentIndex(0)
    window.connections.select(profile.id)
    window.inspector.toggle_connection()
    wait_for(session.opened)
    first_session = session.session_id
    composer = window.inspector.composer
    messages = [
        (PayloadMode.JSON, json.dumps({"op": "subscribe", "channel": "trades", "symbols": ["BTC-USD", "ETH-USD"]})),
        (PayloadMode.TEXT, "hello from wsinspector"),
        (PayloadMode.HEX, "00 01 02 03 de ad be ef"),
    ]
    for mode, text in messages:
        composer.set_mode(mode)
        composer.editor.setPlainText(text)
        composer.send()
    composer.control_payload.setText("rtt?")
    composer.ping()
    while sum(1 for f in session.log if f.direction.value == "in") < len(messages) + 1:
        wait_for(session.frames_appended)
    session.flush()
    window.inspector.timeline.selectRow(len(messages) + 1)  # the echoed JSON message
    composer.set_mode(PayloadMode.JSON)
    composer.editor.setPlainText('{"op": "unsubscribe", "channel": "trades"}')
    window.inspector.detail.tabs.setCurrentIndex(1)
    app.processEvents()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(out)):
        print(f"could not write {out}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    # the Health page: a heartbeat every 50 ms against the same server, with traffic
    session.disconnect()
    wait_for(session.closed)
    profile = context.connections.profiles[0].with_changes(health={"heartbeat_interval_s": 0.05})
    context.connections.save(profile)
    window.connections.select(profile.id)
    window.inspector.toggle_connection()
    wait_for(session.opened)
    while len(session.log.rtt_samples) < 120:
        for _ in range(10):
            session.send(b'{"op": "tick"}', True)
        wait_for(session.frames_appended)
    window.tabs.setCurrentWidget(window.graph)
    window.graph.content().redraw()  # type: ignore[attr-defined]
    app.processEvents()
    health = out.with_name("health.png")
    window.grab().save(str(health))
    print(f"wrote {health}")
    # the Tests page: the first session saved as a test, one expectation changed so that it fails, replayed
    session.disconnect()
    wait_for(session.closed)
    tests = window.tests_view
    window.resize(1400, 860)
    window.save_session_as_test(first_session, Path(tempfile.mkdtemp()) / "echo.wstest.yaml")
    editor = tests.editor
    editor.header_tabs.setCurrentWidget(editor.headers)
    editor.name.setText("Echo: subscribe, hello, bytes")
    greeting = next(row for row, draft in enumerate(editor.model.drafts)
                    if draft.kind == "expect" and draft.match_kind == "text")
    editor.select_step(greeting)
    editor.step_editor.name.setText("greeting")
    editor.step_editor.pattern.setPlainText("hello from wsinspector!")
    tests.speed.setCurrentIndex(tests.speed.findData(0.0))
    if tests.run() is None:
        print(f"the test did not run: {tests.status.text()}", file=sys.stderr)
        return 1
    wait_for(tests.run_finished)
    window.banner.clear()
    app.processEvents()
    shot = out.with_name("tests.png")
    window.grab().save(str(shot))
    print(f"wrote {shot}")
    tls_shots(window, context, out)
    context.shutdown()
    return 0


def tls_shots(window: MainWindow, context: AppContext, out: Path) -> None:
    folder = Path(tempfile.mkdtemp())
    ca = Authority(folder, "Example Dev CA")
    server = ca.issue("api.dev.example", hosts=("127.0.0.1", "api.dev.example"))
    client = ca.issue("alice", hosts=(), client=True)
    port = echo_server(server.server_context())
    profile = context.connections.save(ConnectionProfile(
        name="Dev API (private CA)", endpoint=Endpoint(f"wss://127.0.0.1:{port}/")).with_changes(
        tls={"ca_file": str(ca.cert), "client_cert": str(client.cert), "client_key": str(client.key),
             "min_version": "1.2"}))
    window.connections.select(profile.id)
    dialog = ProfileDialog(profile, window)
    dialog.tabs.setCurrentWidget(dialog.tls)
    dialog.show()
    QApplication.processEvents()
    settings = out.with_name("tls-settings.png")
    dialog.grab().save(str(settings))
    dialog.close()
    print(f"wrote {settings}")
    window.tabs.setCurrentWidget(window.connection_tabs)
    window.inspector.toggle_connection()
    wait_for(context.session.opened)
    info = window.inspector._tls  # what the Certificate… button shows
    assert info is not None
    view = CertificateView(info, profile.url, window)
    view.show()
    QApplication.processEvents()
    shot = out.with_name("certificate.png")
    view.grab().save(str(shot))
    view.close()
    print(f"wrote {shot}")
    context.session.disconnect()
    wait_for(context.session.closed)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshot.png")))

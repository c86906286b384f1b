"""Render the README's protocol screenshots from real sessions: a connection in Socket.IO mode to a
python-socketio server (a test dependency), its frames decoded in the timeline, the Decoded tab of an event,
the protocol bar with the emit verb and the Protocol list with an acknowledged emit (docs/protocols.png); and
the Handshake tab of an upgrade a server refused with its reason in the body (docs/handshake.png).

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshot_protocols.py docs

Every step waits for the app's own signals; nothing is faked.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import threading
from http import HTTPStatus
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication
from websockets.asyncio.server import serve

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: its test servers
from tests.decoder_peers import SocketIoServer
from wsinspector.app.context import AppContext
from wsinspector.core.profiles import ConnectionProfile, Decoding, Endpoint
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.timeline import COL_PREVIEW


def wait_for(signal: object, timeout_ms: int = 10_000) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)  # type: ignore[attr-defined]
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def pause(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def servers() -> tuple[str, str]:
    """A python-socketio server and a websockets server that refuses every upgrade without a subprotocol, in a
    thread of their own on 127.0.0.1: their URLs."""
    ready = threading.Event()
    urls: list[str] = []

    def refuse(connection: Any, request: Any) -> Any:
        if "Sec-WebSocket-Protocol" not in request.headers:
            return connection.respond(HTTPStatus.BAD_REQUEST, "missing subprotocol: offer chat.v2\n")
        return None

    async def run() -> None:
        sio = await SocketIoServer().start()
        async with serve(lambda ws: ws.wait_closed(), "127.0.0.1", 0, process_request=refuse) as strict:
            urls.extend((sio.url, f"ws://127.0.0.1:{strict.sockets[0].getsockname()[1]}/chat"))
            ready.set()
            await asyncio.Future()

    threading.Thread(target=lambda: asyncio.run(run()), daemon=True).start()
    ready.wait(20)
    return urls[0], urls[1]


def main(folder: Path) -> int:
    app = QApplication([])
    app.setApplicationName("wsinspector")
    context = AppContext(Path(tempfile.mkdtemp()))
    window = MainWindow(context)
    window.resize(1280, 860)
    window.show()
    sio_url, strict_url = servers()

    profile = context.connections.save(ConnectionProfile(name="Chat (Socket.IO)", endpoint=Endpoint(sio_url),
                                                         decoding=Decoding(mode="socket.io")))
    window.connections.select(profile.id)
    page = window.inspector
    page.toggle_connection()
    wait_for(page.session.protocol.started, 20_000)
    bar = page.protocol.bar
    for event, args, ack in (("chat", '["hi"]', False), ("ask", "[21]", True)):
        assert bar.form is not None
        bar.form.inputs["event"].setText(event)
        bar.form.inputs["args"].setText(args)
        bar.form.inputs["ack"].setChecked(ack)
        bar.send()
        pause(400)
    page.session.flush()
    pause(300)
    model = page.model
    reply = next(row for row in range(model.rowCount())
                 if model.index(row, COL_PREVIEW).data().startswith('451-["reply"'))
    page.select_row(reply)
    page.detail.tabs.setCurrentIndex(page.detail.tabs.count() - 1)  # Decoded
    pause(300)
    window.grab().save(str(folder / "protocols.png"))
    print(f"wrote {folder / 'protocols.png'}")
    page.lower_tabs.setCurrentIndex(page.lower_tabs.count() - 1)  # the Protocol list
    pause(200)
    window.grab().save(str(folder / "protocol-list.png"))
    print(f"wrote {folder / 'protocol-list.png'}")

    strict = context.connections.save(ConnectionProfile(name="Strict", endpoint=Endpoint(strict_url)))
    window.on_connect_requested(strict)
    wait_for(window.inspector.session.failed)
    pause(300)
    window.grab().save(str(folder / "handshake.png"))
    print(f"wrote {folder / 'handshake.png'}")
    window.close()
    context.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")))

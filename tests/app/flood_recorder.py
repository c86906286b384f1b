"""Helper process for test_crash: record a flood of frames until killed.

    python tests/app/flood_recorder.py DATA_DIR [MIN_STORED [ENGINE]]

Starts a Qt application (offscreen), a QWebSocketServer on 127.0.0.1 that sends text messages
"frame 0", "frame 1", ... as fast as the client takes them, and a ConnectionController recording the
connection to DATA_DIR/wsinspector.sqlite3 like the app does. Once at least MIN_STORED frames are in the
file it prints one line, ``stored <count> session <id>``, and goes on flooding and recording until it is
killed. ENGINE is the connection profile's engine ("wire", the default, or "qt"). Messages on stderr say why
it stopped, should it stop by itself.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QObject, QTimer  # noqa: E402
from PySide6.QtNetwork import QHostAddress  # noqa: E402
from PySide6.QtWebSockets import QWebSocket, QWebSocketServer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from wsinspector.app.connection import ConnectionController  # noqa: E402
from wsinspector.app.context import DB_NAME  # noqa: E402
from wsinspector.core.profiles import ENGINE_WIRE, ConnectionProfile, Endpoint, Protocol  # noqa: E402
from wsinspector.core.store import Store  # noqa: E402

#: messages sent per turn of the event loop
BURST = 200
#: how far the server may run ahead of what the client has received
AHEAD = 5000
#: stop by itself after this long, should nobody kill it
GIVE_UP_MS = 120_000


def payload(i: int) -> str:
    return f"frame {i}"


class Flooder(QObject):
    def __init__(self, controller: ConnectionController) -> None:
        super().__init__()
        self.controller = controller
        self.server = QWebSocketServer("flood", QWebSocketServer.SslMode.NonSecureMode, self)
        self.server.newConnection.connect(self._on_new_connection)
        self.client: QWebSocket | None = None
        self.sent = 0
        self.timer = QTimer(self)
        self.timer.setInterval(0)
        self.timer.timeout.connect(self._burst)

    def listen(self) -> str:
        if not self.server.listen(QHostAddress(QHostAddress.SpecialAddress.LocalHost), 0):
            raise SystemExit(f"cannot listen: {self.server.errorString()}")
        return f"ws://127.0.0.1:{self.server.serverPort()}/"

    def _on_new_connection(self) -> None:
        self.client = self.server.nextPendingConnection()
        self.timer.start()

    def _burst(self) -> None:
        if self.client is None:
            return
        if self.sent - self.controller.log.frames_in > AHEAD:
            return  # let the client catch up
        for _ in range(BURST):
            self.client.sendTextMessage(payload(self.sent))
            self.sent += 1


def main() -> int:
    data_dir = Path(sys.argv[1])
    min_stored = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    engine = sys.argv[3] if len(sys.argv) > 3 else ENGINE_WIRE
    app = QApplication([sys.argv[0]])
    store = Store(data_dir / DB_NAME)
    store.start_writer()  # as the app records: frames are committed on a thread of their own
    controller = ConnectionController(store)
    flooder = Flooder(controller)
    url = flooder.listen()
    reported = False

    def on_flush(_first: int, _last: int) -> None:
        nonlocal reported
        session_id = controller.session_id
        if reported or session_id is None:
            return
        record = store.session(session_id)
        if record is not None and record.frame_count >= min_stored:
            reported = True
            print(f"stored {record.frame_count} session {session_id}", flush=True)

    def on_recording_failed(message: str) -> None:
        print(message, file=sys.stderr, flush=True)
        app.exit(2)

    def on_closed(info: object) -> None:
        print(f"the connection closed: {info}", file=sys.stderr, flush=True)
        app.exit(3)

    controller.frames_appended.connect(on_flush)
    controller.recording_failed.connect(on_recording_failed)
    controller.failed.connect(on_closed)
    controller.closed.connect(on_closed)
    profile = ConnectionProfile(name="flood", endpoint=Endpoint(url), protocol=Protocol(engine=engine))
    if not controller.connect_to(profile):
        return 1
    QTimer.singleShot(GIVE_UP_MS, lambda: (print("nobody killed me", file=sys.stderr, flush=True), app.exit(4)))
    code = app.exec()
    controller.shutdown()
    flooder.timer.stop()
    flooder.server.close()
    store.close()
    return code


if __name__ == "__main__":
    sys.exit(main())

"""Render the README's Probe page screenshot from real probes: a `websockets` echo server that pings every second
and the app's own QWebSocketServer echo, each probed from the page with its default cases, side by side in the
kept probes' table (docs/probe.png).

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshot_probe.py docs

Every step waits for the app's own state; nothing is faked.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from wsinspector.app.context import AppContext
from wsinspector.net.server import EchoServer
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.probe_view import ProbeView


def pause(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def until(done: Callable[[], bool], timeout_ms: int = 60_000) -> None:
    waited = 0
    while not done() and waited < timeout_ms:
        pause(50)
        waited += 50
    if not done():
        raise AssertionError("the screenshot's scene did not come about")


def websockets_echo(ready: list[int], started: threading.Event) -> None:
    async def echo(ws: Any) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in ws:
                await ws.send(message)

    async def main() -> None:
        async with serve(echo, "127.0.0.1", 0, ping_interval=1, ping_timeout=1) as server:
            ready.append(server.sockets[0].getsockname()[1])
            started.set()
            await asyncio.Future()

    asyncio.run(main())


def probe(page: ProbeView, url: str) -> None:
    kept = page.model.rowCount()
    page.target.setEditText(url)
    page.run()
    until(lambda: page.model.rowCount() > kept)


def main(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    app = QApplication([])
    app.setApplicationName("wsinspector")
    context = AppContext(Path(tempfile.mkdtemp()))
    window = MainWindow(context)
    window.resize(1280, 860)
    window.show()
    window.banner.clear()  # a machine without a keyring service says so at start; not what this shows
    ready: list[int] = []
    started = threading.Event()
    threading.Thread(target=websockets_echo, args=(ready, started), daemon=True).start()
    started.wait(10)
    qt_echo = EchoServer()
    qt_url = qt_echo.listen()
    window.tabs.setCurrentWidget(window.probe_page)
    page = window.probe_page.content()
    assert isinstance(page, ProbeView)
    for name in ("heartbeat", "compression", "fragments"):
        page.case_boxes[name].setChecked(True)
    probe(page, qt_url)
    probe(page, f"ws://127.0.0.1:{ready[0]}/")
    page.table.selectRow(0)
    pause(300)
    window.grab().save(str(folder / "probe.png"))
    print(f"wrote {folder / 'probe.png'}")
    qt_echo.close()
    window.close()
    context.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")))

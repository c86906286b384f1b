"""Render the README's Server page screenshots from real traffic: a mock server started on the Server page with
two `websockets` clients connected, a JSON notice broadcast to both and a binary (MessagePack) message typed as
hex sent to the chosen one, its frames in the timeline and its bytes in the Frame tab (docs/server.png);
and the Proxy tab forwarding to a `websockets` echo server, a client's binary message paused by a breakpoint
and shown as hex, bytes typed to be injected to the client, both hops in the timeline (docs/proxy.png).

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshot_server.py docs

Every step waits for the app's own state; nothing is faked.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from wsinspector.app.context import AppContext
from wsinspector.core.payloads import PayloadMode
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.server_page import ServerPage

RULES = """version: 1
name: Chat
subprotocols: [chat.v2]
on_connect:
  - text: "welcome, {{client}}"
rules:
  - match: {json: "$.op", equals: join}
    capture: {room: "$.room"}
    do:
      - json: {op: joined, room: "{{room}}", id: "{{$uuid}}"}
  - match: {any: true}
    do: {text: "{{message}}"}
"""


def pause(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def until(done: Callable[[], bool], timeout_ms: int = 10_000) -> None:
    waited = 0
    while not done() and waited < timeout_ms:
        pause(20)
        waited += 20
    if not done():
        raise AssertionError("the screenshot's scene did not come about")


class Background:
    """An asyncio loop in a thread of its own: the clients and the upstream server."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        #: what runs there, held (a loop keeps only weak references to its tasks)
        self.jobs: list[Any] = []
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    def start(self, coro: Coroutine[Any, Any, Any]) -> Any:
        job = asyncio.run_coroutine_threadsafe(coro, self.loop)
        self.jobs.append(job)
        return job


async def chat_client(url: str, messages: list[str], headers: dict[str, str]) -> None:
    async with connect(url, subprotocols=["chat.v2"], origin="http://localhost:5173",  # type: ignore[list-item,arg-type]
                       additional_headers=headers) as ws:
        await ws.recv()
        for text in messages:
            await ws.send(text)
            await ws.recv()
        with contextlib.suppress(ConnectionClosed):
            await ws.wait_closed()


async def echo_upstream(ready: list[int], started: threading.Event) -> None:
    async def echo(ws: Any) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in ws:
                await ws.send(message)

    async with serve(echo, "127.0.0.1", 0) as server:
        ready.append(server.sockets[0].getsockname()[1])
        started.set()
        await asyncio.Future()


def server_scene(window: MainWindow, background: Background, folder: Path, rules: Path) -> None:
    window.tabs.setCurrentWidget(window.server_page)
    page = window.server_page.content()
    assert isinstance(page, ServerPage)
    page.rules_path.setText(str(rules))
    page.port.setValue(0)
    assert page.start(), page.status.text()
    url = page.servers[0].url
    background.start(chat_client(url + "rooms/lobby", ['{"op": "join", "room": "lobby"}', "hello everyone",
                                                       "anyone here?"], {"X-Client": "web 2.3"}))
    until(lambda: page.clients.topLevelItem(0).childCount() == 1)
    background.start(chat_client(url + "rooms/dev", ['{"op": "join", "room": "dev"}'], {}))
    until(lambda: page.clients.topLevelItem(0).childCount() == 2 and len(page.servers[0].live) == 2)
    page.clients.setCurrentItem(page.clients.topLevelItem(0).child(0))
    until(lambda: page.model.rowCount() >= 7)
    page.message.set_mode(PayloadMode.JSON)
    page.message.editor.setPlainText('{"op": "notice", "text": "server restarts at 18:00"}')
    page.broadcast_button.click()
    until(lambda: page.model.rowCount() >= 8)
    # {"op": "kick", "ttl": 3600} in MessagePack, typed as hex
    page.message.set_mode(PayloadMode.HEX)
    page.message.editor.setPlainText("82 a2 6f 70 a4 6b 69 63 6b a3 74 74 6c cd 0e 10")
    page.send_button.click()
    until(lambda: page.model.rowCount() >= 9)
    page.timeline.selectRow(page.model.rowCount() - 1)
    page.detail.tabs.setCurrentWidget(page.detail.hex)
    pause(300)
    window.grab().save(str(folder / "server.png"))
    print(f"wrote {folder / 'server.png'}")


def proxy_scene(window: MainWindow, background: Background, folder: Path) -> None:
    page = window.server_page.content()
    assert isinstance(page, ServerPage)
    page.parts.setCurrentWidget(page.proxy)
    panel = page.proxy
    port: list[int] = []
    started = threading.Event()
    background.start(echo_upstream(port, started))
    started.wait(10)
    panel.upstream.setText(f"ws://127.0.0.1:{port[0]}/feed")
    panel.breakpoints.set_text("out:every in:regex:error")
    assert panel.start(), panel.status.text()
    listening = panel.status.text().split()[2]

    async def client() -> None:
        async with connect(listening + "feed") as ws:
            await ws.send('{"op": "subscribe", "topic": "prices"}')
            await ws.recv()
            # {"op": "order", "side": "buy", "qty": 10} in MessagePack
            await ws.send(bytes.fromhex("83a26f70a56f72646572a473696465a3627579a3717479 0a"))
            with contextlib.suppress(ConnectionClosed):
                await ws.wait_closed()

    background.start(client())
    until(lambda: panel.paused.count() == 1)
    panel.forward()  # the subscription goes on; the order, in MessagePack, is paused next
    until(lambda: panel.paused.count() == 1 and "binary" in panel.paused.item(0).text())
    # its quantity edited from 10 (0a) to 1 (01) before it is forwarded
    panel.editor.setPlainText(panel.editor.toPlainText()[:-2] + "01")
    panel.inject_direction.setCurrentIndex(1)  # to the client
    panel.inject_payload.set_mode(PayloadMode.BASE64)  # {"op": "price", "px": 99.5} in MessagePack
    panel.inject_text.setPlainText("gqJvcKVwcmljZaJweMtAWOAAAAAAAA==")
    until(lambda: panel.model.rowCount() >= 4)
    panel.timeline.selectRow(panel.model.rowCount() - 1)
    panel.detail.tabs.setCurrentWidget(panel.detail.hex)
    pause(300)
    window.grab().save(str(folder / "proxy.png"))
    print(f"wrote {folder / 'proxy.png'}")


def main(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    app = QApplication([])
    app.setApplicationName("wsinspector")
    data = Path(tempfile.mkdtemp())
    context = AppContext(data)
    window = MainWindow(context)
    window.resize(1280, 860)
    window.show()
    window.banner.clear()  # a machine without a keyring service says so at start; not what these show
    rules = data / "chat-mock.yaml"
    rules.write_text(RULES, encoding="utf-8")
    background = Background()
    server_scene(window, background, folder, rules)
    proxy_scene(window, background, folder)
    page = window.server_page.content()
    assert isinstance(page, ServerPage)
    page.proxy.stop()
    page.stop()
    pause(200)
    window.close()
    context.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")))

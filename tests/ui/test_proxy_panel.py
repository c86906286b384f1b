"""The Server page's Proxy tab in the real window: a proxy started to a real upstream, a real client through it,
a breakpoint pausing its message, the message edited and forwarded, another dropped, one injected to the
client; the client's session recorded."""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import Qt
from websockets.asyncio.client import connect

from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.proxy_panel import ProxyPanel
from wsinspector.ui.server_page import ServerPage

WAIT_MS = 5000


def test_the_proxy_tab_pauses_edits_drops_and_injects(qtbot: Any, window: MainWindow, aloop: Any,
                                                      websockets_server: Any) -> None:
    upstream = websockets_server()
    window.tabs.setCurrentWidget(window.server_page)
    page = window.server_page.content()
    assert isinstance(page, ServerPage)
    page.parts.setCurrentWidget(page.proxy)
    panel: ProxyPanel = page.proxy

    panel.rules.setText("out:regex:(")
    panel.upstream.setText(upstream.url)
    assert not panel.start()
    assert panel.status.text().startswith("breakpoint out:regex:(: not a regular expression")
    panel.rules.setText("out:contains:secret")
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert panel.controller is not None and panel.start_button.text() == "Stop proxy"
    url = panel.status.text().split()[2]

    received: list[str | bytes] = []

    async def client() -> None:
        async with connect(url) as ws:
            await ws.send("my secret plan")
            await ws.send("another secret")
            received.append(await ws.recv())  # the edited plan, echoed
            received.append(await ws.recv())  # injected by the proxy

    task = asyncio.ensure_future(client(), loop=aloop)
    qtbot.waitUntil(lambda: panel.paused.count() == 2, timeout=WAIT_MS)
    assert "client → upstream" in panel.paused.item(0).text()
    assert panel.editor.toPlainText() == "my secret plan"
    panel.editor.setPlainText("my edited plan")
    qtbot.mouseClick(panel.forward_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: received == ["my edited plan"], timeout=WAIT_MS)
    assert panel.paused.count() == 1 and panel.editor.toPlainText() == "another secret"
    qtbot.mouseClick(panel.drop_button, Qt.MouseButton.LeftButton)
    assert panel.paused.count() == 0 and not panel.forward_button.isEnabled()
    panel.inject_direction.setCurrentIndex(1)  # to the client
    panel.inject_text.setText("from the proxy")
    with qtbot.waitSignal(page.session_recorded, timeout=WAIT_MS):
        qtbot.mouseClick(panel.inject_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(task.done, timeout=WAIT_MS)
    task.result()
    assert received == ["my edited plan", "from the proxy"]
    assert upstream.received == ["my edited plan"], "the dropped message never went upstream"
    assert any("upstream closed" in panel.events.item(i).text() for i in range(panel.events.count()))
    panel.stop()
    assert panel.start_button.text() == "Start proxy"

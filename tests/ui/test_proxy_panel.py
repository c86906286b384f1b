"""The Server page's Proxy tab in the real window: a proxy started to a real upstream, a real client through it,
a breakpoint pausing its message, the message edited and forwarded, another dropped, one injected to the
client and one to the upstream, Forward all and Resume; the client's two hops in the tab's timeline, each row
naming its hop; the client's session recorded."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from websockets.asyncio.client import connect

from tests.ui.helpers import ModalHandler
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.proxy_panel import ProxyPanel
from wsinspector.ui.server_page import ServerPage
from wsinspector.ui.timeline import COL_DIR, COL_PREVIEW

WAIT_MS = 5000


def _panel(window: MainWindow) -> tuple[ServerPage, ProxyPanel]:
    window.tabs.setCurrentWidget(window.server_page)
    page = window.server_page.content()
    assert isinstance(page, ServerPage)
    page.parts.setCurrentWidget(page.proxy)
    return page, page.proxy


def _timeline(panel: ProxyPanel) -> list[tuple[str, str]]:
    model = panel.model
    return [(model.index(row, COL_DIR).data(), model.index(row, COL_PREVIEW).data())
            for row in range(model.rowCount())]


def test_the_proxy_tab_pauses_edits_drops_and_injects(qtbot: Any, qtmodeltester: Any, window: MainWindow,
                                                      aloop: Any, websockets_server: Any) -> None:
    upstream = websockets_server()
    page, panel = _panel(window)

    panel.breakpoints.set_text("out:regex:(")
    panel.upstream.setText(upstream.url)
    assert not panel.start()
    assert panel.status.text().startswith("breakpoint out:regex:(: not a regular expression")
    panel.breakpoints.set_text("")
    row = panel.breakpoints.add_rule("out", "contains", "secret")
    assert panel.breakpoints.written() == ["out:contains:secret"] and row == 0
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
    panel.inject_text.setPlainText("from the proxy")
    with qtbot.waitSignal(page.session_recorded, timeout=WAIT_MS):
        qtbot.mouseClick(panel.inject_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(task.done, timeout=WAIT_MS)
    task.result()
    assert received == ["my edited plan", "from the proxy"]
    assert upstream.received == ["my edited plan"], "the dropped message never went upstream"
    assert any("upstream closed" in panel.events.item(i).text() for i in range(panel.events.count()))
    # both hops in the timeline: what the client sent, what went upstream (edited), the echo, the injection
    texts = [(direction, preview) for direction, preview in _timeline(panel)
             if "plan" in preview or "secret" in preview or "proxy" in preview]
    assert [d.split()[-1] for d, _ in texts] == ["client", "client", "upstream", "upstream", "client", "client"]
    assert [p for _, p in texts] == ["my secret plan", "another secret", "my edited plan", "my edited plan",
                                     "my edited plan", "from the proxy"]
    assert panel.client_choice.count() == 1 and panel.client_choice.currentText().endswith(upstream.url)
    qtmodeltester.check(panel.model)
    panel.stop()
    assert panel.start_button.text() == "Start proxy"


def test_a_port_in_use_forward_all_resume_and_a_message_injected_upstream(qtbot: Any, window: MainWindow, aloop: Any,
                                                            websockets_server: Any) -> None:
    upstream = websockets_server()
    _page, panel = _panel(window)
    panel.upstream.setText(upstream.url)
    panel.breakpoints.set_text("both:contains:hold")
    busy = urlsplit(str(upstream.url)).port
    panel.port.setValue(busy)
    assert not panel.start()
    assert panel.status.text() == (f"Cannot listen on 127.0.0.1:{busy}: the port is in use (choose another, or 0 "
                                   "for a free one)")
    panel.port.setValue(0)
    panel.host.setText("0.0.0.0")
    handler = ModalHandler(qtbot, lambda box: box.button(QMessageBox.StandardButton.No).click())
    panel.start_button.click()
    handler.wait()
    assert panel.controller is None
    assert panel.status.text() == "Not started: 0.0.0.0 was not confirmed (127.0.0.1 is this machine only)"
    panel.host.setText("127.0.0.1")
    assert panel.start()
    url = panel.status.text().split()[2]
    echoed: list[str | bytes] = []
    go_on = asyncio.Event()

    async def client() -> None:
        async with connect(url) as ws:
            await ws.send("hold 1")
            await ws.send("hold 2")
            echoed.extend([await ws.recv(), await ws.recv()])
            await go_on.wait()
            await ws.send("hold 3")
            echoed.extend([await ws.recv(), await ws.recv()])

    task = asyncio.ensure_future(client(), loop=aloop)
    qtbot.waitUntil(lambda: panel.paused.count() == 2, timeout=WAIT_MS)
    assert panel.forward_all_button.isEnabled()
    panel.forward_all_button.click()
    # the echoes come back from the upstream and match "hold" on their way in: paused again
    qtbot.waitUntil(lambda: panel.paused.count() == 2, timeout=WAIT_MS)
    assert upstream.received == ["hold 1", "hold 2"]
    assert all("upstream → client" in panel.paused.item(i).text() for i in range(2))

    panel.inject_direction.setCurrentIndex(0)  # to the upstream
    panel.inject_text.setPlainText("straight upstream")
    panel.inject_button.click()
    qtbot.waitUntil(lambda: upstream.received[-1:] == ["straight upstream"], timeout=WAIT_MS)

    panel.resume_button.click()
    assert panel.breakpoints.written() == [] and panel.paused.count() == 0
    assert panel.status.text() == "Resumed: no breakpoints, every message goes on"
    qtbot.waitUntil(lambda: len(echoed) == 2, timeout=WAIT_MS)
    go_on.set()
    qtbot.waitUntil(task.done, timeout=WAIT_MS)
    task.result()
    # the injected message's echo waited behind the paused ones; after Resume "hold 3" went through unpaused
    assert echoed == ["hold 1", "hold 2", "straight upstream", "hold 3"]
    assert upstream.received == ["hold 1", "hold 2", "straight upstream", "hold 3"]
    assert panel.paused.count() == 0
    injected = [direction for direction, preview in _timeline(panel) if preview == "straight upstream"]
    assert [d.split()[-1] for d in injected] == ["upstream", "upstream", "client"], \
        "the injection went out on the upstream hop, its echo came back on it and went on to the client"
    panel.stop()

"""The Server page in the real window: start a mock from a rules file, a real client connects, its frames show
in the page's timeline, the page sends to it and closes it with a code; a bad rules file is one line."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from websockets.asyncio.client import connect

from wsinspector.core.frames import Direction, Opcode
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.server_page import ServerPage

WAIT_MS = 5000


def test_the_server_page_serves_shows_and_commands_a_client(qtbot: Any, window: MainWindow, tmp_path: Path,
                                                            aloop: Any) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 1\nname: Page mock\non_connect:\n  - text: hello page\n", encoding="utf-8")
    window.tabs.setCurrentWidget(window.server_page)
    page = window.server_page.content()
    assert isinstance(page, ServerPage)

    (tmp_path / "bad.yaml").write_text("version: 1\nrules: nope\n", encoding="utf-8")
    page.rules_path.setText(str(tmp_path / "bad.yaml"))
    assert not page.start()
    assert page.status.text() == "bad.yaml: line 2, column 8: rules: must be a list of rules, not 'nope'"

    page.rules_path.setText(str(rules))
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    assert page.controller is not None and page.start_button.text() == "Stop"
    url = page.controller.url
    assert page.status.text().startswith(f"Listening on {url}")

    received: list[str | bytes] = []

    async def client() -> tuple[int | None, str]:
        async with connect(url + "room") as ws:
            received.append(await ws.recv())
            await ws.send("from the client")
            received.append(await ws.recv())  # what the page sends
            await ws.wait_closed()
            return ws.close_code, ws.close_reason or ""

    task = asyncio.ensure_future(client(), loop=aloop)
    qtbot.waitUntil(lambda: page.current is not None and page.send_button.isEnabled(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: any(f.direction is Direction.IN and f.payload == b"from the client"
                                for f in _rows(page)), timeout=WAIT_MS)
    page.message.setText("from the page")
    page.send_button.click()
    qtbot.waitUntil(lambda: len(received) == 2, timeout=WAIT_MS)
    page.close_code.setValue(4321)
    page.close_button.click()
    qtbot.waitUntil(task.done, timeout=WAIT_MS)
    assert task.result() == (4321, "")
    assert received == ["hello page", "from the page"]
    assert page.clients.count() == 1 and "/room" in page.clients.item(0).text()
    texts = [(f.direction, f.payload) for f in _rows(page) if f.opcode is Opcode.TEXT]
    assert texts == [(Direction.OUT, b"hello page"), (Direction.IN, b"from the client"),
                     (Direction.OUT, b"from the page")]
    assert page.handshake_view.handshake is not None and page.handshake_view.handshake.status == 101
    page.stop()
    assert page.start_button.text() == "Start"


def _rows(page: ServerPage) -> list[Any]:
    source = page.model.source
    return [] if source is None else list(source.frames(0, len(source) - 1))

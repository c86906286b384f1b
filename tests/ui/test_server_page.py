"""The Server page in the real window: start a mock from a rules file, real clients connect and show under their
server with what their handshake asked for, their frames show in the page's timeline, the page sends to one,
broadcasts to all, closes one with a code and reason and drops another; a bad rules file, a port in use, an
address beyond this machine, TLS without its key and a ws:// client of a wss:// server are each one line."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.ui.helpers import ModalHandler
from wsinspector.core.frames import Direction, Opcode
from wsinspector.ui.main_window import MainWindow
from wsinspector.ui.server_page import TLS_FILES, TLS_SELF_SIGNED, ServerPage

WAIT_MS = 5000


def _page(window: MainWindow) -> ServerPage:
    window.tabs.setCurrentWidget(window.server_page)
    page = window.server_page.content()
    assert isinstance(page, ServerPage)
    return page


def _rows(page: ServerPage) -> list[Any]:
    source = page.model.source
    return [] if source is None else list(source.frames(0, len(source) - 1))


def _tree(page: ServerPage) -> list[str]:
    lines = []
    for i in range(page.clients.topLevelItemCount()):
        server = page.clients.topLevelItem(i)
        lines.append(server.text(0))
        lines += ["  " + server.child(j).text(0) for j in range(server.childCount())]
    return lines


def test_the_server_page_serves_shows_and_commands_its_clients(qtbot: Any, window: MainWindow, tmp_path: Path,
                                                               aloop: Any) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 1\nname: Page mock\non_connect:\n  - text: hello page\n", encoding="utf-8")
    page = _page(window)

    (tmp_path / "bad.yaml").write_text("version: 1\nrules: nope\n", encoding="utf-8")
    page.rules_path.setText(str(tmp_path / "bad.yaml"))
    assert not page.start()
    assert page.status.text() == "bad.yaml: line 2, column 8: rules: must be a list of rules, not 'nope'"
    assert page.clients.topLevelItemCount() == 0

    page.rules_path.setText(str(rules))
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    assert page.controller is not None
    url = page.controller.url
    assert page.status.text().startswith(f"Listening on {url}")

    got: dict[str, list[str | bytes]] = {"a": [], "b": []}

    async def first() -> tuple[int | None, str]:
        async with connect(url + "room?x=1", origin="http://app.example",  # type: ignore[arg-type]
                           additional_headers={"X-Trace": "t-42"}) as ws:
            got["a"].append(await ws.recv())
            await ws.send("from the client")
            got["a"].append(await ws.recv())  # sent to this client alone
            got["a"].append(await ws.recv())  # the broadcast
            await ws.wait_closed()
            return ws.close_code, ws.close_reason or ""

    async def second() -> str:
        async with connect(url + "other") as ws:
            got["b"].append(await ws.recv())
            got["b"].append(await ws.recv())  # the broadcast
            try:
                await ws.recv()
            except ConnectionClosed as exc:
                return f"{exc.rcvd is None} {ws.close_code}"
        return "closed cleanly"

    task_a = asyncio.ensure_future(first(), loop=aloop)
    qtbot.waitUntil(lambda: page.current is not None and page.send_button.isEnabled(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: any(f.direction is Direction.IN and f.payload == b"from the client"
                                for f in _rows(page)), timeout=WAIT_MS)
    info = page.client_view.toPlainText()
    assert "Path: /room?x=1" in info and "Origin: http://app.example" in info
    assert "  X-Trace: t-42" in info and "Subprotocol agreed: (none)" in info
    assert "Extensions offered: permessage-deflate" in info  # websockets offers it; the mock agrees to none
    page.message.editor.setPlainText("to you alone")
    page.send_button.click()
    qtbot.waitUntil(lambda: len(got["a"]) == 2, timeout=WAIT_MS)

    task_b = asyncio.ensure_future(second(), loop=aloop)
    qtbot.waitUntil(lambda: len(got["b"]) == 1, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: _tree(page)[0] == f"{url} — 2 clients connected", timeout=WAIT_MS)
    assert [line.split(" /")[1] for line in _tree(page)[1:]] == ["room?x=1 — open", "other — open"]
    page.message.editor.setPlainText("to everyone")
    page.broadcast_button.click()
    qtbot.waitUntil(lambda: len(got["a"]) == 3 and len(got["b"]) == 2, timeout=WAIT_MS)
    assert page.status.text() == f"Sent to 2 clients of {url}"

    page.close_code.setValue(4001)
    page.close_reason.setText("go away")
    page.close_button.click()
    qtbot.waitUntil(task_a.done, timeout=WAIT_MS)
    assert task_a.result() == (4001, "go away")
    assert got["a"] == ["hello page", "to you alone", "to everyone"]
    texts = [(f.direction, f.payload) for f in _rows(page) if f.opcode is Opcode.TEXT]
    assert texts == [(Direction.OUT, b"hello page"), (Direction.IN, b"from the client"),
                     (Direction.OUT, b"to you alone"), (Direction.OUT, b"to everyone")]
    assert page.handshake_view.handshake is not None and page.handshake_view.handshake.status == 101

    _drop_the_second_and_stop(qtbot, page, url, task_b)


def _drop_the_second_and_stop(qtbot: Any, page: ServerPage, url: str, task_b: Any) -> None:
    # the second client: chosen in the tree, dropped without a closing handshake
    server_item = page.clients.topLevelItem(0)
    page.clients.setCurrentItem(server_item.child(1))
    assert page.current is not None and "Path: /other" in page.client_view.toPlainText()
    qtbot.waitUntil(page.drop_button.isEnabled, timeout=WAIT_MS)
    page.drop_button.click()
    qtbot.waitUntil(task_b.done, timeout=WAIT_MS)
    assert task_b.result() == "True 1006", "no close frame came: the connection was dropped"
    qtbot.waitUntil(lambda: _tree(page)[0] == f"{url} — 0 clients connected", timeout=WAIT_MS)

    page.clients.setCurrentItem(server_item)
    page.stop_button.click()
    assert _tree(page)[0] == f"{url} — stopped, 2 served"
    assert page.status.text() == f"Stopped {url} (2 clients served)"



def test_servers_side_by_side_a_port_in_use_and_an_exposed_address(qtbot: Any, window: MainWindow) -> None:
    page = _page(window)
    assert page.start()
    first = page.servers[0]
    port = first.server.port
    page.port.setValue(port)
    assert not page.start()
    assert page.status.text() == (f"Cannot listen on 127.0.0.1:{port}: the port is in use (choose another, or 0 "
                                  "for a free one)")
    page.port.setValue(0)
    assert page.start()
    assert page.clients.topLevelItemCount() == 2 and page.servers[1].server.port not in (0, port)

    seen: dict[str, str] = {}

    def refuse(box: QWidget) -> None:
        assert isinstance(box, QMessageBox)
        seen["question"] = box.text()
        box.button(QMessageBox.StandardButton.No).click()

    page.host.setText("0.0.0.0")
    handler = ModalHandler(qtbot, refuse)
    page.start_button.click()
    handler.wait()
    assert seen["question"].startswith("Listening on 0.0.0.0 lets other machines connect (and see")
    assert page.status.text() == "Not started: 0.0.0.0 was not confirmed (127.0.0.1 is this machine only)"
    assert len(page.servers) == 2
    page.stop()
    assert not any(server.server.is_listening for server in page.servers)


def test_tls_from_the_users_files_serves_wss_and_a_missing_key_is_one_line(qtbot: Any, window: MainWindow,
                                                                            tmp_path: Path, aloop: Any) -> None:
    from wsinspector.core.self_signed import self_signed_localhost

    page = _page(window)
    page.tls.setCurrentIndex(page.tls.findData(TLS_FILES))
    assert page.cert_path.isEnabled()
    certificate, key = self_signed_localhost()
    (tmp_path / "cert.pem").write_bytes(certificate)
    (tmp_path / "key.pem").write_bytes(key)
    page.cert_path.setText(str(tmp_path / "cert.pem"))
    assert not page.start()
    assert page.status.text() == "TLS with your own certificate needs both the certificate and the key file"
    page.key_path.setText(str(tmp_path / "nope.pem"))
    assert not page.start()
    assert page.status.text().startswith(f"Cannot read {tmp_path / 'nope.pem'}: No such file")
    page.key_path.setText(str(tmp_path / "key.pem"))
    assert page.start()
    url = page.servers[0].url
    assert url.startswith("wss://127.0.0.1:")
    context = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
    context.check_hostname = False

    async def client() -> str | bytes:
        async with connect(url, ssl=context) as ws:
            await ws.send("over TLS")
            return await ws.recv()

    task = asyncio.ensure_future(client(), loop=aloop)
    qtbot.waitUntil(task.done, timeout=WAIT_MS)
    assert task.result() == "over TLS"  # the echo with no rules file
    assert page.tls.findData(TLS_SELF_SIGNED) >= 0

    async def plain() -> tuple[str, bytes]:  # the same server's address as ws://
        reader, writer = await asyncio.open_connection("127.0.0.1", page.servers[0].server.port)
        writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        answer = await reader.read()
        writer.close()
        return "{}:{}".format(*writer.get_extra_info("sockname")[:2]), answer

    task = asyncio.ensure_future(plain(), loop=aloop)
    qtbot.waitUntil(task.done, timeout=WAIT_MS)
    peer, answer = task.result()
    assert answer.startswith(b"HTTP/1.1 400 Bad Request")
    qtbot.waitUntil(lambda: page.status.text().startswith(peer), timeout=WAIT_MS)
    assert page.status.text() == (f"{peer} sent a plain HTTP request (a ws:// URL?) to this wss:// server: "
                                  "answered 400, use wss://")

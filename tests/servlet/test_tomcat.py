"""A Java servlet container's WebSocket server, Apache Tomcat's echo examples, against wsinspector: a test file run
by ``wsinspector run`` with each engine, and the recording proxy in front of Tomcat with a `websockets` client."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.cli.conftest import Cli
from tests.servlet import tomcat as tomcat_module
from tests.servlet.tomcat import Tomcat
from wsinspector.app.context import DB_NAME
from wsinspector.app.proxy_server import ProxyController
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.profiles import ConnectionProfile
from wsinspector.core.store import Store
from wsinspector.core.stored import StoredSession

IN, OUT = Direction.IN, Direction.OUT

ECHO_TEST = """\
version: 1
name: Tomcat echo
url: {url}
timeout: 10
steps:
  - send: {{text: hello Tomcat ✓}}
  - expect: {{text: hello Tomcat ✓}}
  - send: {{binary: 00 01 fe ff}}
  - expect: {{binary: 00 01 fe ff}}
  - send: {{text: "{big}"}}
  - expect: {{text: "{big}"}}
"""
BIG = "compress me " * 500


@pytest.fixture(scope="module")
def tomcat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tomcat]:
    server = Tomcat(tmp_path_factory.mktemp("tomcat"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def cli(qtbot: Any, tmp_path: Path) -> Iterator[Cli]:
    runner = Cli(qtbot, tmp_path)
    yield runner
    runner.close()


@pytest.mark.parametrize(("engine", "example"), [("wire", "echoAnnotation"), ("qt", "echoProgrammatic")])
def test_a_test_file_passes_against_tomcats_echo(engine: str, example: str, tomcat: Tomcat, cli: Cli,
                                                 tmp_path: Path, data_dir: Path) -> None:
    path = tmp_path / "tomcat.wstest.yaml"
    path.write_text(ECHO_TEST.format(url=tomcat.url + example, big=BIG), encoding="utf-8")
    result = cli("run", str(path), "--engine", engine, "--data-dir", str(data_dir))
    assert result.returncode == 0, result.output
    assert "PASSED: 6 passed, 0 failed of 6 steps" in result.stdout
    store = Store(data_dir / DB_NAME)
    try:
        [record] = store.sessions()
        session = StoredSession(store, record)
        frames = list(session.frames(0, len(session) - 1))
    finally:
        store.close()
    assert [f.opcode for f in frames if f.direction is IN and not f.opcode.is_control] == [
        Opcode.TEXT, Opcode.BINARY, Opcode.TEXT]
    closes = [(f.direction, f.close_code) for f in frames if f.opcode is Opcode.CLOSE]
    if engine == "wire":  # the Wire engine offers permessage-deflate, Tomcat takes it, and its frames show it
        [big] = [f for f in frames if f.direction is IN and f.payload == BIG.encode()]
        assert big.rsv1 and big.payload_length is not None and big.payload_length < len(BIG) // 10
        assert closes == [(OUT, 1000), (IN, 1000)], "the closing handshake, Tomcat answering"
    else:  # QtWebSockets reports only the close it sends
        assert closes[0] == (OUT, 1000)


def test_the_proxy_in_front_of_tomcat_records_both_hops(tomcat: Tomcat, qtbot: Any, run: Any,
                                                       data_dir: Path) -> None:
    store = Store(data_dir / DB_NAME)
    controller = ProxyController(tomcat.url + "echoAnnotation", ConnectionProfile(name=""), [], store)
    added: list[Any] = []
    controller.client_added.connect(added.append)
    url = controller.listen("127.0.0.1", 0)

    async def talk() -> tuple[list[object], int | None, str | None]:
        async with connect(url) as ws:
            await ws.send("through the proxy")
            first = await ws.recv()
            await ws.send(b"\x00\xff")
            second = await ws.recv()
            await ws.close(4000, "done")
            return [first, second], ws.close_code, ws.close_reason

    try:
        echoed, code, reason = run(talk(), timeout=20)
        qtbot.waitUntil(lambda: bool(added) and not controller.clients, timeout=10_000)
        assert echoed == ["through the proxy", b"\x00\xff"]
        assert (code, reason) == (4000, "done"), "Tomcat's answer to the close came back through the proxy"
        record = store.session(added[0].recorded)
        assert record is not None
        session = StoredSession(store, record)
        frames = list(session.frames(0, len(session) - 1))
    finally:
        with qtbot.waitSignal(controller.stopped, timeout=10_000):
            controller.stop()
        controller.deleteLater()
        store.close()
    seen = [(f.upstream, f.direction, f.payload) for f in frames if not f.opcode.is_control]
    assert seen == [(False, IN, b"through the proxy"), (True, OUT, b"through the proxy"),
                    (True, IN, b"through the proxy"), (False, OUT, b"through the proxy"),
                    (False, IN, b"\x00\xff"), (True, OUT, b"\x00\xff"), (True, IN, b"\x00\xff"),
                    (False, OUT, b"\x00\xff")]
    closes = {(f.upstream, f.direction, f.close_code) for f in frames if f.opcode is Opcode.CLOSE}
    assert {(True, OUT, 4000), (True, IN, 4000)} <= closes, "the close went on to Tomcat and it answered"
    assert all(f.masked is False for f in frames if f.upstream and f.direction is IN), "Tomcat does not mask"
    with sqlite3.connect(data_dir / DB_NAME) as db:
        assert db.execute("SELECT count(*) FROM sessions").fetchone() == (1,)


def test_a_missing_tomcat_fails_by_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(tomcat_module, "CATALINA_HOME", tmp_path / "no-tomcat")
    with pytest.raises(pytest.fail.Exception, match="tomcat10 and tomcat10-examples"):
        Tomcat(tmp_path / "base").start()

"""``wsinspector proxy`` as a user runs it: a subprocess that prints its URL, forwards a real client to a real
upstream server, records both hops, stops on Ctrl+C; and its usage errors, each one line."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.cli.conftest import Cli
from wsinspector.cli import main

ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1"}


def _listening(out_path: Path) -> str | None:
    match = re.search(r"Proxy listening on (ws://127\.0\.0\.1:\d+/)", out_path.read_text("utf-8"))
    return match.group(1) if match else None


@contextmanager
def _asking_proxy(qtbot: Any, upstream: str, rule: str, out_path: Path) -> Iterator[tuple[Any, str, Path]]:
    """``proxy --break RULE --on-break ask`` to ``upstream``, listening; stopped with Ctrl+C after the block,
    which it must end with status 0 and no traceback."""
    with out_path.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "wsinspector", "proxy", "--upstream", upstream,
                                 "--no-record", "--break", rule, "--on-break", "ask"],
                                stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT, env=ENV)
    try:
        qtbot.waitUntil(lambda: _listening(out_path) is not None or proc.poll() is not None, timeout=30_000)
        url = _listening(out_path)
        assert url is not None, out_path.read_text("utf-8")
        assert proc.stdin is not None
        yield proc, url, out_path
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        if proc.stdin is not None:
            proc.stdin.close()
    assert proc.returncode == 0
    assert "Traceback" not in out_path.read_text("utf-8")


def test_the_proxy_forwards_records_both_hops_and_stops_on_ctrl_c(
        cli: Cli, qtbot: Any, run: Any, websockets_server: Any, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    upstream = websockets_server()
    data = tmp_path / "data"
    proc, out_path, err_path = cli.start("proxy", "--upstream", upstream.url, "--data-dir", str(data))
    qtbot.waitUntil(lambda: _listening(out_path) is not None or proc.poll() is not None, timeout=30_000)
    url = _listening(out_path)
    assert url is not None, err_path.read_text("utf-8")

    async def talk() -> str:
        async with connect(url) as ws:
            await ws.send("through the proxy")
            answer = await ws.recv()
            assert isinstance(answer, str)
            return answer

    assert run(talk()) == "through the proxy"
    assert upstream.received == ["through the proxy"]
    # the client's session is saved once both hops have closed
    qtbot.waitUntil(lambda: "upstream closed" in out_path.read_text("utf-8"), timeout=10_000)
    proc.send_signal(signal.SIGINT)
    result = cli.wait(proc, out_path, err_path)
    assert result.returncode == 0, result.output
    assert result.stdout.splitlines()[-1] == f"Proxy stopped; 1 session recorded in {data}"
    assert "Traceback" not in result.stderr
    capsys.readouterr()
    assert main(["--data-dir", str(data), "messages"]) == 0
    session = capsys.readouterr().out.split("\t", 1)[0]
    assert main(["--data-dir", str(data), "messages", session]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    texts = [(line["hop"], line["direction"]) for line in lines if line.get("text") == "through the proxy"]
    assert texts == [("client", "in"), ("upstream", "out"), ("upstream", "in"), ("client", "out")]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--upstream", "ws://127.0.0.1:9/", "--break", "out:glob:x"], "breakpoint matches by every, equals"),
        (["--upstream", "ws://127.0.0.1:9/", "--listen", "127.0.0.1:http"], "write it HOST:PORT"),
        (["--upstream", "http://127.0.0.1:9/"], "ws://"),
        ([], "give the upstream URL"),
        (["--connection", "Nowhere"], "no saved connection 'Nowhere'"),
        (["--upstream", "ws://127.0.0.1:9/", "--listen", "127.0.0.1:{busy}"], "127.0.0.1:{busy}: the port is in use"),
    ],
    ids=["rule", "listen", "scheme", "no-upstream", "connection", "port-in-use"],
)
def test_usage_errors_are_one_line(qapp: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str],
                                   says: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        code = main(["--data-dir", str(tmp_path / "data"), "proxy", *(a.replace("{busy}", port) for a in args)])
    err = capsys.readouterr().err
    assert code == 2
    assert says.replace("{busy}", port) in err and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


def test_asked_on_standard_input_a_paused_message_is_edited_and_an_injected_one_sent(
        qtbot: Any, run: Any, websockets_server: Any, tmp_path: Path) -> None:
    upstream = websockets_server()
    with _asking_proxy(qtbot, upstream.url, "out:contains:secret", tmp_path / "out.txt") as (proc, url, out_path):
        ws = run(connect(url))
        run(ws.send("my secret"))
        qtbot.waitUntil(lambda: "#1 out" in out_path.read_text("utf-8"), timeout=10_000)
        # "e 1" with no text is refused (it would forward the message emptied): #1 stays paused for the next
        proc.stdin.write(b"e 1\ne 1 not so secret\ni in hello from the proxy\nz\n")
        proc.stdin.flush()
        # the injected one comes at once, the edited one once the upstream has echoed it
        assert {run(ws.recv()), run(ws.recv())} == {"not so secret", "hello from the proxy"}
        assert upstream.received == ["not so secret"]
        assert "edit with: e [ID] TEXT" in out_path.read_text("utf-8")
        qtbot.waitUntil(lambda: "at a paused message type: f [ID] forward" in out_path.read_text("utf-8")
                        .split("#1 out", 1)[1], timeout=10_000)  # "z" is answered with what can be typed
        run(ws.close())


def test_asked_on_standard_input_bytes_are_injected_and_edited_as_binary(
        qtbot: Any, run: Any, websockets_server: Any, tmp_path: Path) -> None:
    upstream = websockets_server()
    with _asking_proxy(qtbot, upstream.url, "out:every", tmp_path / "out.txt") as (proc, url, out_path):
        ws = run(connect(url))
        run(ws.send(b"\x00\x01\x02"))
        qtbot.waitUntil(lambda: "#1 out" in out_path.read_text("utf-8"), timeout=10_000)
        # bad hex is one line and nothing goes; then bytes to the client, and the paused binary edited
        proc.stdin.write(b"i in hex:zz\ni in hex:ff 00 fe\ne 1 base64:3q2+7w==\n")
        proc.stdin.flush()
        first = run(ws.recv())
        assert first == b"\xff\x00\xfe" and isinstance(first, bytes)
        echoed = run(ws.recv())
        assert echoed == b"\xde\xad\xbe\xef" and isinstance(echoed, bytes)
        assert upstream.received == [b"\xde\xad\xbe\xef"]
        assert "hex: Not a hex digit: 'z' at position 1" in out_path.read_text("utf-8")
        # a paused text message stays text: bytes that are not UTF-8 are refused, text: keeps a prefix as text
        run(ws.send("plain"))
        qtbot.waitUntil(lambda: "#2 out" in out_path.read_text("utf-8"), timeout=10_000)
        proc.stdin.write(b"e 2 hex:ff\ne 2 text:hex:41\n")
        proc.stdin.flush()
        assert run(ws.recv()) == "hex:41"
        assert "#2 is a text message: its new bytes must be UTF-8" in out_path.read_text("utf-8")
        run(ws.close())


def test_when_standard_input_ends_it_is_said_once_and_paused_messages_are_forwarded_from_then_on(
        qtbot: Any, run: Any, websockets_server: Any, tmp_path: Path) -> None:
    upstream = websockets_server()
    with _asking_proxy(qtbot, upstream.url, "out:every", tmp_path / "out.txt") as (proc, url, out_path):
        ws = run(connect(url))
        run(ws.send("before"))
        qtbot.waitUntil(lambda: "#1 out" in out_path.read_text("utf-8"), timeout=10_000)
        proc.stdin.close()  # nobody can answer any more
        assert run(ws.recv()) == "before", "what was paused goes on unchanged"
        run(ws.send("after"))
        assert run(ws.recv()) == "after", "and so does what would have paused since"
        assert upstream.received == ["before", "after"]
        run(ws.close())
    said = out_path.read_text("utf-8")
    assert said.count("Standard input ended") == 1
    assert "Standard input ended: paused messages are forwarded unchanged from now on (1 message paused now)" in said

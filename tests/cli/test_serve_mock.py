"""``wsinspector serve --mock`` and ``--replay`` as a user runs them: a real subprocess, a real client, the
recording read back with ``wsinspector messages``."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
from pathlib import Path

from websockets.sync.client import connect

from tests.cli.conftest import GREETER_RULES
from wsinspector.app.context import DB_NAME
from wsinspector.core.store import Store

ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1"}

RULES = GREETER_RULES


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wsinspector", *args], capture_output=True, text=True, env=ENV,
                          timeout=60)


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "wsinspector", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)


def test_serve_mock_answers_records_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    rules = tmp_path / "greeter.yaml"
    rules.write_text(RULES, encoding="utf-8")
    data = tmp_path / "data"
    proc = _start("serve", "--mock", str(rules), "--json", "--data-dir", str(data))
    try:
        assert proc.stdout is not None
        listening = json.loads(proc.stdout.readline())
        assert listening["event"] == "listening" and listening["url"].startswith("ws://127.0.0.1:")
        with connect(listening["url"] + "door") as ws:
            assert ws.recv(timeout=10) == "hi /door"
            ws.send("name Ada")
            assert ws.recv(timeout=10) == "hello Ada"
        events = [json.loads(proc.stdout.readline())["event"] for _ in range(2)]
        assert events == ["open", "closed"]
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert json.loads(out.splitlines()[-1]) == {"event": "stopped", "clients": 1}
    store = Store(data / DB_NAME)
    [record] = store.sessions()
    store.close()
    assert record.name.startswith("Greeter 127.0.0.1:") and record.url.endswith("/door")
    lines = [json.loads(line) for line in _cli("--data-dir", str(data), "messages", str(record.id)).stdout.splitlines()]
    assert [(line["direction"], line.get("text")) for line in lines if line.get("opcode") == "text"] == [
        ("out", "hi /door"), ("in", "name Ada"), ("out", "hello Ada")]


def test_serve_mock_bad_rules_and_arguments_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nrules:\n  - match: {text: a}\n    do: {txt: b}\n", encoding="utf-8")
    result = _cli("serve", "--mock", str(bad), "--no-record")
    assert result.returncode == 2
    assert result.stderr.strip() == (f"wsinspector: {bad}: line 4, column 10: rules[0].do: unknown key 'txt'; did "
                                     "you mean 'text'?")
    assert _cli("serve", "--mock", str(bad), "--tls-cert", "c.pem").returncode == 2
    assert _cli("serve", "--listen", "127.0.0.1:0").returncode == 2  # only with --mock or --replay
    missing = _cli("--data-dir", str(tmp_path), "serve", "--replay", "no such session")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_serve_with_tls_names_a_client_that_spoke_plain_ws(tmp_path: Path) -> None:
    """A ws:// client of a wss:// mock server: it is answered 400 saying to use wss://, and the server prints a
    `refused` line naming it; a wss:// client is served as usual."""
    rules = tmp_path / "greeter.yaml"
    rules.write_text(RULES, encoding="utf-8")
    proc = _start("serve", "--mock", str(rules), "--tls-self-signed", "--json", "--no-record")
    try:
        assert proc.stdout is not None
        certificate = json.loads(proc.stdout.readline())
        listening = json.loads(proc.stdout.readline())
        assert (certificate["event"], listening["event"]) == ("certificate", "listening")
        url = listening["url"]
        assert url.startswith("wss://127.0.0.1:")
        port = int(url.rsplit(":", 1)[1].strip("/"))
        with socket.create_connection(("127.0.0.1", port)) as plain:
            ours = "{}:{}".format(*plain.getsockname()[:2])
            plain.sendall(b"GET /door HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            answer = b""
            while chunk := plain.recv(4096):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
        assert answer.endswith(b"This port speaks TLS: connect with wss:// (https://), not ws:// (http://).\n")
        assert json.loads(proc.stdout.readline()) == {
            "event": "refused", "peer": ours,
            "message": "sent a plain HTTP request (a ws:// URL?) to this wss:// server: answered 400, use wss://"}
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        with connect(url + "door", ssl=context) as ws:
            assert ws.recv(timeout=10) == "hi /door"
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err

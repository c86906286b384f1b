"""The command line, run as a user runs it: a real subprocess."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from websockets.sync.client import connect

import wsinspector

ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1"}
BIN = Path(sys.executable).parent


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wsinspector", *args], capture_output=True, text=True,
                          env=ENV, timeout=timeout)


def test_version_from_module_and_entry_points():
    assert _cli("--version").stdout.strip() == f"wsinspector {wsinspector.__version__}"
    for entry in ("wsinspector", "wsinspector-cli"):
        result = subprocess.run([str(BIN / entry), "--version"], capture_output=True, text=True, env=ENV, timeout=60)
        assert result.returncode == 0
        assert result.stdout.strip() == f"wsinspector {wsinspector.__version__}"


def test_unknown_command_is_a_usage_error():
    result = _cli("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def _start(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "wsinspector", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)


def _stop(proc: subprocess.Popen[str], sig: int = signal.SIGINT) -> tuple[int, str, str]:
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out, err


def test_serve_echoes_until_ctrl_c():
    proc = _start(["serve"])
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        match = re.search(r"ws://127\.0\.0\.1:(\d+)/", line)
        assert match, line
        with connect(match.group(0)) as ws:
            ws.send("hello")
            assert ws.recv(timeout=10) == "hello"
            ws.send(b"\x00\xff")
            assert ws.recv(timeout=10) == b"\x00\xff"
    finally:
        code, out, _ = _stop(proc)
    assert code == 0
    assert "stopped" in out


def test_serve_on_a_given_port_and_a_busy_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = _start(["serve", "--port", str(port)])
    try:
        assert f"ws://127.0.0.1:{port}/" in proc.stdout.readline()  # type: ignore[union-attr]
        busy = _cli("serve", "--port", str(port))
        assert busy.returncode == 2
        assert f"Cannot listen on 127.0.0.1:{port}" in busy.stderr
        assert "Traceback" not in busy.stderr
    finally:
        _stop(proc)


@pytest.mark.parametrize("port", ["70000", "-1"])
def test_serve_rejects_an_invalid_port(port):
    result = _cli("serve", "--port", port)
    assert result.returncode == 2
    assert "between 0 and 65535" in result.stderr


def test_gui_starts_with_its_echo_server_and_saves_the_local_echo_connection(tmp_path):
    proc = _start(["--data-dir", str(tmp_path)])
    try:
        seen = []
        for line in proc.stderr:  # type: ignore[union-attr]
            seen.append(line)
            match = re.search(r"echo server at (ws://127\.0\.0\.1:\d+/)", line)
            if match:
                break
        assert match, "".join(seen)
        assert str(tmp_path) in line
        with connect(match.group(1)) as ws:
            ws.send("from outside")
            assert ws.recv(timeout=10) == "from outside"
    finally:
        code, _, err = _stop(proc, signal.SIGTERM)
    assert code == 0, err
    assert "Traceback" not in err
    with sqlite3.connect(tmp_path / "wsinspector.sqlite3") as db:
        rows = [r[0] for r in db.execute("SELECT data FROM profiles")]
    assert any('"Local echo"' in row and match.group(1) in row for row in rows)

"""A command whose standard output goes away (``| head -1``: the reader exits, the pipe breaks) ends as the
docs say, with no traceback: a command that only prints stops quietly with status 0; one that runs until Ctrl+C
(``serve``, ``proxy``) or runs a test (``run``) stops as Ctrl+C stops it, what it recorded saved, with the status
Ctrl+C gives it; ``mcp`` ends the session. Each runs as a user runs it: a real subprocess whose standard output is
a pipe the test reads and then closes (or whose reader has already gone), buffered as a user's is (no
PYTHONUNBUFFERED)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.sync.client import ClientConnection, connect

from tests.cli.conftest import GREETER_RULES, WAIT_MS
from wsinspector.core.frames import Direction, Opcode
from wsinspector.core.model import header
from wsinspector.core.store import SessionRecord, SessionStatus, Store

ENV = {**{k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}, "QT_QPA_PLATFORM": "offscreen",
       "PYTHONIOENCODING": "utf-8"}
WAIT_S = WAIT_MS / 1000
DB_NAME = "wsinspector.sqlite3"
#: what the interpreter prints when its last flush of a closed standard output fails
IGNORED = "Exception ignored"

RULES = GREETER_RULES


#: the commands the test started
_started: list[subprocess.Popen[bytes]] = []


@pytest.fixture(autouse=True)
def no_command_left() -> Iterator[None]:
    """A test that fails half-way leaves no command running behind it."""
    yield
    while _started:
        proc = _started.pop()
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=WAIT_S)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def _start(*args: str, stdin: int | None = subprocess.DEVNULL, stdout: int | IO[bytes] = subprocess.PIPE,
           stderr: int | IO[bytes] = subprocess.PIPE) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "wsinspector", *args], stdin=stdin, stdout=stdout,
                            stderr=stderr, env=ENV)
    _started.append(proc)
    return proc


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wsinspector", *args], capture_output=True, text=True, env=ENV,
                          timeout=WAIT_S)


def _ended(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    """The exit status of a command once it has ended on its own, and what it wrote to standard error."""
    try:
        proc.wait(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError(f"{proc.args} did not end on its own") from None
    finally:
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
    if proc.stderr is None:
        return proc.returncode, ""
    with proc.stderr:
        return proc.returncode, proc.stderr.read().decode("utf-8", "replace")


def _quiet(err: str) -> None:
    assert "Traceback" not in err, err
    assert IGNORED not in err, err


@contextlib.contextmanager
def _closed_pipe() -> Iterator[int]:
    """The writing end of a pipe whose reader has already gone (``| head -0``)."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        yield writer
    finally:
        os.close(writer)


def _recorded(data: Path) -> int:
    """A stored session of a text message each way."""
    data.mkdir(parents=True, exist_ok=True)
    store = Store(data / DB_NAME)
    try:
        session_id = store.create_session("chat", "ws://127.0.0.1:9/chat", 1_764_496_800.0, 1_000_000_000)
        store.append_frames(session_id, [
            (seq, 1_000_000_000 + seq, header.pack(direction, Opcode.TEXT, True, False, False, False,
                                                   direction is Direction.OUT), None, None, None, payload)
            for seq, direction, payload in ((0, Direction.OUT, b"hello"), (1, Direction.IN, b"hello"))])
        store.finish_session(session_id, SessionStatus.CLOSED, 1_764_496_801.0, 1000, "")
    finally:
        store.close()
    return session_id


# -- commands that only print ---------------------------------------------------------------------------------


def test_decode_stops_quietly_when_its_reader_goes_away() -> None:
    """``... | wsinspector decode | head -1``: the first line read, the reader gone, more frames come."""
    proc = _start("decode", stdin=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b'{"n": 1}\n')
    proc.stdin.flush()
    first = json.loads(proc.stdout.readline())
    assert (first["line"], first["protocol"]) == (1, "json")
    proc.stdout.close()
    proc.stdin.write(b'{"n": 2}\n{"n": 3}\n')
    proc.stdin.close()
    code, err = _ended(proc)
    assert code == 0, err
    assert err == ""


#: commands that print a listing, an export or a report; the reader has gone before they print
PRINTING = [
    ["--version"],
    ["--help"],
    ["serve", "--help"],
    ["sessions"],
    ["sessions", "--json"],
    ["messages"],
    ["messages", "1"],
    ["export", "1", "--format", "csv"],
    ["export", "1", "--format", "ndjson", "--frames"],
    ["export", "{test}", "--format", "k6"],
    ["connections", "--json"],
    ["envs"],
    ["defaults", "--json"],
    ["decode", "--list"],
    ["import", "--dry-run", "--command", "websocat ws://127.0.0.1:9/"],
]


@pytest.mark.parametrize("args", PRINTING, ids=" ".join)
def test_a_command_that_only_prints_ends_quietly_with_0_when_its_reader_has_gone(tmp_path: Path,
                                                                                  args: list[str]) -> None:
    data = tmp_path / "data"
    _recorded(data)
    test = tmp_path / "t.wstest.yaml"
    test.write_text("version: 1\nurl: ws://127.0.0.1:9/\nsteps:\n  - send: {text: hello}\n", encoding="utf-8")
    with _closed_pipe() as stdout:
        proc = _start("--data-dir", str(data), *(arg.format(test=test) for arg in args), stdout=stdout)
    code, err = _ended(proc)
    assert code == 0, err
    assert err == ""


@pytest.mark.parametrize(("args", "code"), [
    (["--version"], 0),
    (["sessions", "--bogus"], 2),
    (["handshake"], 1),  # a data folder with nothing stored: said on standard error
], ids=lambda value: " ".join(value) if isinstance(value, list) else str(value))
def test_a_command_whose_standard_error_is_gone_too_ends_with_its_own_status(tmp_path: Path, args: list[str],
                                                                             code: int) -> None:
    """``... 2>&1 | head -0``: both streams gone; what the command says on either goes nowhere, quietly (the
    interpreter's own complaint would give status 120)."""
    with _closed_pipe() as both:
        proc = _start("--data-dir", str(tmp_path / "empty"), *args, stdout=both, stderr=both)
    assert proc.wait(timeout=WAIT_S) == code


# -- commands that run until Ctrl+C ---------------------------------------------------------------------------


def _sessions(data: Path) -> list[SessionRecord]:
    """The sessions stored in the data folder ``data``."""
    store = Store(data / DB_NAME)
    try:
        return store.sessions()
    finally:
        store.close()


def _frames_of(data: Path, session_id: int) -> list[tuple[str, str]]:
    """(direction, text) of the text messages of a stored session, as ``messages`` prints them."""
    result = _cli("--data-dir", str(data), "messages", str(session_id))
    assert result.returncode == 0, result.stderr
    return [(line["direction"], line["text"]) for line in map(json.loads, result.stdout.splitlines())
            if line["opcode"] == "text"]


def _stopped_with_1001(ws: ClientConnection) -> None:
    """The connection of a client that stayed: closed by the command as Ctrl+C closes it (1001, going away)."""
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=WAIT_S)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


def _another_client(url: str) -> None:
    """A client whose arrival makes the command print a line; the command stops at it (as it would at Ctrl+C),
    before or after the client's handshake."""
    with contextlib.suppress(OSError, WebSocketException), connect(url, open_timeout=WAIT_S) as ws:
        ws.recv(timeout=WAIT_S)


@pytest.mark.parametrize("shape", ["text", "json"])
def test_serve_stops_as_on_ctrl_c_when_its_reader_goes_away(tmp_path: Path, shape: str) -> None:
    rules = tmp_path / "greeter.yaml"
    rules.write_text(RULES, encoding="utf-8")
    data = tmp_path / "data"
    proc = _start("serve", "--mock", str(rules), "--data-dir", str(data), *(["--json"] if shape == "json" else []))
    assert proc.stdout is not None
    first = proc.stdout.readline().decode()
    url = json.loads(first)["url"] if shape == "json" else re.search(r"listening on (\S+)", first)[1]  # type: ignore[index]
    with connect(url + "stays") as ws:
        assert ws.recv(timeout=WAIT_S) == "hi /stays"
        ws.send("name Ada")
        assert ws.recv(timeout=WAIT_S) == "hello Ada"
        proc.stdout.close()  # the reader goes (head -1 has its line)
        _another_client(url + "late")
        _stopped_with_1001(ws)
    code, err = _ended(proc)
    assert code == 0, err  # as after Ctrl+C
    _quiet(err)
    assert "standard output closed" in err
    stayed = [record for record in _sessions(data) if record.url.endswith("/stays")]
    assert [(record.status, record.close_code) for record in stayed] == [("closed", 1001)]
    assert _frames_of(data, stayed[0].id) == [("out", "hi /stays"), ("in", "name Ada"), ("out", "hello Ada")]


def test_serve_with_both_streams_in_the_pipe_stops_all_the_same(tmp_path: Path) -> None:
    """``serve ... 2>&1 | head -1``: standard error goes with standard output; the server stops, nothing lost."""
    rules = tmp_path / "greeter.yaml"
    rules.write_text(RULES, encoding="utf-8")
    data = tmp_path / "data"
    proc = _start("serve", "--mock", str(rules), "--data-dir", str(data), stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    url = re.search(r"listening on (\S+)", proc.stdout.readline().decode())[1]  # type: ignore[index]
    with connect(url + "stays") as ws:
        assert ws.recv(timeout=WAIT_S) == "hi /stays"
        proc.stdout.close()
        _another_client(url + "late")
        _stopped_with_1001(ws)
    assert proc.wait(timeout=WAIT_S) == 0
    assert any(record.url.endswith("/stays") and record.status == "closed"
               for record in _sessions(data))


@pytest.fixture
def echo_server(tmp_path: Path) -> Iterator[str]:
    """``wsinspector serve``: the echo server the proxy forwards to, its URL."""
    proc = _start("serve")
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    try:
        yield re.search(r"listening on (\S+)", line)[1]  # type: ignore[index]
    finally:
        proc.terminate()
        proc.communicate(timeout=WAIT_S)


@pytest.mark.parametrize("shape", ["text", "json"])
def test_proxy_stops_as_on_ctrl_c_when_its_reader_goes_away(tmp_path: Path, echo_server: str, shape: str) -> None:
    data = tmp_path / "data"
    proc = _start("proxy", "--listen", "127.0.0.1:0", "--upstream", echo_server, "--data-dir", str(data),
                  *(["--json"] if shape == "json" else []))
    assert proc.stdout is not None
    first = proc.stdout.readline().decode()
    url = json.loads(first)["url"] if shape == "json" else re.search(r"listening on (\S+)", first)[1]  # type: ignore[index]
    with connect(url) as ws:
        ws.send("kept")
        assert ws.recv(timeout=WAIT_S) == "kept"
        proc.stdout.close()  # the reader goes (head -1 has its line)
        _another_client(url)
        _stopped_with_1001(ws)
    code, err = _ended(proc)
    assert code == 0, err  # as after Ctrl+C
    _quiet(err)
    assert "standard output closed" in err
    listed = json.loads(_cli("--data-dir", str(data), "sessions", "--json").stdout)
    kept = min(listed, key=lambda session: session["id"])  # the first client's
    assert kept["status"] == "closed"
    assert [text for _direction, text in _frames_of(data, kept["id"])] == ["kept"] * 4  # both hops, both ways


# -- a test run ---------------------------------------------------------------------------------------------------


def test_run_stops_as_on_ctrl_c_when_its_reader_goes_away(qtbot: Any, peer: Callable[..., str],
                                                           tmp_path: Path) -> None:
    released = asyncio.Event()

    async def answers_when_released(ws: Any) -> None:
        await released.wait()
        await ws.send("go")
        async for _ in ws:
            pass

    test = tmp_path / "t.wstest.yaml"
    test.write_text(f"""\
version: 1
url: {peer(answers_when_released)}
steps:
  - name: the go
    expect:
      text: go
      timeout: 600
  - name: a long pause
    wait: 600
""", encoding="utf-8")
    data, report = tmp_path / "data", tmp_path / "report.xml"
    proc = _start("run", str(test), "--data-dir", str(data), "--junit", str(report))
    assert proc.stdout is not None
    assert proc.stdout.readline().decode().startswith("t.wstest.yaml: 2 steps against ")
    proc.stdout.close()  # the reader goes (head -1 has its line); the step's line comes after it
    released.set()
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=WAIT_MS)
    code, err = _ended(proc)
    assert code == 2, err  # as after Ctrl+C
    _quiet(err)
    assert "standard output closed" in err
    cases = {case.get("name"): case for case in ET.parse(report).getroot().iter("testcase")}
    assert cases["the go"].find("error") is None
    pause_error = cases["a long pause"].find("error")
    assert pause_error is not None and "standard output closed" in (pause_error.get("message") or "")
    [record] = _sessions(data)
    assert record.status == "closed"


# -- the MCP server ---------------------------------------------------------------------------------------------


def _request(proc: subprocess.Popen[bytes], message: dict[str, Any]) -> None:
    assert proc.stdin is not None
    proc.stdin.write(json.dumps({"jsonrpc": "2.0", **message}).encode() + b"\n")
    proc.stdin.flush()


@pytest.mark.parametrize("stdin", ["kept open", "closed too"])
def test_mcp_ends_the_session_when_its_client_stops_reading(tmp_path: Path, stdin: str) -> None:
    """A client that closes our standard output (it exited, or stopped reading) ends the session, whether or
    not it closed our standard input: the server does not wait for it."""
    proc = _start("mcp", "--data-dir", str(tmp_path / "data"), stdin=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    _request(proc, {"id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}})
    assert json.loads(proc.stdout.readline())["id"] == 1
    _request(proc, {"method": "notifications/initialized"})
    proc.stdout.close()
    _request(proc, {"id": 2, "method": "tools/list"})  # its answer has nowhere to go
    if stdin == "closed too":
        proc.stdin.close()
    code, err = _ended(proc)
    assert code == 0, err
    _quiet(err)


# -- streams closed before the start, a full disk, a pipe nobody reads ----------------------------------------


def _with_closed(redirection: str, *args: str) -> list[str]:
    """The command as a shell starts it with ``redirection`` (``>&-``, ``2>&-``): that stream closed."""
    return ["sh", "-c", f'exec "$@" {redirection}', "sh", sys.executable, "-m", "wsinspector", *args]


@pytest.mark.parametrize("args", [["export", "1", "--format", "ndjson"], ["export", "1", "--format", "csv"],
                                  ["messages", "1"], ["decode", "--list"], ["sessions", "--json"]], ids=" ".join)
def test_a_command_started_with_its_standard_output_closed_ends_quietly(tmp_path: Path, args: list[str]) -> None:
    """``wsinspector export 1 >&-``: what it prints goes nowhere, and it ends with its own status."""
    data = tmp_path / "data"
    _recorded(data)
    done = subprocess.run(_with_closed(">&-", "--data-dir", str(data), *args), env=ENV, stderr=subprocess.PIPE,
                          text=True, timeout=WAIT_S)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_what_is_said_on_a_closed_standard_error_never_lands_in_standard_output(tmp_path: Path) -> None:
    """``serve --json 2>&-``: the warning about listening on every address is lost, not mixed into the JSON."""
    rules = tmp_path / "greeter.yaml"
    rules.write_text(RULES, encoding="utf-8")
    proc = subprocess.Popen(_with_closed("2>&-", "serve", "--mock", str(rules), "--json", "--listen", "0.0.0.0:0",
                                         "--no-record", "--data-dir", str(tmp_path / "data")),
                            stdout=subprocess.PIPE, env=ENV)
    _started.append(proc)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    proc.send_signal(2)
    rest = proc.communicate(timeout=WAIT_S)[0]
    assert proc.returncode == 0
    events = [json.loads(line)["event"] for line in (first + rest).decode().splitlines()]  # every line JSON
    assert events[:1] == ["listening"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system to fill a disk with")
@pytest.mark.parametrize("args", [["--version"], ["sessions", "--json"], ["messages", "1"],
                                  ["export", "1", "--format", "csv"]], ids=" ".join)
def test_a_full_disk_is_said_without_a_traceback(tmp_path: Path, args: list[str]) -> None:
    """``wsinspector sessions > /dev/full``: a failure, said in one line, not a reader gone."""
    data = tmp_path / "data"
    _recorded(data)
    with open("/dev/full", "wb") as full:
        done = subprocess.run([sys.executable, "-m", "wsinspector", "--data-dir", str(data), *args], env=ENV,
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=WAIT_S)
    _quiet(done.stderr)
    assert done.returncode != 0
    assert "standard output" in done.stderr and "No space left on device" in done.stderr, done.stderr
    assert "None" not in done.stderr


def _blocked_writing(pid: int, fd: int) -> bool:
    """Whether the process's main thread waits in a write to ``fd`` (Linux: /proc/PID/syscall)."""
    try:
        fields = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        return False
    write = 1  # x86-64
    return len(fields) > 1 and fields[0] == str(write) and int(fields[1], 16) == fd


@pytest.mark.skipif(not (sys.platform == "linux" and os.uname().machine == "x86_64"),
                    reason="tells a blocked write from /proc/PID/syscall's x86-64 numbers")
def test_ctrl_c_stops_a_server_whose_output_nobody_reads(qtbot: Any, tmp_path: Path) -> None:
    """``wsinspector serve --mock RULES | less`` with the pager stopped: the pipe is full and the server's line
    waits to be written; Ctrl+C still stops it, with what it recorded saved."""
    rules = tmp_path / "greeter.yaml"
    rules.write_text(RULES, encoding="utf-8")
    reader, writer = os.pipe()
    try:
        import fcntl

        fcntl.fcntl(writer, 1031, 4096)  # F_SETPIPE_SZ: a small pipe, filled below through its own description
        filler = os.open(f"/proc/self/fd/{writer}", os.O_WRONLY | os.O_NONBLOCK)
        with contextlib.suppress(BlockingIOError):
            while True:
                os.write(filler, b"x" * 4096)
        os.close(filler)
        proc = _start("serve", "--mock", str(rules), "--data-dir", str(tmp_path / "data"), stdout=writer)
        qtbot.waitUntil(lambda: _blocked_writing(proc.pid, 1) or proc.poll() is not None, timeout=WAIT_MS)
        assert proc.poll() is None, "the server ended before its first line"
        proc.send_signal(2)
        code, err = _ended(proc)
    finally:
        os.close(reader)
        os.close(writer)
    assert code == 0, err
    _quiet(err)
